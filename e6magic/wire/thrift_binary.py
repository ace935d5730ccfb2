"""Thrift TBinaryProtocol primitives over a bytes buffer, with lists read as big-endian numpy views."""
from __future__ import annotations

import struct
from typing import Any

import numpy as np

from e6magic.wire.errors import ChunkDecodeError

STOP = 0
BOOL = 2
BYTE = 3
DOUBLE = 4
I16 = 6
I32 = 8
I64 = 10
STRING = 11
STRUCT = 12
MAP = 13
SET = 14
LIST = 15

TTYPE_NAMES = {
    BOOL: "bool", BYTE: "byte", DOUBLE: "double", I16: "i16", I32: "i32", I64: "i64",
    STRING: "string", STRUCT: "struct", MAP: "map", SET: "set", LIST: "list",
}
# Big-endian numpy dtypes of the fixed-width element types.
FIXED_DTYPES = {
    BOOL: np.dtype(np.uint8), BYTE: np.dtype(np.int8), I16: np.dtype(">i2"),
    I32: np.dtype(">i4"), I64: np.dtype(">i8"), DOUBLE: np.dtype(">f8"),
}

_FIELD_HEADER = struct.Struct(">bh")
_LIST_HEADER = struct.Struct(">bi")
_MAP_HEADER = struct.Struct(">bbi")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_DOUBLE = struct.Struct(">d")
_SCALARS = {I16: struct.Struct(">h"), I32: _I32, I64: _I64, DOUBLE: _DOUBLE}
_MAX_DEPTH = 64


class StringList:
    """A Thrift list<string> inside the buffer: where it starts and each element's byte length.

    `uniform` is the common length when every element has the same one (decimals, zones,
    fixed-width text), so the elements form a regular grid of `4 + uniform` bytes.
    """

    __slots__ = ("start", "end", "lengths", "uniform")

    def __init__(self, start: int, end: int, lengths: np.ndarray, uniform: int | None = None) -> None:
        self.start = start
        self.end = end
        self.lengths = lengths
        self.uniform = uniform

    def __len__(self) -> int:
        return len(self.lengths)


def walk_string_lengths(buf: bytes, pos: int, count: int) -> list[int]:
    """The byte lengths of `count` length-prefixed strings starting at `pos`, one prefix at a time.

    The walk is inherently sequential (each prefix says where the next one is); `string_lengths`
    does most of it with numpy and falls back to this loop where its guesses do not hold.
    """
    unpack = _I32.unpack_from
    lengths = [0] * count
    for index in range(count):  # kept minimal: this loop is the decoder's hot spot (see docs/benchmarks.md)
        length = unpack(buf, pos)[0]
        lengths[index] = length
        pos += 4 + length
    if count and min(lengths) < 0:
        raise ChunkDecodeError(f"negative string length {min(lengths)} in a list of {count} strings")
    return lengths


WALK_BLOCK = 1 << 16  # bytes guessed at a time: the cost is per byte scanned, and the last block runs past the list
_WALK_MIN_PROGRESS = 64  # strings a block must prove, or the loop takes the rest


def string_lengths(buf: bytes, pos: int, count: int) -> np.ndarray:
    """The byte lengths of `count` length-prefixed strings starting at `pos`, as the walk finds them.

    Guess, then prove, a block of bytes at a time. A length below 2**24 starts with a zero byte, and
    text rarely holds one, so a prefix is guessed at the start of every run of zero bytes and every 4
    bytes along it (an empty string's prefix is 4 zero bytes). The guesses are then proved from the
    first one on: a guess counts only if the one before it, read as a length, points exactly at it, so
    what is kept is exactly what the sequential walk would find. Where guessing stops paying (binary
    data, NULs in text, lengths of 2**24 and more), the loop does the rest.
    """
    lengths = np.empty(count, dtype=np.int64)
    done = 0
    while done < count:
        window = min(len(buf) - pos, WALK_BLOCK)
        proved, pos = _prove_block(buf, pos, window, lengths[done:]) if window >= 4 else (0, pos)
        done += proved
        if proved < _WALK_MIN_PROGRESS and done < count:
            lengths[done:] = walk_string_lengths(buf, pos, count - done)
            break
    return lengths


