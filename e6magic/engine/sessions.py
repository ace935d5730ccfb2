"""Authentication, sessions, the blue/green serving colour and the suspended-cluster switch."""
from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

import grpc

from e6magic.engine.errors import EngineError
from e6magic.secret import Secret, masked

COLOURS = ("blue", "green")
WRONG_COLOUR = "status: 456"
SUSPENDED = "status: 503, cluster is suspended"


MIN_TOKEN_CHARS = 16
BEARER_USER = "(bearer token)"  # who a call with a bearer token and no session is: one user per token


@dataclass
class Session:
    session_id: str
    user: str
    created: float
    last_used: float = field(default_factory=time.monotonic)
    in_flight: int = 0  # calls still being answered: a session waiting on a long query is not idle


class SignInGuard:
    """Slows token guessing per peer address: 20 wrong tokens at once, then two a second. While an address is
    over its budget every check from it fails at once, right token or not, so guesses cost time, not threads."""

    def __init__(self, burst: int = 20, per_second: float = 2.0) -> None:
        self.burst = burst
        self.per_second = per_second
        self._budgets: dict[str, tuple[float, float]] = {}  # address -> (guesses left, when counted)
        self._lock = threading.Lock()

    def _left(self, address: str, now: float) -> float:
        left, then = self._budgets.get(address, (float(self.burst), now))
        return min(float(self.burst), left + (now - then) * self.per_second)

    def admit(self, address: str) -> None:
        with self._lock:
            now = time.monotonic()
            if self._left(address, now) < 1.0:
                raise EngineError(grpc.StatusCode.UNAUTHENTICATED,
                                  "too many wrong tokens from this address: wait a second and try again")

    def failed(self, address: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._budgets[address] = (self._left(address, now) - 1.0, now)
            if len(self._budgets) > 10000:  # bounded: forget the oldest addresses
                self._budgets.pop(next(iter(self._budgets)))


def peer_address(peer: str) -> str:
    """`ipv4:127.0.0.1:5432` -> `ipv4:127.0.0.1`: one budget per address, not per connection."""
    return peer.rsplit(":", 1)[0] if peer.count(":") >= 2 else peer


class Gatekeeper:
    """Who may call: token checks, live sessions, which colour serves new work, and suspension."""

    def __init__(self, token: str | Secret | None = None, resume_seconds: float = 0.5) -> None:
        token = masked(token)  # first: from here on no frame of this call holds the text
        self.guard = SignInGuard()
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._serving = "blue"
        self._cluster = "active"
        self._resume_seconds = resume_seconds
        self._resume_timer: threading.Timer | None = None
        # after the fields repr reads: a verbose traceback of the refusal shows this half-built object
        if token is not None and len(token.reveal()) < MIN_TOKEN_CHARS:
            raise ValueError(f"the engine token must be at least {MIN_TOKEN_CHARS} characters "
                             f"(this one has {len(token.reveal())}): a short token is guessed quickly")
        self.token: Secret = token or Secret(secrets.token_urlsafe(24))

    def __repr__(self) -> str:  # never show the token
        return f"Gatekeeper(serving={self._serving!r}, cluster={self._cluster!r}, sessions={len(self._sessions)})"

    # --- credentials -------------------------------------------------------------------------------
    def token_matches(self, candidate: str, peer: str = "") -> bool:
        """Whether `candidate` is the token; a wrong one counts against the peer's address (SignInGuard)."""
        address = peer_address(peer)
        self.guard.admit(address)
        if hmac.compare_digest(candidate.encode("utf-8", "surrogatepass"), self.token.reveal().encode()):
            return True
        self.guard.failed(address)
        return False

    def bearer_ok(self, metadata: dict[str, str], peer: str = "") -> bool:
        value = metadata.get("authorization", "")
        return value[:7].lower() == "bearer " and self.token_matches(value[7:].strip(), peer)

    def authenticate(self, user: str, password: str, peer: str = "") -> str:
        if not user or not self.token_matches(password, peer):
            raise EngineError(grpc.StatusCode.UNAUTHENTICATED, "invalid credentials: user or token not accepted")
        session = Session(uuid.uuid4().hex, user, time.time())
        with self._lock:
            self._sessions[session.session_id] = session
        return session.session_id

    def enter(self, session_id: str, metadata: dict[str, str], peer: str = "") -> str:
        """The user a call acts for; the session counts as busy until `leave`."""
        if session_id:
            with self._lock:
                session = self._sessions.get(session_id)
                if session is not None:
                    session.in_flight += 1
                    session.last_used = time.monotonic()
                    return session.user
            raise EngineError(grpc.StatusCode.INTERNAL, "Access denied: session expired or unknown")
        if not self.bearer_ok(metadata, peer):
            raise EngineError(grpc.StatusCode.UNAUTHENTICATED, "no session: authenticate first or send a bearer token")
        return BEARER_USER

    def leave(self, session_id: str) -> None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                session.in_flight -= 1
                session.last_used = time.monotonic()

    def pop_idle(self, idle_seconds: float) -> list[str]:
        """Forget the sessions with no call for `idle_seconds` (and none in flight); returns their ids."""
        cutoff = time.monotonic() - idle_seconds
        with self._lock:
            gone = [sid for sid, s in self._sessions.items() if s.in_flight <= 0 and s.last_used < cutoff]
            for sid in gone:
                del self._sessions[sid]
        return gone

    def expire_sessions(self) -> list[str]:
        with self._lock:
            gone = list(self._sessions)
            self._sessions.clear()
        return gone

    @property
    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

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
