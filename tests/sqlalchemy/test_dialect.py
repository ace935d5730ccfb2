"""The `e6magic://` dialect: its entry point, URL, compiled SQL, bound parameters and the secrecy of the token."""
from __future__ import annotations

import datetime as dt
import decimal
import importlib.metadata
import logging
import traceback

import pytest
import sqlalchemy as sa
from e6_urls import e6_url
from sqlalchemy.engine import make_url

import e6magic.client
from e6magic.sqlalchemy import E6magicDialect

HOSTILE = ["O'Brien", "it''s", "back\\slash", "\\'; SELECT 1; --", "50% off", "%(x)s", "%s", "ünïcødé ✓ 日本 🎉",
           "line\nbreak\ttab", "\"double\"", ""]


def test_the_entry_point_names_the_dialect():
    points = {e.name: e.value for e in importlib.metadata.entry_points(group="sqlalchemy.dialects")}
    assert points["e6magic"] == "e6magic.sqlalchemy.dialect:E6magicDialect"
    assert make_url("e6magic://u:t@h:1/").get_dialect() is E6magicDialect


def test_the_dialect_is_a_modern_one():
    assert E6magicDialect.supports_statement_cache is True
    assert E6magicDialect.import_dbapi() is e6magic.client
    assert "dbapi" not in vars(E6magicDialect)  # the deprecated classmethod is not defined
    assert E6magicDialect.default_paramstyle == e6magic.client.paramstyle == "pyformat"


@pytest.mark.parametrize(("url", "expected"), [
    pytest.param("e6magic://me%40x.com:tok@h:50051/?catalog=c&schema=s",
                 {"host": "h", "port": 50051, "username": "me@x.com", "password": "tok", "catalog": "c",
                  "database": "s", "secure": False}, id="basic"),
    pytest.param("e6magic://u:t@h/?secure=true&cluster=prod&catalog=c",
                 {"port": 443, "secure": True, "cluster_name": "prod"}, id="secure-default-port"),
    pytest.param("e6magic://u:t@h/cat?cluster-name=n", {"port": 80, "catalog": "cat", "cluster_name": "n"},
                 id="catalog-in-path"),
    pytest.param("e6magic://u:t%2Fwith%3Aodd%40chars@h:1/?auto_resume=false",
                 {"password": "t/with:odd@chars", "auto_resume": False}, id="escaped"),
])
def test_url_to_connect_arguments(url, expected):
    args, kwargs = E6magicDialect().create_connect_args(make_url(url))
    assert args == []
    assert {key: kwargs[key] for key in expected} == expected


@pytest.mark.parametrize(("url", "message"), [
    pytest.param("e6magic://u:t@h:1/?catalgo=c", "unknown option 'catalgo'", id="typo"),
    pytest.param("e6magic://u@h:1/?token=secret", "put the token in the URL's password", id="token-in-query"),
    pytest.param("e6magic://u@h:1/?access_token=secret", "put the token in the URL's password", id="oauth-in-query"),
    pytest.param("e6magic://u:t@h:1/?secure=maybe", "secure='maybe' is not a boolean", id="bad-flag"),
    pytest.param("e6magic://u:t@h:1/?catalog=a&catalog=b", "catalog is given more than once", id="twice"),
    pytest.param("e6magic://u:t@/?catalog=a", "needs a host", id="no-host"),
])
def test_bad_urls_fail_in_one_line(url, message):
    with pytest.raises(sa.exc.ArgumentError, match=message) as caught:
        sa.create_engine(url)
    assert "secret" not in str(caught.value) and "\n" not in str(caught.value)


# --- the token stays secret --------------------------------------------------------------------------------
def test_the_token_is_in_no_repr_and_no_log_line(make_engine, engine, caplog):
    caplog.set_level(logging.DEBUG)
    e6 = make_engine()
    e6.echo = "debug"
    with e6.connect() as conn:
        conn.execute(sa.text("SELECT :x AS x"), {"x": 1}).fetchall()
        sa.inspect(conn).get_table_names()
        shown = [repr(e6), str(e6.url), repr(e6.url), repr(conn), repr(conn.connection.dbapi_connection),
                 e6.url.render_as_string()]
    assert engine.token.reveal() not in " ".join(shown) + caplog.text
    assert "***" in repr(e6)
    assert "SELECT" in caplog.text  # the log did record the statement


