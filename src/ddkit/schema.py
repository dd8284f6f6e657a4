"""Table schemas and the severity enum: the vocabulary every stage and report shares.

Declared once here: the columns of each table that leaves the pipeline (``*_COLUMNS``), the dtype of
every column of every public table (:data:`DTYPES`, applied by :func:`typed` when the Scan's tables are
assembled) and the one severity order (:data:`SEVERITIES`, worst first, as reports list it). In a
DataFrame severity is the ordered categorical ``info < low < medium < high < critical``: ``df.severity >=
"high"`` means high or worse, and worst first is ``sort_values("severity", ascending=False)``. No imports
from the rest of ddkit, so any module can use it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

import numpy as np
import pandas as pd

# ------------------------------------------------------------------ severities (one enum)
from .severity import SEVERITIES, count_at_or_above, severity_rank  # noqa: F401  (re-exported)

# Ordered as people read it (info < ... < critical), so comparisons mean what they say.
SEVERITY_TYPE = pd.CategoricalDtype(list(reversed(SEVERITIES)), ordered=True)


# ------------------------------------------------------------------ table schemas
FINDING_COLUMNS = ["id", "rule", "area", "severity", "subject", "path", "lines_at_stake", "evidence",
                   "remediation", "person", "vendor", "commits", "first_commit", "last_commit",
                   "first_sha", "last_sha", "files", "line", "end_line"]


class _FindingColumns(TypedDict):
    # FINDING_COLUMNS, in order: every finding has them (None where they do not apply).
    id: str
    rule: str
    area: str
    severity: str
    subject: str | None
    path: str | None
    lines_at_stake: int
    evidence: str
    remediation: str
    person: str | None
    vendor: str | None
    commits: int | None
    first_commit: Any           # a day (datetime.date) or None
    last_commit: Any
    first_sha: str | None
    last_sha: str | None
    files: list[str] | None
    line: int | None
    end_line: int | None


class Finding(_FindingColumns, total=False):
    """One finding as the analyses emit it (``analyze.findings.finding``) and every report writes it: the
    columns above, then the keys below, set by the analyses or stages that have them (a report gives every
    finding the same keys, null where missing). docs/outputs.md lists them; ``tests/unit/test_schema.py``
    holds the two to each other."""
    # set by triage (every report has them)
    status: str
    triage: dict[str, Any] | None
    # internal: the person's key within one scan (never in JSON or the workbook)
    person_id: str | None
    # roll-ups
    rolled_up: bool
    subjects: list[str]
    # IP findings
    possible_roster_match: str | None
    # secrets
    tier: str
    detector: str
    detector_id: str
    engine: str
    context: str
    paths: str | list[str]
    fingerprint: str


# The one People schema: the analysis table has these columns; JSON, workbook and portfolio show the
# public subset PEOPLE_PUBLIC (person_id and raw names stay internal).
PEOPLE_COLUMNS = ["person", "type", "vendor", "emails", "is_bot", "commits", "first_commit", "last_commit",
                  "departed", "departed_status", "surviving_lines", "in_roster", "start_date", "end_date", "ip_assignment",
                  "ip_assignment_date", "ip_document", "names", "person_id", "possible_roster_match",
                  "possible_roster_match_reason"]
PEOPLE_PUBLIC = ["person", "type", "vendor", "emails", "is_bot", "commits", "first_commit", "last_commit",
                 "departed", "departed_status", "surviving_lines", "possible_roster_match"]
LICENSE_PUBLIC = ["path", "license_spdx", "category", "holders", "severity"]
# deps: the contract's `dependencies` fields (JSON), in order; the analysis table has more columns.
DEPENDENCY_PUBLIC = ["purl", "name", "version", "ecosystem", "scope", "direct", "license_spdx", "license_source",
                     "manifest", "line", "added_by", "added_by_type", "added_sha", "added_date"]
REPO_COLUMNS = ["repo", "ref", "status", "error", "commit", "readiness_score", "rating", "truck_factor",
                "critical", "high", "medium", "low", "info", "commits", "contributors", "outsourced_share",
                "cached", "seconds"]
# Columns that hold people's names or addresses, by table: what pseudonymisation must rewrite. A new
# person-bearing table is covered because pseudonymisation rewrites every text cell of every table.
PERSON_LIST_COLUMNS = ("emails", "names", "roster_emails")


def typed_findings(df: pd.DataFrame) -> pd.DataFrame:
    """Findings as the analyses sort and compare them: severity ordered, lines at stake an integer (the
    public table gets every declared dtype at the boundary, :func:`typed`)."""
    df = df.copy()
    df["severity"] = df["severity"].astype(SEVERITY_TYPE)
    df["lines_at_stake"] = df["lines_at_stake"].fillna(0).astype(int)
    return df


# ------------------------------------------------------------------ dtypes of the public tables
# One kind per column; each kind is one pandas dtype (docs/outputs.md, "Tables"). The analyses work on
# plain Python values (dates as ``datetime.date``, missing as None or NaN) for speed; the Scan's public
# tables get these dtypes once, when the Scan is assembled (:func:`typed`), so a column's dtype never
# depends on the repository (an empty column, a column of missing values) and missing is pd.NA or NaT.
TEXT = "text"            # string (pd.StringDtype, missing pd.NA)
CATEGORY = "category"    # category (unordered; missing NaN, as pandas' categoricals hold it)
SEVERITY = "severity"    # the ordered categorical SEVERITY_TYPE
COUNT = "count"          # Int64 (nullable integer)
SHARE = "share"          # float64 (a fraction or a score; missing NaN)
FLAG = "flag"            # boolean (nullable)
DAY = "day"              # datetime64[ns], naive: a calendar day
TIME = "time"            # datetime64[ns, UTC]: an instant
LIST = "list"            # object: a list (of text, or of records), missing pd.NA
OBJECT = "object"        # object: a dict (or other structure), missing pd.NA

KIND_DTYPES: dict[str, object] = {
    TEXT: pd.StringDtype("python"), CATEGORY: "category", SEVERITY: SEVERITY_TYPE, COUNT: pd.Int64Dtype(),
    SHARE: np.dtype("float64"), FLAG: pd.BooleanDtype(), DAY: np.dtype("datetime64[ns]"),
    TIME: pd.DatetimeTZDtype("ns", "UTC"), LIST: np.dtype(object), OBJECT: np.dtype(object)}

_SEC = {"fingerprint": TEXT, "tier": CATEGORY, "detector": TEXT, "detector_id": TEXT, "engine": CATEGORY,
        "context": TEXT, "paths": TEXT}
DTYPES: dict[str, dict[str, str]] = {
    "people": {
        "person": TEXT, "person_id": TEXT, "type": CATEGORY, "vendor": TEXT, "emails": LIST, "is_bot": FLAG,
        "commits": COUNT, "first_commit": DAY, "last_commit": DAY, "departed": FLAG, "surviving_lines": COUNT,
        "in_roster": FLAG, "start_date": DAY, "end_date": DAY, "ip_assignment": CATEGORY,
        "ip_assignment_date": DAY, "ip_document": TEXT, "names": LIST, "possible_roster_match": TEXT,
        "possible_roster_match_reason": TEXT, "row": COUNT, "roster_emails": LIST, "resolved": FLAG,
        "domain_class": CATEGORY, "departed_status": CATEGORY},
    "commits": {
        "sha": TEXT, "author_name_raw": TEXT, "author_email_raw": TEXT, "author_date": TIME, "author_tz": TEXT,
        "committer_name_raw": TEXT, "committer_email_raw": TEXT, "committer_date": TIME, "parents": COUNT,
        "files_changed": COUNT, "added": COUNT, "deleted": COUNT, "coauthors": LIST, "author_name": TEXT,
        "author_email": TEXT, "person_id": TEXT, "person": TEXT, "author_day": DAY},
    "ownership": {
        "path": TEXT, "module": TEXT, "person": TEXT, "person_id": TEXT, "type": CATEGORY, "vendor": TEXT,
        "classification": CATEGORY, "departed": FLAG, "lines": COUNT, "share_of_file": SHARE},
    "findings": {
        "id": TEXT, "rule": TEXT, "area": CATEGORY, "severity": SEVERITY, "subject": TEXT, "path": TEXT,
        "lines_at_stake": COUNT, "evidence": TEXT, "remediation": TEXT, "person": TEXT, "person_id": TEXT,
        "vendor": TEXT, "commits": COUNT, "first_commit": DAY, "last_commit": DAY, "first_sha": TEXT,
        "last_sha": TEXT, "files": LIST, "line": COUNT, "end_line": COUNT, "possible_roster_match": TEXT,
        "rolled_up": FLAG, "subjects": LIST, "status": CATEGORY, "triage": OBJECT, **_SEC},
    "remediation": {
        "subject": TEXT, "subject_type": CATEGORY, "person_id": TEXT, "contact": TEXT, "gap": TEXT,
        "document": TEXT, "period_start": DAY, "period_end": DAY, "lines_at_stake": COUNT,
        "files_at_stake": COUNT, "top_files": TEXT, "rules": TEXT, "severity": SEVERITY, "ip_document": TEXT,
        "finding_ids": TEXT, "status": CATEGORY},
    "licenses": {
        "path": TEXT, "license_spdx": TEXT, "license_expression": TEXT, "category": CATEGORY, "holders": LIST,
        "copyrights": LIST, "severity": SEVERITY, "rule": TEXT, "start_line": COUNT, "end_line": COUNT,
        "score": SHARE, "vendored": FLAG, "lines": COUNT, "introduced_by": TEXT, "person_id": TEXT,
        "introduced_sha": TEXT, "introduced_date": DAY, "introducer_type": CATEGORY,
        "introducer_ip_status": CATEGORY, "scan_error": TEXT},
    "bus_factor": {
        "module": TEXT, "scope": TEXT, "files": COUNT, "truck_factor": COUNT, "top_authors": LIST,
        "vendor_share": SHARE, "contractor_share": SHARE, "departed_share": SHARE, "vendor_top": TEXT,
        "orphaned_files": COUNT},
    "trends": {"quarter": TEXT, "commits": COUNT, "added_lines": COUNT, "outsourced_share": SHARE},
    "dependencies": {
        "purl": TEXT, "name": TEXT, "version": TEXT, "ecosystem": CATEGORY, "scope": CATEGORY, "direct": FLAG,
        "license_spdx": TEXT, "license_source": CATEGORY, "manifest": TEXT, "line": COUNT, "added_by": TEXT,
        "person_id": TEXT, "added_by_type": CATEGORY, "added_sha": TEXT, "added_date": DAY,
        "added_by_ip_status": CATEGORY, "kind": CATEGORY, "license_evidence": TEXT, "category": CATEGORY,
        "rule": TEXT, "severity": SEVERITY},
    "retention": {
        "rank": COUNT, "person": TEXT, "person_id": TEXT, "type": CATEGORY, "surviving_lines": COUNT,
        "files_known": COUNT, "files_orphaned": COUNT, "orphaned_files": LIST, "modules_losing_knowledge": LIST,
        "truck_factor_drops": COUNT, "repository_truck_factor_after": COUNT},
    "rewrite_scope": {
        "subject": TEXT, "subject_type": CATEGORY, "person_id": TEXT, "periods": LIST, "files": LIST,
        "surviving_lines": COUNT, "share_of_repository": SHARE, "modules": OBJECT,
        "current_staff_who_know": OBJECT, "nobody_on_staff_knows": COUNT},
    "ownership_by_module": {
        "module": TEXT, "person": TEXT, "person_id": TEXT, "type": CATEGORY, "classification": CATEGORY,
        "departed": FLAG, "lines": COUNT, "share_of_module": SHARE},
    "ownership_by_classification": {
        "module": TEXT, "classification": CATEGORY, "lines": COUNT, "share_of_module": SHARE},
    "simulations": {
        "scenario": TEXT, "module": TEXT, "scope": TEXT, "files": COUNT, "orphaned_files": COUNT,
        "orphaned": LIST, "truck_factor_before": COUNT, "truck_factor_after": COUNT},
    "security": {
        "check": TEXT, "status": CATEGORY, "rule": TEXT, "severity": SEVERITY, "detail": TEXT, "path": TEXT,
        "line": COUNT, "commit": TEXT, "sha": TEXT, "date": DAY, "author": TEXT, "person_id": TEXT, "reason": TEXT,
        **_SEC},
}
DTYPES["vulnerabilities"] = {
    "advisory": TEXT, "aliases": LIST, "name": TEXT, "ecosystem": CATEGORY, "version": TEXT, "fixed": TEXT,
    "current": FLAG, "introduced_sha": TEXT, "added_by": TEXT, "person_id": TEXT, "exposed_from": DAY,
    "exposed_until": DAY, "severity": SEVERITY, "advisory_severity": SEVERITY, "severity_source": TEXT,
    "cvss_score": SHARE, "summary": TEXT, "status": CATEGORY, "match": CATEGORY, "affected": TEXT,
    "scope": CATEGORY, "direct": FLAG, "purl": TEXT, "manifest": TEXT, "line": COUNT, "kind": CATEGORY,
    "fixed_sha": TEXT, "fixed_by": TEXT, "dependency_added_by": TEXT, "finding_id": TEXT, "osv_ecosystem": TEXT}
DTYPES["copied_code"] = {
    "path": TEXT, "lines": COUNT, "reference": TEXT, "reference_path": TEXT, "reference_lines": TEXT,
    "similarity": SHARE, "matched_lines": TEXT, "committed_by": TEXT, "person_id": TEXT, "committed_sha": TEXT,
    "committed_date": DAY, "surviving_lines": COUNT}
# The portfolio's tables (Portfolio.repositories, .findings, .people, .dependencies, .remediation).
DTYPES["repositories"] = {
    "repo": TEXT, "ref": TEXT, "status": CATEGORY, "error": TEXT, "commit": TEXT, "readiness_score": COUNT,
    "rating": CATEGORY, "truck_factor": COUNT, **{k: COUNT for k in SEVERITIES}, "commits": COUNT,
    "contributors": COUNT, "outsourced_share": SHARE, "cached": FLAG, "seconds": SHARE}
DTYPES["portfolio_findings"] = {"repository": TEXT, **DTYPES["findings"]}
DTYPES["portfolio_people"] = {
    "person": TEXT, "type": CATEGORY, "vendor": TEXT, "is_bot": FLAG, "repositories": LIST, "commits": COUNT,
    "first_commit": DAY, "last_commit": DAY, "departed": FLAG, "surviving_lines": COUNT, "emails": LIST,
    "in_roster": FLAG, "ip_assignment": CATEGORY, "person_id": TEXT}
DTYPES["portfolio_dependencies"] = {
    **{k: v for k, v in DTYPES["dependencies"].items() if k in ("purl", "name", "version", "ecosystem", "scope",
                                                                 "direct", "license_spdx", "license_source")},
    "repositories": LIST, "manifests": LIST}
DTYPES["portfolio_remediation"] = {**DTYPES["remediation"], "repositories": LIST}
DTYPES["simulate_departure"] = {k: v for k, v in DTYPES["simulations"].items() if k != "scenario"}
DTYPES["simulate_departure"]["scenario"] = TEXT
# The Scan's public tables (attributes), each with its DTYPES entry.
PUBLIC_TABLES = ("people", "commits", "ownership", "findings", "remediation", "licenses", "bus_factor", "trends",
                 "dependencies", "retention", "rewrite_scope", "ownership_by_module", "ownership_by_classification",
                 "simulations", "security", "vulnerabilities", "copied_code")


def column_kind(table: str, column: str) -> str | None:
    """The declared kind of *column* in *table*; the trends' per-type columns by their suffix."""
    kind = DTYPES[table].get(column)
    if kind is None and table == "trends" and column.endswith(("_commits", "_lines")):
        return COUNT
    return kind


