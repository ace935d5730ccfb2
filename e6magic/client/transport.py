"""The gRPC channel to one engine endpoint: stubs, the e6data headers, calls waited on in short slices."""
from __future__ import annotations

from typing import Any

import grpc

from e6magic._proto import cluster_pb2_grpc
from e6magic._proto import e6x_engine_pb2 as pb
from e6magic._proto import e6x_engine_pb2_grpc as pb_grpc
from e6magic.client.batch_response import BatchResponse
from e6magic.client.exceptions import EngineUnreachable, InterfaceError, from_rpc_error
from e6magic.client.retry import RECONNECT_FIRST_S, RECONNECT_MAX_S
from e6magic.client.secret import Secret, reveal_metadata

# Merged under the caller's grpc_options (bare keys, as the official connector takes them).
DEFAULT_OPTIONS: dict[str, Any] = {
    "max_receive_message_length": -1,
    "max_send_message_length": -1,
    "keepalive_time_ms": 30000,
    # A blackholed link is found by a keepalive ping left unanswered this long, even in a call that waits
    # legitimately (the metadata of a long query); 15 minutes (gRPC's default) held such a cell that long.
    "keepalive_timeout_ms": 20000,
    "keepalive_permit_without_calls": 1,
    "http2.max_pings_without_data": 0,
    "http2.min_time_between_pings_ms": 15000,
    "http2.min_ping_interval_without_data_ms": 15000,
    # An engine that restarts is back within seconds: gRPC's default backoff (1 s growing to 120 s) would
    # keep the channel refusing calls long after it is up again.
    "initial_reconnect_backoff_ms": int(RECONNECT_FIRST_S * 1000),
    "min_reconnect_backoff_ms": int(RECONNECT_FIRST_S * 1000),
    "max_reconnect_backoff_ms": int(RECONNECT_MAX_S * 1000),  # the retry policy outlasts it (retry.py)
}
_SLICE = 0.1  # how often a waiting caller wakes, so a KeyboardInterrupt is seen at once
CALL_TIMEOUT = 60.0  # seconds: the deadline of a call that should answer at once (sign-in, catalog, a batch)


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
        if ssl_cert is not None and not secure:
            # a CA given for a plaintext channel means the caller expects TLS: never fall back silently
            raise InterfaceError("ssl_cert was given but secure=False: pass secure=True to use TLS, "
                                 "or drop ssl_cert for a plaintext connection")
        self.cluster_name = cluster_name.lower() if cluster_name else None
        self._secure = secure
        self._roots = _root_certificates(ssl_cert) if secure else None
        self._options = channel_options(grpc_options)
        self.lost_engine = False  # the engine was unreachable since the last sign-in (a restart, if sessions vanish)
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
            # what the generated stubs pass (grpc's registered-method fast path), missing from types-grpcio
            response_deserializer=BatchResponse.parse, _registered_method=True)  # type: ignore[call-arg]
        self.cluster = cluster_pb2_grpc.ClusterServiceStub(self.channel)

    def reopen(self) -> None:
        self.channel.close()
        self._open()

    def close(self) -> None:
        self.channel.close()

    def headers(self, *, strategy: str | None = None, planner_ip: str | None = None,
                bearer: Secret | None = None) -> list[tuple[str, Any]]:
        md: list[tuple[str, Any]] = []
        if planner_ip:
            md.append(("plannerip", planner_ip))
        if self.cluster_name:
            md.append(("cluster-name", self.cluster_name))
        if strategy in ("blue", "green"):
            md.append(("strategy", strategy))
        if bearer:
            md.append(("authorization", _Bearer(bearer)))
        return md

    def call(self, method: str, request: Any, *, metadata: list[tuple[str, Any]], timeout: float | None = None,
             query_id: str | None = None, service: str = "engine") -> Any:
        """One RPC with a deadline, waited on in short slices; a failure becomes the client's own error.

        No retry here: `ClientSession.call` applies the one retry policy. `request` may be a function that builds
        it, so a request holding a secret is never a local of any frame a verbose traceback prints."""
        stub = getattr(self.engine if service == "engine" else self.cluster, method)
        timeout = CALL_TIMEOUT if timeout is None else max(0.001, timeout)
        try:
            response = _wait(stub.future(request() if callable(request) else request,
                                         metadata=reveal_metadata(metadata), timeout=timeout))
        except grpc.RpcError as exc:
            error = from_rpc_error(exc, self.endpoint, query_id, method=method, timeout=timeout,
                                   after_outage=self.lost_engine)
        else:
            if method == "authenticate":
                self.lost_engine = False
            return response
        if isinstance(error, EngineUnreachable):
            self.lost_engine = True
        raise error  # outside the except: no gRPC error chained to it


class _Bearer(Secret):
    """The authorization header's value, masked like the token it carries."""

    __slots__ = ()

    def __init__(self, token: Secret) -> None:
        super().__init__(f"Bearer {token.reveal()}")


def _wait(future: grpc.Future[Any]) -> Any:
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
