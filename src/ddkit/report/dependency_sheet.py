"""The Dependencies sheet: one Excel table with plain-English headers (deps)."""

from __future__ import annotations

import pandas as pd

SHEET_COLUMNS = {"name": "package", "version": "version", "ecosystem": "ecosystem", "scope": "scope",
                 "direct": "direct", "license_spdx": "license", "license_source": "license source",
                 "manifest": "manifest", "line": "line", "added_by": "added by", "added_by_type": "added by type",
                 "added_by_ip_status": "added by IP status", "added_date": "added on",
                 "added_sha": "added in commit", "purl": "purl", "severity": "severity", "rule": "rule",
                 "license_evidence": "license evidence"}


def sheet_frame(deps: pd.DataFrame | None) -> pd.DataFrame:
    if deps is None or deps.empty:
        return pd.DataFrame(columns=list(SHEET_COLUMNS.values()))
    return deps[[c for c in SHEET_COLUMNS if c in deps.columns]].rename(columns=SHEET_COLUMNS)
