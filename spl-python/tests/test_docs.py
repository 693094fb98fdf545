"""The examples of docs/python.md run as written (those for Ray and Spark start clusters and are
covered by test_ray.py and test_spark.py instead)."""

import re

import pytest

from conftest import ROOT

DOC = (ROOT / "docs" / "python.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_there_are_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(
    "code",
    [b for b in BLOCKS if "spl.ray" not in b and "spl.spark" not in b],
    ids=lambda b: b.strip().splitlines()[0][:40],
)
def test_example_runs(code, capsys):
    exec(compile(code, "docs/python.md", "exec"), {})
