"""The `%e6sql` line magic and `%%e6sql` cell magic: thin wrappers over `Session`."""
from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from e6magic.magic import display
from e6magic.magic.config import E6Magic
from e6magic.magic.session import Session


@magics_class
class E6SqlMagics(Magics):
    """Run SQL on e6data (or the embedded local engine) from a notebook cell."""

    def __init__(self, shell: Any, config: E6Magic) -> None:
        super().__init__(shell)
        self.session = Session(shell, config)

    @no_var_expand  # `{x}` and `$x` stay SQL; parameters are bound with :name instead
    @line_cell_magic
    def e6sql(self, line: str, cell: str | None = None) -> Any:
        """Run SQL: `%%e6sql [df <<] [options]` then SQL, or `%e6sql [options] SQL`.

        Options: -o NAME, --limit N, --catalog C, --database D, --explain, --dry-run, --show-sql,
        --background, -f FILE, -j (Jinja {{ }}), -c ALIAS, --connect [--host --port --cluster
        --secure --username --token], --close,
        --schema (browse catalogs > databases > tables). `:name` in the SQL binds the notebook variable
        `name` as a literal. The last query is `_e6`.
        """
        display.install_exception_hook(self.shell)
        return self.session.run(line, cell)

    async def run_async(self, line: str, cell: str | None) -> Any:
        """What a rewritten top-level `%%e6sql` cell awaits (see `transform.py`)."""
        display.install_exception_hook(self.shell)
        return await self.session.run_async(line, cell)
