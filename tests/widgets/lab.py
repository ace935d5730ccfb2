"""JupyterLab or Notebook 7 plus headless Chromium for browser tests: isolated dirs, own process group, killed at end."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1200, "height": 800}
_ISOLATED_DIRS = {"JUPYTER_CONFIG_DIR": "cfg", "JUPYTER_RUNTIME_DIR": "rt", "JUPYTERLAB_SETTINGS_DIR": "settings",
                  "JUPYTERLAB_WORKSPACES_DIR": "ws", "IPYTHONDIR": "ipy"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_notebook(path: Path, cells: Sequence[str]) -> None:
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src}
                    for src in cells],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb, indent=1))


class Lab:
    """One ``jupyter lab`` on 127.0.0.1 with a token, and one Chromium driven by Playwright.

    ``app="notebook"`` starts Notebook 7 (``jupyter notebook``) instead; that server also serves
    JupyterLab under ``/lab``, so ``open_notebook(..., ui="lab")`` reaches both UIs from one server.
    """

    def __init__(self, work: Path, env: dict[str, str] | None = None, app: str = "lab") -> None:
        if app not in ("lab", "notebook"):
            raise ValueError(f"app must be 'lab' or 'notebook', not {app!r}")
        self.app = app
        self.work = work
        self.extra_env = dict(env or {})  # reaches the kernels: secrets stay out of notebook sources
        self.root = work / "nb"
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.token = os.urandom(12).hex()
        self.proc: subprocess.Popen[bytes] | None = None
        self._playwright: Any = None
        self.browser: Any = None
        self.console: list[str] = []
        self.requests: list[str] = []  # every URL the pages asked for, websockets included

    @property
    def log_tail(self) -> str:
        path = self.work / "lab.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def start(self, timeout: float = 90) -> Lab:
        env = {**os.environ, **self.extra_env}
        for var, sub in _ISOLATED_DIRS.items():
            env[var] = str(self.work / sub)
        # no "news?" toast over the notebook (news_url=None alone does not stop it)
        nset = self.work / "settings" / "@jupyterlab" / "apputils-extension"
        nset.mkdir(parents=True, exist_ok=True)
        (nset / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        cmd = [sys.executable, "-m", "jupyter", self.app, "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}", "--allow-root",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if self.app == "notebook":
            cmd.append("--JupyterNotebookApp.expose_app_in_browser=True")
        log = open(self.work / "lab.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._wait_http(f"http://127.0.0.1:{self.port}/api/status?token={self.token}", timeout)
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        return self

    def _wait_http(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited with {self.proc.returncode}:\n{self.log_tail}")
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"jupyter {self.app} did not answer on {url.split('?')[0]}")

    def stop(self) -> None:
        try:
            if self.browser is not None:
                self.browser.close()
            if self._playwright is not None:
                self._playwright.stop()
        finally:
            if self.proc is not None and self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)  # only the process group we started
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(5)

    def open_notebook(self, name: str, cells: Sequence[str], ui: str | None = None) -> Any:
        """Write the notebook, open it in a new page and wait for an idle kernel; returns the page.

        ``ui`` is "lab" or "notebook" (Notebook 7's own page); it defaults to the server's app.
        """
        write_notebook(self.root / name, cells)
        return self.reopen(name, ui)

    def reopen(self, name: str, ui: str | None = None, viewport: dict[str, int] | None = None,
               color_scheme: str = "light") -> Any:
        """Open the notebook as saved on disk (nothing written) in a new page; as ``open_notebook``."""
        ui = ui or self.app
        page = self.browser.new_page(viewport=viewport or VIEWPORT, color_scheme=color_scheme)
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", lambda ws: self.requests.append(ws.url))
        path = f"lab/tree/{name}?token={self.token}&reset" if ui == "lab" else f"notebooks/{name}?token={self.token}"
        page.goto(f"http://127.0.0.1:{self.port}/{path}", wait_until="domcontentloaded")
        page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=60000)
        page.evaluate("""async () => { const sc = window.jupyterapp.shell.currentWidget.sessionContext;
            await sc.ready; const t0 = Date.now();
            while (!(sc.session && sc.session.kernel && sc.session.kernel.status === 'idle')) {
                if (Date.now() - t0 > 60000) throw new Error('kernel not idle');
                await new Promise(r => setTimeout(r, 100)); } }""")
        if ui != "lab":
            return page  # Notebook 7 has no file browser beside the notebook
        # the file browser only takes room from the screenshots
        page.evaluate("() => { const app = window.jupyterapp;"
                      " if (!app.shell.leftCollapsed) app.commands.execute('application:toggle-left-area'); }")
        return page

    @staticmethod
    def run_cell(page: Any, index: int) -> None:
        """Start cell ``index`` and return at once (the command's promise resolves only when it ends)."""
        page.evaluate("""(i) => { const nb = window.jupyterapp.shell.currentWidget;
            nb.content.activeCellIndex = i; nb.content.deselectAll();
            window.jupyterapp.commands.execute('notebook:run-cell'); }""", index)

    @staticmethod
    def wait_cell_done(page: Any, index: int, timeout: float = 120) -> None:
        """Wait until cell ``index`` shows an execution count (it has finished)."""
        page.wait_for_function("""(i) => { const c = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
            const p = c && c.querySelector('.jp-InputArea-prompt'); return p && /\\[\\d+\\]/.test(p.textContent); }""",
                               arg=index, timeout=timeout * 1000)

    @staticmethod
    def save_and_shut_down(page: Any) -> None:
        """Save the notebook, then shut its kernel down (its widget models die with it)."""
        page.evaluate("""async () => { const nb = window.jupyterapp.shell.currentWidget;
            await nb.context.save(); await nb.sessionContext.shutdown(); }""")

    @staticmethod
    def set_theme(page: Any, dark: bool) -> None:
        name = "JupyterLab Dark" if dark else "JupyterLab Light"
        page.evaluate("(n) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: n})", name)
        page.wait_for_function("(d) => document.body.dataset.jpThemeLight === (d ? 'false' : 'true')", arg=dark)

    @staticmethod
    def cell(page: Any, index: int) -> Any:
        return page.locator(".jp-Notebook .jp-Cell").nth(index)

    @staticmethod
    def cell_text(page: Any, index: int) -> str:
        return str(page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea").inner_text())

    def errors(self) -> list[str]:
        return [c for c in self.console if c.startswith(("error", "pageerror"))]


@contextmanager
def running_lab(env: dict[str, str] | None = None, app: str = "lab") -> Iterator[Lab]:
    with tempfile.TemporaryDirectory(prefix=f"e6-{app}-") as tmp:
        lab = Lab(Path(tmp), env, app)
        try:
            yield lab.start()
        finally:
            lab.stop()


@contextmanager
def notebook7_for(engine: Any, profiles_dir: Path, username: str) -> Iterator[Lab]:
    """A Notebook 7 server whose kernels reach ``engine``; on exit, fails on any page error naming the widgets.

    Notebook 7.6.5 itself throws "reading 'schema'" in its shortcuts plugin on every page (an empty notebook
    too), so only errors that name e6magic or anywidget count.
    """
    with running_lab(kernel_env(engine, profiles_dir, username), app="notebook") as started:
        yield started
    assert not [e for e in started.errors() if "e6" in e.lower() or "anywidget" in e.lower()], started.errors()


def kernel_env(engine: Any, profiles_dir: Path, username: str) -> dict[str, str]:
    """What the server hands its kernels: the engine's address and token (never in a notebook), no profiles."""
    return {"E6DATA_HOST": "127.0.0.1", "E6DATA_PORT": str(engine.port), "E6DATA_USERNAME": username,
            "E6DATA_PASSWORD": engine.token.reveal(), "E6MAGIC_PROFILES": str(profiles_dir / "none.toml")}


def wait_cancelled_on_engine(engine: Any, query_id: str, timeout: float = 5) -> None:
    """Assert the engine reports ``query_id`` cancelled (or already cleared) within ``timeout`` s (polled)."""
    deadline = time.monotonic() + timeout
    while engine.query_state(query_id) not in ("cancelled", "cleared") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.query_state(query_id) in ("cancelled", "cleared")


def cancel_running_cell(page: Any, engine: Any, index: int) -> tuple[str, float]:
    """Run cell `index` (a long `%%e6sql`), click its Cancel once the engine runs it, and wait for the cell to end.

    Asserts what a user and the engine would see: the status line says "cancelled" within 2 s of the click, and
    the engine reports the query cancelled (or already cleared). Returns (query id, seconds from the click to
    "cancelled" on screen).
    """
    from playwright.sync_api import expect

    Lab.run_cell(page, index)
    status = page.locator(".e6-status")
    expect(status).to_contain_text("running", timeout=30000)
    qid = status.get_attribute("data-query-id")  # the line shows it shortened
    time.sleep(1.0)  # let it really run on the engine
    assert engine.query_state(qid) == "running"
    button = page.locator(".e6-cancel")
    expect(button).to_be_enabled()
    clicked = time.monotonic()
    button.click()
    expect(status).to_contain_text("cancelled", timeout=2000)
    shown_after = time.monotonic() - clicked
    wait_cancelled_on_engine(engine, qid)
    Lab.wait_cell_done(page, index, timeout=30)
    return qid, shown_after
