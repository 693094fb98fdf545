"""The Python API from the outside: compile, check, format, explain, process over the Arrow
producers users have (pyarrow, Polars, DuckDB, pandas), multi-output programs, error rows,
stats, run_files over compressed files, sharing a pipeline between threads, hostile input."""

import gzip
import threading

import pyarrow as pa
import pytest

import spl
from conftest import REPLAY_SPL, rows_hash, spl_run_rows


def test_compile_errors_are_spl_errors_with_diagnostics():
    with pytest.raises(spl.SplError) as info:
        spl.compile("* | where a = \n| wher x")
    e = info.value
    assert e.diagnostics, "diagnostics must be attached"
    d = e.diagnostics[0]
    assert d.severity == "error"
    assert d.code.startswith("E") and len(d.code) == 5
    assert d.line >= 1 and d.column >= 1
    assert d.message
    # Rendered like `spl check`: the code, the source line and a caret.
    text = str(e)
    assert f"error[{d.code}]" in text and "^" in text
    assert e.code == d.code


def test_unknown_instruction_has_its_position():
    with pytest.raises(spl.SplError) as info:
        spl.compile("* | wher x")
    d = info.value.diagnostics[0]
    assert (d.code, d.line, d.column) == ("E0005", 1, 5)
    assert "where" in (d.help or "")


def test_profile_limits_are_compile_errors():
    # The consumer profile does not allow `stats`.
    with pytest.raises(spl.SplError):
        spl.compile("* | stats n = count(*)", profile="consumer")
    spl.compile("* | stats n = count(*)", profile="cli")


def test_bad_options_are_value_errors():
    with pytest.raises(ValueError, match="profile"):
        spl.compile("*", profile="nope")
    with pytest.raises(ValueError, match="time zone"):
        spl.compile("*", timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="error policy"):
        spl.compile("*", error_policy="ignore")


def test_check_and_format():
    assert spl.check("* | where a = '1'") == []
    errors = spl.check("* | where (")
    assert errors and errors[0].severity == "error"
    assert spl.format("*|where a='1'|extend b=a") == "* | where a = '1' | extend b = a"
    with pytest.raises(spl.SplError):
        spl.format("* | where (")


def test_help_is_useful():
    assert "profile" in spl.compile.__doc__ and "SplError" in spl.compile.__doc__
    assert "PyCapsule" in spl.Pipeline.process.__doc__
    assert "gzip" in spl.Pipeline.run_files.__doc__


def test_explain_shows_the_plan():
    p = spl.compile("* | where a = '1' | extend b = a || 'x'")
    plan = p.explain()
    assert "where" in plan and "extend" in plan and "reads: a" in plan
    assert "where" in p.explain(written=True)


def test_process_pyarrow_table_and_batch():
    p = spl.compile("* | where status = '500' | extend n = cast(bytes as bigint) * 2")
    t = pa.table({"status": ["200", "500", "500"], "bytes": ["1", "2", "3"]})
    r = p.process(t)
    out = r.outputs["output1"]
    assert isinstance(out, pa.Table)
    assert out.to_pylist() == [
        {"status": "500", "bytes": "2", "n": 4},
        {"status": "500", "bytes": "3", "n": 6},
    ]
    assert r.output.equals(out)
    # A RecordBatch (__arrow_c_array__) gives the same rows.
    assert p.process(t.to_batches()[0]).output.to_pylist() == out.to_pylist()
    assert r.errors.num_rows == 0
    assert [s["instruction"] for s in r.stats] == ["where", "extend"]
    assert r.stats[0]["rows_in"] == 3 and r.stats[0]["rows_out"] == 2


def test_process_many_batches_is_one_stream():
    p = spl.compile("* | stats n = count(*) by k | sort k")
    t = pa.Table.from_batches(
        [pa.record_batch({"k": ["a", "b"]}), pa.record_batch({"k": ["a", "a"]})]
    )
    assert spl.rows(p.process(t).output) == [{"k": "a", "n": "3"}, {"k": "b", "n": "1"}]


def test_process_polars_duckdb_pandas():
    import duckdb
    import pandas as pd
    import polars as pl

    p = spl.compile("* | where level = 'ERROR' | project msg")
    data = {"level": ["INFO", "ERROR", "ERROR"], "msg": ["a", "b", "c"]}
    expected = [{"msg": "b"}, {"msg": "c"}]
    assert p.process(pl.DataFrame(data)).output.to_pylist() == expected
    rel = duckdb.sql("select * from (values ('INFO','a'), ('ERROR','b'), ('ERROR','c')) t(level, msg)")
    assert sorted(p.process(rel).output.to_pylist(), key=str) == expected
    assert p.process(pd.DataFrame(data)).output.to_pylist() == expected
    # Output goes back into Polars without pyarrow in the way.
    assert pl.DataFrame(p.process(pl.DataFrame(data)).output).to_dicts() == expected


def test_non_text_columns_become_text_and_time_fields_bigint():
    p = spl.compile("* | extend m = n || 'x', t = __time__ + 1")
    t = pa.table({"n": pa.array([1, 2], pa.int32()), "__time__": ["1700000000", "x"], "f": [1.5, None]})
    out = p.process(t).output
    assert out.schema.field("n").type == pa.string_view()
    assert out.schema.field("__time__").type == pa.int64()
    rows = out.to_pylist()
    assert rows[0]["n"] == "1" and rows[0]["m"] == "1x"
    assert rows[0]["__time__"] == 1700000000 and rows[0]["t"] == 1700000001
    assert rows[1]["__time__"] is None
    assert rows[0]["f"] == "1.5" and rows[1]["f"] is None


