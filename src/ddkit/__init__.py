"""ddkit: technical due diligence of git repositories.

The public names are imported on first use (PEP 562), so that ``ddkit --version`` and ``--help`` do not
load pandas and the scanners.
"""

from ._version import __version__
from .errors import DdkitError, InputError

__all__ = ["DdkitError", "InputError", "Portfolio", "Scan", "__version__", "scan", "scan_many"]

_LAZY = {"scan": ("pipeline", "scan"), "Scan": ("model", "Scan"), "Portfolio": ("model", "Portfolio"),
         "scan_many": ("portfolio", "scan_many")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