def _missing(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float):
        return v != v
    if isinstance(v, np.generic) and v.dtype.kind in "fmM":
        return bool(np.isnat(v)) if v.dtype.kind in "mM" else bool(v != v)
    return False


def _infer(values: list) -> str:
    """The kind of a column nobody declared (a roster's own column, a key another stage added)."""
    present = [v for v in values if not _missing(v)]
    if present and all(isinstance(v, (bool, np.bool_)) for v in present):
        return FLAG
    if present and all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in present):
        return COUNT
    if present and all(isinstance(v, (list, tuple)) for v in present):
        return LIST
    if present and all(isinstance(v, dict) for v in present):
        return OBJECT
    if all(isinstance(v, str) for v in present):
        return TEXT
    return OBJECT


def _as_ns(values: np.ndarray, out_of_range: list) -> np.ndarray:
    """datetime64[ns] of *values* (datetime64 of any unit); a value beyond the ns range (1677-2262) is NaT
    and counted in *out_of_range*."""
    us = values.astype("datetime64[us]")
    lo, hi = np.datetime64("1677-09-22", "us"), np.datetime64("2262-04-10", "us")
    bad = ~np.isnat(us) & ((us < lo) | (us > hi))
    if bad.any():
        out_of_range.append(int(bad.sum()))
        us = us.copy()
        us[bad] = np.datetime64("NaT")
    return us.astype("datetime64[ns]")


