"""`E6Magic`: the `%config E6Magic.*` options, with defaults read from `[tool.e6magic]` in pyproject."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from traitlets import Bool, CaselessStrEnum, Float, Int, TraitError, Unicode
from traitlets.config import Configurable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

DEFAULT_PROFILES = "~/.e6magic/connections.toml"


class E6Magic(Configurable):
    """Options for `%%e6sql`; set them with `%config E6Magic.<name> = value`."""

    display_limit = Int(50, help="Rows shown in the result table (the fetch is not capped by this).").tag(config=True)
    autolimit = Int(0, help="Fetch at most this many rows per query (0: no cap); `--limit N` overrides it."
                    ).tag(config=True)
    output = CaselessStrEnum(["pandas", "arrow", "polars"], default_value="pandas",
                             help="Type of output variables and of `_e6.result`.").tag(config=True)
    short_errors = Bool(True, help="Show a failed query as one line (the cell still fails); False: full traceback."
                        ).tag(config=True)
    thousands = Bool(True, help="Numbers in status lines and grid cells with thousands separators (1,000,000); "
                     "False: 1000000.").tag(config=True)
    progress = Bool(True, help="Show the live status line (query id, state, elapsed, rows, Cancel).").tag(config=True)
    feedback = Int(1, help="0: silent; 1: one-line notes (engine started, rows, time); 2: also the SQL sent."
                   ).tag(config=True)
    bind_params = Bool(True, help="Bind `:name` from the notebook namespace as a safe literal.").tag(config=True)
    profiles_path = Unicode("", help=f"Connection profiles file (default: $E6MAGIC_PROFILES or {DEFAULT_PROFILES})."
                            ).tag(config=True)
    grid_keep_mb = Float(256.0, help="A result that is shown but not assigned to a variable is kept whole in the "
                         "kernel up to this size in MiB (estimated from its first batch); past it only the first rows "
                         "are kept, and the grid reads other pages and sorts from the engine. 0: always keep whole."
                         ).tag(config=True)
    widgets = Bool(True, help="Use the interactive widgets when the frontend can show them; False: plain HTML."
                   ).tag(config=True)
    timeout = Float(0.0, min=0.0, help="Each query's deadline in seconds, from prepare to the last batch; past it the "
                    "cell fails naming the call, the engine and the deadline. 0: the connection's (`timeout=` of "
                    "connect, an hour by default).").tag(config=True)


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` from ``start`` (the cwd) upward, or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def pyproject_settings(start: Path | None = None) -> dict[str, Any]:
    """The `[tool.e6magic]` table of the nearest pyproject, keeping only known option names.

    Raises ``ValueError`` (one line) for an unknown key or a file that is not TOML.
    """
    path = find_pyproject(start)
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read [tool.e6magic] ({exc})") from None
    table = data.get("tool", {}).get("e6magic", {})
    known = set(E6Magic.class_trait_names(config=True))
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"{path}: unknown [tool.e6magic] option {unknown[0]!r}; known: {', '.join(sorted(known))}")
    return dict(table)


def apply_pyproject(config: E6Magic, start: Path | None = None) -> dict[str, Any]:
    """Set options from `[tool.e6magic]`; a bad value raises ``ValueError`` naming the option.

    An option already set in the IPython config (a kernelspec's ``--E6Magic.x=``) wins.
    """
    settings = pyproject_settings(start)
    preset = set(config.config.get("E6Magic", {}))
    for name, value in settings.items():
        if name in preset:
            continue
        try:
            setattr(config, name, value)
        except (TraitError, TypeError, ValueError) as exc:  # traitlets' TraitError has a long text
            raise ValueError(f"[tool.e6magic] {name} = {value!r}: {str(exc).splitlines()[0]}") from None
    return settings
