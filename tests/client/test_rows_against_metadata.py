"""The client counts the rows it received against the metadata's row count: a short or long result is an error,
never a quiet partial DataFrame."""
from __future__ import annotations

import dataclasses

import pytest
from conftest import open_connection

from e6magic.client import InterfaceError
from e6magic.engine import queries


@pytest.fixture
def lying_engine(engine_factory, monkeypatch):
    """A real engine whose metadata announces `lie` more rows than it sends (an engine bug, or a lost chunk)."""
    lie = {"by": 0}
    announce = queries.metadata_for

    def metadata_for(schema, row_count, vector_types=None):
        meta = announce(schema, row_count, vector_types)
        if meta.row_count < 0:  # "not known yet" while the result streams: the lie is in the count at the end
            return meta
        return dataclasses.replace(meta, row_count=meta.row_count + lie["by"])

    monkeypatch.setattr(queries, "metadata_for", metadata_for)
    return engine_factory(), lie


@pytest.mark.parametrize("by", [1, -1, 16384])
def test_rows_other_than_announced_raise(lying_engine, by):
    engine, lie = lying_engine
    lie["by"] = by
    conn = open_connection(engine)
    try:
        cur = conn.cursor()
        cur.execute("SELECT * FROM orders LIMIT 40000")
        with pytest.raises(InterfaceError, match=f"announced {40000 + by} rows but sent 40000"):
            cur.fetchall()
    finally:
        conn.close()


def test_as_announced_and_ddl_counts_pass(lying_engine):
    engine, _ = lying_engine
    conn = open_connection(engine)
    try:
        cur = conn.cursor()
        cur.execute("SELECT * FROM orders LIMIT 40000")
        assert len(cur.fetchall()) == 40000
        cur.execute("CREATE TEMP TABLE t AS SELECT * FROM range(5)")  # a count of 5 changed rows, no result rows
        assert cur.rowcount == 5
    finally:
        conn.close()
