"""Query parameters: `:name` bound from the user namespace, `{{ }}` templating only when asked."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from IPython.core.error import UsageError

from e6magic.magic.sqltext import parameter_names, replace_parameters


def render_template(sql: str, namespace: Mapping[str, Any]) -> str:
    """Render ``{{ }}`` Jinja templating (the `-j` option) against the user namespace.

    This pastes text into the SQL on purpose; `:name` binding is the safe default.
    """
    try:
        import jinja2
    except ImportError as exc:
        raise UsageError("-j needs jinja2: pip install jinja2") from exc
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        return env.from_string(sql).render(**namespace)
    except jinja2.UndefinedError as exc:
        raise UsageError(f"-j template: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise UsageError(f"-j template, line {exc.lineno}: {exc.message}") from None


def to_client_params(sql: str, namespace: Mapping[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """Turn `:name` references into the client's pyformat placeholders plus a params dict.

    The values never touch the SQL text here: the client binds them as safe literals.
    With no `:name` in the SQL, the text is returned untouched and params is ``None``.
    """
    names = parameter_names(sql)
    if not names:
        return sql, None
    missing = [n for n in names if n not in namespace]
    if missing:
        listed = ", ".join(f":{n}" for n in missing)
        raise UsageError(f"parameter {listed} is not defined in the notebook; "
                         f"set {missing[0]} = ... first (or write '::' for a cast).")
    return replace_parameters(sql), {n: namespace[n] for n in names}