def test_hostile_input_is_a_clear_error():
    p = spl.compile("*")
    with pytest.raises(TypeError, match="Arrow"):
        p.process([1, 2, 3])
    with pytest.raises(ValueError, match="field `x`"):
        p.process(pa.table({"x": pa.array([[1], [2]])}))
    with pytest.raises(TypeError, match="record batch"):
        p.process(pa.array(["a"]))

    class Liar:
        def __arrow_c_stream__(self, requested_schema=None):
            return "not a capsule"

    with pytest.raises(TypeError, match="PyCapsule"):
        p.process(Liar())


def test_multi_output_and_error_rows():
    p = spl.compile(
        ".let src = *;\n"
        ".let bad = $src | where level = 'ERROR';\n"
        "$src | extend n = cast(v as bigint);\n"
        "$bad;"
    )
    assert p.outputs == ["output1", "bad"]
    r = p.process(pa.table({"level": ["ERROR", "INFO"], "v": ["x", "2"]}))
    assert set(r.outputs) == {"output1", "bad"}
    assert spl.rows(r.outputs["bad"]) == [{"level": "ERROR", "v": "x"}]
    assert spl.rows(r.outputs["output1"]) == [{"level": "INFO", "v": "2", "n": "2"}]
    # `cast('x' as bigint)` fails: the row goes to the error stream with every input field.
    errs = r.errors.to_pylist()
    assert len(errs) == 1 and errs[0]["v"] == "x" and errs[0]["__error__"]
    with pytest.raises(ValueError, match="2 outputs"):
        r.output


def test_fail_policy_raises_with_code():
    p = spl.compile("* | extend n = cast(v as bigint)", error_policy="fail")
    assert p.error_policy == "fail"
    with pytest.raises(spl.SplError) as info:
        p.process(pa.table({"v": ["x"]}))
    assert info.value.code.startswith("E")


def test_empty_input_keeps_working():
    p = spl.compile("* | where a = '1'")
    r = p.process(pa.table({"a": pa.array([], pa.string())}))
    assert r.output.num_rows == 0


def test_run_files_reads_compressed_and_mixed_formats(tmp_path):
    raw = tmp_path / "a.log.gz"
    raw.write_bytes(gzip.compress(b"hello world\nsecond line\n"))
    js = tmp_path / "b.jsonl"
    js.write_text('{"content": "from json", "k": "1"}\nnot json\n')
    csv = tmp_path / "c.csv"
    csv.write_text("content,k\nfrom csv,2\n")
    p = spl.compile("* | extend len = length(content)")
    run = p.run_files([raw, js, csv])
    got = {"output1": [], "__error__": []}
    for name, batch in run:
        assert isinstance(batch, pa.RecordBatch)
        got[name].extend(spl.rows(batch))
    assert [r["content"] for r in got["output1"]] == ["hello world", "second line", "from json", "from csv"]
    assert got["output1"][2]["k"] == "1" and got["output1"][3]["k"] == "2"
    # The line that is not JSON is an error row, as in `spl run`.
    assert len(got["__error__"]) == 1
    assert run.totals["rows_out"] == {"output1": 4}
    assert run.totals["input_errors"] == 1
    # The same rows as `spl run`.
    expected = spl_run_rows("* | extend len = length(content)", [raw, js, csv])
    assert rows_hash(got["output1"]) == rows_hash(expected)


def test_run_files_errors(tmp_path):
    p = spl.compile("*")
    with pytest.raises(spl.SplError, match="nonexistent"):
        list(p.run_files([tmp_path / "nonexistent.log"]))
    with pytest.raises(ValueError, match="input format"):
        p.run_files([], input_format="xml")
    assert list(p.run_files([])) == []


def test_run_files_with_threads_matches_spl_run(log_archive, replay_expected):
    _, expected_hash = replay_expected
    p = spl.compile(REPLAY_SPL)
    rows = []
    for name, batch in p.run_files(log_archive, threads=2, chunk_size=16 << 10):
        assert name == "output1"
        rows.extend(spl.rows(batch))
    assert rows_hash(rows) == expected_hash


def test_read_files_decodes_like_spl_run(log_archive):
    tables = spl.read_files(log_archive[:2])
    assert len(tables) == 2
    assert tables[0].column_names == ["content"]
    assert set(tables[1].column_names) == {"content", "host"}


def test_one_pipeline_shared_between_threads():
    p = spl.compile("* | where cast(v as bigint) % 2 = 0 | extend w = cast(v as bigint) * 10")
    t = pa.table({"v": [str(i) for i in range(20000)]})
    results = [None] * 8

    def work(i):
        results[i] = p.process(t).output.num_rows

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [10000] * 8


def test_json_lines_render_as_spl_run():
    p = spl.compile("* | extend n = cast(v as bigint), ok = v = '1'")
    lines = spl.json_lines(p.process(pa.table({"v": ["1", "2"]})).output)
    assert lines == ['{"v":"1","n":1,"ok":true}', '{"v":"2","n":2,"ok":false}']


def test_a_dataset_emitted_twice_has_two_names():
    p = spl.compile(".let a = * | extend x = 'A';\n$a;\n$a;")
    assert p.outputs == ["a", "a-2"]
    r = p.process(pa.table({"k": ["1"]}))
    assert list(r.outputs) == ["a", "a-2"]


def test_stubs_cover_the_native_module():
    import pathlib

    import spl._native as native

    stub = (pathlib.Path(spl.__file__).parent / "_native.pyi").read_text()
    for name in dir(native):
        if not name.startswith("_"):
            assert name in stub, f"{name} is missing from _native.pyi"
