"""`e6magic-engine serve` in its own process for a benchmark, as a server would run: yields (port, token)."""
from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextlib.contextmanager
def served_engine(*args: str) -> Iterator[tuple[int, str]]:
    """The engine CLI on a free loopback port with a fresh token (extra CLI `args` pass through)."""
    token = secrets.token_urlsafe(24)
    env = dict(os.environ, E6MAGIC_ENGINE_TOKEN=token, PYTHONPATH=ROOT)
    # stderr to a file, not a pipe: nobody reads it while the engine runs, and DuckDB's progress bar (drawn when
    # building the demo takes over 2 s, as on a loaded machine) filled the pipe and blocked the engine
    with tempfile.TemporaryFile(mode="w+") as errors:
        proc = subprocess.Popen([sys.executable, "-m", "e6magic.engine.cli", "serve", "--port", "0", *args], env=env,
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            line = proc.stdout.readline()
            if not line.startswith("e6magic engine listening on "):
                errors.seek(0)
                raise RuntimeError(f"the engine did not start: {line}{errors.read()[-2000:]}")
            yield int(line.rsplit(":", 1)[1]), token
        finally:
            proc.terminate()
            proc.communicate(timeout=60)