def test_a_refused_token_fails_without_showing_it(engine):
    bad_engine = sa.create_engine(f"e6magic://u:wrong-token-xyz@127.0.0.1:{engine.port}/?catalog=demo&schema=main")
    with pytest.raises(sa.exc.OperationalError, match="refused|UNAUTHENTICATED|credentials") as caught, \
            bad_engine.connect() as conn:
        conn.execute(sa.text("SELECT 1")).fetchall()
    bad_engine.dispose()
    assert "wrong-token-xyz" not in str(caught.value) and "wrong-token-xyz" not in repr(caught.value)


# --- compiled SQL ----------------------------------------------------------------------------------------------
@pytest.fixture
def things():
    return sa.Table("things", sa.MetaData(), sa.Column("select", sa.Integer), sa.Column("MixedCase", sa.String),
                    sa.Column('say "hi"', sa.Boolean), sa.Column("plain", sa.Integer), schema="main")


def _sql(statement, **kw) -> str:
    return str(statement.compile(dialect=E6magicDialect(), **kw))


def test_identifiers_are_double_quoted_when_they_need_it(things):
    sql = _sql(sa.select(things))
    assert 'main.things."select", main.things."MixedCase", main.things."say ""hi""", main.things.plain' in sql
    assert "FROM main.things" in sql


def test_limit_offset_and_booleans(things):
    sql = _sql(sa.select(things.c.plain).where(things.c['say "hi"'].is_(sa.true()), sa.false() == things.c.plain)
               .limit(10).offset(20), compile_kwargs={"literal_binds": True})
    assert sql.endswith("LIMIT 10 OFFSET 20")
    assert 'things."say ""hi""" IS true' in sql and "false =" in sql
    assert _sql(sa.select(things.c.plain).offset(5), compile_kwargs={"literal_binds": True}).endswith(
        "\nFROM main.things OFFSET 5")


@pytest.mark.parametrize(("type_", "name"), [(sa.Text(), "VARCHAR"), (sa.DateTime(), "TIMESTAMP"),
                                             (sa.DateTime(timezone=True), "TIMESTAMP WITH TIME ZONE"),
                                             (sa.LargeBinary(), "BINARY"), (sa.Float(), "DOUBLE"),
                                             (sa.Numeric(10, 2), "NUMERIC(10, 2)"), (sa.String(5), "VARCHAR(5)")])
def test_cast_type_names(type_, name):
    assert _sql(sa.cast(sa.column("x"), type_)) == f"CAST(x AS {name})"


# --- on the engine ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_round_trip_bound_and_inline(e6, value):
    statement = sa.select(sa.literal(value, sa.String).label("v"))
    with e6.connect() as conn:
        assert conn.execute(statement).scalar_one() == value
        inline = str(statement.compile(e6, compile_kwargs={"literal_binds": True}))
        cursor = conn.connection.dbapi_connection.cursor()  # compiled SQL: `%` doubled, sent through the binding
        cursor.execute(inline, {})
        assert cursor.fetchall() == [(value,)]
        cursor.close()


@pytest.mark.parametrize("value", [
    dt.date(2024, 2, 29), dt.date(1969, 7, 20), dt.datetime(2024, 2, 29, 13, 14, 15, 123456),  # TIME has no vector type
    decimal.Decimal("-12345.67"), True, False, None, 9007199254740993,
], ids=repr)
def test_inline_literals_of_every_kind_come_back_as_themselves(e6, value):
    statement = sa.select(sa.literal(value).label("v"))
    with e6.connect() as conn:
        assert conn.execute(statement).scalar_one() == value
        inline = str(statement.compile(e6, compile_kwargs={"literal_binds": True}))
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute(inline, {})
        (got,), = cursor.fetchall()
        cursor.close()
    assert got == value and type(got) is type(value)


def test_a_bound_float_stays_a_float(e6):
    with e6.connect() as conn:
        assert type(conn.execute(sa.select(sa.literal(1.5, sa.Float))).scalar_one()) is float  # Float converts
        assert type(conn.exec_driver_sql("SELECT %(v)s AS v", {"v": 1.5}).scalar_one()) is float  # untyped: no


def test_inline_literals_escape_backslashes_as_the_engine_reads_them(e6):
    inline = str(sa.select(sa.literal("\\'; DROP TABLE x; --")).compile(e6, compile_kwargs={"literal_binds": True}))
    assert "'\\\\''; DROP TABLE x; --'" in inline  # backslash doubled, quote doubled: the literal cannot end early


