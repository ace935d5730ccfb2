"""V2 batch responses read in place: the same fields protobuf reads, chunks as views, decoded batches pin nothing."""
from __future__ import annotations

import numpy as np
import pytest

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.client.batch_response import BatchResponse


def message(**fields) -> bytes:
    return pb.GetNextResultBatchV2Response(**fields).SerializeToString()


def test_fields_agree_with_protobuf_and_chunks_are_views_not_copies():
    chunks = [b"\x00" * 10, b"chunk two", b"", bytes(range(256)) * 300]
    data = message(resultBatches=chunks, sessionId="s-1", new_strategy="green", endOfStream=True)
    parsed = BatchResponse.parse(data)
    assert [bytes(c) for c in parsed.resultBatches] == chunks
    assert all(isinstance(c, memoryview) and c.obj is data for c in parsed.resultBatches)
    assert parsed.sessionId == "s-1" and parsed.endOfStream is True
    assert parsed.HasField("new_strategy") and parsed.new_strategy == "green"
    assert "new_strategy" in parsed.DESCRIPTOR.fields_by_name


def test_absent_fields_and_unknown_fields_from_a_newer_engine():
    known = message(resultBatches=[b"abc"], sessionId="s")
    unknown = bytes([9 << 3 | 0, 0x96, 0x01,  # field 9 varint 150
                     10 << 3 | 2, 2, ord("h"), ord("i"),  # field 10 bytes
                     11 << 3 | 5, 1, 2, 3, 4,  # field 11 fixed32
                     12 << 3 | 1]) + bytes(8)  # field 12 fixed64
    parsed = BatchResponse.parse(unknown + known)
    assert [bytes(c) for c in parsed.resultBatches] == [b"abc"]
    assert parsed.sessionId == "s" and not parsed.HasField("new_strategy") and parsed.endOfStream is False


@pytest.mark.parametrize("data", [bytes([1 << 3 | 2, 50, 1, 2]), bytes([2 << 3 | 2, 0x80]), bytes([1 << 3 | 3])])
def test_truncated_or_malformed_messages_raise(data):
    with pytest.raises(Exception):
        BatchResponse.parse(data)


def test_decoded_batches_do_not_keep_the_message_alive():
    """Every column of a decoded batch is its own memory, so a message is freed once its chunks are decoded."""
    import duckdb

    from e6magic.engine.catalog import build_demo
    from e6magic.wire import decode_chunk, encode_chunk, metadata_for, vector_type_for

    db = duckdb.connect()
    build_demo(db)
    table = db.sql("SELECT * FROM demo.main.all_types").to_arrow_table()
    wire_types = {}
    for field in table.schema:
        try:
            wire_types[field.name] = vector_type_for(field.type)
        except TypeError:
            pass  # nested types travel as text, made by the engine: not this test's concern
    table = table.select(list(wire_types))
    types = list(wire_types.values())
    payload = encode_chunk(table.to_batches()[0], types)
    data = message(resultBatches=[payload], sessionId="s")
    [chunk] = BatchResponse.parse(data).resultBatches
    batch = decode_chunk(chunk, metadata_for(table.schema, table.num_rows, types))
    assert batch.num_columns == len(types) >= 12 and batch.num_rows == table.num_rows
    assert batch.to_pylist() == decode_chunk(payload, metadata_for(table.schema, table.num_rows, types)).to_pylist()
    low = np.frombuffer(data, np.uint8).ctypes.data
    pinned = [f.name for f, column in zip(batch.schema, batch.columns)
              if any(b is not None and low <= b.address < low + len(data) for b in column.buffers())]
    assert pinned == []
