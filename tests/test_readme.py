"""README's reference tables are the code's: every magic option, E6Magic trait and engine CLI flag, with defaults."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_tables_match_the_code():
    done = subprocess.run([sys.executable, "scripts/readme_tables.py", "--check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_every_option_trait_and_flag_is_in_the_readme():
    from e6magic.engine.cli import _parser
    from e6magic.magic.config import E6Magic
    from e6magic.magic.options import OPTIONS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for spelling in OPTIONS:
        assert f"`{spelling}" in readme
    for name in E6Magic.class_trait_names(config=True):
        assert f"| `{name}` |" in readme
    serve = _parser()._subparsers._group_actions[0].choices["serve"]
    for action in serve._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert f"`{flag}" in readme
