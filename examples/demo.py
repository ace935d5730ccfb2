"""A terminal tour of %%e6sql against the embedded local engine: the cells a notebook user would run."""
from __future__ import annotations

import sys

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
