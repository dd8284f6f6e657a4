"""Triage: counsel's decisions about findings, kept in a file so that a re-scan keeps them.

The triage file (YAML, default ``.ddkit/triage.yaml`` in the scanned work tree, or ``--triage FILE``) is
keyed by the finding's stable id (docs/inputs.md, "Triage file"):

    findings:
      9f1c0e2a7b3d4c5e:
        status: false-positive     # open | accepted | false-positive | resolved
        reason: "test fixture, not a credential"
        by: "J. Counsel"
        date: 2024-07-01

A scan applies it: each finding carries ``status`` (``open`` unless triaged) and ``triage`` (reason,
by, date). Findings that are not ``open`` stop counting in the score, in the summary's counts and in
``--fail-on``; they move to the workbook's Triaged sheet and are never dropped. An entry whose finding no
longer occurs is *stale* and reported as such.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .errors import InputError

STATUSES = ("open", "accepted", "false-positive", "resolved")
NOT_COUNTED = ("accepted", "false-positive", "resolved")
DEFAULT_PATH = Path(".ddkit") / "triage.yaml"


def default_path(repo_path: str | Path) -> Path | None:
    """The work tree's triage file, when the repository has one (never for a bare repository)."""
    p = Path(repo_path) / DEFAULT_PATH
    return p if p.is_file() else None


