"""Parse a `%e6sql` line and `%%e6sql` cell into a frozen `Command`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from IPython.core.error import UsageError

from e6magic.magic.options import USAGE, parse_options, split_target
from e6magic.magic.sqltext import split_statements

_CONNECT_KEYS = ("host", "port", "cluster", "catalog", "database", "secure", "username", "token")


@dataclass(frozen=True)
class ConnectRequest:
    """What `--connect` asked for; unset fields fall back to the profile, then the environment."""

    host: str | None = None
    port: int | None = None
    cluster: str | None = None
    catalog: str | None = None
    database: str | None = None
    secure: bool | None = None
    username: str | None = None
    # None: not given; "": prompt for it; else the token itself (never in a repr)
    token: str | None = field(default=None, repr=False)
    alias: str | None = None


@dataclass(frozen=True)
class Command:
    """One `%e6sql` invocation, parsed: the SQL and everything the options asked for."""

    sql: str = ""
    target: str | None = None
    limit: int | None = None
    catalog: str | None = None
    database: str | None = None
    explain: bool = False
    dry_run: bool = False
    show_sql: bool = False
    background: bool = False
    jinja: bool = False
    file: str | None = None
    alias: str | None = None
    connect: ConnectRequest | None = None
    close: bool = False
    refresh: bool = False
    schema: bool = False

    @property
    def statements(self) -> list[str]:
        return split_statements(self.sql)


def parse(line: str, cell: str | None = None) -> Command:
    """Parse a line magic (``cell is None``) or a cell magic into a `Command`.

    Raises ``UsageError`` (one line) on anything it cannot read; nothing is run then.
    """
    values, rest = parse_options(line)
    target, rest = split_target(rest)
    if cell is None:
        sql = rest
    else:
        if rest.strip():
            raise UsageError(f"unexpected text on the %%e6sql line: {rest.strip()[:60]!r}. {USAGE}")
        sql = cell
        if target is None:
            target, sql = split_target(cell)
    out = values.pop("out", None)
    if out is not None and target is not None and out != target:
        raise UsageError(f"two output variables given ({target} << and -o {out}); use one. {USAGE}")
    target = target or out  # type: ignore[assignment]
    if target is not None and not str(target).isidentifier():
        raise UsageError(f"-o needs a Python variable name, got {target!r}. {USAGE}")
    file = values.get("file")
    if file is not None:
        if sql.strip():
            raise UsageError(f"-f {file} and SQL in the cell: give one or the other. {USAGE}")
        sql = _read_sql_file(str(file))
    connect = _connect_request(values)
    if not sql.strip() and connect is None and not any(values.get(k) for k in ("close", "refresh", "schema")):
        raise UsageError(f"no SQL to run. {USAGE}")
    if not split_statements(sql) and sql.strip():
        raise UsageError("the cell holds only comments: no SQL to run.")
    return Command(
        sql=sql.strip(), target=target, limit=values.get("limit"),  # type: ignore[arg-type]
        catalog=values.get("catalog"), database=values.get("database"),  # type: ignore[arg-type]
        explain=bool(values.get("explain")), dry_run=bool(values.get("dry_run")),
        show_sql=bool(values.get("show_sql")), background=bool(values.get("background")),
        jinja=bool(values.get("jinja")), file=file, alias=values.get("alias"),  # type: ignore[arg-type]
        connect=connect, close=bool(values.get("close")), refresh=bool(values.get("refresh")),
        schema=bool(values.get("schema")),
    )


def _connect_request(values: dict[str, object]) -> ConnectRequest | None:
    given = {k: values[k] for k in _CONNECT_KEYS if k in values and k not in ("catalog", "database")}
    if not values.get("connect"):
        if given:
            names = ", ".join(f"--{k}" for k in given)
            raise UsageError(f"{names} only work with --connect. {USAGE}")
        return None
    return ConnectRequest(
        host=values.get("host"), port=values.get("port"), cluster=values.get("cluster"),  # type: ignore[arg-type]
        catalog=values.get("catalog"), database=values.get("database"),  # type: ignore[arg-type]
        secure=True if values.get("secure") else None, username=values.get("username"),  # type: ignore[arg-type]
        token=values.get("token"), alias=values.get("alias"),  # type: ignore[arg-type]
    )


def _read_sql_file(name: str) -> str:
    path = Path(name).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"-f {name}: cannot read it ({exc.strerror or exc}).") from None
