"""The contributor roster: who is who, on what terms, with what IP paperwork.

A malformed roster is refused before any scanning starts, with the file, the row number (as a
spreadsheet shows it: the header is row 1) and the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from pathlib import Path
from typing import Any, Union

import numpy as np
import pandas as pd

from .errors import InputError
from .isodate import parse_date, parse_iso_date
from .schema import PEOPLE_COLUMNS
from .values import is_missing

TYPES = ("employee", "founder", "contractor", "vendor", "intern", "advisor", "unknown")
IP_STATUSES = ("signed", "missing", "pending", "not_required")
REQUIRED = ("person", "emails", "type")
KNOWN = ("person", "emails", "type", "vendor", "start_date", "end_date", "ip_assignment",
         "ip_assignment_date", "ip_document")
ROSTER_COLUMNS = [*KNOWN, "row"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # what a spreadsheet may run as a formula
_ALIASES = {"email": "emails", "e_mail": "emails", "e_mails": "emails", "email_addresses": "emails",
            "ip_assignment_status": "ip_assignment"}
# An extra column may not take the name of a column ddkit computes per person (a roster's own 'commits' or
# 'departed' column would shadow it): it is kept as '<name> (roster)'.
_RESERVED = {*PEOPLE_COLUMNS, "row", "roster_emails", "resolved", "domain_class", "person_id", "names"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EMAIL_RE = re.compile(r"^[^@\s;,<>]+@[^@\s;,<>]+$")


def empty_roster() -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in ROSTER_COLUMNS})


# What ddkit.scan(roster=...) and the command line accept: one reader per kind, then one validation.
RosterSource = Union[str, "os.PathLike[str]", pd.DataFrame, list, dict, None]


def load_roster(source: RosterSource) -> pd.DataFrame:
    """Read and validate a roster: a CSV or XLSX file (a path), or the same table as data (a pandas
    DataFrame, a list of dicts, a dict of columns). Returns one row per person.

    Every kind goes through the same validation and gives the same rows. A malformed roster raises
    :class:`InputError` naming its first problem (and how many more there are; ``ddkit roster check``
    lists them all).
    """
    if source is None:
        return empty_roster()
    df, problems = check_roster(source)
    if problems:
        more = ""
        if len(problems) > 1:
            more = (f" (and {len(problems) - 1} more; `ddkit roster check {source}` lists them all)"
                    if isinstance(source, (str, os.PathLike)) else f" (and {len(problems) - 1} more)")
        raise InputError(problems[0] + more)
    return df


def check_roster(source: RosterSource) -> tuple[pd.DataFrame, list[str]]:
    """Read a roster (a path, or a DataFrame, list of dicts or dict of columns) and return (the valid rows,
    every problem found): all rows, all cells, at once.

    Each problem is one line: ``FILE, row N: reason`` (row numbers as a spreadsheet shows them: the header
    is row 1; for data, the first record is row 2 as it would be in the file).
    """
    try:
        name, header, rows = _read_source(source)
    except InputError as e:
        return empty_roster(), [_printable(str(e))]
    problems: list[str] = []
    df = _validate(name, header, rows, problems)
    return df, [_printable(x) for x in problems]


def _read_source(source: Any) -> tuple[str, list[str], list[tuple[int, list[Any]]]]:
    """(the name problems are reported under, the header, the numbered rows) for any kind of roster."""
    if isinstance(source, (str, os.PathLike)):
        return (str(source), *_read_file(source))
    if isinstance(source, pd.DataFrame):
        return _read_frame(source)
    if isinstance(source, list):
        if not all(isinstance(r, dict) for r in source):
            bad = next(i for i, r in enumerate(source) if not isinstance(r, dict))
            raise InputError(f"roster (list): item {bad} is a {type(source[bad]).__name__}, not a mapping of column to cell")
        header: list[str] = []
        for r in source:
            header += [k for k in map(str, r) if k not in header]
        cells = [{str(k): v for k, v in r.items()} for r in source]
        return "roster (list of dicts)", header, [(i + 2, [c.get(h) for h in header]) for i, c in enumerate(cells)]
    if isinstance(source, dict):
        values = list(source.values())
        lists = [isinstance(v, (list, tuple)) for v in values]
        if values and all(lists):       # columns, as pd.DataFrame(dict) reads them
            lengths = {len(v) for v in values}
            if len(lengths) != 1:
                raise InputError("roster (dict): every column must hold as many cells (got "
                                 + ", ".join(f"{k}: {len(v)}" for k, v in source.items()) + ")")
            n = lengths.pop()
            return "roster (dict)", [str(k) for k in source], [(i + 2, [v[i] for v in values]) for i in range(n)]
        if any(lists) or any(isinstance(v, dict) for v in values):
            raise InputError("roster (dict): give either one person (column -> cell) or columns (column -> list "
                             "of cells), not both")
        return "roster (dict)", [str(k) for k in source], [(2, values)]
    raise InputError(f"the roster must be a path to a CSV or XLSX file, a pandas DataFrame, a list of dicts or a "
                     f"dict of columns, not {type(source).__name__}")


def _read_frame(df: pd.DataFrame) -> tuple[str, list[str], list[tuple[int, list[Any]]]]:
    """A DataFrame as the file reader would give it: pandas' own names for header cells it found empty
    ('Unnamed: 3') are empty again, and the columns are taken as they are (no index)."""
    if isinstance(df.columns, pd.MultiIndex):
        raise InputError("roster (DataFrame): the columns must be one header row, not a MultiIndex")
    header = ["" if re.fullmatch(r"Unnamed: \d+", str(c)) else str(c) for c in df.columns]
    cols = [list(df.iloc[:, i]) for i in range(df.shape[1])]
    rows_no: list[int] = list(range(2, len(df) + 2))
    # A roster ddkit validated (load_roster's result, Scan.roster) read back: its own row numbers, and its
    # blank ip_assignment cells, which it shows as 'missing', blank again.
    if "row" in header and "ip_assignment_blank" in df.attrs:
        i = header.index("row")
        rows_no = [int(r) for r in cols.pop(i)]
        header.pop(i)
        blank_ip = set(df.attrs["ip_assignment_blank"])
        if "ip_assignment" in header:
            j = header.index("ip_assignment")
            cols[j] = ["" if r in blank_ip else v for r, v in zip(rows_no, cols[j])]
    return "roster (DataFrame)", header, [(n, list(vals)) for n, vals in zip(rows_no, zip(*cols))]


def _read_file(path: str | os.PathLike[str]) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: roster not found")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(p)
    if suffix in (".csv", ".txt", ".tsv", ""):
        return _read_csv(p)
    raise InputError(f"{path}: roster must be a .csv or .xlsx file")


def _read_csv(p: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    from .limits import MAX_CSV_BYTES
    if p.stat().st_size > MAX_CSV_BYTES:
        raise InputError(f"{p}: larger than a roster ddkit reads ({MAX_CSV_BYTES >> 20} MB)")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(f"{p}, row {line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); save the roster as CSV UTF-8") from None
    if "\0" in text:
        raise InputError(f"{p}: contains NUL bytes; is it really a CSV file?")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
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


def _delimiter(text: str) -> str:
    """The field separator, sniffed from the header line: `,` (the default), `;` (Excel in many
    locales) or a tab. The header is used because data cells hold `;` between e-mail addresses."""
    first = text.lstrip("\r\n").split("\n", 1)[0]
    outside, quoted = [], False
    for ch in first:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(ch)
    line = "".join(outside)
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _read_xlsx(p: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    import openpyxl

    from .limits import ROSTER_XLSX, check_xlsx, formulas_without_values, sheet_rows
    check_xlsx(p, ROSTER_XLSX)     # a zip bomb is refused before anything is inflated
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"{p}: cannot open as an Excel workbook: {type(e).__name__}: {e}") from None
    try:
        ws = wb.worksheets[0]
        header = None
        rows = []
        for n, rec in sheet_rows(ws, p, ROSTER_XLSX):    # non-empty rows, within the cell limit
            if header is None:
                if n != 1:
                    raise InputError(f"{p}, row 1: the first row must be the header")
                header = ["" if v is None else str(v) for v in rec]
                continue
            rows.append((n, list(rec)))
    finally:
        wb.close()
    if header is None:
        raise InputError(f"{p}: the roster is empty (no header row)")
    # A formula without a saved value (a file written by a program, not saved by Excel) reads as an
    # empty cell: say so, rather than "person is empty".
    missing = formulas_without_values(p, None, ROSTER_XLSX)
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"{p}: cell {missing[0]}{more} holds a formula without a saved value: open and save "
                         "the file in Excel (or type the values in)")
    return header, rows


def _cell(v: Any) -> str:
    """A cell as text, whatever read it: a file's reader, or pandas (NaN, NaT and NA for an empty cell,
    Timestamps for parsed dates, numpy numbers) or plain Python data (a list of addresses)."""
    if _missing(v):
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, np.datetime64):
        return str(v.astype("datetime64[D]"))
    if isinstance(v, (list, tuple, set, frozenset)):
        # A list of addresses (a roster ddkit read, or data built in Python): the file's ';' separator.
        return "; ".join(_cell(x) for x in (sorted(v, key=str) if isinstance(v, (set, frozenset)) else v) if not _missing(x))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    s = str(v).strip()
    if s.startswith("'") and s[1:2] in _FORMULA_START:
        s = s[1:]  # written by `roster init` so that a spreadsheet shows the text instead of running it
    return s


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)):
        return bool(v != v)
    if isinstance(v, np.datetime64):
        return bool(np.isnat(v))
    return False


def _printable(s: str) -> str:
    """A problem line quotes cells: control characters (a terminal escape, a line break) are shown, not sent."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def normalize_header(h: str) -> str:
    """'IP Assignment Date', 'ip-assignment-date' and ' ip_assignment_date ' are the same column."""
    key = re.sub(r"[\s\-]+", "_", str(h).replace("\ufeff", "").strip().lower()).strip("_")
    return _ALIASES.get(key, key)


