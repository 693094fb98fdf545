"""SPL on Ray Data: replay log archives and run pipelines over a ``ray.data.Dataset``.

``read_logs(paths)`` reads log files (raw lines become ``content``; JSON lines their fields;
gzip/zstd by magic bytes) into a Dataset, one read task per file, decoded by the engine exactly
as ``spl run`` decodes them. ``apply(ds, text)`` maps a pipeline over the Dataset's Arrow
batches; each worker (a Ray actor) compiles the program once and processes every batch it is
given, with zero-copy Arrow in and out. ``apply_outputs`` exposes every dataset of a
multi-output program (and the error rows) at once.

Rows are processed batch by batch: programs whose result depends on all rows together
(``stats``, ``sort``, ``limit``) give per-batch results here; run those on the output of
``apply`` with Ray's own aggregations, or with ``spl run`` on one machine.
"""

from __future__ import annotations

import os
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Union

import pyarrow as pa

import spl as _spl

__all__ = ["read_logs", "apply", "apply_outputs", "OUTPUT_COLUMN"]

#: The column ``apply_outputs`` tags rows with while they travel through one Dataset.
OUTPUT_COLUMN = "__spl_output__"


def _paths(paths: Union[str, os.PathLike, Iterable]) -> List[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: List[str] = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            out.extend(
                os.path.join(root, f)
                for root, _, files in sorted(os.walk(p))
                for f in sorted(files)
            )
        else:
            out.append(p)
    return out


def _read_batch(batch: pa.Table, input_format: Optional[str]) -> Iterator[pa.Table]:
    pipeline = _cached("*", "cli", "UTC", None)
    for path in batch.column("path").to_pylist():
        for name, rb in pipeline.run_files([path], input_format=input_format):
            if name != "__error__" and rb.num_rows:
                yield _plain(pa.Table.from_batches([rb]))


def read_logs(
    paths: Union[str, os.PathLike, Sequence],
    input_format: Optional[str] = None,
):
    """A ``ray.data.Dataset`` of the events in ``paths`` (files or directories), one read task
    per file. ``input_format``: ``"raw"`` (each line becomes ``content``), ``"json"``,
    ``"csv"``, or ``None`` to decide per file as ``spl run`` does. Undecodable lines are left
    out, as they would go to ``spl run``'s error stream.
    """
    import ray

    files = _paths(paths)
    if not files:
        raise ValueError("read_logs: no files")
    items = ray.data.from_items([{"path": f} for f in files], override_num_blocks=len(files))
    return items.map_batches(
        _read_batch,
        fn_kwargs={"input_format": input_format},
        batch_size=1,
        batch_format="pyarrow",
    )


_CACHE: Dict[tuple, "_spl.Pipeline"] = {}


def _cached(text: str, profile: str, timezone: str, error_policy: Optional[str]):
    key = (text, profile, timezone, error_policy)
    p = _CACHE.get(key)
    if p is None:
        p = _CACHE[key] = _spl.compile(text, profile=profile, timezone=timezone, error_policy=error_policy)
    return p


class _Worker:
    """One Ray actor's compiled pipeline."""

    def __init__(self, text, profile, timezone, error_policy, output, tagged, errors):
        self.pipeline = _spl.compile(text, profile=profile, timezone=timezone, error_policy=error_policy)
        self.output = output
        self.tagged = tagged
        self.errors = errors

    def __call__(self, batch: pa.Table):
        result = self.pipeline.process(batch)
        if not self.tagged:
            yield _plain(result.outputs[self.output])
            return
        for name, table in result.outputs.items():
            if table.num_rows:
                yield _tag(_plain(table), name)
        if self.errors and result.errors.num_rows:
            yield _tag(_plain(result.errors), "__error__")


def _plain(table: pa.Table) -> pa.Table:
    """Columns as types every part of Ray Data handles (string views as strings: Ray's row
    conversion does not know views). Blocks cross processes through Ray's object store, so
    they are copied there anyway."""
    fields = []
    changed = False
    for f in table.schema:
        t = f.type
        if t == pa.string_view():
            t, changed = pa.string(), True
        elif t == pa.binary_view():
            t, changed = pa.binary(), True
        fields.append(pa.field(f.name, t))
    return table.cast(pa.schema(fields)) if changed else table


def _tag(table: pa.Table, name: str) -> pa.Table:
    return table.append_column(OUTPUT_COLUMN, pa.array([name] * table.num_rows, pa.string()))


def _select(batch: pa.Table, name: str) -> pa.Table:
    if OUTPUT_COLUMN not in batch.column_names:
        return batch.slice(0, 0)
    mine = batch.filter(pa.compute.equal(batch.column(OUTPUT_COLUMN), name))
    mine = mine.drop_columns([OUTPUT_COLUMN])
    # Columns that are NULL throughout belonged to another output's batches.
    keep = [c for c in mine.column_names if mine.column(c).null_count < mine.num_rows]
    return mine.select(keep)


def _compute(workers):
    if workers is None:
        import ray

        cpus = int(ray.available_resources().get("CPU", 1)) or 1
        return (1, max(1, cpus))
    return workers


def apply(
    dataset,
    text: str,
    *,
    output: Optional[str] = None,
    profile: str = "cli",
    timezone: str = "UTC",
    error_policy: Optional[str] = None,
    workers=None,
    batch_size: Optional[Union[int, str]] = "default",
):
    """Maps the SPL program ``text`` over ``dataset`` (a ``ray.data.Dataset``) and returns the
    Dataset of its output ``output`` (default: the program's only output, or its first).

    ``workers``: the number of Ray actors (each compiles the program once), a ``(min, max)``
    pair, or ``None`` for 1 up to the cluster's CPUs. ``batch_size``: rows per batch handed to a
    worker (``None``: each block whole). The program is compiled on the caller first, so a bad
    program raises ``spl.SplError`` here, not in a worker.
    """
    pipeline = _spl.compile(text, profile=profile, timezone=timezone, error_policy=error_policy)
    if output is None:
        output = pipeline.outputs[0]
    elif output not in pipeline.outputs:
        raise ValueError(f"the program has no output {output!r} (it has {pipeline.outputs})")
    kwargs = {} if batch_size == "default" else {"batch_size": batch_size}
    return dataset.map_batches(
        _Worker,
        fn_constructor_args=(text, profile, timezone, error_policy, output, False, False),
        batch_format="pyarrow",
        concurrency=_compute(workers),
        **kwargs,
    )


def apply_outputs(
    dataset,
    text: str,
    *,
    errors: bool = False,
    profile: str = "cli",
    timezone: str = "UTC",
    error_policy: Optional[str] = None,
    workers=None,
    batch_size: Optional[Union[int, str]] = "default",
) -> Dict[str, object]:
    """Runs ``text`` once over ``dataset`` and returns every output as its own Dataset:
    ``{name: Dataset}`` in statement order, plus ``"__error__"`` (failed rows with
    ``__error__``) when ``errors`` is true. The pass runs once (its result is materialized);
    each output Dataset selects its rows from it.
    """
    pipeline = _spl.compile(text, profile=profile, timezone=timezone, error_policy=error_policy)
    kwargs = {} if batch_size == "default" else {"batch_size": batch_size}
    tagged = dataset.map_batches(
        _Worker,
        fn_constructor_args=(text, profile, timezone, error_policy, None, True, errors),
        batch_format="pyarrow",
        concurrency=_compute(workers),
        **kwargs,
    ).materialize()
    names = list(pipeline.outputs) + (["__error__"] if errors else [])
    return {
        name: tagged.map_batches(_select, fn_kwargs={"name": name}, batch_size=None, batch_format="pyarrow")
        for name in names
    }
