"""Reports: every output format, for a scan and for a portfolio, behind one registry.

A new format is one module with a ``REPORTER`` object (see :mod:`ddkit.report.interface`) plus one line
in :data:`REGISTRY`. Implementations are imported by name when first used, so ``import ddkit`` does not
load openpyxl, and the model (which calls :func:`write`) never imports a format module.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .interface import Reporter


class Format(NamedTuple):
    module: str      # the module holding REPORTER
    option: str      # the command-line option that asks for it (scan and scan-many)
    help: str


REGISTRY: dict[str, Format] = {
    "xlsx": Format("ddkit.report.xlsx", "--out", "Write the workbook here (.xlsx)."),
    "json": Format("ddkit.report.json_report", "--json", "Write the JSON report here."),
    "sarif": Format("ddkit.report.sarif", "--sarif", "Write SARIF 2.1.0 here."),
    "cyclonedx": Format("ddkit.report.sbom", "--sbom-out", "Write a CycloneDX 1.6 JSON SBOM here."),   # deps
}


def reporter(fmt: str) -> Reporter:
    try:
        module = REGISTRY[fmt].module
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; known: {', '.join(REGISTRY)}") from None
    return importlib.import_module(module).REPORTER


def write(fmt: str, s: Any, path: Path | None, pseudonymize: bool = False) -> Any:
    """Write scan *s* as *fmt*; pseudonymised first when asked (the same for every format)."""
    if pseudonymize:
        from .pseudonym import pseudonymized
        s = pseudonymized(s)
    return reporter(fmt).scan(s, path)


def write_portfolio(fmt: str, p: Any, path: Path | None, pseudonymize: bool = False) -> Any:
    """Write portfolio *p* as *fmt*; pseudonymised first when asked, one mapping across repositories."""
    if pseudonymize:
        from .pseudonym import pseudonymized_portfolio
        p = pseudonymized_portfolio(p)
    return reporter(fmt).portfolio(p, path)