def _date(v: str, col: str, where: str) -> dt.date | None:
    return parse_date(v, col, where)


def _near_known(col: str) -> str | None:
    """The known column an unknown header *col* (normalised) is probably a misspelling of, or None.

    ``ip_asignment_date``, ``enddate``, ``vendors`` or ``start_dt`` would otherwise be kept as an extra
    column and the real column read as empty: every pre-assignment finding silently dropped. A column
    that merely starts like a known one with a suffix of its own (``person_id``, ``vendor_name``) is
    not a misspelling."""
    import difflib
    if any(col.startswith(k + "_") for k in KNOWN):
        return None
    near = difflib.get_close_matches(col, KNOWN, n=1, cutoff=0.85)
    return near[0] if near else None


def _validate(path: str, header: list[str], rows: list[tuple[int, list[Any]]],
              problems: list[str]) -> pd.DataFrame:
    """Validate every row; each problem is appended to *problems* and its row is left out."""
    raw = [str(h).strip() for h in header]
    cols = [normalize_header(h) for h in raw]
    seen: dict[str, int] = {}
    start = len(problems)
    for i, c in enumerate(cols):
        if not c:
            continue
        if c in seen:
            problems.append(f"{path}, row 1: column '{c}' appears twice in the header")
            continue
        seen[c] = i
    for req in REQUIRED:
        if req not in seen:
            problems.append(f"{path}, row 1: missing required column '{req}'")
    for h, c in zip(raw, cols):
        near = _near_known(c) if c and c not in KNOWN else None
        if near is not None:
            problems.append(f"{path}, row 1: unknown column '{h}' (did you mean '{near}'?); rename it to '{near}' "
                            "(or, for a column of your own, give it a name that is not so close to one ddkit reads)")
    if len(problems) > start:  # without a sound header the rows cannot be read
        return empty_roster()
    extra_cols = [(f"{h} (roster)" if c in _RESERVED or h in _RESERVED else h, c)
                  for h, c in zip(raw, cols) if c and c not in KNOWN]
    out: list[dict[str, Any]] = []
    email_owner: dict[str, tuple[int, str]] = {}
    person_row: dict[str, int] = {}
    ip_blank: list[int] = []
    for n, rec in rows:
        vals = [_cell(v) for v in rec]
        if not any(vals):
            continue
        where = f"{path}, row {n}"
        errs: list[str] = []
        if len(vals) > len(cols) and any(vals[len(cols):]):
            errs.append("more cells than header columns")
        get = {c: (vals[i] if i < len(vals) else "") for c, i in seen.items()}
        person = get["person"]
        if not person:
            errs.append("person is empty")
        elif any(ord(ch) < 32 for ch in person):
            errs.append("person contains control characters")
        elif person in person_row:
            errs.append(f"person '{person}' is already on row {person_row[person]}; "
                        "list all of a person's e-mails in one row")
        else:
            person_row[person] = n
        emails = [e.strip().strip("<>").lower() for e in re.split(r"[;,\n]", get["emails"]) if e.strip()]
        if not emails:
            errs.append("emails is empty; give at least one address")
        for e in emails:
            if not _EMAIL_RE.match(e):
                errs.append(f"'{e}' is not an e-mail address")
            elif e in email_owner and email_owner[e][1] != person:
                r, other = email_owner[e]
                errs.append(f"e-mail {e} also belongs to '{other}' on row {r}")
            else:
                email_owner[e] = (n, person)
        typ = get["type"].lower()
        if typ not in TYPES:
            errs.append(f"type '{get['type']}' is not one of {', '.join(TYPES)}" if typ else
                        f"type is empty; use one of {', '.join(TYPES)}")
        vendor = get.get("vendor", "") or None
        if typ == "vendor" and not vendor:
            errs.append("type is vendor but the vendor column is empty")
        dates = {}
        for col in ("start_date", "end_date", "ip_assignment_date"):
            try:
                dates[col] = _date(get.get(col, ""), col, where)
            except InputError as e:
                errs.append(str(e)[len(where) + 2:])
                dates[col] = None
        if dates["start_date"] and dates["end_date"] and dates["end_date"] < dates["start_date"]:
            errs.append(f"end_date {dates['end_date']} is before start_date {dates['start_date']}")
        ip_raw = get.get("ip_assignment", "")
        ip = (ip_raw or "missing").lower().replace(" ", "_").replace("-", "_")
        if ip not in IP_STATUSES:
            errs.append(f"ip_assignment '{ip_raw}' is not one of {', '.join(IP_STATUSES)}")
        problems.extend(f"{where}: {e}" for e in errs)
        if errs:
            continue
        if not ip_raw:
            ip_blank.append(n)
        row: dict[str, Any] = {
            "person": person, "emails": list(dict.fromkeys(emails)), "type": typ, "vendor": vendor,
            "start_date": dates["start_date"], "end_date": dates["end_date"], "ip_assignment": ip,
            "ip_assignment_date": dates["ip_assignment_date"], "ip_document": get.get("ip_document", "") or None,
            "row": n,
        }
        for h, c in extra_cols:
            row[h] = get.get(c, "") or None
        out.append(row)
    df = pd.DataFrame(out, columns=[*ROSTER_COLUMNS, *[h for h, _ in extra_cols]])
    # The rows whose ip_assignment cell was left empty (read as 'missing', but not typed in): a tuple, as
    # pandas copies attrs with every derived frame.
    df.attrs["ip_assignment_blank"] = tuple(ip_blank)
    return df


