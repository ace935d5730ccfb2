"""The kernel-scoped blue/green strategy cache: one per process and endpoint, with per-query pinning."""
from __future__ import annotations

import logging
import os
import threading
import time

COLOURS = ("blue", "green")

log = logging.getLogger("e6magic.strategy")


def use_log_level(level: str | None) -> None:
    """Set this logger's level from E6DATA_STRATEGY_LOG_LEVEL (checked by `Settings`), when it is set: at connect,
    never at import, so importing e6magic leaves the application's logging as it was."""
    if level:
        log.setLevel(level)


def cache_timeout() -> float:
    return float(os.environ.get("E6DATA_STRATEGY_CACHE_TIMEOUT", "300"))


def max_retry_attempts() -> int:
    return max(1, int(os.environ.get("E6DATA_MAX_RETRY_ATTEMPTS", "5")))


def other(colour: str | None) -> str:
    return "green" if colour == "blue" else "blue"


class EndpointStrategy:
    """Which colour serves new work at one endpoint, which is announced next, and where each query is pinned."""

    def __init__(self, key: tuple[str, int, str]) -> None:
        self.key = key
        self._lock = threading.Lock()
        self._active: str | None = None
        self._pending: str | None = None
        self._confirmed_at = 0.0
        self._pinned: dict[str, str] = {}
        self._guess = COLOURS[0]  # the colour to probe while none is known: the one not refused last

    def active(self) -> str | None:
        """The colour for new work, or None when unknown or older than the cache timeout (re-probe)."""
        with self._lock:
            if self._active and not self._pinned and time.monotonic() - self._confirmed_at > cache_timeout():
                log.info("strategy for %s expired after %.0f s", self.key, cache_timeout())
                self._active = None
            return self._active

    def confirm(self, colour: str) -> None:
        with self._lock:
            if colour != self._active:
                log.info("strategy for %s is now %s", self.key, colour)
            self._active = colour
            if self._pending == colour:
                self._pending = None
            self._confirmed_at = time.monotonic()

    def forget(self, colour: str | None) -> None:
        """The engine refused `colour` for new work (`WrongColour`): find the serving colour again, the other first."""
        with self._lock:
            if colour is None:
                return
            if self._active == colour:
                self._active = None
            self._guess = other(colour)

    def guess(self) -> str:
        """The colour to sign in on: the known one, else the one not refused last."""
        return self.active() or self._guess

    def announce(self, colour: str | None) -> None:
        """A response carried `new_strategy`: switch once nothing is pinned to the old colour."""
        colour = (colour or "").lower()
        if colour not in COLOURS:
            return
        with self._lock:
            if colour == self._active:
                return
            self._pending = colour
            self._apply_pending_locked()

    def pin(self, query_id: str, colour: str | None) -> None:
        if colour:
            with self._lock:
                self._pinned[query_id] = colour

    def pinned_colour(self, query_id: str) -> str | None:
        with self._lock:
            return self._pinned.get(query_id)

    def unpin(self, query_id: str) -> None:
        with self._lock:
            self._pinned.pop(query_id, None)
            self._apply_pending_locked()

    def pinned(self) -> dict[str, str]:
        with self._lock:
            return dict(self._pinned)

    def pending(self) -> str | None:
        with self._lock:
            return self._pending

    def _apply_pending_locked(self) -> None:
        if self._pending and not any(c == self._active for c in self._pinned.values()):
            log.info("strategy for %s switches %s -> %s", self.key, self._active, self._pending)
            self._active, self._pending = self._pending, None
            self._confirmed_at = time.monotonic()


_CACHES: dict[tuple[str, int, str], EndpointStrategy] = {}
_CACHES_LOCK = threading.Lock()


def strategy_for(host: str, port: int, cluster_name: str | None) -> EndpointStrategy:
    """The process-wide (kernel-scoped) strategy state of an endpoint."""
    key = (host.lower(), int(port), (cluster_name or "").lower())
    with _CACHES_LOCK:
        if key not in _CACHES:
            _CACHES[key] = EndpointStrategy(key)
        return _CACHES[key]


def reset_all() -> None:
    """Forget every endpoint's strategy (tests, or after a deployment that changed everything)."""
    with _CACHES_LOCK:
        _CACHES.clear()
