"""Download of a whole result: CSV or Parquet written batch by batch and handed to the view in bounded chunks.

The file is never whole in the kernel: each record batch is encoded as it comes (from the kept batches, or
from the engine for a result too big to keep) and the bytes go to the browser about a megabyte at a time.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from e6magic.widgets._cells import full_text

CHUNK_BYTES = 1 << 20
FORMATS = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


class ChunkSink(io.RawIOBase):
    """A write-only file that hands its bytes to ``send`` in chunks of about ``CHUNK_BYTES``."""

    def __init__(self, send: Callable[[bytes], None]) -> None:
        super().__init__()
        self._send = send
        self._buffer = bytearray()
        self._position = 0
        self.sent = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(data)
        self._buffer += view
        self._position += view.nbytes
        if len(self._buffer) >= CHUNK_BYTES:
            self.flush_chunk()
        return view.nbytes

    def tell(self) -> int:
        return self._position

    def flush_chunk(self) -> None:
        if self._buffer:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            self.sent += len(chunk)
            self._send(chunk)


def file_name(stem: str, fmt: str) -> str:
    """A safe file name: the output variable or the query, then the format's extension."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "result"
    return f"{safe[:100]}.{fmt}"


def write(batches: Iterable[pa.RecordBatch], schema: pa.Schema, fmt: str, sink: ChunkSink,
          progress: Callable[[int], None]) -> int:
    """Encode ``batches`` as ``fmt`` into ``sink``; ``progress(rows so far)`` after each batch. Returns the rows."""
    if fmt not in FORMATS:
        raise ValueError(f"no download as {fmt!r}: csv or parquet")
    rows = 0
    if fmt == "csv":
        text_schema = _csv_schema(schema)
        with pacsv.CSVWriter(sink, text_schema) as writer:
            for batch in batches:
                writer.write_batch(_csv_batch(batch, text_schema))
                rows += batch.num_rows
                progress(rows)
    else:
        with pq.ParquetWriter(sink, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
                rows += batch.num_rows
                progress(rows)
    sink.flush_chunk()
    return rows


def _needs_text(dtype: pa.DataType) -> bool:
    """Columns the CSV writer cannot write: nested values go out as JSON, blobs as hex (as the grid shows them)."""
    t = pa.types
    return bool(t.is_nested(dtype) or t.is_binary(dtype) or t.is_large_binary(dtype)
                or t.is_fixed_size_binary(dtype) or t.is_dictionary(dtype))


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, pa.string()) if _needs_text(f.type) else f for f in schema])


def _csv_batch(batch: pa.RecordBatch, text_schema: pa.Schema) -> pa.RecordBatch:
    if batch.schema.equals(text_schema):
        return batch
    columns = []
    for column in batch.columns:
        if _needs_text(column.type):
            column = pa.array([full_text(v) for v in column.to_pylist()], pa.string())
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=text_schema)


def table_batches(table: pa.Table, order: pa.Array | None, size: int = 65536) -> Iterator[pa.RecordBatch]:
    """The kept rows, in the grid's sort order when it has one, a batch at a time."""
    if order is None:
        yield from table.to_batches(max_chunksize=size)
        return
    for start in range(0, len(order), size):
        yield from table.take(order.slice(start, size)).combine_chunks().to_batches()
