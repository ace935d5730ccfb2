"""README's first command runs examples/demo.py: it works with only the runtime dependencies (no pytest)."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Blocks pytest the way a user's install lacks it: the demo must not reach for test-only modules.
RUN_WITHOUT_PYTEST = (
    "import runpy, sys; sys.modules['pytest'] = None; sys.argv = ['demo.py']; "
    "runpy.run_path('examples/demo.py', run_name='__main__')"
)


def test_demo_runs_its_tour_on_the_embedded_engine_without_test_packages(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E6DATA_", "E6MAGIC_", "PYTHONPATH"))}
    env.update(E6MAGIC_PROFILES=str(tmp_path / "none.toml"), HOME=str(tmp_path), IPYTHONDIR=str(tmp_path / "ipy"))
    done = subprocess.run([sys.executable, "-c", RUN_WITHOUT_PYTEST], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert "13 cells run; 1 failed as intended" in out
    assert "e6sql: big = 4 rows" in out
    assert "ObjectNotFound" in out and "no_such_table" in out  # a ProgrammingError subclass, named
    # the long query was cancelled, the engine says so, and nothing was assigned
    assert "(True, 'cancelled')" in out
    assert "('cancelled', False)" in out or "('cleared', False)" in out
    # the plan as text: timings, then operators with rows
    assert "plan: " in out and "HASH_JOIN" in out and "1,000,000 rows" in out
    assert "<IPython.core.display.HTML object>" not in out
    # the schema tree
    assert "demo\n  main\n    all_types\n    customers\n    orders\n    products" in out
