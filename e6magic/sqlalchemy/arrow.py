"""The Arrow fast path beside `pandas.read_sql`: a statement run through SQLAlchemy, its rows read as Arrow batches.

pandas hands Arrow straight through only for ADBC connections; an SQLAlchemy connectable always goes through
`fetchall()`, one Python object per value, then pandas converts them back. These functions run the statement
through the same engine (its binding, events, logging and pool), then read the client cursor underneath with
`fetch_arrow()` / `fetch_df()`, so no row becomes a Python object.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from sqlalchemy.engine import Connection, Engine

Params = Mapping[str, Any] | Sequence[Any] | None


def read_arrow(sql: Any, con: Engine | Connection, params: Params = None) -> pa.Table:
    """The whole result of `sql` as a `pyarrow.Table`.

    Parameters
    ----------
    sql
        A SQL string (bound in pyformat, `%(name)s` / `%s`, as `pandas.read_sql` passes it on) or any
        SQLAlchemy statement (`select(...)`, `text(...)` with `:name` parameters).
    con
        An SQLAlchemy `Engine` or `Connection` whose URL is `e6magic://...`.
    params
        Values for the statement's parameters, bound by the client as safe literals.
    """
    with _client_cursor(sql, con, params) as cursor:
        return cursor.fetch_arrow()


def read_sql(sql: Any, con: Engine | Connection, params: Params = None, *,
             dtype_backend: Literal["numpy", "numpy_nullable", "pyarrow"] = "numpy",
             exact_decimals: bool = False) -> pd.DataFrame:
    """`pandas.read_sql`'s result for `sql`, read as Arrow instead of as rows (same arguments as `read_arrow`).

    `dtype_backend="numpy"` builds the frame batch by batch (`cursor.fetch_df()`: decimals as float64 unless
    `exact_decimals`); `"pyarrow"` hands the Arrow columns to pandas as `ArrowDtype` columns without a
    conversion; `"numpy_nullable"` gives pandas' nullable dtypes.
    """
    if dtype_backend not in ("numpy", "numpy_nullable", "pyarrow"):
        raise ValueError(f"dtype_backend must be 'numpy', 'numpy_nullable' or 'pyarrow', not {dtype_backend!r}")
    import pandas as pd

    with _client_cursor(sql, con, params) as cursor:
        if dtype_backend == "numpy":
            return cursor.fetch_df(exact_decimals=exact_decimals)
        table = cursor.fetch_arrow()
    if dtype_backend == "pyarrow":
        return table.to_pandas(types_mapper=pd.ArrowDtype)
    return table.to_pandas(types_mapper=_nullable_dtype)


def _nullable_dtype(arrow_type: pa.DataType) -> Any:
    import pandas as pd
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return pd.api.types.pandas_dtype(str(arrow_type).capitalize().replace("Uint", "UInt"))
    if pa.types.is_floating(arrow_type):
        return pd.Float64Dtype() if arrow_type.bit_width == 64 else pd.Float32Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype()
    return None


@contextlib.contextmanager
def _client_cursor(sql: Any, con: Any, params: Params) -> Iterator[Any]:
    from sqlalchemy.engine import Connection, Engine

    if isinstance(con, Engine):
        with con.connect() as connection, _client_cursor(sql, connection, params) as cursor:
            yield cursor
        return
    if not isinstance(con, Connection):
        raise TypeError(f"con must be an SQLAlchemy Engine or Connection, not {type(con).__name__}")
    if con.dialect.name != "e6magic":
        raise TypeError(f"con must use the e6magic:// dialect, not {con.dialect.name}://")
    if params is not None and not isinstance(params, Mapping):
        params = tuple(params)  # SQLAlchemy reads a list as many parameter sets
    if isinstance(sql, str):
        result = con.exec_driver_sql(sql, params) if params is not None else con.exec_driver_sql(sql)
    else:
        result = con.execute(sql, params) if params is not None else con.execute(sql)
    try:
        yield result.cursor  # the client cursor; SQLAlchemy has not fetched a row from it
    finally:
        result.close()
