"""e6magic and the official connector (3.0.2 and 2.3.15) imported into one process, in either order, query one engine."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
from google.protobuf import descriptor_pool
from peers import LEGACY_PATH, VERSIONS

from e6magic._proto import POOL, cluster_pb2, e6x_engine_pb2, regenerate

# Each order runs in a fresh interpreter: the clash (protobuf refusing a second, different
# e6x_engine.proto in one pool) happens at import, so it can only be seen before either is imported.
_SNIPPET = textwrap.dedent('''
    import json, os, sys
    if sys.argv[1] == "connector-first":
        import e6data_python_connector
        import e6magic
    else:
        import e6magic
        import e6data_python_connector
    from e6data_python_connector import Connection

    host, port, token = os.environ["PEER_HOST"], int(os.environ["PEER_PORT"]), os.environ["PEER_TOKEN"]
    sql = "SELECT count(*), CAST(sum(order_id) AS BIGINT) FROM demo.main.orders WHERE order_id <= 1000"
    official = Connection(host=host, port=port, username="peer@e6magic.invalid", password=token,
                          catalog="demo", database="main")
    cur = official.cursor()
    cur.execute(sql)
    theirs = [list(row) for row in cur.fetchall()]
    cur.clear()
    official.close()
    with e6magic.connect(host=host, port=port, username="me@e6magic.invalid", password=token) as ours:
        c = ours.cursor()
        c.execute(sql)
        mine = [list(row) for row in c.fetchall()]
    print("@@" + json.dumps({"official": theirs, "e6magic": mine, "connector": e6data_python_connector.__file__}))
''')


def _run(engine, order: str, version: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PEER_HOST=engine.host, PEER_PORT=str(engine.port), PEER_TOKEN=engine.token.reveal())
    if version == "2.3.15":
        if not (LEGACY_PATH / "e6data_python_connector").is_dir():
            pytest.skip(f"connector 2.3.15 is not installed in {LEGACY_PATH}")
        env["PYTHONPATH"] = str(LEGACY_PATH)
    done = subprocess.run([sys.executable, "-c", _SNIPPET, order], check=False, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("@@")]
    return json.loads(line[2:])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("order", ["connector-first", "e6magic-first"])
def test_both_clients_in_one_process_query_one_engine(engine, order, version):
    got = _run(engine, order, version)
    assert got["official"] == got["e6magic"] == [[1000, 500500]]
    assert ("e6data-2.3.15" in got["connector"]) == (version == "2.3.15")


def test_the_stubs_use_the_private_pool_not_the_default_one():
    for module in (e6x_engine_pb2, cluster_pb2):
        assert module.DESCRIPTOR.pool is POOL
        with pytest.raises(KeyError):
            descriptor_pool.Default().FindFileByName(module.DESCRIPTOR.name)


def test_regenerate_writes_the_private_pool_form():
    for module in (e6x_engine_pb2, cluster_pb2):
        text = pathlib.Path(module.__file__).read_text(encoding="utf-8")
        assert regenerate.private_pool(text) == text  # what is checked in is what regenerate produces
    generated = ("# @@protoc_insertion_point(imports)\n"
                 "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(b'x')\n")
    rewritten = regenerate.private_pool(generated)
    assert "Default()" not in rewritten and "from e6magic._proto import POOL as _POOL" in rewritten
    with pytest.raises(ValueError, match="protoc changed shape"):
        regenerate.private_pool("DESCRIPTOR = something_else()\n")
