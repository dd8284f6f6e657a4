"""ddkit: technical due diligence of git repositories.

The public names are imported on first use (PEP 562), so that ``ddkit --version`` and ``--help`` do not
load pandas and the scanners.

This module is also the library facade's wiring: the model's convenience methods (``Scan.to_excel``,
``Portfolio.findings`` ...) are done by the layers above the model, which it must not import
(:mod:`ddkit.operations`); the functions below provide them, each importing its layer only when called.
"""

from __future__ import annotations

from typing import Any

from . import operations
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


# ------------------------------------------------------------------ what the model offers, done above it
def _write(fmt: str, s: Any, path: Any, pseudonymize: bool = False) -> Any:
    from .report import write
    return write(fmt, s, path, pseudonymize=pseudonymize)


def _write_portfolio(fmt: str, p: Any, path: Any, pseudonymize: bool = False) -> Any:
    from .report import write_portfolio
    return write_portfolio(fmt, p, path, pseudonymize=pseudonymize)


def _pseudonymized_portfolio(p: Any) -> Any:
    from .report.pseudonym import pseudonymized_portfolio
    return pseudonymized_portfolio(p)


def _simulate_departure(*args: Any) -> Any:
    from .analyze.bus_factor import simulate_departure
    return simulate_departure(*args)


def _findings_frame(records: Any) -> Any:
    from .analyze.findings import findings_frame
    return findings_frame(records)


def _merge_dependencies(frames: Any) -> Any:
    from .analyze.dependencies import merge_portfolio
    return merge_portfolio(frames)


def _components(deps: Any, licenses: Any) -> Any:
    from .analyze.components import cyclonedx_components
    return cyclonedx_components(deps, licenses)


operations.provide(write=_write, write_portfolio=_write_portfolio, pseudonymized_portfolio=_pseudonymized_portfolio,
                   simulate_departure=_simulate_departure, findings_frame=_findings_frame,
                   merge_dependencies=_merge_dependencies, components=_components)
