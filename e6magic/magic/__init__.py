"""Load and unload the `%e6sql` / `%%e6sql` IPython extension."""
from __future__ import annotations

import atexit
import weakref
from typing import Any

from e6magic.magic.config import E6Magic, apply_pyproject
from e6magic.magic.magics import E6SqlMagics

__all__ = ["E6Magic", "E6SqlMagics", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ip: Any) -> None:
    """Register the magics, `%config E6Magic`, the awaited-cell rewrite and the completer."""
    from e6magic.magic import completer, transform

    if "E6SqlMagics" in ip.magics_manager.registry:
        return
    config = E6Magic(parent=ip)
    try:
        apply_pyproject(config)
    except ValueError as exc:
        print(f"e6sql: {exc}")
    ip.configurables.append(config)
    magics = E6SqlMagics(ip, config)
    ip.register_magics(magics)
    transform.install(ip)
    completer.install(ip, magics.session)
    atexit.register(_shutdown, weakref.ref(magics))


def unload_ipython_extension(ip: Any) -> None:
    """Undo `load_ipython_extension`: cancel running queries, close connections, stop the local engine."""
    from e6magic.magic import completer, display, transform

    magics = ip.magics_manager.registry.pop("E6SqlMagics", None)
    transform.uninstall(ip)
    display.uninstall_exception_hook(ip)
    completer.uninstall(ip)
    if magics is None:
        return
    ip.magics_manager.magics["line"].pop("e6sql", None)
    ip.magics_manager.magics["cell"].pop("e6sql", None)
    ip.configurables[:] = [c for c in ip.configurables if not isinstance(c, E6Magic)]
    magics.session.shutdown()


def _shutdown(ref: weakref.ref[E6SqlMagics]) -> None:
    magics = ref()
    if magics is not None:
        magics.session.shutdown()
