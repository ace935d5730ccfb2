"""The one retry policy: how often, how long apart, and which errors of which calls may be tried again.

Applied in one place, `ClientSession.call` (client/session.py). A call is tried again only when the engine
cannot have run it (it refused at the door: another colour, an expired session, a suspended cluster, or the
request never left the channel) or when the call changes nothing (`IDEMPOTENT`). An execute or a batch fetch
that may have reached the engine is never repeated: that could run a query twice or lose a batch.
"""
from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from e6magic.client.exceptions import (
    ClusterSuspended,
    EngineUnreachable,
    Error,
    InterfaceError,
    SessionExpired,
    WrongColour,
)

# Calls that change nothing on the engine may be repeated even when they may have reached it.
IDEMPOTENT = frozenset({
    "authenticate", "getResultMetadata", "status", "explain", "explainAnalyze", "clear", "cancelQuery",
    "clearOrCancelQuery", "dryRun", "dryRunV2", "getCataloges", "getSchemaNamesV2", "getTablesV2",
    "getColumnsV2", "getSchemaNames", "getTables", "getColumns",
})
# The engine refused these before doing anything, whatever the call was.
REFUSED_AT_THE_DOOR = (WrongColour, SessionExpired, ClusterSuspended)
DOOR_FACTOR = 20  # tries of a call refused at the door, per attempt of the policy (spread pauses: ~10 s at most)

# The channel's own reconnect backoff (transport.DEFAULT_OPTIONS); the retries must outlast its longest wait,
# or an engine that is back already is still refused by a channel that has not tried again yet.
RECONNECT_FIRST_S = 0.2
RECONNECT_MAX_S = 2.0
RECONNECT_JITTER = 0.2  # gRPC spreads each backoff by +-20 %


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries of one call at most; between tries after a transport failure, a backoff that
    doubles from `first_backoff` to `max_backoff` (errors refused at the door are tried again at once)."""

    attempts: int = 5
    first_backoff: float = 0.25
    max_backoff: float = 2.0

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based) after the engine was unreachable."""
        return min(self.max_backoff, self.first_backoff * 2.0 ** (retry - 1))

    def tries(self, error: Error) -> int:
        """How many tries of one call `error` allows. A refusal at the door ran nothing, so it gets more: with a
        flip every 0.1 s and a loaded machine, a sign-in and the call after it can straddle a flip several times
        in a row (still bounded, and by the call's deadline)."""
        return self.attempts * DOOR_FACTOR if isinstance(error, REFUSED_AT_THE_DOOR) else self.attempts

    def total_backoff(self) -> float:
        return sum(self.backoff(n) for n in range(1, self.attempts))

    def may_retry(self, error: Error, method: str) -> bool:
        """Whether `method` may be sent again after `error` (only the error's class decides)."""
        if isinstance(error, REFUSED_AT_THE_DOOR):
            return True
        if isinstance(error, EngineUnreachable):
            return not error.request_sent or method in IDEMPOTENT
        return False


_N = TypeVar("_N", int, float)
_READ = frozenset({"E6DATA_MAX_RETRY_ATTEMPTS", "E6DATA_STRATEGY_CACHE_TIMEOUT", "E6DATA_STRATEGY_LOG_LEVEL"})


@dataclass(frozen=True)
class Settings:
    """The client's E6DATA_* variables, read and checked once, when a connection is made."""

    retry: RetryPolicy
    cache_timeout: float
    log_level: str | None  # None: E6DATA_STRATEGY_LOG_LEVEL unset, the logger inherits the application's level

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        # only the variables read here, never the whole environment: a verbose traceback prints a frame's
        # locals, and the environment may hold E6DATA_PASSWORD
        env = {name: value for name, value in (os.environ if environ is None else environ).items() if name in _READ}
        environ = None
        attempts = _number(env, "E6DATA_MAX_RETRY_ATTEMPTS", "5", int, lambda v: 1 <= v <= 100, "a whole number 1-100")
        cache = _number(env, "E6DATA_STRATEGY_CACHE_TIMEOUT", "300", float, lambda v: v >= 0, "seconds, 0 or more")
        level = env.get("E6DATA_STRATEGY_LOG_LEVEL", "").strip().upper() or None
        if level is not None and not isinstance(logging.getLevelName(level), int):
            raise InterfaceError(f"E6DATA_STRATEGY_LOG_LEVEL={level!r} is not a log level "
                                 "(DEBUG, INFO, WARNING, ERROR or CRITICAL)")
        return cls(RetryPolicy(attempts=attempts), cache, level)


def _number(env: Mapping[str, str], name: str, default: str, kind: Callable[[str], _N], ok: Callable[[_N], bool],
            what: str) -> _N:
    raw = env.get(name, default)
    try:
        value = kind(raw.strip())
    except ValueError:
        value = None
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or not ok(value):
        raise InterfaceError(f"{name}={raw!r} is not valid: it must be {what}")
    return value
