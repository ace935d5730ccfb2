"""The wheel ships what users' tools need beside the code: `py.typed` (PEP 561) and the stubs' `.pyi` files."""
from __future__ import annotations

import pathlib
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_the_wheel_ships_py_typed_and_the_stub_types(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
                          check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("e6magic-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "e6magic/py.typed" in names  # type checkers read the package's annotations
    assert {"e6magic/_proto/e6x_engine_pb2.pyi", "e6magic/_proto/cluster_pb2.pyi"} <= names
    assert not [n for n in names if "/tests/" in n or n.startswith("tests/")]
