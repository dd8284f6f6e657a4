"""Triage: counsel's decisions about findings, kept in a file so that a re-scan keeps them.

The triage file (YAML: ``--triage FILE``, by default ``.ddkit/triage.yaml`` in the current folder, where
``ddkit triage import`` writes by default) is keyed by the finding's stable id (docs/inputs.md, "Triage
file"):

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

A triage file inside the scanned repository (committed, or in its work tree) is the other side's claim,
never a decision: it is applied only when the user names it (``--triage``); otherwise its entries are
listed as the repository's claims (the Triage claims sheet, the JSON's ``triage_claims``) and a warning
says so. A seller scanning its own repository in CI names it: ``--triage .ddkit/triage.yaml``.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .errors import InputError
from .isodate import parse_date

STATUSES = ("open", "accepted", "false-positive", "resolved")
NOT_COUNTED = ("accepted", "false-positive", "resolved")
# Where a scan looks for the user's triage file when none is named, and where `ddkit triage import` writes
# when none is named: the same path, relative to the current folder, so a scan run from where the import
# ran applies the decisions. (Also the path, inside a repository, of the repository's own triage file.)
DEFAULT_PATH = Path(".ddkit") / "triage.yaml"
# A repository's own triage file larger than this is not read (nobody writes 5 MB of decisions by hand).
CLAIMS_MAX_BYTES = 5 << 20


def default_path() -> Path:
    """The default triage file: ``.ddkit/triage.yaml`` in the current folder (absolute)."""
    return Path.cwd() / DEFAULT_PATH


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def locate(named: str | os.PathLike[str] | None, repo_path: str, is_bare: bool,
           committed: bytes | None) -> tuple[Path | None, list[tuple[str, bytes]]]:
    """(the triage file to apply, the repository's own triage files as (where, content)).

    *named*: the file the user named (applied wherever it is); else the default file in the current folder,
    unless it lies inside the scanned repository (a scan run from inside it): then it is the repository's.
    *committed*: the scanned commit's ``.ddkit/triage.yaml``, if any. The repository's own files are listed
    (never applied) unless the user named that very file."""
    root = Path(repo_path)
    own = None if is_bare else root / DEFAULT_PATH
    applied: Path | None = None
    files = [own] if own is not None else []
    if named is not None:
        applied = Path(named)
    else:
        d = default_path()
        if d.is_file():
            if _inside(d, root):
                files += [d] if own is None or not _same(d, own) else []
            else:
                applied = d
    if applied is not None and own is not None and _same(applied, own):
        return applied, []          # the repository's own file, named: the user's decision to apply it
    sources: list[tuple[str, bytes]] = []
    if committed is not None:
        sources.append((f"{DEFAULT_PATH.as_posix()} committed at the scanned commit", committed))
    for f in files:
        # The repository's file as it lies in its work tree: a regular file inside the repository (not a
        # symbolic link out of it, not a FIFO that would never end), at most CLAIMS_MAX_BYTES read.
        try:
            if not (stat.S_ISREG(os.lstat(f).st_mode) and _inside(f, root)):
                continue
            with open(f, "rb") as fh:
                data = fh.read(CLAIMS_MAX_BYTES + 1)
        except OSError:
            continue                # none
        if all(data != d for _, d in sources):
            sources.append((f"{f} in the work tree", data))
    return applied, sources


def claims(sources: list[tuple[str, bytes]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The repository's own triage decisions, as claims (``source`` says which file), and the warnings: one
    per file saying it is not applied, or that it cannot be read (skipped: it is evidence, not input)."""
    out: list[dict[str, Any]] = []
    warnings: list[str] = []
    for where, data in sources:
        try:
            if len(data) > CLAIMS_MAX_BYTES:
                raise InputError(f"{where}: larger than {CLAIMS_MAX_BYTES >> 20} MB")
            entries = parse_triage(data.decode("utf-8"), where)
        except UnicodeDecodeError:
            warnings.append(f"triage: the scanned repository's own triage file ({where}) is not UTF-8 text: "
                            f"not read, not applied")
            continue
        except InputError as e:
            warnings.append(f"triage: the scanned repository's own triage file cannot be read, not applied: {e}")
            continue
        out += [{"id": fid, **d, "source": where} for fid, d in sorted(entries.items())]
        counts: dict[str, int] = {}
        for d in entries.values():
            counts[d["status"]] = counts.get(d["status"], 0) + 1
        what = ", ".join(f"{n} {st}" for st, n in sorted(counts.items())) or "no decisions"
        warnings.append(f"triage: the scanned repository holds its own triage file ({where}: {what}): NOT applied, "
                        f"the repository being the other side's input; listed as its claims (Triage claims sheet, "
                        f"JSON triage_claims); to apply it, name it: --triage FILE")
    return out, warnings


CLAIM_COLUMNS = ["id", "status", "reason", "by", "date", "source", "finding_rule", "finding_severity",
                 "finding_subject", "finding_status"]


def annotate_claims(found: list[dict[str, Any]], findings: pd.DataFrame) -> pd.DataFrame:
    """Each claim with the finding it is about (rule, severity, subject, its status in this scan), or
    nulls when no such finding occurs: one row per claim, CLAIM_COLUMNS."""
    by_id: dict[str, dict[str, Any]] = {}
    if len(findings):
        cols = [c for c in ("id", "rule", "severity", "subject", "status") if c in findings.columns]
        by_id = {r[0]: dict(zip(cols, r)) for r in findings[cols].itertuples(index=False, name=None)}
    out = []
    for c in found:
        f = by_id.get(c["id"], {})
        out.append({**c, "finding_rule": f.get("rule"),
                    "finding_severity": None if f.get("severity") is None else str(f.get("severity")),
                    "finding_subject": f.get("subject"), "finding_status": f.get("status")})
    return pd.DataFrame(out, columns=CLAIM_COLUMNS)


def load_triage(path: str | os.PathLike[str] | None) -> dict[str, dict[str, Any]]:
    """Read and check a triage file; every problem is an input error naming the file and the finding id."""
    if path is None:
        return {}
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: triage file not found")
    from .limits import MAX_YAML_BYTES
    try:
        if p.stat().st_size > MAX_YAML_BYTES:
            raise ValueError(f"larger than ddkit reads ({MAX_YAML_BYTES >> 20} MB)")
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InputError(f"{path}: cannot read the triage file: {str(err).splitlines()[0]}") from None
    return parse_triage(text, str(path))


def parse_triage(text: str, path: str) -> dict[str, dict[str, Any]]:
    """Check the text of a triage file (*path* names it in the messages)."""
    from .limits import load_yaml_text
    try:
        data = load_yaml_text(text, path)    # the one bounded YAML loader (aliases, depth, size)
    except InputError as err:  # "PATH: problem" or "PATH, line N: problem"
        msg = str(err)
        tail = msg[len(path):] if msg.startswith(path) else f": {msg}"
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
        # ISO only: 26/11/2026 or 20261126 is an error, never dropped
        date = parse_date(e.get("date"), "date", where)
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
    entries, merged over *existing*. Returns (entries, number of decisions read).

    A workbook with none of these sheets' columns is not a ddkit workbook, and one that yields no decision
    gives nothing to write: both are input errors, as is a status or a date that cannot be read (named by
    sheet, row and value), never a decision silently dropped."""
    from openpyxl import load_workbook

    from .limits import TRIAGE_XLSX, check_xlsx, formulas_without_values
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
    tables = 0
    for sheet in ("Findings", "Triaged"):
        rows = _rows(wb, sheet, workbook)
        col = _columns(list(rows[0])) if rows else {}
        if "id" not in col or "status" not in col:
            continue
        tables += 1
        for i, row in enumerate(rows[1:], start=2):
            fid, raw_status = _cell(row, col["id"]), _cell(row, col["status"])
            status = _norm(raw_status).replace("_", "-")
            if not fid or not status:
                continue
            where = f"{workbook}, sheet {sheet}, row {i}: finding {fid}"
            if status not in STATUSES:
                raise InputError(f"{where}: status '{raw_status}' is not one of {', '.join(STATUSES)}")
            old = entries.get(str(fid), {})
            if status == "open" and not old:
                continue
            date = _cell(row, col["date"]) if "date" in col else None
            entries[str(fid)] = {"status": status,
                                 "reason": _text(_cell(row, col["reason"])) if "reason" in col else old.get("reason"),
                                 "by": _text(_cell(row, col["by"])) if "by" in col else old.get("by"),
                                 "date": _as_date(date, where) if not _blank(date) else old.get("date") or today}
            n += 1
    rows = _rows(wb, "Remediation", workbook)
    col = _columns(list(rows[0])) if rows else {}
    if "finding_ids" in col and "status" in col:
        tables += 1
        for i, row in enumerate(rows[1:], start=2):
            raw = _cell(row, col["status"])
            if _blank(raw):
                continue
            st = _REMEDIATION_STATUS.get(str(raw).strip().lower())
            if st is None:
                raise InputError(f"{workbook}, sheet Remediation, row {i}: status '{raw}' is not one of Open, "
                                 f"Requested, Signed, Not needed")
            if st == "open":
                continue
            by = _text(_cell(row, col["by"])) if "by" in col else None
            for fid in str(_cell(row, col["finding_ids"]) or "").replace(";", ",").split(","):
                fid = fid.strip()
                if fid and entries.get(fid, {}).get("status") in (None, "open"):
                    entries[fid] = {"status": st, "reason": "document signed (Remediation sheet)" if st == "resolved"
                                    else "not needed (Remediation sheet)", "by": by, "date": today}
                    n += 1
    if not tables:
        raise InputError(f"{workbook}: not a ddkit workbook (no Findings, Triaged or Remediation sheet with its "
                         f"finding id and status columns)")
    if not n:
        raise InputError(f"{workbook}: no triage decision to import (every status is blank or open); type "
                         f"accepted, false-positive or resolved in the Status column of the Findings sheet")
    return entries, n


def _rows(wb: Any, sheet: str, workbook: Any = "workbook") -> list[tuple]:
    """Every row of *sheet* (none when the workbook has no such sheet), whatever the sheet's recorded
    size says: read-only mode trusts the <dimension> element, which a program that edited the file may
    have left too small (the rows and columns outside it would be silently lost)."""
    if sheet not in wb.sheetnames:
        return []
    from .limits import TRIAGE_XLSX, all_rows
    # (all_rows resets the dimensions too, and counts the cells read against the limit)
    return [rec for _n, rec in all_rows(wb[sheet], workbook, TRIAGE_XLSX)]


def _cell(row: tuple, i: int) -> Any:
    # Rows read without dimensions end at their last cell: a shorter row has blanks after it.
    return row[i] if i < len(row) else None


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _as_date(v: Any, where: str) -> dt.date:
    """A triage date typed into the workbook: a date cell, or ISO text (YYYY-MM-DD; a date and time: a date
    cell written back as text)."""
    d = parse_date(v.strip() if isinstance(v, str) else v, "triage date", where, any_time=True)
    if d is None:     # (the caller passes only filled cells)
        raise InputError(f"{where}: triage date '{v}' is not an ISO date (YYYY-MM-DD)")
    return d
