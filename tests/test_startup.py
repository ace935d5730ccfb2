"""`import e6magic` and `%load_ext e6magic` leave grpc, pyarrow, numpy, pandas and the stubs for first use."""
from __future__ import annotations

import json
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
