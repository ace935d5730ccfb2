"""Authentication, sessions, the blue/green serving colour and the suspended-cluster switch."""
from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass

import grpc

from e6magic.engine.errors import EngineError

COLOURS = ("blue", "green")
WRONG_COLOUR = "status: 456"
SUSPENDED = "status: 503, cluster is suspended"


@dataclass
class Session:
    session_id: str
    user: str
    created: float


class Gatekeeper:
    """Who may call: token checks, live sessions, which colour serves new work, and suspension."""

    def __init__(self, token: str | None = None, resume_seconds: float = 0.5) -> None:
        self.token = token or secrets.token_urlsafe(24)
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._serving = "blue"
        self._cluster = "active"
        self._resume_seconds = resume_seconds
        self._resume_timer: threading.Timer | None = None

    def __repr__(self) -> str:  # never show the token
        return f"Gatekeeper(serving={self._serving!r}, cluster={self._cluster!r}, sessions={len(self._sessions)})"

    # --- credentials -------------------------------------------------------------------------------
    def token_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    def bearer_ok(self, metadata: dict[str, str]) -> bool:
        value = metadata.get("authorization", "")
        return value[:7].lower() == "bearer " and self.token_matches(value[7:].strip())

    def authenticate(self, user: str, password: str) -> str:
        if not user or not self.token_matches(password):
            raise EngineError(grpc.StatusCode.UNAUTHENTICATED, "invalid credentials: user or token not accepted")
        session = Session(uuid.uuid4().hex, user, time.time())
        with self._lock:
            self._sessions[session.session_id] = session
        return session.session_id

    def check_session(self, session_id: str, metadata: dict[str, str]) -> None:
        if session_id:
            with self._lock:
                known = session_id in self._sessions
            if not known:
                raise EngineError(grpc.StatusCode.INTERNAL, "Access denied: session expired or unknown")
        elif not self.bearer_ok(metadata):
            raise EngineError(grpc.StatusCode.UNAUTHENTICATED, "no session: authenticate first or send a bearer token")

    def expire_sessions(self) -> None:
        with self._lock:
            self._sessions.clear()

    # --- blue/green --------------------------------------------------------------------------------
    @property
    def serving(self) -> str:
        return self._serving

    def set_strategy(self, colour: str) -> None:
        if colour not in COLOURS:
            raise ValueError(f"colour must be 'blue' or 'green', not {colour!r}")
        self._serving = colour

    def flip(self) -> str:
        self._serving = "green" if self._serving == "blue" else "blue"
        return self._serving

    def colour_of(self, metadata: dict[str, str]) -> str:
        asked = metadata.get("strategy", "").lower()
        return asked if asked in COLOURS else self._serving

    def admit_new_work(self, metadata: dict[str, str]) -> str:
        """Authenticate and prepare start new work: only on the serving colour (wire §4, §8.1)."""
        if self._cluster != "active":
            raise EngineError(grpc.StatusCode.UNAVAILABLE, SUSPENDED)
        asked = metadata.get("strategy", "").lower()
        if asked in COLOURS and asked != self._serving:
            raise EngineError(grpc.StatusCode.UNKNOWN, WRONG_COLOUR)
        return self._serving

    def announcement(self, metadata: dict[str, str]) -> str | None:
        """`new_strategy` for a response: the serving colour, to a caller still on the other one."""
        asked = metadata.get("strategy", "").lower()
        return self._serving if asked in COLOURS and asked != self._serving else None

    # --- suspend/resume ----------------------------------------------------------------------------
    @property
    def cluster_status(self) -> str:
        return self._cluster

    def suspend(self) -> None:
        if self._resume_timer:
            self._resume_timer.cancel()
        self._cluster = "suspended"

    def resume(self) -> str:
        if self._cluster == "suspended":
            self._cluster = "resuming"
            self._resume_timer = threading.Timer(self._resume_seconds, self._finish_resume)
            self._resume_timer.daemon = True
            self._resume_timer.start()
        return self._cluster

    def _finish_resume(self) -> None:
        if self._cluster == "resuming":
            self._cluster = "active"

    def close(self) -> None:
        if self._resume_timer:
            self._resume_timer.cancel()