# -- what is still to fill in ------------------------------------------------------------------------

GAP_COLUMNS = ["row", "person", "surviving_lines", "cells", "detail"]


def roster_gaps(roster: pd.DataFrame, people: pd.DataFrame | None = None, as_of: dt.date | None = None,
                inactivity_days: int = 365) -> pd.DataFrame:
    """Per roster row, the blank cells that matter: rows with a blank ``end_date`` that counts as a
    departure first, then material people (most surviving lines) first.

    - ``end_date`` empty while the person has no commit within the inactivity window: counted as departed
      (unconfirmed) until the roster gives the date (from *people*' ``departed_status`` when given, else
      from a ``git_last_commit`` column, written by ``roster init``, and *as_of*, default today);
    - ``ip_assignment`` left empty (read as ``missing``): say whether it is signed, pending, missing or not required;
    - ``type`` still ``unknown``;
    - ``vendor`` empty for a vendor;
    - ``ip_assignment_date`` empty although the assignment is signed.

    Surviving lines come from *people* (a scan's people table) when given, else from a
    ``git_surviving_lines`` column (written by ``roster init``), else 0.
    """
    if roster is None or not len(roster):
        return pd.DataFrame(columns=GAP_COLUMNS)
    blank = roster.attrs.get("ip_assignment_blank")
    blank = set(blank) if blank is not None else None
    lines: dict[str, int] = {}
    unconfirmed: set[str] | None = None
    if people is not None and len(people) and "surviving_lines" in people:
        lines = {p: int(n) for p, n in zip(people["person"], people["surviving_lines"]) if not pd.isna(n)}
    if people is not None and len(people) and "departed_status" in people:
        # departed_status is a typed column: pd.NA where the person has not departed (never compared)
        unconfirmed = {p for p, st in zip(people["person"], people["departed_status"])
                       if not is_missing(st) and st == "unconfirmed"}
    window_start = (as_of or dt.date.today()) - dt.timedelta(days=inactivity_days)
    recs = []
    for r in roster.itertuples(index=False, name=None):
        d = dict(zip(roster.columns, r))
        row = int(d["row"]) if "row" in d and not pd.isna(d["row"]) else None
        typed_in = blank is not None and row is not None and row not in blank
        cells, detail = [], []
        if not _filled(d.get("end_date")):
            if unconfirmed is not None:
                gone = d["person"] in unconfirmed
                last = None
            else:
                try:
                    last = parse_iso_date(d.get("git_last_commit")) if _filled(d.get("git_last_commit")) else None
                except ValueError:
                    last = None
                gone = last is not None and last <= window_start
            if gone:
                cells.append("end_date")
                detail.append("end_date is empty and the person has no commit within the inactivity window"
                              + (f" (last: {last})" if last else "") + ": counted as departed (unconfirmed); give "
                              "the date they left, or a later date if still engaged")
        ip = d.get("ip_assignment")
        if ip in (None, "") or (isinstance(ip, float) and pd.isna(ip)) or (
                ip == "missing" and not typed_in):
            cells.append("ip_assignment")
            detail.append("ip_assignment is empty (read as 'missing'): signed, pending, missing or not_required?")
        if d.get("type") == "unknown":
            cells.append("type")
            detail.append("type is unknown: employee, founder, contractor, vendor, intern or advisor?")
        if d.get("type") == "vendor" and not _filled(d.get("vendor")):
            cells.append("vendor")
            detail.append("type is vendor but the vendor's name is empty")
        if ip == "signed" and not _filled(d.get("ip_assignment_date")):
            cells.append("ip_assignment_date")
            detail.append("ip_assignment is signed but ip_assignment_date is empty")
        if not cells:
            continue
        n = lines.get(d["person"])
        if n is None:
            n = _int(d.get("git_surviving_lines"))
        recs.append(dict(row=row, person=d["person"], surviving_lines=n, cells=cells, detail="; ".join(detail)))
    out = pd.DataFrame(recs, columns=GAP_COLUMNS)
    if len(out):
        out = (out.assign(_end=[c[0] == "end_date" for c in out["cells"]])
               .sort_values(["_end", "surviving_lines", "row"], ascending=[False, False, True], kind="stable")
               .drop(columns="_end").reset_index(drop=True))
    return out


