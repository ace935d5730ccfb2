"""The ClusterService servicer: status, resume and suspend of the (emulated) cluster."""
from __future__ import annotations

import grpc

from e6magic._proto import cluster_pb2 as cpb
from e6magic._proto import cluster_pb2_grpc as cpb_grpc
from e6magic.engine.errors import EngineError
from e6magic.engine.service import metadata_of
from e6magic.engine.sessions import Gatekeeper

Credentials = cpb.ClusterStatusRequest | cpb.ResumeRequest | cpb.SuspendRequest  # each carries user and password


class ClusterService(cpb_grpc.ClusterServiceServicer):
    """Answers the auto-resume calls of clients (wire §5.3) with user + token, or a bearer header."""

    def __init__(self, gate: Gatekeeper) -> None:
        self.gate = gate

    def _check(self, request: Credentials, context: grpc.ServicerContext) -> None:
        peer = context.peer()
        try:
            md = metadata_of(context)
            allowed = (self.gate.bearer_ok(md, peer) if "authorization" in md and not request.password
                       else self.gate.token_matches(request.password, peer))
        except EngineError as exc:
            context.abort(exc.code, exc.details)
        if not allowed:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid credentials: user or token not accepted")

    def status(self, request: cpb.ClusterStatusRequest, context: grpc.ServicerContext) -> cpb.ClusterStatusResponse:
        self._check(request, context)
        return cpb.ClusterStatusResponse(status=self.gate.cluster_status)

    def resume(self, request: cpb.ResumeRequest, context: grpc.ServicerContext) -> cpb.ResumeResponse:
        self._check(request, context)
        return cpb.ResumeResponse(status=self.gate.resume())

    def suspend(self, request: cpb.SuspendRequest, context: grpc.ServicerContext) -> cpb.SuspendResponse:
        self._check(request, context)
        self.gate.suspend()
        return cpb.SuspendResponse(status=self.gate.cluster_status)
