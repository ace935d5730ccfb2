"""A tiny independent TBinaryProtocol builder, so codec tests do not trust the codec's own writer."""
from __future__ import annotations

import struct

BOOL, BYTE, DOUBLE, I16, I32, I64, STRING, STRUCT, MAP, SET, LIST = 2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15


def field(ttype: int, fid: int, payload: bytes) -> bytes:
    return struct.pack(">bh", ttype, fid) + payload


def i32(fid: int, value: int) -> bytes:
    return field(I32, fid, struct.pack(">i", value))


def i64(fid: int, value: int) -> bytes:
    return field(I64, fid, struct.pack(">q", value))


def double(fid: int, value: float) -> bytes:
    return field(DOUBLE, fid, struct.pack(">d", value))


def boolean(fid: int, value: bool) -> bytes:
    return field(BOOL, fid, b"\x01" if value else b"\x00")


def byte(fid: int, value: int) -> bytes:
    return field(BYTE, fid, struct.pack(">b", value))


def string(fid: int, value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return field(STRING, fid, struct.pack(">i", len(raw)) + raw)


def struct_(fid: int, *fields: bytes) -> bytes:
    return field(STRUCT, fid, b"".join(fields) + b"\x00")


def list_(fid: int, etype: int, elements: list[bytes]) -> bytes:
    return field(LIST, fid, struct.pack(">bi", etype, len(elements)) + b"".join(elements))


def elem_string(value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack(">i", len(raw)) + raw


def elem_struct(*fields: bytes) -> bytes:
    return b"".join(fields) + b"\x00"


def chunk(size: int, vectors: list[bytes]) -> bytes:
    """A Chunk whose vectors are given as their field bytes (without STOP)."""
    return i32(1, size) + list_(2, STRUCT, [elem_struct(v) for v in vectors]) + b"\x00"


def vector(size: int, vtype: int, null_set: list[bool] | None, data: bytes, constant: bool = False) -> bytes:
    """Vector fields: data is one Data member, e.g. struct_(3, list_(1, I64, [...]))."""
    parts = [i32(1, size), i32(2, vtype)]
    if null_set is not None:
        parts.append(list_(3, BOOL, [b"\x01" if n else b"\x00" for n in null_set]))
    parts.append(struct_(4, data))
    parts.append(boolean(5, constant))
    return b"".join(parts)