def _filled(v: Any) -> bool:
    if v is None:
        return False
    try:
        if pd.isna(v):
            return False
    except (TypeError, ValueError):
        pass
    return str(v).strip() != ""


def _int(v: Any) -> int:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return 0


def gaps_warning(gaps: pd.DataFrame) -> str | None:
    """One summary line for a scan's warnings, or None when nothing is left to fill in."""
    if not len(gaps):
        return None
    counts: dict[str, int] = {}
    for cells in gaps["cells"]:
        for c in cells:
            counts[c] = counts.get(c, 0) + 1
    what = ", ".join(f"{c} on {n}" for c, n in counts.items())
    return (f"roster: {len(gaps)} rows still have blank cells that matter ({what}); "
            "first: " + ", ".join(f"{p} (row {r})" for p, r in zip(gaps["person"].head(3), gaps["row"].head(3)))
            + ("" if len(gaps) <= 3 else ", …") + "; `ddkit roster check` lists them")


def format_gaps(gaps: pd.DataFrame, limit: int = 10) -> list[str]:
    """A short console block: the *limit* most material rows, then 'N more'."""
    if not len(gaps):
        return []
    lines = [f"roster: {len(gaps)} rows still to complete (blank end dates counted as departures first, then "
             "most surviving lines first):"]
    for g in gaps.head(limit).itertuples(index=False):
        where = f"row {g.row}" if g.row is not None and not pd.isna(g.row) else "row ?"
        lines.append(f"  {where}: {g.person} ({g.surviving_lines} lines): {', '.join(g.cells)}")
    if len(gaps) > limit:
        lines.append(f"  … {len(gaps) - limit} more")
    return lines
