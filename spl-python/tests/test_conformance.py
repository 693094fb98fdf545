"""The shared conformance cases (testdata/conformance, the ones `cargo test` runs through the
engine's own runner and `spl test` runs) through `spl.compile(...).process(pyarrow.Table)`:
the same rows, compared the same way (multisets of rows with values as text, error rows by
code)."""

import json
import pathlib

import pyarrow as pa
import pytest

import spl
from conftest import ROOT

CASES_DIR = ROOT / "testdata" / "conformance"


def load_cases():
    cases = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            t = line.strip()
            if not t or t.startswith("#") or t.startswith("//"):
                continue
            case = json.loads(t, parse_float=str)
            cases.append(pytest.param(case, id=f"{path.stem}:{case.get('id', n)}"))
    return cases


CASES = load_cases()


def input_table(rows):
    """The case's input rows as a pyarrow table of text columns (absent fields NULL), as the
    JSON decoder of `spl run` would hand them to the pipeline."""
    names = []
    for r in rows:
        for k in r:
            if k not in names:
                names.append(k)
    columns = {}
    for name in names:
        values = []
        for r in rows:
            v = r.get(name)
            if v is None:
                values.append(None)
            elif isinstance(v, str):
                values.append(v)
            elif isinstance(v, bool):
                values.append("true" if v else "false")
            else:
                values.append(json.dumps(v, separators=(",", ":"), ensure_ascii=False))
        columns[name] = pa.array(values, pa.string())
    if not names:
        return pa.Table.from_batches([pa.RecordBatch.from_pylist([{}] * len(rows))]) if rows else pa.table({})
    return pa.table(columns)


def text(v):
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def expected_rows(rows):
    return sorted(
        json.dumps({k: text(v) for k, v in r.items() if v is not None}, sort_keys=True) for r in rows
    )


def actual_rows(table, timezone):
    return sorted(json.dumps(r, sort_keys=True) for r in spl.rows(table, timezone=timezone))


def test_there_are_cases():
    assert len(CASES) > 300


@pytest.mark.parametrize("case", CASES)
def test_case(case):
    options = case.get("options", {})
    profile = options.get("profile", "cli")
    timezone = options.get("timezone", "UTC")
    if "compile_error" in case:
        with pytest.raises(spl.SplError) as info:
            spl.compile(case["spl"], profile=profile, timezone=timezone)
        codes = [d.code for d in info.value.diagnostics if d.severity == "error"]
        assert case["compile_error"] in codes
        return
    pipeline = spl.compile(case["spl"], profile=profile, timezone=timezone)
    result = pipeline.process(input_table(case.get("input", [])))
    if "outputs" in case:
        assert len(case["outputs"]) == len(result.outputs)
        for exp, table in zip(case["outputs"], result.outputs.values()):
            assert actual_rows(table, timezone) == expected_rows(exp)
    else:
        got = []
        for table in result.outputs.values():
            got.extend(actual_rows(table, timezone))
        assert sorted(got) == expected_rows(case.get("output", []))
    errors = []
    for r in spl.rows(result.errors, timezone=timezone):
        r["__error__"] = json.loads(r["__error__"])["code"]
        errors.append(json.dumps(r, sort_keys=True))
    assert sorted(errors) == expected_rows(case.get("errors", []))
