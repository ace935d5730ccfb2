"""Where `%%e6sql` connects: `--connect`, a profile, `E6DATA_*` variables, or the embedded local engine."""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from e6magic.magic.command import ConnectRequest
from e6magic.magic.config import DEFAULT_PROFILES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_KEYS = {  # Endpoint field -> environment variable (the names the official connector documents)
    "host": "E6DATA_HOST", "port": "E6DATA_PORT", "username": "E6DATA_USERNAME",
    "token": "E6DATA_PASSWORD", "catalog": "E6DATA_CATALOG", "database": "E6DATA_DATABASE",
    "cluster": "E6DATA_CLUSTER_NAME", "secure": "E6DATA_SECURE",
}
_PROFILE_KEYS = {"host", "port", "username", "token", "password", "catalog", "database", "cluster",
                 "cluster_name", "secure"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Endpoint:
    """A resolved place to connect to; ``source`` says where it came from, for messages."""

    host: str
    port: int = 443
    username: str = ""
    token: str = field(default="", repr=False)
    catalog: str | None = None
    database: str | None = None
    cluster: str | None = None
    secure: bool = False
    source: str = ""

    def describe(self) -> str:
        where = f"{self.host}:{self.port}" + (f" cluster {self.cluster}" if self.cluster else "")
        return f"{where} ({self.source})" if self.source else where


def profiles_path(configured: str = "") -> Path:
    """`%config E6Magic.profiles_path`, else `$E6MAGIC_PROFILES`, else ~/.e6magic/connections.toml."""
    return Path(configured or os.environ.get("E6MAGIC_PROFILES") or DEFAULT_PROFILES).expanduser()


def load_profiles(path: Path) -> dict[str, dict[str, Any]]:
    """Read the profiles file: one TOML table per alias, `[default]` used when no alias is given."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: not a valid profiles file ({exc}).") from None
    profiles: dict[str, dict[str, Any]] = {}
    for alias, table in data.items():
        if not isinstance(table, dict):
            raise UsageError(f"{path}: {alias!r} must be a [section] of connection settings.")
        unknown = sorted(set(table) - _PROFILE_KEYS)
        if unknown:
            raise UsageError(f"{path}: [{alias}] has unknown key {unknown[0]!r}; known: "
                             f"{', '.join(sorted(_PROFILE_KEYS))}.")
        profiles[alias] = dict(table)
    return profiles


def _endpoint(values: Mapping[str, Any], source: str) -> Endpoint:
    values = dict(values)
    if "password" in values and "token" not in values:
        values["token"] = values.pop("password")
    if "cluster_name" in values and "cluster" not in values:
        values["cluster"] = values.pop("cluster_name")
    values.pop("password", None)
    values.pop("cluster_name", None)
    if not values.get("host"):
        raise UsageError(f"{source}: no host given.")
    port = values.get("port", 443)
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise UsageError(f"{source}: port must be a number, got {port!r}.") from None
    secure = _flag(values.get("secure", False), "secure", source)
    return Endpoint(host=str(values["host"]), port=port, username=str(values.get("username") or ""),
                    token=str(values.get("token") or ""), catalog=values.get("catalog") or None,
                    database=values.get("database") or None, cluster=values.get("cluster") or None,
                    secure=secure, source=source)


def _flag(value: Any, name: str, source: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise UsageError(f"{source}: {name} must be true or false, got {value!r}.")


def env_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    return {key: environ[var] for key, var in ENV_KEYS.items() if environ.get(var)}


def resolve(request: ConnectRequest | None, alias: str | None, *, profiles: Path,
            environ: Mapping[str, str] | None = None) -> Endpoint | None:
    """The endpoint asked for, or None when nothing is configured (then the local engine starts).

    Order: `--connect` options over the `-c` alias or `[default]` profile over `E6DATA_*` variables.
    The token may still be empty: ``with_token`` prompts for it.
    """
    env = env_settings(environ)
    table = load_profiles(profiles)
    alias = alias or (request.alias if request else None)
    if alias is not None and alias not in table:
        known = ", ".join(sorted(table)) or "none"
        raise UsageError(f"no connection profile {alias!r} in {profiles} (profiles: {known}).")
    if request is None and alias is None and not env and "default" not in table:
        return None
    base: dict[str, Any] = dict(env)
    source = "environment" if env else ""
    profile = alias or ("default" if "default" in table else None)
    if profile is not None:
        base.update(table[profile])
        source = f"profile {profile}"
    if request is not None:
        asked = {k: getattr(request, k) for k in ("host", "port", "cluster", "catalog", "database",
                                                   "secure", "username")
                 if getattr(request, k) is not None}
        if request.token:
            asked["token"] = request.token
        base.update(asked)
        source = "--connect" if asked else source or "--connect"
    endpoint = _endpoint(base, source or "connection")
    if request is not None and request.token == "":
        endpoint = replace(endpoint, token="")  # a bare --token: ask again even if one is known
    return endpoint


def with_token(endpoint: Endpoint, ask: Callable[[str], str] | None = None) -> Endpoint:
    """Prompt (hidden) for a missing token; the answer lives only in this Endpoint.

    ``getpass.getpass`` is looked up at call time: ipykernel swaps it for a frontend prompt.
    """
    if endpoint.token:
        return endpoint
    who = f"{endpoint.username}@" if endpoint.username else ""
    if ask is None:
        import getpass  # on first use: it loads termios and friends, which `%load_ext` does not need

        ask = getpass.getpass
    token = ask(f"e6data token for {who}{endpoint.host}: ")
    if not token:
        raise UsageError("no token given: connection not opened.")
    return replace(endpoint, token=token)


class Connections:
    """The kernel's current connection; starts the embedded local engine when none is configured."""

    def __init__(self, connect: Callable[[Endpoint], Any], start_engine: Callable[[], Any]) -> None:
        self._connect = connect
        self._start_engine = start_engine
        self._lock = threading.Lock()
        self._current: Any = None
        self._endpoint: Endpoint | None = None
        self._by_alias: dict[str, tuple[Endpoint, Any]] = {}
        self.engine: Any = None

    @property
    def endpoint(self) -> Endpoint | None:
        return self._endpoint

    def open(self, endpoint: Endpoint) -> Any:
        """Connect to ``endpoint`` and make it the current connection."""
        connection = self._open(endpoint)
        with self._lock:
            old, self._current, self._endpoint = self._current, connection, endpoint
        _close_quietly(old)
        return connection

    def for_alias(self, endpoint: Endpoint, alias: str) -> Any:
        """A connection kept per profile alias (`-c alias` does not change the current one)."""
        with self._lock:
            known = self._by_alias.get(alias)
        if known is not None and known[0] == endpoint:
            return known[1]
        connection = self._open(endpoint)
        with self._lock:
            replaced = self._by_alias.get(alias)
            self._by_alias[alias] = (endpoint, connection)
        if replaced is not None:  # the profile changed under the alias: its old connection is no longer reachable
            _close_quietly(replaced[1])
        return connection

    @property
    def current(self) -> Any:
        """The open connection, or None."""
        with self._lock:
            return self._current

    def start_embedded(self) -> Endpoint:
        """Start the embedded local engine (once) and return where to reach it. Blocking."""
        with self._lock:
            engine = self.engine
        if engine is None:
            engine = self._start_engine()
            with self._lock:
                self.engine = engine
        return Endpoint(host="127.0.0.1", port=int(engine.port), username="e6magic@local",
                        token=engine.token.reveal(), catalog="demo", database="main", source="local engine")

    def embedded_note(self) -> str:
        address = getattr(self.engine, "address", "127.0.0.1")
        return (f"e6sql: no connection configured, so the embedded local engine runs on {address} "
                f"(demo catalog 'demo'); connect to a cluster with %e6sql --connect or {DEFAULT_PROFILES}.")

    def _open(self, endpoint: Endpoint) -> Any:
        try:
            return self._connect(endpoint)
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - the client's own errors are one line and carry no token
            from e6magic.magic.errors import shorten
            from e6magic.widgets._base import one_line  # here: importing widgets at load_ext would cost its start

            # still the client's class, so `except CredentialsRefused` works; shown as one line
            raise shorten(exc, f"cannot connect to {endpoint.describe()}: {one_line(exc)}") from None

    def close(self) -> None:
        """Close every connection and stop the embedded engine (kernel shutdown, unload)."""
        with self._lock:
            current, self._current, self._endpoint = self._current, None, None
            others = [c for _, c in self._by_alias.values()]
            self._by_alias.clear()
            engine, self.engine = self.engine, None
        for connection in {id(c): c for c in [current, *others]}.values():  # one connection may have many names
            _close_quietly(connection)
        if engine is not None:
            try:
                engine.stop(grace=0.5)
            except Exception:  # noqa: BLE001 - shutting down anyway
                pass


def _close_quietly(connection: Any) -> None:
    if connection is None or getattr(connection, "closed", False):  # a second close() raises (PEP 249)
        return
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a dead connection is closed enough
        pass
