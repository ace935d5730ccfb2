"""A terminal tour of %%e6sql against the embedded local engine: the cells a notebook user would run."""
from __future__ import annotations

import sys

# hours of work for DuckDB: only a cancel ends it
FOREVER = "SELECT count(*) AS n FROM range(1000000000) a CROSS JOIN range(1000000000) b"

CELLS = [
    "%load_ext e6magic",
    """%%e6sql top <<
SELECT c.region, count(*) AS orders, sum(o.amount) AS revenue
FROM orders o JOIN customers c USING (customer_id)
GROUP BY 1 ORDER BY revenue DESC""",
    "top",
    "min_qty = 4",
    """%%e6sql -o big
SELECT status, count(*) AS n FROM orders WHERE quantity >= :min_qty GROUP BY 1 ORDER BY 1""",
    "big.dtypes",
    "_e6",
    # Cancel: what the status line's button does, here from a timer while the query runs in the background
    f"%%e6sql --background forever <<\n{FOREVER}",
    "import threading\nthreading.Timer(1.0, _e6.cancel).start()\n_e6.wait(60), _e6.state",
    "# the engine itself says so (the embedded one runs in this process)\n"
    "engine = get_ipython().magics_manager.registry['E6SqlMagics'].session.connections.engine\n"
    "engine.query_state(_e6.query_id), 'forever' in globals()",
    # the plan: timings, then each operator with its time and rows
    """%%e6sql --explain
SELECT c.region, count(*) AS orders FROM orders o JOIN customers c USING (customer_id) GROUP BY 1""",
    # the schema browser (in a notebook it is a widget: catalog > database > table > columns)
    "%e6sql --schema",
    "%e6sql SELECT * FROM no_such_table",
]

def main() -> int:
    # a plain terminal shell (IPython.testing's would need pytest, which a user's install does not have)
    from IPython.terminal.interactiveshell import TerminalInteractiveShell

    shell = TerminalInteractiveShell.instance()
    failed = 0
    for cell in CELLS:
        print(f"\nIn  > {cell}")
        result = shell.run_cell(cell, store_history=True)
        failed += not result.success
    print(f"\n{len(CELLS)} cells run; {failed} failed as intended (the last cell shows a short error)")
    return 0 if failed == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
