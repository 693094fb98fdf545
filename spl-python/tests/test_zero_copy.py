"""Zero copies in and out: a 1M-row text column passes through `process` and comes back as a
pyarrow column whose text bytes are the caller's own buffer (same address), for Utf8 input
(the engine takes views over its bytes) and Utf8View input (taken as it is)."""

import pyarrow as pa
import pytest

import spl

ROWS = 1_000_000


def column(kind):
    # Values longer than 12 bytes, so a view points into the data buffer instead of inlining.
    values = [f"request {i:07d} from host-{i % 97:02d}" for i in range(ROWS)]
    levels = ["ERROR" if i % 10 == 0 else "INFO" for i in range(ROWS)]
    return pa.table({"msg": pa.array(values, kind), "level": pa.array(levels, kind)})


def data_buffers(chunked):
    """Addresses of the buffers holding the text bytes of every chunk."""
    out = set()
    for chunk in chunked.chunks:
        bufs = chunk.buffers()
        if pa.types.is_string_view(chunk.type):
            out.update(b.address for b in bufs[2:] if b is not None)
        else:
            out.add(bufs[2].address)
    return out


@pytest.mark.parametrize("kind", [pa.string(), pa.string_view()], ids=["utf8", "utf8view"])
def test_text_passes_through_without_copies(kind):
    table = column(kind)
    assert table.column("msg").num_chunks == 1
    source = data_buffers(table.column("msg"))
    before = pa.total_allocated_bytes()

    # Every row kept: the column is the caller's.
    out = spl.compile("* | where length(msg) > 0").process(table).output
    assert out.num_rows == ROWS
    assert data_buffers(out.column("msg")) == source
    if kind == pa.string_view():
        # Taken as it is: even the views buffer is the caller's.
        assert out.column("msg").chunk(0).buffers()[1].address == table.column("msg").chunk(0).buffers()[1].address

    # Some rows dropped: new views, still over the caller's bytes.
    out = spl.compile("* | where level = 'ERROR'").process(table).output
    assert out.num_rows == ROWS // 10
    assert data_buffers(out.column("msg")) <= source
    assert out.column("msg")[1].as_py() == "request 0000010 from host-10"

    # Nothing came through pyarrow's allocator: no copy was made on the Python side.
    assert pa.total_allocated_bytes() - before < 1 << 20


def test_output_is_read_in_place_by_polars():
    import polars as pl

    table = column(pa.string_view())
    out = spl.compile("* | where level = 'ERROR' | project msg").process(table).output
    df = pl.DataFrame(out)
    assert df.height == ROWS // 10
    assert df["msg"][0] == "request 0000000 from host-00"
