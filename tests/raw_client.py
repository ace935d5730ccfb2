"""A bare-stub client of the local engine (one session, optional `strategy` header, no retries), for tests
that speak the protocol from outside as any program could."""
from __future__ import annotations

import time

import grpc
import pyarrow as pa
import pytest

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic._proto import e6x_engine_pb2_grpc as pb_grpc
from e6magic.wire import decode_chunk, decode_metadata


class Raw:
    """A bare-stub client: one session, optional `strategy` header, no retries, nothing hidden."""

    def __init__(self, engine, strategy: str | None = None, authenticate: bool = True) -> None:
        self.channel = grpc.insecure_channel(engine.address)
        self.stub = pb_grpc.QueryEngineServiceStub(self.channel)
        self.md = (("strategy", strategy),) if strategy else ()
        self.sid = ""
        if authenticate:
            self.sid = self.stub.authenticate(pb.AuthenticateRequest(user="raw@test", password=engine.token.reveal()),
                                              metadata=self.md).sessionId

    def prepare(self, sql: str) -> str:
        return self.stub.prepareStatementV2(pb.PrepareStatementV2Request(
            sessionId=self.sid, catalog="demo", schema="main", queryString=sql), metadata=self.md).queryId

    def execute(self, qid: str) -> None:
        self.stub.executeStatementV2(pb.ExecuteStatementV2Request(sessionId=self.sid, queryId=qid), metadata=self.md)

    def submit(self, sql: str) -> str:
        qid = self.prepare(sql)
        self.execute(qid)
        return qid

    def rows_v1(self, qid: str) -> pa.Table:
        meta = decode_metadata(self.stub.getResultMetadata(
            pb.GetResultMetadataRequest(sessionId=self.sid, queryId=qid), metadata=self.md).resultMetaData)
        batches = []
        while True:
            payload = self.stub.getNextResultBatch(pb.GetNextResultBatchRequest(sessionId=self.sid, queryId=qid),
                                                   metadata=self.md).resultBatch
            if not payload:
                return pa.Table.from_batches(batches) if batches else pa.table({})
            batches.append(decode_chunk(payload, meta))

    def envelopes_v2(self, qid: str) -> list:
        out = []
        while True:
            response = self.stub.getNextResultBatchV2(pb.GetNextResultBatchRequest(sessionId=self.sid, queryId=qid),
                                                      metadata=self.md)
            out.append(response)
            if response.endOfStream:
                return out

    def rows_v2(self, qid: str) -> pa.Table:
        meta = decode_metadata(self.stub.getResultMetadata(
            pb.GetResultMetadataRequest(sessionId=self.sid, queryId=qid), metadata=self.md).resultMetaData)
        batches = [decode_chunk(c, meta) for r in self.envelopes_v2(qid) for c in r.resultBatches]
        return pa.Table.from_batches(batches)

    def cancel(self, qid: str) -> None:
        self.stub.cancelQuery(pb.CancelQueryRequest(sessionId=self.sid, queryId=qid), metadata=self.md)

    def clear(self, qid: str) -> None:
        self.stub.clear(pb.ClearRequest(sessionId=self.sid, queryId=qid), metadata=self.md)

    def close(self) -> None:
        self.channel.close()


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def rpc_error(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value
