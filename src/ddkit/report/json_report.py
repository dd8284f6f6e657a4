"""The JSON report, schema_version 1 (see docs and schemas/report.schema.json), for a scan and a portfolio."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._version import __version__
from ..gitutil import strip_credentials
from ..schema import DEPENDENCY_PUBLIC, FINDING_COLUMNS, LICENSE_PUBLIC, PEOPLE_PUBLIC
from ..values import records
from .cells import json_value, write_json

if TYPE_CHECKING:
    from ..model import Portfolio, Scan

# The first fields of each finding, in this order; every other column follows.
FINDING_FIELDS = [*FINDING_COLUMNS[:9], "status", "triage"]
# Columns of the DataFrames only, never written to JSON: person_id is a join key that may hold an e-mail
# address (an unresolved identity's; docs/outputs.md, "Tables").
DATAFRAME_ONLY = frozenset({"person_id"})


def _records(df: pd.DataFrame, fields: list[str], extra: bool = False) -> list[dict[str, Any]]:
    if df is None or df.empty:
        return []
    cols = [c for c in fields if c in df.columns]
    if extra:
        cols += [c for c in df.columns if c not in cols]
    cols = [c for c in cols if c not in DATAFRAME_ONLY]
    # records: the typed tables' values as the analyses hold them (a day column gives dates, pd.NA None)
    return [{c: json_value(v) for c, v in rec.items()} for rec in records(df[cols])]


def to_dict(s: Scan) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "ddkit_version": __version__,
        "repo": {"path": strip_credentials(s.repo.path), "ref": s.repo.ref, "commit": s.repo.commit, "remote": s.repo.remote},
        "as_of": s.as_of.isoformat(),
        "summary": json_value(s.summary),
        "rules_sha256": s.rules.sha256,
        "people": _records(s.people, PEOPLE_PUBLIC),
        "findings": _records(s.findings, FINDING_FIELDS, extra=True),
        "licenses": _records(s.licenses, LICENSE_PUBLIC),
        "dependencies": _records(s.dependencies, DEPENDENCY_PUBLIC),   # deps
        "vulnerabilities": _vulnerabilities(s),   # vulns
        "bus_factor": json_value(s.truck_factors),
        "ai": json_value(s.ai.to_json()) if s.ai is not None else None,   # the AI-assisted code ledger
        "copied_code": _records(s.copied_code, list(s.copied_code.columns)) if s.copied_code is not None else None,
        "triage_stale": json_value(s.triage_stale),
        # The scanned repository's own triage file: the other side's claims, never applied (docs/inputs.md).
        "triage_claims": _records(s.triage_claims, list(s.triage_claims.columns)),
        "warnings": list(s.warnings),
        # Additions (schema_version 1 stays): whom to retain, and the rewrite scope of each remediation subject.
        "retention": _records(s.retention, list(s.retention.columns)) if s.retention is not None else [],
        "rewrite_scope": _records(s.rewrite_scope, list(s.rewrite_scope.columns)) if s.rewrite_scope is not None else [],
        # What the secrets' context filter set aside (path, line, detector, reason; never the value).
        "secrets_set_aside": json_value(s.stats.secrets.get("set_aside", [])),
    }


def _vulnerabilities(s: Scan) -> list[dict[str, Any]]:
    """vulns: every match, current and past (analyze/vulnerabilities.py), the contract's fields first."""
    from ..analyze.vulnerabilities import VULN_COLUMNS
    df = getattr(s, "vulnerabilities", None)
    return _records(df, VULN_COLUMNS) if df is not None else []


def portfolio_to_dict(p: Portfolio) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "ddkit_version": __version__,
        "as_of": p.as_of.isoformat(),
        "repositories": _records(p.repositories, list(p.repositories.columns)),
        "findings": _records(p.findings, list(p.findings.columns)),
        "people": _records(p.people, [c for c in p.people.columns if c != "person_id"]),
        "dependencies": _records(p.dependencies, list(p.dependencies.columns)),   # deps
        # provenance: code shared between companies' repositories (null: the portfolio has one company)
        "copied_code": _records(p.copied_code, list(p.copied_code.columns)) if p.copied_code is not None else None,
    }


class JsonReporter:
    format = "json"

    def scan(self, s: Scan, path: Path | None) -> dict[str, Any]:
        return write_json(to_dict(s), path)

    def portfolio(self, p: Portfolio, path: Path | None) -> dict[str, Any]:
        return write_json(portfolio_to_dict(p), path)


REPORTER = JsonReporter()
