"""`import e6magic` and `%load_ext e6magic` leave grpc, pyarrow, numpy, pandas and the stubs for first use."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import e6magic

HEAVY = ["grpc", "pyarrow", "numpy", "pandas", "e6magic._proto", "e6magic.client", "e6magic.wire", "duckdb"]


def loaded_after(code: str) -> list[str]:
    """Which of HEAVY a fresh interpreter has imported after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.splitlines()[-1])


def test_import_e6magic_loads_none_of_the_heavy_modules():
    assert loaded_after("import e6magic") == []


def test_load_ext_loads_none_of_the_heavy_modules():
    code = ("from IPython.core.interactiveshell import InteractiveShell\n"
            "InteractiveShell.instance().run_line_magic('load_ext', 'e6magic')")
    assert loaded_after(code) == []


def test_load_ext_in_a_terminal_shell_leaves_asyncio_and_getpass_for_first_use():
    # a bare IPython shell has not loaded asyncio (a kernel has): loading it for the magic was ~250 of 430 ms
    code = ("import sys\nfrom IPython.core.interactiveshell import InteractiveShell\n"
            "shell = InteractiveShell.instance()\nbefore = set(sys.modules)\n"
            "shell.run_line_magic('load_ext', 'e6magic')\n"
            "shell.run_cell('%%e6sql --help')\n"
            "import json; print(json.dumps(sorted({'asyncio', 'getpass', 'ssl'} & (set(sys.modules) - before))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout.splitlines()[-1]) == []


def test_a_client_name_loads_the_client_on_first_use():
    assert loaded_after("import e6magic; e6magic.connect") == [m for m in HEAVY if m not in ("pandas", "duckdb")]


@pytest.mark.parametrize("name", [n for n in e6magic.__all__ if n != "__version__"])
def test_every_public_name_still_works(name):
    import e6magic.client

    value = getattr(e6magic, name)
    assert value is getattr(e6magic.client, name, value)
    assert name in dir(e6magic)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        e6magic.nope  # noqa: B018


def test_importing_every_layer_configures_nothing_process_wide():
    # no codec error handler registered, no logger level set, and a bad E6DATA_* variable is connect()'s to
    # report (an import that read it failed with a ValueError nobody could catch)
    probe = ("import codecs, logging\n"
             "import e6magic.client, e6magic.wire, e6magic.engine, e6magic.magic, e6magic.client.strategy\n"
             "try:\n    codecs.lookup_error('e6magic-hex-escape'); print('registered')\n"
             "except LookupError:\n    print('none')\n"
             "print(logging.getLogger('e6magic.strategy').level)")
    env = {**os.environ, "E6DATA_STRATEGY_LOG_LEVEL": "LOUD"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env, check=False)
    assert (out.returncode, out.stdout.split()) == (0, ["none", str(0)]), out.stderr[-2000:]


def test_the_strategy_log_level_is_set_at_connect_when_asked(engine, monkeypatch):
    import logging

    from e6magic.client import strategy

    monkeypatch.setattr(strategy.log, "level", logging.NOTSET)
    e6magic.connect(host=engine.host, port=engine.port, username="u", password=engine.token).close()
    assert strategy.log.level == logging.NOTSET  # unset: the application's logging decides
    monkeypatch.setenv("E6DATA_STRATEGY_LOG_LEVEL", "debug")
    e6magic.connect(host=engine.host, port=engine.port, username="u", password=engine.token).close()
    assert strategy.log.level == logging.DEBUG
