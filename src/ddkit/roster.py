"""The contributor roster: who is who, on what terms, with what IP paperwork.

A malformed roster is refused before any scanning starts, with the file, the row number (as a
spreadsheet shows it: the header is row 1) and the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError

TYPES = ("employee", "founder", "contractor", "vendor", "intern", "advisor", "unknown")
IP_STATUSES = ("signed", "missing", "pending", "not_required")
REQUIRED = ("person", "emails", "type")
KNOWN = ("person", "emails", "type", "vendor", "start_date", "end_date", "ip_assignment",
         "ip_assignment_date", "ip_document")
ROSTER_COLUMNS = [*KNOWN, "row"]

_EMAIL_RE = re.compile(r"^[^@\s;,<>]+@[^@\s;,<>]+$")


def empty_roster() -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in ROSTER_COLUMNS})


def load_roster(path: str | Path | None) -> pd.DataFrame:
    """Read and validate a roster (CSV or XLSX). Returns one row per person."""
    if path is None:
        return empty_roster()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: roster not found")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, rows = _read_xlsx(p)
    elif suffix in (".csv", ".txt", ""):
        header, rows = _read_csv(p)
    else:
        raise InputError(f"{path}: roster must be a .csv or .xlsx file")
    return _validate(str(path), header, rows)


def _read_csv(p: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(f"{p}, row {line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); save the roster as CSV UTF-8") from None
    if "\0" in text:
        raise InputError(f"{p}: contains NUL bytes; is it really a CSV file?")
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = []
    header: list[str] | None = None
    try:
        for rec in reader:
            if header is None:
                header = rec
                continue
            rows.append((reader.line_num, rec))
    except csv.Error as e:
        raise InputError(f"{p}, row {reader.line_num}: cannot parse CSV: {e}") from None
    if header is None:
        raise InputError(f"{p}: the roster is empty (no header row)")
    return header, rows


def _read_xlsx(p: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    import openpyxl
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"{p}: cannot open as an Excel workbook: {type(e).__name__}: {e}") from None
    try:
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = None
        rows = []
        for n, rec in enumerate(it, start=1):
            if header is None:
                if rec is None or all(v is None for v in rec):
                    raise InputError(f"{p}, row {n}: the first row must be the header")
                header = ["" if v is None else str(v) for v in rec]
                continue
            rows.append((n, list(rec)))
    finally:
        wb.close()
    if header is None:
        raise InputError(f"{p}: the roster is empty (no header row)")
    return header, rows


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _date(v: str, col: str, where: str) -> dt.date | None:
    if not v:
        return None
    try:
        return dt.date.fromisoformat(v[:10] if re.match(r"^\d{4}-\d{2}-\d{2}[ T]00:00(:00)?$", v) else v)
    except ValueError:
        raise InputError(f"{where}: {col} '{v}' is not an ISO date (YYYY-MM-DD)") from None


def _validate(path: str, header: list[str], rows: list[tuple[int, list[Any]]]) -> pd.DataFrame:
    cols = [h.strip().lower() for h in header]
    seen: dict[str, int] = {}
    for i, c in enumerate(cols):
        if not c:
            continue
        if c in seen:
            raise InputError(f"{path}, row 1: column '{c}' appears twice in the header")
        seen[c] = i
    for req in REQUIRED:
        if req not in seen:
            raise InputError(f"{path}, row 1: missing required column '{req}'")
    extra_cols = [h.strip() for h, c in zip(header, cols) if c and c not in KNOWN]
    out: list[dict[str, Any]] = []
    email_owner: dict[str, tuple[int, str]] = {}
    person_row: dict[str, int] = {}
    for n, rec in rows:
        vals = [_cell(v) for v in rec]
        if not any(vals):
            continue
        where = f"{path}, row {n}"
        if len(vals) > len(cols) and any(vals[len(cols):]):
            raise InputError(f"{where}: more cells than header columns")
        get = {c: (vals[i] if i < len(vals) else "") for c, i in seen.items()}
        person = get["person"]
        if not person:
            raise InputError(f"{where}: person is empty")
        if any(ord(ch) < 32 for ch in person):
            raise InputError(f"{where}: person contains control characters")
        if person in person_row:
            raise InputError(f"{where}: person '{person}' is already on row {person_row[person]}; "
                             "list all of a person's e-mails in one row")
        person_row[person] = n
        emails = [e.strip().strip("<>").lower() for e in re.split(r"[;,\n]", get["emails"]) if e.strip()]
        if not emails:
            raise InputError(f"{where}: emails is empty; give at least one address")
        for e in emails:
            if not _EMAIL_RE.match(e):
                raise InputError(f"{where}: '{e}' is not an e-mail address")
            if e in email_owner and email_owner[e][1] != person:
                r, other = email_owner[e]
                raise InputError(f"{where}: e-mail {e} also belongs to '{other}' on row {r}")
            email_owner[e] = (n, person)
        typ = get["type"].lower()
        if typ not in TYPES:
            raise InputError(f"{where}: type '{get['type']}' is not one of {', '.join(TYPES)}")
        vendor = get.get("vendor", "") or None
        if typ == "vendor" and not vendor:
            raise InputError(f"{where}: type is vendor but the vendor column is empty")
        start = _date(get.get("start_date", ""), "start_date", where)
        end = _date(get.get("end_date", ""), "end_date", where)
        if start and end and end < start:
            raise InputError(f"{where}: end_date {end} is before start_date {start}")
        ip = (get.get("ip_assignment", "") or "missing").lower().replace(" ", "_").replace("-", "_")
        if ip not in IP_STATUSES:
            raise InputError(f"{where}: ip_assignment '{get.get('ip_assignment')}' is not one of {', '.join(IP_STATUSES)}")
        ip_date = _date(get.get("ip_assignment_date", ""), "ip_assignment_date", where)
        row: dict[str, Any] = {
            "person": person, "emails": list(dict.fromkeys(emails)), "type": typ, "vendor": vendor,
            "start_date": start, "end_date": end, "ip_assignment": ip, "ip_assignment_date": ip_date,
            "ip_document": get.get("ip_document", "") or None, "row": n,
        }
        for h in extra_cols:
            row[h] = get.get(h.lower(), "") or None
        out.append(row)
    return pd.DataFrame(out, columns=[*ROSTER_COLUMNS, *extra_cols])
