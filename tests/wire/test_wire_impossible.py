"""Impossible sizes, counts and scales in a chunk or its metadata are a ChunkDecodeError, never a quiet result."""
from __future__ import annotations

import struct

import pytest
import wire_thrift_build as tb

from e6magic.wire import ChunkDecodeError, Column, ResultMetadata, VectorType, decode_chunk, decode_metadata
from e6magic.wire.metadata import encode_metadata
from e6magic.wire.vector_schema import DECIMAL128_CONST, DECIMAL128_DATA

LONG, DECIMAL = VectorType.LONG.value, VectorType.DECIMAL128.value


def long_vector(size: int, rows: int) -> bytes:
    return tb.vector(size, LONG, [False] * rows, tb.struct_(3, tb.list_(1, tb.I64, [struct.pack(">q", 7)] * rows)))


@pytest.mark.parametrize("size", [-1, -2**31])
def test_a_negative_chunk_size_is_an_error_not_an_empty_batch(size):
    meta = ResultMetadata(2, (Column("a", "LONG"),))
    for chunk in (tb.chunk(size, [long_vector(size, 2)]), tb.i32(1, size) + b"\x00"):
        with pytest.raises(ChunkDecodeError, match=f"negative size \\({size}\\)"):
            decode_chunk(chunk, meta)


def test_a_size_past_the_data_is_an_error():
    with pytest.raises(ChunkDecodeError, match="for 2147483647 rows"):
        decode_chunk(tb.chunk(2**31 - 1, [long_vector(2**31 - 1, 2)]))


@pytest.mark.parametrize("where", ["vectors", "nullSet", "data"])
def test_a_negative_list_count_is_an_error(where):
    if where == "vectors":
        chunk = tb.i32(1, 1) + struct.pack(">bhbi", tb.LIST, 2, tb.STRUCT, -1) + b"\x00"
    elif where == "nullSet":
        chunk = tb.chunk(1, [tb.i32(1, 1) + tb.i32(2, LONG) + struct.pack(">bhbi", tb.LIST, 3, tb.BOOL, -4)])
    else:
        data = tb.struct_(3, struct.pack(">bhbi", tb.LIST, 1, tb.I64, -1))
        chunk = tb.chunk(1, [tb.vector(1, LONG, [False], data)])
    with pytest.raises(ChunkDecodeError, match="list length -"):
        decode_chunk(chunk)


def _decimal_vectors(scale: int) -> dict[str, bytes]:
    binary = tb.elem_string((7).to_bytes(16, "big"))
    return {
        "binary": tb.vector(1, DECIMAL, [False], tb.struct_(DECIMAL128_DATA, tb.list_(1, tb.STRING, [binary]),
                                                           tb.i32(2, scale))),
        "text": tb.vector(1, DECIMAL, [False], tb.struct_(DECIMAL128_DATA, tb.list_(1, tb.STRING,
                                                                                    [tb.elem_string(b"1.5")]),
                                                         tb.i32(2, scale))),
        "constant": tb.vector(1, DECIMAL, [False], tb.struct_(DECIMAL128_CONST, tb.string(1, (7).to_bytes(16, "big")),
                                                             tb.i32(2, scale)), constant=True),
        "null constant": tb.vector(1, DECIMAL, [True], tb.struct_(DECIMAL128_CONST, tb.i32(2, scale)), constant=True),
    }


@pytest.mark.parametrize("scale", [6_619_140, 39, -1, -2**31])
@pytest.mark.parametrize("shape", ["binary", "text", "constant", "null constant"])
def test_an_impossible_decimal_scale_is_an_error(scale, shape):
    with pytest.raises(ChunkDecodeError, match=f"impossible decimal scale {scale}"):
        decode_chunk(tb.chunk(1, [_decimal_vectors(scale)[shape]]))


@pytest.mark.parametrize("shape", ["binary", "constant", "null constant"])
def test_the_widest_scale_still_decodes(shape):
    assert decode_chunk(tb.chunk(1, [_decimal_vectors(38)[shape]])).schema[0].type.scale == 38


@pytest.mark.parametrize("name", ["DECIMAL128(38,6619140)", "DECIMAL128(38,-2)", "DECIMAL128(38,39)"])
def test_metadata_with_an_impossible_scale_is_an_error(name):
    meta = decode_metadata(encode_metadata(ResultMetadata(1, (Column("d", name),))))
    with pytest.raises(ChunkDecodeError, match="impossible decimal scale"):
        decode_chunk(tb.i32(1, 0) + b"\x00", meta)
