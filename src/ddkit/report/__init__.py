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
    # The file name endings this format may be written to (case-insensitive; empty: any). The command line
    # refuses any other before scanning (docs/outputs.md): `--out r.json` must not silently write a workbook.
    extensions: tuple[str, ...] = ()


REGISTRY: dict[str, Format] = {
    "xlsx": Format("ddkit.report.xlsx", "--out", "Write the workbook here (.xlsx).", (".xlsx",)),
    "json": Format("ddkit.report.json_report", "--json", "Write the JSON report here (.json).", (".json",)),
    "sarif": Format("ddkit.report.sarif", "--sarif", "Write SARIF 2.1.0 here (.sarif or .sarif.json).",
                    (".sarif", ".json")),
    "cyclonedx": Format("ddkit.report.sbom", "--sbom-out", "Write a CycloneDX 1.6 JSON SBOM here (.json, e.g. .cdx.json).",
                        (".json",)),   # deps
    "spdx": Format("ddkit.report.spdx", "--spdx-out", "Write an SPDX 2.3 JSON SBOM here (.json, e.g. .spdx.json).",
                   (".json",)),   # vulns/notices
    "notices": Format("ddkit.report.notices", "--notices-out",
                      "Write the attribution pack (third-party notices) here (.md or .txt).", (".md", ".txt")),
}


def reporter(fmt: str) -> Reporter:
    try:
        module = REGISTRY[fmt].module
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; known: {', '.join(REGISTRY)}") from None
    return importlib.import_module(module).REPORTER


def write(fmt: str, s: Any, path: Path | None, pseudonymize: bool = False, reuse: bool = False) -> Any:
    """Write scan *s* as *fmt*; pseudonymised first when asked (the same for every format).

    *reuse*: write the bytes kept for this cached result when there are some (the command line, which
    never changes a result between scanning and writing). Off for the library: a notebook may have
    changed the tables, and ``to_json`` returns the document."""
    key = getattr(s, "cache_key", None) if reuse else None
    if key and path is not None and s.repo.commit:
        done = _cached_report(fmt, s, Path(path), pseudonymize, key)
        if done is not None:
            return done
    from . import redact
    s = redact.scan(s)           # no credential the repository carries goes into a report
    if pseudonymize:
        from .pseudonym import pseudonymized
        s = pseudonymized(s)
    out = reporter(fmt).scan(s, path)
    if key and path is not None and s.repo.commit:
        _store_report(fmt, s, Path(path), pseudonymize, key)
    return out


def _report_store(fmt: str, s: Any, pseudonymize: bool, key: str):
    """A report is a function of the scan's inputs and commit (README: Determinism), so the bytes written
    for a cached result are kept beside it and written again as they are when nothing changed."""
    from ..collect import incremental
    return incremental.Store("report", s.repo.path, {"scan": key, "format": fmt, "pseudonymize": pseudonymize},
                             lambda v: isinstance(v, bytes))


def _cached_report(fmt: str, s: Any, path: Path, pseudonymize: bool, key: str) -> Path | None:
    from ..fsutil import atomic_write
    data = _report_store(fmt, s, pseudonymize, key).load(s.repo.commit)
    return atomic_write(path, data) if data is not None else None


def _store_report(fmt: str, s: Any, path: Path, pseudonymize: bool, key: str) -> None:
    try:
        data = path.read_bytes()
    except OSError:
        return
    _report_store(fmt, s, pseudonymize, key).save(s.repo.commit, data)


def write_portfolio(fmt: str, p: Any, path: Path | None, pseudonymize: bool = False) -> Any:
    """Write portfolio *p* as *fmt*; pseudonymised first when asked, one mapping across repositories."""
    from . import redact
    p = redact.portfolio(p)
    if pseudonymize:
        from .pseudonym import pseudonymized_portfolio
        p = pseudonymized_portfolio(p)
    return reporter(fmt).portfolio(p, path)
