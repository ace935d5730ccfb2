"""`E6Magic.output = 'polars'`: assigned results come through the client's Arrow stream (`fetch_polars`)."""
from __future__ import annotations

import sys

import polars as pl
import pytest
from IPython.core.error import UsageError

SQL = "SELECT i, (i / 100)::DECIMAL(18, 2) AS amount, 'r' || i AS label FROM range(300000) t(i)"


def test_an_assigned_result_is_one_polars_frame_read_from_the_stream(ip, monkeypatch):
    from e6magic.client.cursor import Cursor

    readers = []
    fetch_arrow_reader = Cursor.fetch_arrow_reader
    monkeypatch.setattr(Cursor, "fetch_arrow_reader",
                        lambda cur: readers.append(fetch_arrow_reader(cur)) or readers[-1])
    ip.run_cell("%config E6Magic.output = 'polars'")
    ip.run_cell(f"%%e6sql df <<\n{SQL}").raise_error()
    assert len(readers) == 1  # the one Arrow stream path of the client (Deliver 3), not a table converted after
    df, last = ip.user_ns["df"], ip.user_ns["_e6"]
    assert isinstance(df, pl.DataFrame) and df.shape == (300_000, 3)
    assert df["amount"].dtype == pl.Decimal(18, 2) and df["label"][-1] == "r299999"  # as declared
    assert last.table is None and last.result() is df  # no Arrow table kept beside the frame
    assert last.to_arrow().num_rows == 300_000 and last.to_pandas().shape == (300_000, 3)


@pytest.mark.parametrize("cell", ["%%e6sql --limit 5 df <<\n" + SQL, "%%e6sql --background df <<\n" + SQL],
                         ids=["limited", "background"])
def test_other_assigned_forms_also_give_polars(ip, cell):
    ip.run_cell("%config E6Magic.output = 'polars'")
    ip.run_cell(cell).raise_error()
    last = ip.user_ns["_e6"]
    assert last.wait(60)
    assert isinstance(ip.user_ns["df"], pl.DataFrame)
    assert ip.user_ns["df"].height == (5 if "--limit" in cell else 300_000)


def test_without_polars_the_cell_fails_with_the_pip_command(ip, monkeypatch):
    ip.run_cell("%config E6Magic.output = 'polars'")
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(UsageError) as excinfo:
        ip.run_cell("%%e6sql df <<\nSELECT 1 AS x")
    assert str(excinfo.value) == ("E6Magic.output = 'polars': polars is not installed: pip install polars "
                                  "(or pip install 'e6magic[polars]')")
    assert "df" not in ip.user_ns