def convert(col: pd.Series, kind: str, out_of_range: list | None = None) -> pd.Series:
    """*col* as the dtype of *kind* (:data:`KIND_DTYPES`), its missing values pd.NA, NaN (categories,
    shares) or NaT."""
    oor: list = [] if out_of_range is None else out_of_range
    want = KIND_DTYPES[kind]
    if col.dtype == want and kind not in (LIST, OBJECT):
        return col
    idx = col.index
    if kind == TIME:
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            s = col.dt.tz_convert("UTC")
        else:
            s = pd.to_datetime(col, utc=True, errors="coerce")
        ns = _as_ns(s.dt.tz_localize(None).to_numpy(), oor)
        return pd.Series(ns, index=idx, name=col.name).dt.tz_localize("UTC")
    if kind == DAY:
        if col.dtype.kind == "M":
            arr = col.to_numpy()
        else:
            vals = [None if _missing(v) else v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v
                    for v in col.tolist()]
            try:    # dates and naive datetimes: numpy converts them at once (a tenth of to_datetime's time)
                arr = np.array(vals, dtype="datetime64[us]")
            except (TypeError, ValueError):
                arr = pd.to_datetime(pd.Series(vals, dtype=object), errors="coerce").to_numpy()
        return pd.Series(_as_ns(arr, oor), index=idx, name=col.name)
    # Whole-column conversions where pandas has one (a text column of pandas' own str dtype, integers,
    # booleans, floats): a public table of pip's size converts in a tenth of the time of a value loop.
    if kind in (TEXT, CATEGORY, SEVERITY) and isinstance(col.dtype, pd.StringDtype):
        s = col.astype(KIND_DTYPES[TEXT])
        return s if kind == TEXT else s.astype(want)
    if kind in (COUNT, FLAG, SHARE) and col.dtype.kind in ("iub" if kind != SHARE else "iufb"):
        return col.astype(want)
    vals = col.tolist()
    missing = col.isna().tolist() if col.dtype == object else [_missing(v) for v in vals]
    if kind in (TEXT, CATEGORY, SEVERITY):
        strs = [pd.NA if m else (v if type(v) is str else str(v)) for v, m in zip(vals, missing)]
        s = pd.Series(strs, index=idx, name=col.name, dtype=KIND_DTYPES[TEXT])
        return s if kind == TEXT else s.astype(want)
    if kind == COUNT:
        return pd.Series(pd.array([None if m else int(v) for v, m in zip(vals, missing)], dtype="Int64"),
                         index=idx, name=col.name)
    if kind == SHARE:
        return pd.Series([np.nan if m else float(v) for v, m in zip(vals, missing)], index=idx, name=col.name,
                         dtype="float64")
    if kind == FLAG:
        return pd.Series(pd.array([None if m else bool(v) for v, m in zip(vals, missing)], dtype="boolean"),
                         index=idx, name=col.name)
    if kind == LIST:
        out = [pd.NA if m else (list(v) if isinstance(v, (tuple, np.ndarray)) else v) for v, m in zip(vals, missing)]
    else:
        out = [pd.NA if m else v for v, m in zip(vals, missing)]
    return pd.Series(out, index=idx, name=col.name, dtype=object)


def typed(df: pd.DataFrame | None, table: str, out_of_range: list | None = None) -> pd.DataFrame | None:
    """*df* with every column as :data:`DTYPES` declares for *table* (a column nobody declared: by what
    it holds). An empty table has every declared column, so its columns and dtypes are those of a full one."""
    if df is None:
        return None
    if df.empty:
        declared = list(DTYPES[table])
        df = df.reindex(columns=list(df.columns) + [c for c in declared if c not in df.columns])
    cols = {}
    for c in df.columns:
        kind = column_kind(table, str(c)) or _infer(df[c].tolist())
        cols[c] = convert(df[c], kind, out_of_range)
    return pd.DataFrame(cols, index=df.index).reset_index(drop=True)
