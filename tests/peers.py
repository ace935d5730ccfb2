"""Runs a Python snippet under an official e6data connector (3.0.2 or 2.3.15) in a subprocess; returns its JSON."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
LEGACY_PATH = pathlib.Path(os.environ.get("E6DATA_2315_PATH", ROOT / ".peers" / "e6data-2.3.15"))
VERSIONS = ("3.0.2", "2.3.15")

# The snippet sees `connect()` (a Connection to the engine), `emit(value)` and `plain(value)`.
_PRELUDE = '''
import base64, datetime, decimal, json, os, sys
import e6data_python_connector
from e6data_python_connector import Connection

def connect(**options):
    options.setdefault("catalog", "demo")
    options.setdefault("database", "main")
    return Connection(host=os.environ["PEER_HOST"], port=int(os.environ["PEER_PORT"]),
                      username="peer@e6magic.invalid", password=os.environ["PEER_TOKEN"], **options)

def plain(value):
    """JSON-safe and typed, so the test can tell 1 from '1' and a date from its text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, (datetime.datetime, datetime.date)):
        return {type(value).__name__: value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {"dict": {str(k): plain(v) for k, v in value.items()}}
    return {type(value).__name__: str(value)}

def emit(value):
    sys.stdout.write("\\n@@PEER@@" + json.dumps(value) + "\\n")
    sys.stdout.flush()

def data():
    """What the test passed as `data=` (JSON, through a file: too big for an environment variable)."""
    with open(os.environ["PEER_DATA"], encoding="utf-8") as f:
        return json.load(f)

emit_version = e6data_python_connector.__file__
'''


def run_peer(snippet: str, *, version: str, host: str, port: int, token: str, timeout: float = 300,
             data: Any = None) -> Any:
    """Run `snippet` under connector `version`; returns the last value it emit()ted. Raises with its stderr.
    The snippet reads `data` (any JSON value) with `data()`."""
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, not {version!r}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PEER_HOST=host, PEER_PORT=str(port), PEER_TOKEN=token)
    if version == "2.3.15":
        if not (LEGACY_PATH / "e6data_python_connector").is_dir():
            raise FileNotFoundError(f"connector 2.3.15 is not installed in {LEGACY_PATH}")
        env["PYTHONPATH"] = str(LEGACY_PATH)  # ahead of the venv's 3.0.2
    code = _PRELUDE + textwrap.dedent(snippet)
    with tempfile.TemporaryDirectory() as folder:
        env["PEER_DATA"] = str(pathlib.Path(folder) / "data.json")
        pathlib.Path(env["PEER_DATA"]).write_text(json.dumps(data), encoding="utf-8")
        done = subprocess.run([sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True,
                              timeout=timeout, cwd=str(ROOT / "tests"))
    if done.returncode != 0:
        raise RuntimeError(f"connector {version} snippet failed:\n{done.stderr[-4000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("@@PEER@@")]
    if not lines:
        raise RuntimeError(f"connector {version} snippet emitted nothing:\n{done.stderr[-4000:]}")
    return json.loads(lines[-1][len("@@PEER@@"):])
