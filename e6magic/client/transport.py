"""The gRPC channel to one engine endpoint: stubs, the e6data headers, calls waited on in short slices."""
from __future__ import annotations

import time
from typing import Any

import grpc

from e6magic._proto import cluster_pb2_grpc
from e6magic._proto import e6x_engine_pb2 as pb
from e6magic._proto import e6x_engine_pb2_grpc as pb_grpc
from e6magic.client.batch_response import BatchResponse
from e6magic.client.exceptions import Error, InterfaceError, OperationalError, from_rpc_error

# Merged under the caller's grpc_options (bare keys, as the official connector takes them).
DEFAULT_OPTIONS: dict[str, Any] = {
    "max_receive_message_length": -1,
    "max_send_message_length": -1,
    "keepalive_time_ms": 30000,
    "keepalive_timeout_ms": 900000,
    "keepalive_permit_without_calls": 1,
    "http2.max_pings_without_data": 0,
    "http2.min_time_between_pings_ms": 15000,
    "http2.min_ping_interval_without_data_ms": 15000,
    # An engine that restarts is back within seconds: gRPC's default backoff (1 s growing to 120 s) would
    # keep the channel refusing calls long after it is up again.
    "initial_reconnect_backoff_ms": 200,
    "min_reconnect_backoff_ms": 200,
    "max_reconnect_backoff_ms": 2000,
}
_SLICE = 0.1  # how often a waiting caller wakes, so a KeyboardInterrupt is seen at once
# Calls that change nothing on the engine may be retried after a transport failure.
IDEMPOTENT = {
    "authenticate", "getResultMetadata", "status", "explain", "explainAnalyze", "clear", "cancelQuery",
    "clearOrCancelQuery", "dryRun", "dryRunV2", "getCataloges", "getSchemaNamesV2", "getTablesV2",
    "getColumnsV2", "getSchemaNames", "getTables", "getColumns",
}


def channel_options(grpc_options: dict[str, Any] | None) -> list[tuple[str, Any]]:
    merged = dict(DEFAULT_OPTIONS)
    for key, value in (grpc_options or {}).items():
        merged[key[5:] if key.startswith("grpc.") else key] = value
    merged.pop("grpc_prepare_timeout", None)
    merged.pop("grpc_auto_resume_timeout_seconds", None)
    return [(f"grpc.{key}", value) for key, value in merged.items()]


def _root_certificates(ssl_cert: str | bytes | None) -> bytes | None:
    if ssl_cert is None or isinstance(ssl_cert, bytes):
        return ssl_cert
    if isinstance(ssl_cert, str):
        try:
            with open(ssl_cert, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise InterfaceError(f"ssl_cert {ssl_cert!r} cannot be read: {exc.strerror}") from exc
    raise InterfaceError(f"ssl_cert must be a PEM path or bytes, not {type(ssl_cert).__name__}")


class Transport:
    """One channel to `host:port` with the engine and cluster stubs."""

    def __init__(self, host: str, port: int, *, secure: bool = False, ssl_cert: str | bytes | None = None,
                 grpc_options: dict[str, Any] | None = None, cluster_name: str | None = None) -> None:
        self.endpoint = f"{host}:{port}"
        self.cluster_name = cluster_name.lower() if cluster_name else None
        self._secure = secure
        self._roots = _root_certificates(ssl_cert) if secure else None
        self._options = channel_options(grpc_options)
        self._open()

    def _open(self) -> None:
        if self._secure:
            creds = grpc.ssl_channel_credentials(root_certificates=self._roots)
            self.channel = grpc.secure_channel(self.endpoint, creds, options=self._options)
        else:
            self.channel = grpc.insecure_channel(self.endpoint, options=self._options)
        self.bind(self.channel)

    def bind(self, channel: grpc.Channel) -> None:
        """Make the stubs on `channel` (also used to put an interceptor in front of every call)."""
        self.channel = channel
        self.engine = pb_grpc.QueryEngineServiceStub(self.channel)
        # the same RPC, its result chunks read as views into the received message (see batch_response.py)
        self.engine.getNextResultBatchV2 = self.channel.unary_unary(
            "/QueryEngineService/getNextResultBatchV2",
            request_serializer=pb.GetNextResultBatchRequest.SerializeToString,
            response_deserializer=BatchResponse.parse, _registered_method=True)
        self.cluster = cluster_pb2_grpc.ClusterServiceStub(self.channel)

    def reopen(self) -> None:
        self.channel.close()
        self._open()

    def close(self) -> None:
        self.channel.close()

    def headers(self, *, strategy: str | None = None, planner_ip: str | None = None,
                bearer: str | None = None) -> list[tuple[str, str]]:
        md = []
        if planner_ip:
            md.append(("plannerip", planner_ip))
        if self.cluster_name:
            md.append(("cluster-name", self.cluster_name))
        if strategy in ("blue", "green"):
            md.append(("strategy", strategy))
        if bearer:
            md.append(("authorization", f"Bearer {bearer}"))
        return md

    def call(self, method: str, request: Any, *, metadata: list[tuple[str, str]], timeout: float | None = None,
             query_id: str | None = None, service: str = "engine", retries: int = 2) -> Any:
        """One RPC, waited on in short slices; transport failures of idempotent calls retry with backoff."""
        stub = getattr(self.engine if service == "engine" else self.cluster, method)
        attempt = 0
        while True:
            try:
                return _wait(stub.future(request, metadata=metadata, timeout=timeout))
            except grpc.RpcError as exc:
                error = from_rpc_error(exc, self.endpoint, query_id)
            unavailable = (isinstance(error, OperationalError) and error.grpc_code == grpc.StatusCode.UNAVAILABLE
                           and "status: 503" not in str(error))
            # A call that never reached the engine may be repeated whatever it does; others only if idempotent.
            if not (unavailable and attempt < retries and (method in IDEMPOTENT or never_sent(error))):
                raise error
            attempt += 1
            time.sleep(0.2 * 2**attempt)


def _wait(future: grpc.Future) -> Any:
    try:
        while True:
            try:
                return future.result(timeout=_SLICE)
            except grpc.FutureTimeoutError:
                continue
    except BaseException:
        if not future.done():
            future.cancel()
        raise


def never_sent(error: Error) -> bool:
    """The channel had no connection, so the request cannot have reached (or run on) the engine."""
    text = error.engine_message or ""
    return "failed to connect to all addresses" in text or "Connection refused" in text


def is_wrong_colour(error: Error) -> bool:
    return "status: 456" in (error.engine_message or "")


def is_suspended(error: Error) -> bool:
    return error.grpc_code == grpc.StatusCode.UNAVAILABLE and "status: 503" in (error.engine_message or "")


def is_session_expired(error: Error) -> bool:
    return error.grpc_code == grpc.StatusCode.INTERNAL and "Access denied" in (error.engine_message or "")
