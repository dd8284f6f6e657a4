"""The one severity order, worst first (no heavy imports: the command line's start-up needs it)."""

from __future__ import annotations

from typing import Any

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")


def severity_rank(s: str) -> int:
    """0 for critical … 4 for info (lower is worse)."""
    return SEVERITIES.index(s)


def count_at_or_above(findings: Any, severity: str) -> int:
    """How many findings (a DataFrame with a severity column) are at *severity* or worse: what ``--fail-on`` counts."""
    if findings is None or findings.empty:
        return 0
    limit = severity_rank(severity)
    return int(sum(severity_rank(str(s)) <= limit for s in findings["severity"]))
