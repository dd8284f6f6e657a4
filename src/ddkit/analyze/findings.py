"""Findings: the shared shape of every rule's output, stable ids and ordering."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, cast

import pandas as pd

from ..config import Rules
from ..schema import FINDING_COLUMNS, SEVERITIES, Finding, typed_findings


def finding_id(rule: str, subject: str | None, path: str | None = None, extra: str = "") -> str:
    """Stable across runs: depends only on what the finding is about, never on figures that change."""
    key = "\x1f".join([rule, subject or "", path or "", extra])
    return hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def finding(rules: Rules, rule: str, subject: str, evidence: str, remediation: str, *,
            path: str | None = None, lines_at_stake: int = 0, id_extra: str = "", **extra: Any) -> Finding:
    rec: dict[str, Any] = {c: None for c in FINDING_COLUMNS}
    rec.update(id=finding_id(rule, subject, path, id_extra), rule=rule, area=rules.area(rule),
               severity=rules.severity(rule), subject=subject, path=path,
               lines_at_stake=int(lines_at_stake or 0), evidence=evidence, remediation=remediation)
    rec.update(extra)
    return cast(Finding, rec)


def findings_frame(records: Iterable[Finding] | Iterable[dict] | pd.DataFrame) -> pd.DataFrame:
    """Sorted by severity (worst first), then lines at stake (most first), then rule and subject."""
    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    for c in FINDING_COLUMNS:
        if c not in df:
            df[c] = None
    if df.empty:
        return typed_findings(df[FINDING_COLUMNS])
    df = df.copy()
    df["lines_at_stake"] = df["lines_at_stake"].fillna(0).astype(int)
    # (as text: the public tables' severity is a categorical, whose map would sort by category order)
    df["_rank"] = df["severity"].astype(object).map({s: i for i, s in enumerate(SEVERITIES)})
    df = df.sort_values(["_rank", "lines_at_stake", "rule", "subject", "path"],
                        ascending=[True, False, True, True, True], kind="stable", na_position="first")
    extra = [c for c in df.columns if c not in FINDING_COLUMNS and c != "_rank"]
    return typed_findings(df[[*FINDING_COLUMNS, *extra]].reset_index(drop=True))
