"""SPL, the pipe-style log processing language, on Apache Arrow.

Compile a program once, then run it over Arrow data (pyarrow, Polars, DuckDB, pandas) with
``Pipeline.process`` or over log files with ``Pipeline.run_files``; results come back as
``pyarrow`` tables that share the input's buffers wherever the program left a column unchanged.
``spl.ray`` and ``spl.spark`` run pipelines on Ray Data and PySpark.

>>> import pyarrow as pa, spl
>>> p = spl.compile("* | where status = '500' | extend ok = false")
>>> p.process(pa.table({"status": ["200", "500"]})).output.to_pylist()
[{'status': '500', 'ok': False}]
"""

from ._native import (
    DEFAULT_CHUNK_SIZE,
    ArrowStream,
    Diagnostic,
    FileRun,
    Pipeline,
    Result,
    SplError,
    check,
    compile,
    format,
    json_lines,
    rows,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ArrowStream",
    "Diagnostic",
    "FileRun",
    "Pipeline",
    "Result",
    "SplError",
    "check",
    "compile",
    "format",
    "json_lines",
    "read_files",
    "rows",
]


def read_files(paths, input_format=None, threads=1):
    """Decodes log files as ``spl run`` decodes them (gzip/zstd, JSON/raw/CSV; a raw line
    becomes the ``content`` field) and returns one ``pyarrow.Table`` per file, its chunks
    unified to one schema. Undecodable lines are left out (``spl run`` sends them to its error
    stream); nothing else runs.
    """
    single = isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__")
    return [_read_one(p, input_format, threads) for p in ([paths] if single else paths)]


def _read_one(path, input_format, threads):
    import pyarrow as pa

    run = compile("*").run_files([path], input_format=input_format, threads=threads)
    tables = [pa.Table.from_batches([b]) for name, b in run if name != "__error__"]
    if not tables:
        return pa.table({})
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="permissive")
