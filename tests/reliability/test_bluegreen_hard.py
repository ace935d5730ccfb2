"""Blue/green, hard, in CI: 16 clients (threads and two processes, shared and own connections), a flip every 0.1 s."""
from __future__ import annotations

import importlib.util
import pathlib

from e6magic.engine import LocalEngine
from tests.client.conftest import settle

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench" / "bench_bluegreen.py"
SECONDS = 10.0  # the full 60 s run is `bench/bench_bluegreen.py` (figures in docs/reliability.md)


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_bluegreen", BENCH)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_sixteen_clients_through_a_flip_every_tenth_of_a_second():
    bench = load_bench()
    with LocalEngine(host="127.0.0.1", port=0, bluegreen_interval=0.1, chunk_rows=100) as engine:
        seen = set()
        total = bench.run(engine.port, engine.token.reveal(), SECONDS)
        seen.add(engine.serving_strategy)
        assert total["clients"] == 16 and total["processes"] == 3
        assert total["failed"] == 0 and total["wrong"] == 0, total
        assert total["ok"] > 16, total
        assert total["pinned"] == 0 and total["stuck"] == 0
        assert settle(engine, 10) == {}, "queries left registered on the engine"
