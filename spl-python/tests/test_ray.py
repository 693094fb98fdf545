"""A real two-node Ray cluster on this machine (`ray.cluster_utils.Cluster`: a head and a worker
node, each its own raylet) replays the generated archive — 24 files, raw and JSON lines, some
gzip — through a multi-stage program with `spl.ray.read_logs` + `spl.ray.apply`; its rows equal
`spl run`'s over the same files (hash of the sorted rows). Multi-output programs come back as
one Dataset per output."""

import pytest

ray = pytest.importorskip("ray")

import spl
import spl.ray
from conftest import REPLAY_SPL, rows_hash


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    c = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    c.add_node(num_cpus=1)
    ray.init(address=c.address, log_to_driver=False)
    c.wait_for_nodes()
    yield c
    ray.shutdown()
    c.shutdown()


def all_rows(ds):
    rows = []
    for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
        rows.extend(spl.rows(batch))
    return rows


def test_two_nodes_replay_equals_spl_run(cluster, log_archive, replay_expected):
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    expected_rows, expected_hash = replay_expected
    ds = spl.ray.read_logs(log_archive)
    out = spl.ray.apply(ds, REPLAY_SPL, workers=2)
    rows = all_rows(out)
    assert len(rows) == len(expected_rows)
    assert rows_hash(rows) == expected_hash


def test_raw_lines_become_content(cluster, log_archive):
    raw = [p for p in log_archive if ".log" in p.name][:2]
    rows = spl.ray.read_logs(raw, input_format="raw").take_all()
    assert len(rows) == 800
    assert set(rows[0]) == {"content"}


def test_multi_output_programs(cluster, log_archive):
    text = (
        ".let events = * | parse-regexp content, '^\\S+ (\\S+) (\\S+) ' as level, service;\n"
        ".let errors = $events | where level = 'ERROR' | extend n = cast('x' as bigint);\n"
        "$events | where service = 'db' | project level, service;\n"
        "$errors;"
    )
    outs = spl.ray.apply_outputs(spl.ray.read_logs(log_archive[:4]), text, errors=True, workers=1)
    assert list(outs) == ["output1", "errors", "__error__"]
    db = all_rows(outs["output1"])
    assert db and all(r["service"] == "db" for r in db)
    # `cast('x' as bigint)` fails on every ERROR row: they are error rows, not output rows.
    assert all_rows(outs["errors"]) == []
    errs = all_rows(outs["__error__"])
    assert errs and all(r["level"] == "ERROR" and "__error__" in r for r in errs)


def test_a_bad_program_fails_on_the_driver(cluster, log_archive):
    with pytest.raises(spl.SplError):
        spl.ray.apply(spl.ray.read_logs(log_archive[:1]), "* | wher x")
