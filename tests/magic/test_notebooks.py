"""Whole notebooks in a real ipykernel (nbclient): awaited cells, errors, interrupt (examples: tests/examples)."""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from engine_env import connect_through_env
from notebook_outputs import cell_text as _text

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LONG_QUERY = "SELECT sum(hash(range)) AS h FROM range(1000000000000)"  # hours of work: only a cancel ends it


@pytest.fixture
def kernel_env(engine, clean_env, monkeypatch):
    """The kernel inherits these: it connects to the session's engine through E6DATA_* variables."""
    connect_through_env(monkeypatch, engine, "nb@example.com")
    return engine


def _run(cells, *, timeout=60, allow_errors=False, interrupt_on_timeout=False):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            interrupt_on_timeout=interrupt_on_timeout, resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return nb


def _wait_no_queries(engine, timeout=10.0):
    deadline = time.monotonic() + timeout
    while engine.queries() and time.monotonic() < deadline:
        time.sleep(0.05)
    return engine.queries()


def test_top_level_cell_is_awaited_and_assigns(kernel_env):
    nb = _run([
        "%load_ext e6magic",
        "%%e6sql df <<\nSELECT 1 AS one, 'x' AS s",
        "print(type(df).__name__, df['one'].tolist(), In[2].startswith('await '))",
        "%%time\n%%e6sql t <<\nSELECT 2 AS two",
        "print(t['two'].tolist())",
    ])
    assert "DataFrame [1] True" in _text(nb.cells[2])
    assert "[2]" in _text(nb.cells[4])
    assert kernel_env.token.reveal() not in nbformat.writes(nb)


def test_error_fails_the_cell_and_stops_the_run(kernel_env):
    with pytest.raises(CellExecutionError) as excinfo:
        _run(["%load_ext e6magic", "%%e6sql\nSELECT * FROM no_such_table", "print('not reached')"])
    text = str(excinfo.value)
    assert "no_such_table" in text and "query id" in text
    assert kernel_env.token.reveal() not in text


def test_bad_option_fails_the_cell(kernel_env):
    with pytest.raises(CellExecutionError, match="unknown option --nope"):
        _run(["%load_ext e6magic", "%%e6sql --nope\nSELECT 1"])


def test_interrupt_cancels_the_query_on_the_engine(kernel_env):
    nb = _run(["%load_ext e6magic", f"%%e6sql big <<\n{LONG_QUERY}", "print('big' in globals())"],
              timeout=4, allow_errors=True, interrupt_on_timeout=True)
    # one line, the status line's, in the one cancel wording: no KeyboardInterrupt traceback under it
    [line] = _visible_lines(nb.cells[1])
    assert re.fullmatch(r"cancelled after [\d.]+ s · query [0-9a-f]{32}", line)
    assert _wait_no_queries(kernel_env) == {}


def test_an_interrupted_cell_still_fails_so_run_all_stops(kernel_env):
    with pytest.raises(CellExecutionError) as excinfo:
        _run(["%load_ext e6magic", f"%%e6sql big <<\n{LONG_QUERY}", "print('not reached')"],
             timeout=4, interrupt_on_timeout=True)
    assert excinfo.value.ename == "Interrupted" and "not reached" not in str(excinfo.value)
    assert _wait_no_queries(kernel_env) == {}


def _visible_lines(cell):
    """What a reader sees: text/plain of displays and streams, an error's traceback; blank lines dropped."""
    lines = []
    for out in cell.outputs:
        if out.get("output_type") == "error":
            lines.extend(out["traceback"])
        elif out.get("output_type") == "stream":
            if "connected to" not in out["text"]:
                lines.extend(out["text"].splitlines())
        else:
            lines.extend(out.get("data", {}).get("text/plain", "").splitlines())
    return [line for line in lines if line.strip()]


def test_cancel_button_while_awaiting_fails_the_cell_and_assigns_nothing(kernel_env):
    # the widget's handler for the Cancel click message, called as the comm would call it
    clicker = (
        "import threading, time\n"
        "def click():\n"
        "    for _ in range(200):\n"
        "        last = globals().get('_e6')\n"
        "        if last is not None and last.status is not None:\n"
        "            time.sleep(0.5); last.status._msg_cancel({'kind': 'cancel'}); return\n"
        "        time.sleep(0.05)\n"
        "threading.Thread(target=click, daemon=True).start()"
    )
    nb = _run(["%load_ext e6magic", clicker, f"%%e6sql big <<\n{LONG_QUERY}", "print('big' in globals())"],
              allow_errors=True)
    # the status line says it, once and muted; the cell fails without a second (red) copy of it
    assert not [o for o in nb.cells[2].outputs if o.get("output_type") == "error"]
    [line] = _visible_lines(nb.cells[2])
    assert re.fullmatch(r"cancelled after [\d.]+ (?:m?s) · ([\d,]+ rows? read, discarded · )?query [0-9a-f]{32}", line)
    assert 'data-state="cancelled"' in _text(nb.cells[2]) and "e6-cancel" not in _text(nb.cells[2])
    assert "False" in _text(nb.cells[3])
    assert _wait_no_queries(kernel_env) == {}


def test_kernelspec_loads_the_extension(kernel_env, tmp_path, monkeypatch):
    spec = json.loads((ROOT / "jupyter-config" / "kernels" / "e6magic" / "kernel.json").read_text())
    assert spec["display_name"] == "Python 3 (e6magic)"
    spec["argv"][0] = sys.executable  # "python" on PATH may not be this environment's
    folder = tmp_path / "kernels" / "e6magic"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%%e6sql x <<\nSELECT 9 AS nine"),
                nbformat.v4.new_code_cell("print(x['nine'].tolist(), get_ipython().config.E6Magic.display_limit)")]
    NotebookClient(nb, timeout=60, kernel_name="e6magic").execute()
    assert "[9] 50" in _text(nb.cells[1])


def test_shutting_the_kernel_down_cancels_a_query_still_running(kernel_env):
    nb = _run(["%load_ext e6magic", f"%%e6sql --background big <<\n{LONG_QUERY}",
               "print(_e6.query_id, _e6.state)"])
    query_id, state = _text(nb.cells[2]).split()[:2]
    assert state in ("prepared", "running", "fetching")
    # nbclient has shut the kernel down; its atexit hook cancelled the query
    assert _wait_no_queries(kernel_env) == {}
    assert kernel_env.query_state(query_id) in (None, "cancelled", "cleared")