def test_a_cached_statement_runs_again_with_new_values(e6):
    orders = sa.table("orders", sa.column("order_id"))
    statement = sa.select(orders.c.order_id).where(orders.c.order_id.in_(sa.bindparam("ids", expanding=True)))
    with e6.connect() as conn:
        first = conn.execute(statement, {"ids": [1, 2]}).scalars().all()
        second = conn.execute(statement, {"ids": [5, 6, 7]}).scalars().all()
        hits = conn.execute(statement, {"ids": [9]}).context.cache_hit
    assert (sorted(first), sorted(second)) == ([1, 2], [5, 6, 7])
    assert hits == hits.CACHE_HIT


def test_limit_offset_and_booleans_run_on_the_engine(e6):
    orders = sa.table("orders", sa.column("order_id"), sa.column("status"))
    statement = (sa.select(orders.c.order_id, sa.true().label("t"), sa.literal(False).label("f"))
                 .where(orders.c.status.is_not(None), orders.c.order_id > 8)  # order 10 has no status
                 .order_by(orders.c.order_id).limit(3).offset(2))
    with e6.connect() as conn:
        assert conn.execute(statement).fetchall() == [(12, True, False), (13, True, False), (14, True, False)]


def test_percent_signs_in_driver_sql_and_in_text(e6):
    with e6.connect() as conn:
        assert conn.exec_driver_sql("SELECT '50%' AS p").scalar_one() == "50%"
        assert conn.exec_driver_sql("SELECT '50%%' || %(x)s AS p", {"x": "!"}).scalar_one() == "50%!"
        assert conn.execute(sa.text("SELECT '50%' || :x AS p"), {"x": "%"}).scalar_one() == "50%%"


def test_the_pool_returns_connections_without_a_rollback_error(e6):
    for _ in range(3):
        with e6.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    with e6.begin() as conn:  # a transaction block commits as a no-op
        assert conn.execute(sa.text("SELECT 2")).scalar_one() == 2
    with e6.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert conn.execute(sa.text("SELECT 3")).scalar_one() == 3


def test_a_raw_connection_closed_by_hand_is_closed_quietly_by_the_pool(e6, caplog):
    conn = e6.connect()
    conn.connection.dbapi_connection.close()  # a second close() raises InterfaceError (PEP 249)
    with caplog.at_level(logging.ERROR, logger="sqlalchemy.pool"):
        conn.invalidate()
        conn.close()
        e6.dispose()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []  # "Exception terminating"


def test_pre_ping_and_errors_are_sqlalchemy_errors(make_engine, engine):
    e6 = sa.create_engine(e6_url(engine), pool_pre_ping=True)
    try:
        with e6.connect() as conn:
            conn.execute(sa.text("SELECT 1")).fetchall()
        with e6.connect() as conn, pytest.raises(sa.exc.ProgrammingError, match="nope"):  # pinged first
            conn.execute(sa.text("SELECT * FROM nope"))
    finally:
        e6.dispose()


def test_an_engine_gone_away_invalidates_the_pooled_connection(engine_factory):
    served = engine_factory()
    e6 = sa.create_engine(e6_url(served))
    try:
        with e6.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
            served.stop(grace=0.2)
            with pytest.raises(sa.exc.OperationalError) as caught:
                conn.execute(sa.text("SELECT 2"))
            assert caught.value.connection_invalidated and served.token.reveal() not in str(caught.value)
    finally:
        e6.dispose()


def test_the_public_names_are_pinned():
    import e6magic.sqlalchemy as package

    public = sorted(name for name in vars(package) if not name.startswith("_") and name not in
                    {"annotations", "arrow", "dialect", "types", "compiler"})
    assert sorted(package.__all__) == public == ["ARRAY", "BINARY", "E6magicDialect", "INTERVAL", "MAP", "STRUCT",
                                                 "parse_type", "read_arrow", "read_sql", "type_for_code"]


@pytest.mark.parametrize("query", ["?catalgo=c", "?secure=maybe", "?token=second-secret"])
def test_no_frame_of_a_refused_url_holds_the_token(query):
    # IPython's verbose tracebacks print every frame's locals (the URL itself prints its password as ***)
    with pytest.raises(sa.exc.ArgumentError) as caught:
        sa.create_engine(f"e6magic://u:first-secret@h:1/{query}")
    ours = [frame for frame, _ in traceback.walk_tb(caught.tb) if "e6magic" in frame.f_code.co_filename]
    # the URL object itself is SQLAlchemy's (its repr masks the password, not a token put in the query string),
    # as are create_engine's frames holding the URL text it was given
    shown = " ".join(repr(value) for frame in ours for value in frame.f_locals.values()
                     if not isinstance(value, sa.engine.URL))
    assert ours and "first-secret" not in shown and "second-secret" not in shown
    assert "secret" not in str(caught.value)