def load_triage(path: str | os.PathLike[str] | None) -> dict[str, dict[str, Any]]:
    """Read and check a triage file; every problem is an input error naming the file and the finding id."""
    if path is None:
        return {}
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: triage file not found")
    from .limits import read_yaml
    try:
        data = read_yaml(p)    # the one bounded YAML loader (aliases, depth, size)
    except InputError as err:  # "PATH: problem" or "PATH, line N: problem"
        msg = str(err)
        tail = msg[len(str(path)):] if msg.startswith(str(path)) else f": {msg}"
        raise InputError(f"{path}: cannot read the triage file{tail}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or set(data) - {"findings"}:
        raise InputError(f"{path}: a triage file has one top-level key, 'findings'")
    entries = data.get("findings") or {}
    if not isinstance(entries, dict):
        raise InputError(f"{path}: 'findings' must map finding ids to decisions")
    out: dict[str, dict[str, Any]] = {}
    for fid, e in entries.items():
        where = f"{path}: finding {fid}"
        if not isinstance(e, dict):
            raise InputError(f"{where}: expected status, reason, by and date")
        unknown = set(e) - {"status", "reason", "by", "date"}
        if unknown:
            raise InputError(f"{where}: unknown key '{sorted(unknown)[0]}' (known: status, reason, by, date)")
        for k in ("reason", "by"):
            if isinstance(e.get(k), (dict, list)):
                raise InputError(f"{where}: {k} must be a text (found {type(e[k]).__name__})")
        status = e.get("status")
        if not isinstance(status, str) or status not in STATUSES:
            raise InputError(f"{where}: status '{status}' is not one of {', '.join(STATUSES)}")
        date = e.get("date")
        if date is not None and not isinstance(date, dt.date):
            try:
                date = dt.date.fromisoformat(str(date))
            except ValueError:
                raise InputError(f"{where}: date '{date}' is not an ISO date (YYYY-MM-DD)") from None
        if isinstance(date, dt.datetime):
            date = date.date()
        out[str(fid)] = {"status": status, "reason": _text(e.get("reason")), "by": _text(e.get("by")), "date": date}
    return out


def _text(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)


def apply_triage(findings: pd.DataFrame, entries: dict[str, dict[str, Any]]) -> tuple[pd.DataFrame, list[dict]]:
    """Findings with ``status`` and ``triage`` columns, and the stale entries (finding no longer found)."""
    df = findings.copy()
    df["status"] = [entries.get(fid, {}).get("status", "open") for fid in df["id"]]
    df["triage"] = [({k: v for k, v in entries[fid].items() if k != "status"} if fid in entries else None)
                    for fid in df["id"]]
    present = set(df["id"])
    stale = [{"id": fid, **e} for fid, e in sorted(entries.items()) if fid not in present]
    return df, stale


def counted(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings that count: score, summary counts, --fail-on (not accepted, false positive or resolved)."""
    if "status" not in findings.columns or findings.empty:
        return findings
    return findings[~findings["status"].isin(NOT_COUNTED)]


def write_triage(path: str | Path, entries: dict[str, dict[str, Any]]) -> Path:
    """Write *entries* in the file's fixed shape (sorted by id, dates as ISO dates)."""
    from .fsutil import atomic_write, unwritable_as_input_error
    body = {"findings": {fid: {k: v for k, v in (("status", e["status"]), ("reason", e.get("reason")),
                                                  ("by", e.get("by")), ("date", e.get("date"))) if v is not None}
                         for fid, e in sorted(entries.items())}}
    with unwritable_as_input_error(path, "the triage file"):
        return atomic_write(path, yaml.safe_dump(body, sort_keys=False, allow_unicode=True))


# Workbook columns the import reads, by normalised header (plain-English or identifier spelling).
_ALIASES = {
    "id": ("id", "finding_id", "finding"),
    "status": ("status", "triage_status", "triage"),
    "reason": ("reason", "triage_reason", "notes", "note"),
    "by": ("by", "triaged_by", "owner"),
    "date": ("date", "triage_date", "triaged_on"),
    "finding_ids": ("finding_ids", "findings", "finding_id_s"),
}
# The Remediation sheet's Status values, as triage statuses of the subject's findings.
_REMEDIATION_STATUS = {"signed": "resolved", "not needed": "accepted", "open": "open", "requested": "open"}


def _norm(h: Any) -> str:
    return "_".join(str(h or "").strip().lower().replace("(", " ").replace(")", " ").replace("-", " ").split())


def _columns(header: list[Any]) -> dict[str, int]:
    idx = {_norm(h): i for i, h in enumerate(header)}
    out = {}
    for key, names in _ALIASES.items():
        for n in names:
            if n in idx:
                out[key] = idx[n]
                break
    return out


def import_workbook(workbook: str | Path, existing: dict[str, dict[str, Any]] | None = None,
                    today: dt.date | None = None) -> tuple[dict[str, dict[str, Any]], int]:
    """Read the statuses typed into a ddkit workbook (Findings, Triaged and Remediation sheets) into triage
    entries, merged over *existing*. Returns (entries, number of decisions read)."""
    from openpyxl import load_workbook

    from .limits import TRIAGE_XLSX, check_xlsx, formulas_without_values, padded_rows
    check_xlsx(workbook, TRIAGE_XLSX)     # a zip bomb is refused before anything is inflated
    try:
        wb = load_workbook(workbook, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a file that is not a workbook
        raise InputError(f"{workbook}: cannot open as an Excel workbook ({type(e).__name__})") from None
    for sheet in ("Findings", "Triaged", "Remediation"):   # a formula without a saved value reads as empty
        missing = formulas_without_values(workbook, sheet, TRIAGE_XLSX) if sheet in wb.sheetnames else []
        if missing:
            raise InputError(f"{workbook}, sheet {sheet}: cell {missing[0]} holds a formula without a saved value: "
                             "open and save the file in Excel")
    entries = dict(existing or {})
    today = today or dt.date.today()
    n = 0
    for sheet in ("Findings", "Triaged"):
        if sheet not in wb.sheetnames:
            continue
        rows = padded_rows(wb[sheet], workbook, TRIAGE_XLSX)   # read as they come, within the cell limit
        first = next(rows, None)
        if first is None:
            continue
        col = _columns(list(first))
        if "id" not in col or "status" not in col:
            continue
        for row in rows:
            fid, status = row[col["id"]], _norm(row[col["status"]]).replace("_", "-")
            if not fid or not status:
                continue
            if status not in STATUSES:
                raise InputError(f"{workbook}, sheet {sheet}: finding {fid}: status '{row[col['status']]}' is not "
                                 f"one of {', '.join(STATUSES)}")
            old = entries.get(str(fid), {})
            if status == "open" and not old:
                continue
            entries[str(fid)] = {"status": status,
                                 "reason": _text(row[col["reason"]]) if "reason" in col else old.get("reason"),
                                 "by": _text(row[col["by"]]) if "by" in col else old.get("by"),
                                 "date": _as_date(row[col["date"]]) if "date" in col and row[col["date"]] else
                                 old.get("date") or today}
            n += 1
    if "Remediation" in wb.sheetnames:
        rows = padded_rows(wb["Remediation"], workbook, TRIAGE_XLSX)
        first = next(rows, None)
        col = _columns(list(first)) if first is not None else {}
        if "finding_ids" in col and "status" in col:
            for row in rows:
                st = _REMEDIATION_STATUS.get(str(row[col["status"]] or "").strip().lower())
                if st is None or st == "open":
                    continue
                by = _text(row[col["by"]]) if "by" in col else None
                for fid in str(row[col["finding_ids"]] or "").replace(";", ",").split(","):
                    fid = fid.strip()
                    if fid and entries.get(fid, {}).get("status") in (None, "open"):
                        entries[fid] = {"status": st, "reason": "document signed (Remediation sheet)" if st == "resolved"
                                        else "not needed (Remediation sheet)", "by": by, "date": today}
                        n += 1
    return entries, n


def _as_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v).strip()[:10])
    except ValueError:
        return None
