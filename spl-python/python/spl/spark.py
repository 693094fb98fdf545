"""SPL on PySpark: ``apply(df, text)`` runs a pipeline over a Spark DataFrame with
``DataFrame.mapInArrow`` (Arrow batches in and out of each Python worker; each worker process
compiles the program once).

Spark needs the output schema before it runs. Give it as ``schema`` (a ``StructType`` or a DDL
string), or let ``apply`` derive it by running the program over a sample of ``df`` on the
driver (``sample_rows`` rows). Fields a program creates only for some rows — ``parse-json`` or
``parse-kv`` keys, ``extend`` inside a branch of data — appear in the derived schema only if the
sample holds such a row; pass ``schema`` when outputs have dynamic keys. Output columns that a
batch lacks are NULL; columns outside the schema are left out. SPL text values map to
``StringType``, BIGINT to ``LongType``, DOUBLE to ``DoubleType``, BOOLEAN to ``BooleanType``,
TIMESTAMP to ``TimestampType``; other types (arrays, maps, JSON) travel as their SPL text.

Rows are processed batch by batch, so programs whose result depends on all rows together
(``stats``, ``sort``, ``limit``) give per-batch results; aggregate with Spark instead.
"""

from __future__ import annotations

from typing import Dict, Iterator, Optional

import pyarrow as pa

import spl as _spl

__all__ = ["apply"]

_CACHE: Dict[tuple, "_spl.Pipeline"] = {}


def _cached(key):
    p = _CACHE.get(key)
    if p is None:
        text, profile, timezone, error_policy = key
        p = _CACHE[key] = _spl.compile(text, profile=profile, timezone=timezone, error_policy=error_policy)
    return p


def _spark_type(t: pa.DataType):
    from pyspark.sql import types as T

    if pa.types.is_integer(t):
        return T.LongType()
    if pa.types.is_floating(t):
        return T.DoubleType()
    if pa.types.is_boolean(t):
        return T.BooleanType()
    if pa.types.is_timestamp(t):
        return T.TimestampType()
    return T.StringType()


def _arrow_type(t) -> pa.DataType:
    from pyspark.sql import types as T

    if isinstance(t, (T.LongType, T.IntegerType, T.ShortType, T.ByteType)):
        return pa.int64() if isinstance(t, T.LongType) else {T.IntegerType: pa.int32(), T.ShortType: pa.int16(), T.ByteType: pa.int8()}[type(t)]
    if isinstance(t, T.DoubleType):
        return pa.float64()
    if isinstance(t, T.FloatType):
        return pa.float32()
    if isinstance(t, T.BooleanType):
        return pa.bool_()
    if isinstance(t, T.TimestampType):
        return pa.timestamp("us", tz="UTC")
    if isinstance(t, T.StringType):
        return pa.string()
    raise TypeError(f"spl.spark.apply: output column type {t} is not supported")


def _conform(table: pa.Table, schema: pa.Schema, timezone: str) -> pa.Table:
    """``table`` with exactly ``schema``'s columns, cast to its types."""
    columns = []
    for f in schema:
        if f.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, f.type))
            continue
        col = table.column(f.name)
        if col.type == f.type:
            columns.append(col)
            continue
        try:
            columns.append(col.cast(f.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # Values without an Arrow cast (arrays, maps) as the text SPL renders for them.
            text = [r.get(f.name) for r in _spl.rows(pa.table({f.name: col}), timezone=timezone)]
            columns.append(pa.array(text, pa.string()).cast(f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _sample(df, rows: int) -> pa.Table:
    sample = df.limit(rows)
    if hasattr(sample, "toArrow"):
        return sample.toArrow()
    return pa.Table.from_pandas(sample.toPandas(), preserve_index=False)


def apply(
    df,
    text: str,
    schema=None,
    *,
    output: Optional[str] = None,
    profile: str = "cli",
    timezone: str = "UTC",
    error_policy: Optional[str] = None,
    sample_rows: int = 1000,
):
    """Runs the SPL program ``text`` over the Spark DataFrame ``df`` and returns the DataFrame
    of its output ``output`` (default: the only or first output). ``schema``: the output schema
    (``StructType`` or DDL string); ``None`` derives it from ``sample_rows`` rows (see the
    module notes on dynamic keys). A bad program raises ``spl.SplError`` here, on the driver.
    """
    from pyspark.sql import types as T

    key = (text, profile, timezone, error_policy)
    pipeline = _cached(key)
    if output is None:
        output = pipeline.outputs[0]
    elif output not in pipeline.outputs:
        raise ValueError(f"the program has no output {output!r} (it has {pipeline.outputs})")
    if schema is None:
        produced = pipeline.process(_sample(df, sample_rows)).outputs[output]
        schema = T.StructType(
            [T.StructField(f.name, _spark_type(f.type), True) for f in produced.schema]
        )
    elif isinstance(schema, str):
        schema = T._parse_datatype_string(schema)
    arrow_schema = pa.schema([pa.field(f.name, _arrow_type(f.dataType)) for f in schema.fields])

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        p = _cached(key)
        for batch in batches:
            table = p.process(batch).outputs[output]
            yield from _conform(table, arrow_schema, timezone).to_batches()

    return df.mapInArrow(run, schema)
