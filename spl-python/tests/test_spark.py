"""PySpark in local mode (`local[2]`) runs `spl.spark.apply` (DataFrame.mapInArrow) over the
same generated archive and gets the rows of `spl run`; schemas come from a sample or are given."""

import os
import sys

import pytest

pyspark = pytest.importorskip("pyspark")

import shutil

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("PySpark needs Java (17+) on PATH or JAVA_HOME", allow_module_level=True)

import pyarrow as pa

import spl
import spl.spark
from conftest import REPLAY_SPL, rows_hash


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    s = (
        SparkSession.builder.master("local[2]")
        .appName("spl-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def archive_frame(spark, files):
    """The archive decoded as `spl run` decodes it, as one Spark DataFrame (string columns)."""
    tables = spl.read_files(files)
    table = pa.concat_tables(tables, promote_options="permissive")
    table = table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
    return spark.createDataFrame(table.to_pandas()).repartition(4)


def test_spark_apply_equals_spl_run(spark, log_archive, replay_expected):
    expected_rows, expected_hash = replay_expected
    df = archive_frame(spark, log_archive)
    out = spl.spark.apply(df, REPLAY_SPL)
    assert {f.name for f in out.schema.fields} >= {"ts", "level", "service", "msg", "ms", "slow", "user"}
    rows = spl.rows(out.toArrow() if hasattr(out, "toArrow") else pa.Table.from_pandas(out.toPandas()))
    assert len(rows) == len(expected_rows)
    assert rows_hash(rows) == expected_hash


def test_spark_apply_with_a_given_schema(spark):
    df = spark.createDataFrame([("a=1", "x"), ("a=2", "y")], "kv string, other string")
    out = spl.spark.apply(
        df,
        "* | parse-kv kv, '&', '=' | extend n = cast(a as bigint) * 10 | project a, n",
        schema="a string, n long",
    )
    assert sorted((r.a, r.n) for r in out.collect()) == [("1", 10), ("2", 20)]


def test_spark_bad_program_fails_on_the_driver(spark):
    df = spark.createDataFrame([("x",)], "content string")
    with pytest.raises(spl.SplError):
        spl.spark.apply(df, "* | wher x")
