"""`:name` parameters found only in code, bound as values; `{{ }}` only with -j."""
from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from e6magic.magic.params import render_template, to_client_params
from e6magic.magic.sqltext import parameter_names, split_statements


def test_names_skip_strings_comments_and_casts():
    sql = "SELECT :a, ':b', \":c\", x::int, :a -- :d\n/* :e */ FROM t WHERE y = :f_2"
    assert parameter_names(sql) == ["a", "f_2"]


def test_bind_turns_names_into_placeholders_and_keeps_values_out_of_the_text():
    hostile = "x'); DROP TABLE customers; --"
    sql, params = to_client_params("SELECT * FROM t WHERE name = :name AND pct LIKE '10%'", {"name": hostile})
    assert sql == "SELECT * FROM t WHERE name = %(name)s AND pct LIKE '10%%'"
    assert params == {"name": hostile}
    assert hostile not in sql


def test_bind_without_parameters_leaves_sql_alone():
    assert to_client_params("SELECT '100%' AS p", {}) == ("SELECT '100%' AS p", None)


def test_missing_parameter_is_a_usage_error():
    with pytest.raises(UsageError, match=r"parameter :who is not defined in the notebook; set who = \.\.\. first"):
        to_client_params("SELECT :who", {})


def test_template_renders_only_what_it_is_given():
    assert render_template("SELECT * FROM {{ table }} LIMIT {{ n }}", {"table": "orders", "n": 3}) == \
        "SELECT * FROM orders LIMIT 3"
    with pytest.raises(UsageError, match="-j template: 'missing' is undefined"):
        render_template("SELECT {{ missing }}", {})


def test_unterminated_quote_keeps_the_rest_as_one_statement():
    assert split_statements("SELECT 'a;b") == ["SELECT 'a;b"]
