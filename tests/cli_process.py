"""An `e6magic-engine serve` process a test runs: stopped by a signal at the end, killed if the test failed first."""
from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def running(proc: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """Yield `proc`; whatever happens in the block, no engine process is left behind."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def stop(proc: subprocess.Popen, signum: int = signal.SIGTERM) -> tuple[str, str]:
    """Ask the engine to stop as a user would (Ctrl-C or a service manager) and read what it printed."""
    proc.send_signal(signum)
    return proc.communicate(timeout=30)
