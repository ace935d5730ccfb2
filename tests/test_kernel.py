"""What README's first command leaves in .venv: JupyterLab starts, and its "Python 3 (e6magic)" kernel runs %%e6sql.

`scripts/demo.sh` installs the package with the `notebook` extra; the wheel's shared data puts the kernelspec in
the environment's `share/jupyter/kernels/e6magic`. These tests use that installed kernelspec as Jupyter finds it
(no copy, no JUPYTER_PATH), so a spec that is not installed, or that cannot start, fails here.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _newcomer_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E6DATA_", "E6MAGIC_", "JUPYTER_"))}
    env.update(E6MAGIC_PROFILES=str(tmp_path / "none.toml"), HOME=str(tmp_path), IPYTHONDIR=str(tmp_path / "ipy"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    return env


def test_demo_installs_the_notebook_extra_with_jupyterlab_and_a_kernel():
    assert "-e '.[notebook]'" in (ROOT / "scripts" / "install.sh").read_text()
    assert "bash scripts/install.sh\n" in (ROOT / "scripts" / "demo.sh").read_text()
    extra = re.search(r"^notebook = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.DOTALL | re.MULTILINE).group(1)
    assert "jupyterlab" in extra and "ipykernel" in extra


def test_the_installed_e6magic_kernel_runs_an_e6sql_cell(tmp_path, monkeypatch):
    for var in [v for v in os.environ if v.startswith(("E6DATA_", "E6MAGIC_", "JUPYTER_PATH"))]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("E6MAGIC_PROFILES", str(tmp_path / "none.toml"))
    spec = KernelSpecManager().get_kernel_spec("e6magic")
    assert Path(spec.resource_dir).is_relative_to(Path(sys.prefix)), spec.resource_dir  # the venv's own
    assert spec.display_name == "Python 3 (e6magic)"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%%e6sql n <<\nSELECT count(*) AS n FROM orders"),
                nbformat.v4.new_code_cell("print(int(n['n'][0]), type(n).__name__)")]
    NotebookClient(nb, timeout=90, kernel_name="e6magic", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert "embedded local engine" in "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert "1000000 DataFrame" in nb.cells[1].outputs[0]["text"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_jupyter_lab_starts_and_lists_the_e6magic_kernel(tmp_path):
    port, token = _free_port(), "lab-test-token"
    lab = subprocess.Popen([str(BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                            f"--IdentityProvider.token={token}", f"--notebook-dir={ROOT / 'examples' / 'notebooks'}"]
                           + (["--allow-root"] if os.geteuid() == 0 else []),  # CI's containers run as root
                           env=_newcomer_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        body = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and lab.poll() is None:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/api/kernelspecs",
                                                 headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(request, timeout=5) as answer:
                    body = answer.read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert lab.poll() is None, lab.stderr.read()[-2000:]
        assert '"e6magic"' in body and "Python 3 (e6magic)" in body
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/lab", headers={
                "Authorization": f"token {token}"}), timeout=10) as page:
            assert page.status == 200 and "JupyterLab" in page.read().decode()
    finally:
        lab.terminate()
        lab.wait(20)
