"""Reads a GetNextResultBatchV2Response with its chunks as views into the received bytes, not copies."""
from __future__ import annotations

from typing import Any

from e6magic._proto import e6x_engine_pb2 as pb

_RESULT_BATCHES = pb.GetNextResultBatchV2Response.DESCRIPTOR.fields_by_name["resultBatches"].number
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


class BatchResponse:
    """The response's chunks (`resultBatches`, memoryviews over the message) and its other fields.

    protobuf's Python runtime copies a `bytes` field twice on the way out (into its arena, then into a
    Python bytes object per element); the chunks are most of the message, so they are sliced out of the
    received buffer here and only the small rest goes through protobuf. See docs/benchmarks.md (Client).
    """

    __slots__ = ("resultBatches", "_rest")

    def __init__(self, chunks: list[memoryview], rest: Any) -> None:
        self.resultBatches = chunks
        self._rest = rest

    def __getattr__(self, name: str) -> Any:  # endOfStream, new_strategy, HasField, DESCRIPTOR, ...
        return getattr(self._rest, name)

    @classmethod
    def parse(cls, data: bytes) -> BatchResponse:
        view = memoryview(data)
        chunks: list[memoryview] = []
        rest: list[memoryview] = []
        pos, end = 0, len(view)
        while pos < end:
            start = pos
            key, pos = _varint(view, pos)
            number, wire_type = key >> 3, key & 7
            if wire_type == _VARINT:
                _, pos = _varint(view, pos)
            elif wire_type == _FIXED64:
                pos += 8
            elif wire_type == _FIXED32:
                pos += 4
            elif wire_type == _LENGTH:
                length, pos = _varint(view, pos)
                if number == _RESULT_BATCHES and pos + length <= end:
                    chunks.append(view[pos:pos + length])
                    pos += length
                    continue
                pos += length
            else:
                raise ValueError(f"unsupported protobuf wire type {wire_type} at byte {start}")
            if pos > end:
                raise ValueError(f"protobuf field at byte {start} runs past the end of the message")
            rest.append(view[start:pos])
        message = pb.GetNextResultBatchV2Response.FromString(b"".join(rest))
        return cls(chunks, message)


def _varint(view: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(view) or shift > 63:
            raise ValueError(f"malformed protobuf varint at byte {pos}")
        byte = view[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7