def _prove_block(buf: bytes, pos: int, window: int, out: np.ndarray) -> tuple[int, int]:
    """Prove guessed prefixes in `window` bytes from `pos` (itself a prefix): (how many, where the next starts)."""
    region = np.frombuffer(buf, np.uint8, window, pos)
    zero = region == 0
    guess = zero.copy()
    guess[1:] &= ~zero[:-1]
    empty = zero[:-3] & zero[1:-2] & zero[2:-1] & zero[3:]  # empty[i]: bytes i..i+3 are zero, a length of 0
    after_empty = guess[:-4] & empty[:-1]
    while after_empty.any():  # runs of empty strings: one round each
        more = np.zeros(window, dtype=bool)
        more[4:] = after_empty
        more &= zero & ~guess  # a prefix that can be proved starts with a zero byte (its length is below 2**24)
        guess |= more
        after_empty = more[:-4] & empty[:-1]
    starts = np.flatnonzero(guess[: window - 3])  # a prefix needs its 4 bytes inside the window
    if len(starts) == 0 or starts[0] != 0:
        return 0, pos
    if len(starts) > 1:  # a zero inside a guessed prefix (a length such as 256) is part of it, not a new one
        starts = starts[np.concatenate(([True], np.diff(starts) >= 4))]
    words = np.ndarray((window - 3,), dtype=">u4", buffer=region, strides=(1,))  # a length at every byte
    lengths = words[starts].astype(np.int64)
    ends = starts + 4 + lengths
    broken = np.flatnonzero(ends[:-1] != starts[1:])
    proved = min(int(broken[0]) + 1 if len(broken) else len(starts), len(out))
    out[:proved] = lengths[:proved]
    return proved, pos + int(ends[proved - 1])


