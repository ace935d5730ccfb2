"""The e6data result wire: the metadata stream and the Thrift-binary `Chunk` codec (wire §3)."""
from __future__ import annotations

from e6magic.wire.decode import decode_chunk
from e6magic.wire.encode import encode_chunk
from e6magic.wire.errors import ChunkDecodeError
from e6magic.wire.metadata import (
    Column,
    ResultMetadata,
    arrow_schema,
    decode_metadata,
    encode_metadata,
    metadata_for,
)
from e6magic.wire.types import VectorType, arrow_type, type_name, vector_type_for

__all__ = [
    "ChunkDecodeError",
    "Column",
    "ResultMetadata",
    "VectorType",
    "arrow_schema",
    "arrow_type",
    "decode_chunk",
    "decode_metadata",
    "encode_chunk",
    "encode_metadata",
    "metadata_for",
    "type_name",
    "vector_type_for",
]
