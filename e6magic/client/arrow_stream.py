"""A result as an Arrow stream: a `RecordBatchReader` with its schema up front, and the polars conversion."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    import polars as pl

POLARS_MISSING = "polars is not installed: pip install polars (or pip install 'e6magic[polars]')"


def reader(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> pa.RecordBatchReader:
    """A reader over `batches` (pulled one at a time, so memory stays at about a batch) that all have `schema`.

    The wire carries a decimal's scale and a timestamp's zone per chunk, so a later chunk may differ from the
    first one; such a batch is cast to the stream's schema (a wider scale loses no digit; a value that would is
    an error, never a silent rounding).
    """
    return pa.RecordBatchReader.from_batches(schema, _conformed(schema, batches))


def _conformed(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if batch.schema.equals(schema):
            yield batch
        else:
            columns = [column.cast(field.type) for column, field in zip(batch.columns, schema, strict=True)]
            yield pa.RecordBatch.from_arrays(columns, schema=schema)


def to_polars(source: pa.Table | pa.RecordBatchReader) -> pl.DataFrame:
    """A polars DataFrame of an Arrow table (zero-copy) or stream (read batch by batch through the Arrow C stream,
    never gathered into a pyarrow Table first); ImportError naming the pip command where polars is missing."""
    try:
        import polars
    except ImportError as exc:
        raise ImportError(POLARS_MISSING) from exc
    if isinstance(source, pa.Table):
        return polars.from_arrow(source)  # type: ignore[return-value]
    return polars.DataFrame(source)
