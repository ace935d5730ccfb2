"""Fixtures for magic tests: a real IPython shell with e6magic loaded and connected to the local engine."""
from __future__ import annotations

import pytest

from e6magic.magic.connections import ENV_KEYS
from magic_shell import TestingShell
from engine_env import connect_through_env


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No E6DATA_* variables and no profiles file: what a newcomer's machine looks like."""
    for var in ENV_KEYS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("E6MAGIC_PROFILES", str(tmp_path / "no-profiles.toml"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def bare_ip(clean_env):
    """A shell with the extension loaded and nothing configured."""
    shell = TestingShell.instance()
    shell.config.pop("E6Magic", None)  # %config from an earlier test must not leak into this one
    shell.user_ns.clear()
    shell.init_user_ns()
    shell.run_cell("%load_ext e6magic")
    yield shell
    shell.run_cell("%unload_ext e6magic")


@pytest.fixture
def ip(bare_ip, engine, monkeypatch):
    """The shell connected to the session's local engine through E6DATA_* variables."""
    connect_through_env(monkeypatch, engine, "tester@example.com")
    monkeypatch.setenv("E6DATA_CATALOG", "demo")
    monkeypatch.setenv("E6DATA_DATABASE", "main")
    bare_ip.run_cell("%config E6Magic.widgets = False")
    return bare_ip
