"""Blue/green: queries keep working while the engine flips its serving colour; the strategy cache stays clean."""
from __future__ import annotations

import threading
import time

import pytest

from e6magic.client import strategy as strategies
from tests.client.conftest import settle

THREADS = 8
SECONDS = 20.0


@pytest.mark.slow
def test_queries_survive_colour_flips(engine_factory, connect_to):
    engine = engine_factory(bluegreen_interval=2, chunk_rows=500)
    conn = connect_to(engine)
    failures: list[BaseException] = []
    done = [0] * THREADS
    deadline = time.monotonic() + SECONDS

    def work(index: int) -> None:
        cur = conn.cursor()
        n = 0
        while time.monotonic() < deadline:
            count = 1000 + 137 * (n % 7) + index
            try:
                cur.execute("SELECT i, 'v' || i AS s FROM range(%(c)s) t(i) ORDER BY i", {"c": count})
                rows = cur.fetchall()
                assert [r[0] for r in rows] == list(range(count)) and rows[-1][1] == f"v{count - 1}"
                done[index] += 1
            except BaseException as exc:  # noqa: BLE001 - collected and reported below
                failures.append(exc)
            n += 1
        cur.close()

    colours = set()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        colours.add(engine.serving_strategy)
        time.sleep(0.2)
    for thread in threads:
        thread.join()
    assert failures == []
    assert colours == {"blue", "green"} and all(done)
    assert strategies.strategy_for(engine.host, engine.port, None).pinned() == {}
    assert settle(engine) == {}