class ThriftReader:
    """A forward-only TBinaryProtocol reader; every read is bounds-checked by struct or numpy."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def field_header(self) -> tuple[int, int]:
        """(ttype, field id) of the next field; ttype STOP (0) ends the struct."""
        ttype = self.buf[self.pos]
        if ttype == STOP:
            self.pos += 1
            return STOP, 0
        _, fid = _FIELD_HEADER.unpack_from(self.buf, self.pos)
        self.pos += 3
        return ttype, fid

    def scalar(self, ttype: int) -> Any:
        """Read one bool, byte, i16, i32, i64 or double."""
        if ttype == BOOL or ttype == BYTE:
            value = self.buf[self.pos]
            self.pos += 1
            return value != 0 if ttype == BOOL else (value - 256 if value > 127 else value)
        packer = _SCALARS[ttype]
        (value,) = packer.unpack_from(self.buf, self.pos)
        self.pos += packer.size
        return value

    def binary(self) -> bytes:
        """Read one length-prefixed string/binary value as bytes."""
        (length,) = _I32.unpack_from(self.buf, self.pos)
        start = self.pos + 4
        end = start + length
        if length < 0 or end > len(self.buf):
            raise ChunkDecodeError(f"string of {length} bytes at byte {self.pos} does not fit the chunk")
        self.pos = end
        return bytes(self.buf[start:end])  # a copy, even when reading a memoryview: it may outlive the buffer

    def list_header(self) -> tuple[int, int]:
        etype, count = _LIST_HEADER.unpack_from(self.buf, self.pos)
        # Every element takes at least one byte, so a larger count is corrupt (and must not allocate).
        if count < 0 or count > len(self.buf) - self.pos - 5:
            raise ChunkDecodeError(f"list length {count} at byte {self.pos} does not fit the chunk")
        self.pos += 5
        return etype, count

    def fixed_list(self, etype: int, count: int) -> np.ndarray:
        """A zero-copy big-endian view of `count` fixed-width elements."""
        dtype = FIXED_DTYPES[etype]
        end = self.pos + count * dtype.itemsize
        if end > len(self.buf):
            raise ChunkDecodeError(
                f"list of {count} {TTYPE_NAMES[etype]} at byte {self.pos} does not fit the chunk"
            )
        view = np.frombuffer(self.buf, dtype, count, self.pos)
        self.pos = end
        return view

    def string_list(self, count: int) -> StringList:
        start = self.pos
        if 4 * count > len(self.buf) - start:
            raise ChunkDecodeError(f"list of {count} strings at byte {start} does not fit the chunk")
        uniform = self._uniform_length(count)
        if uniform is not None:
            self.pos = start + (4 + uniform) * count
            return StringList(start, self.pos, np.full(count, uniform, dtype=np.int64), uniform)
        lengths = string_lengths(self.buf, start, count)
        end = start + 4 * count + int(lengths.sum())
        if end > len(self.buf):
            raise ChunkDecodeError(f"list of {count} strings at byte {start} does not fit the chunk")
        self.pos = end
        return StringList(start, end, lengths)

    def _uniform_length(self, count: int) -> int | None:
        """The common element length if all `count` prefixes on the grid it implies agree, else None.

        One strided numpy compare replaces the sequential walk for equal-length elements.
        """
        if count == 0 or self.pos + 4 > len(self.buf):
            return None
        (first,) = _I32.unpack_from(self.buf, self.pos)
        stride = 4 + first
        if first < 0 or self.pos + stride * count > len(self.buf):
            return None
        prefixes = np.ndarray((count,), dtype=">i4", buffer=self.buf, offset=self.pos, strides=(stride,))
        if not (prefixes[:16] == first).all():  # text of varied lengths is told apart on its first prefixes
            return None
        return first if bool((prefixes == first).all()) else None

    def skip(self, ttype: int, depth: int = 0) -> None:
        """Skip one value of any TType (unknown fields from a newer engine)."""
        if depth > _MAX_DEPTH:
            raise ChunkDecodeError("Thrift structures nested too deeply")
        if ttype in FIXED_DTYPES:
            size = FIXED_DTYPES[ttype].itemsize
            if self.pos + size > len(self.buf):
                raise ChunkDecodeError(f"value at byte {self.pos} does not fit the chunk")
            self.pos += size
        elif ttype == STRING:
            self.binary()
        elif ttype == STRUCT:
            while True:
                ftype, _ = self.field_header()
                if ftype == STOP:
                    return
                self.skip(ftype, depth + 1)
        elif ttype == LIST or ttype == SET:
            etype, count = self.list_header()
            self._skip_elements(etype, count, depth)
        elif ttype == MAP:
            ktype, vtype, count = _MAP_HEADER.unpack_from(self.buf, self.pos)
            if count < 0:
                raise ChunkDecodeError(f"negative map size {count} at byte {self.pos}")
            self.pos += 6
            for _ in range(count):
                self.skip(ktype, depth + 1)
                self.skip(vtype, depth + 1)
        else:
            raise ChunkDecodeError(f"unknown Thrift type {ttype} at byte {self.pos}")

    def _skip_elements(self, etype: int, count: int, depth: int) -> None:
        if etype in FIXED_DTYPES:
            self.fixed_list(etype, count)
        elif etype == STRING:
            self.string_list(count)
        else:
            for _ in range(count):
                self.skip(etype, depth + 1)


class ThriftWriter:
    """Builds TBinaryProtocol bytes from parts; big payloads are appended as buffers, not copied."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[Any] = []

    def field(self, ttype: int, fid: int) -> None:
        self.parts.append(_FIELD_HEADER.pack(ttype, fid))

    def stop(self) -> None:
        self.parts.append(b"\x00")

    def i32_field(self, fid: int, value: int) -> None:
        self.parts.append(_FIELD_HEADER.pack(I32, fid) + _I32.pack(value))

    def bool_field(self, fid: int, value: bool) -> None:
        self.parts.append(_FIELD_HEADER.pack(BOOL, fid) + (b"\x01" if value else b"\x00"))

    def byte_field(self, fid: int, value: int) -> None:
        self.parts.append(_FIELD_HEADER.pack(BYTE, fid) + struct.pack(">b", value))

    def binary_field(self, fid: int, value: bytes) -> None:
        self.parts.append(_FIELD_HEADER.pack(STRING, fid) + _I32.pack(len(value)))
        self.parts.append(value)

    def list_field(self, fid: int, etype: int, count: int, body: Any) -> None:
        """A list field whose element bytes (`body`, any buffer) are already encoded."""
        self.parts.append(_FIELD_HEADER.pack(LIST, fid) + _LIST_HEADER.pack(etype, count))
        self.parts.append(body)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)
