"""What the layers above the model do with its objects, named here so that the model can offer it.

``Scan.to_excel()``, ``Portfolio.findings`` and the like are the notebook's way in (docs/outputs.md), but what
they do belongs to the report registry (:mod:`ddkit.report`) and the analyses (:mod:`ddkit.analyze`), which
sit above the model and read it: were the model to import them, model and reports would import each other
(the layers: pyproject.toml ``[tool.importlinter]``). So the model asks for an operation by name, and the
library facade (``ddkit/__init__.py``), which sits above every layer and always runs before any ``ddkit``
module, provides them. This module imports nothing of ddkit, so it can sit below the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_PROVIDED: dict[str, Callable[..., Any]] = {}


def provide(**operations: Callable[..., Any]) -> None:
    """Register operations by name (the facade does, once)."""
    _PROVIDED.update(operations)


def operation(name: str) -> Callable[..., Any]:
    """The operation registered as *name*."""
    try:
        return _PROVIDED[name]
    except KeyError:
        # Only reachable if ddkit/__init__.py did not run its provide() (it always runs before ddkit.model)
        raise RuntimeError(f"ddkit: no operation {name!r} is registered (ddkit/__init__.py provides them)") from None
