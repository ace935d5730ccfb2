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
    assert "8 cells run; 1 failed as intended" in done.stdout
    assert "e6sql: big = 4 rows" in done.stdout
    assert "ProgrammingError" in done.stdout and "no_such_table" in done.stdout
