"""No token in a saved notebook: `%xmode Verbose` through every failing connect path, frame locals dumped too."""
from __future__ import annotations

import socket
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WRONG = "wrong-token-Zq8v3LkP0xW7"  # a secret too: refused, but never to be shown

# the cells read the tokens from the environment through a function: no cell source or cell-level name holds one
CONNECT = ("e6magic.connect(host='127.0.0.1', port={port}, username='nb', password=tok({which!r}), "
           "catalog='demo', database='main'{extra})")
QUERY = "conn = " + CONNECT + "\nconn.cursor().execute('SELECT 1')"
DUMP = """\
_seen = []
_tb = sys.last_traceback
while _tb is not None:  # what %debug would show: every frame's locals, as repr
    for _k, _v in list(_tb.tb_frame.f_locals.items()):
        try:
            _seen.append(f"{_tb.tb_frame.f_code.co_name}.{_k} = {_v!r}")
        except Exception as _e:
            _seen.append(f"{_k}: repr failed {_e!r}")
    _tb = _tb.tb_next
print(len(_seen), "locals;", type(sys.last_value).__name__, vars(sys.last_value))
print("\\n".join(_seen))"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_token_anywhere_in_a_verbose_notebook_of_failed_connects(engine, monkeypatch, tmp_path):
    for key in ("E6DATA_HOST", "E6DATA_PORT", "E6DATA_USERNAME", "E6DATA_PASSWORD", "E6DATA_CATALOG",
                "E6DATA_DATABASE", "E6DATA_MAX_RETRY_ATTEMPTS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("E6MAGIC_PROFILES", str(tmp_path / "none.toml"))
    monkeypatch.setenv("NB_GOOD_TOKEN", engine.token.reveal())
    monkeypatch.setenv("NB_WRONG_TOKEN", WRONG)
    good, dead = engine.port, closed_port()
    failing = [
        # e6magic.connect(...) and a first query
        QUERY.format(port=good, which="NB_WRONG_TOKEN", extra=""),  # wrong token
        QUERY.format(port=dead, which="NB_GOOD_TOKEN", extra=", timeout=3"),  # unreachable host
        QUERY.format(port=good, which="NB_GOOD_TOKEN", extra=", ssl_cert=b'not a cert'"),  # bad option
        QUERY.format(port=good, which="NB_GOOD_TOKEN", extra=", timeout=-1"),  # bad option
        "os.environ['E6DATA_MAX_RETRY_ATTEMPTS'] = 'lots'\n"
        + QUERY.format(port=good, which="NB_GOOD_TOKEN", extra=""),  # bad E6DATA_* variable
        "del os.environ['E6DATA_MAX_RETRY_ATTEMPTS']",
        # %e6sql --connect, the token from E6DATA_PASSWORD
        f"os.environ.update(E6DATA_HOST='127.0.0.1', E6DATA_PORT='{good}', E6DATA_USERNAME='nb', "
        "E6DATA_PASSWORD=tok('NB_WRONG_TOKEN'))\nget_ipython().run_line_magic('e6sql', '--connect')",
        f"os.environ.update(E6DATA_PORT='{dead}', E6DATA_PASSWORD=tok('NB_GOOD_TOKEN'))\n"
        "get_ipython().run_line_magic('e6sql', '--connect')",
        f"os.environ.update(E6DATA_PORT='{good}')\nget_ipython().run_line_magic('e6sql', '--connect --port notaport')",
        "os.environ['E6DATA_MAX_RETRY_ATTEMPTS'] = '0'\nget_ipython().run_line_magic('e6sql', '--connect')",
    ]
    cells = ["%xmode Verbose", "import os, sys, e6magic\n%load_ext e6magic\n%config E6Magic.short_errors = False\n"
             "def tok(name):\n    return os.environ[name]"]
    for source in failing:
        cells += [source, DUMP]
    cells.append("del os.environ['E6DATA_MAX_RETRY_ATTEMPTS']\n"
                 "c = e6magic.connect(host='127.0.0.1', port=1, username='nb', password=tok('NB_GOOD_TOKEN'))\n"
                 "print(vars(c), vars(c._session))")  # the token lives in the connection's private session
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    saved = tmp_path / "failed-connects.ipynb"
    nbformat.write(nb, saved)
    text = saved.read_text()

    errors = [o for c in nb.cells for o in c.outputs if o.get("output_type") == "error"]

    def outcome(cell):
        """What a failing cell ended with: the class of its error, or IPython's one-line UsageError."""
        names = [o["ename"] for o in cell.outputs if o.get("output_type") == "error"]
        names += ["UsageError" for o in cell.outputs if o.get("text", "").startswith("UsageError")]
        return names

    outcomes = [outcome(c) for c in nb.cells if c.source in failing and not c.source.startswith("del ")]
    # e6magic.connect(...) paths, then %e6sql --connect paths: each failed once, with the client's own class
    # (a magic option it cannot parse is a UsageError)
    assert outcomes == [["CredentialsRefused"], ["EngineUnreachable"], ["InterfaceError"], ["InterfaceError"],
                        ["InterfaceError"], ["CredentialsRefused"], ["EngineUnreachable"], ["UsageError"],
                        ["InterfaceError"]], outcomes
    verbose = "".join("".join(e["traceback"]) for e in errors)
    shown = sorted({line.strip()[:80] for line in verbose.splitlines() if "password" in line and "=" in line})
    assert any("Secret('***')" in line for line in shown), shown  # Verbose printed the locals, masked
    assert "environ({" not in verbose, "a frame holds the whole environment (E6DATA_PASSWORD is in it)"
    last = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "_password" in last and "***" in last, last  # vars(c._session): the attribute is there, masked
    dumps = [c for c in nb.cells if c.source == DUMP]
    assert all("locals;" in "".join(o.get("text", "") for o in c.outputs) for c in dumps)
    assert engine.token.reveal() not in text, "the token is in the saved notebook"
    assert WRONG not in text, "the refused token is in the saved notebook"
