"""Write README's reference tables (magic options, `%config E6Magic.*`, `e6magic-engine serve`) from the code.

`python scripts/readme_tables.py` rewrites the text between each `<!-- generated: NAME -->` and
`<!-- end: NAME -->` marker in README.md; `--check` only says whether it is up to date (exit 1 if not).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


# the value's name as USAGE spells it
METAVAR = {"out": "NAME", "limit": "N", "catalog": "C", "database": "D", "file": "FILE", "alias": "ALIAS",
           "host": "H", "port": "P", "cluster": "NAME", "username": "U"}


def _cell(text: object) -> str:
    """Text for a table cell: pipes escaped, and angle brackets outside `code` (Markdown reads them as HTML)."""
    parts = str(text).replace("|", "\\|").replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def magic_options() -> str:
    from e6magic.magic.options import HELP, OPTIONS

    spellings: dict[str, list[str]] = {}
    for spelling, option in OPTIONS.items():
        spellings.setdefault(option.dest, []).append(spelling)
    missing = sorted(set(spellings) - set(HELP))
    if missing:
        raise SystemExit(f"e6magic.magic.options.HELP has no entry for {', '.join(missing)}")
    stale = sorted(set(HELP) - set(spellings))
    if stale:
        raise SystemExit(f"e6magic.magic.options.HELP describes options that are gone: {', '.join(stale)}")
    rows = ["| option | what it does | without it |", "|---|---|---|"]
    for dest, names in spellings.items():
        value = f" {METAVAR.get(dest, dest.upper())}" if OPTIONS[names[0]].takes_value else ""
        value = " [TOKEN]" if dest == "token" else value
        shown = ", ".join(f"`{name}{value}`" for name in names)
        what, default = HELP[dest]
        rows.append(f"| {shown} | {_cell(what)} | {_cell(default)} |")
    return "\n".join(rows)


def config_options() -> str:
    from e6magic.magic.config import E6Magic

    rows = ["| `%config E6Magic.` | default | what it sets |", "|---|---|---|"]
    for name, trait in sorted(E6Magic.class_traits(config=True).items()):
        default = trait.default_value
        values = getattr(trait, "values", None)
        kind = f" (one of {', '.join(map(str, values))})" if values else ""
        rows.append(f"| `{name}` | `{default!r}` | {_cell(trait.help)}{kind} |")
    return "\n".join(rows)


def engine_cli() -> str:
    from e6magic.engine.cli import _parser

    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    serve = sub.choices["serve"]
    rows = ["| `e6magic-engine serve` | default | what it does |", "|---|---|---|"]
    for action in serve._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        names = ", ".join(action.option_strings) or action.dest
        if action.nargs != 0:
            names += f" {action.metavar or action.dest.upper()}"
        default = "off" if action.nargs == 0 and action.default is False else f"`{action.default}`"
        if action.default is None:
            default = "none"
        help_text = (action.help or "").replace("%(default)s", str(action.default))
        rows.append(f"| `{names}` | {default} | {_cell(help_text)} |")
    return "\n".join(rows)


TABLES = {"magic-options": magic_options, "config": config_options, "engine-cli": engine_cli}


def render(text: str) -> str:
    """``text`` with every generated block rewritten; raises SystemExit unless each marker pair is there once."""
    for name, make in TABLES.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end: {name} -->)", re.DOTALL)
        if len(pattern.findall(text)) != 1 or text.count(f"<!-- generated: {name} -->") != 1:
            raise SystemExit(f"README.md needs exactly one <!-- generated: {name} --> ... <!-- end: {name} --> block")
        text = pattern.sub(lambda m: m[1] + make() + "\n" + m[2], text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is out of date")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("README.md reference tables are out of date: run python scripts/readme_tables.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
