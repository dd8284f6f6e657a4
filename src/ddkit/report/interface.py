"""The seam every output format plugs into (as pip-audit's ``_format/interface.py``).

A reporter writes one format for a single scan and for a portfolio. It receives the model only
(``ddkit.model``), already pseudonymised when asked: pseudonymisation happens once, in
:func:`ddkit.report.write`, for every format, so a new format cannot leak names.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..model import Portfolio, Scan


class Reporter(Protocol):
    #: the registry key and the file type it writes, e.g. "sarif"
    format: str

    def scan(self, s: Scan, path: Path | None) -> Any:
        """Write *s* to *path* (or only return the document when *path* is None and the format allows)."""

    def portfolio(self, p: Portfolio, path: Path | None) -> Any:
        """Write a portfolio to *path*."""
