"""``ddkit roster init``: a first roster to fill in, one row per person found in the history.

The rows come from a scan without a roster (bots left out): first the people with no commit within the
inactivity window (their blank end_date would count them as departed, unconfirmed), then the others;
most surviving lines first within each. Each row has
every address the person committed with, a suggested ``type`` (a company domain → ``employee``, a
vendor domain from the company profile → ``vendor`` with the vendor's name, else ``unknown``), the
contract's columns left to fill, then informational columns (``git_*``, kept by the reader as
unknown columns). The person's addresses are grouped as ddkit resolved them; two rows that are one
person (an old address under another name) are merged by hand: move the addresses into one row.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError
from .fsutil import atomic_write
from .roster import _EMAIL_RE, _FORMULA_START, IP_STATUSES, KNOWN, TYPES

INFO_COLUMNS = ["git_commits", "git_first_commit", "git_last_commit", "git_surviving_lines", "git_names",
                "type_suggested_from", "possibly_same_as"]
# Rows compared with the rows above them for "possibly the same person" (the most material ones).
SAME_AS_CANDIDATES = 300
INIT_COLUMNS = [*KNOWN, *INFO_COLUMNS]
DATE_COLUMNS = ("start_date", "end_date", "ip_assignment_date")

INSTRUCTIONS = [
    "How to fill in this roster (one row per person; ddkit reads the first sheet).",
    "person: the name to show in reports. Keep one row per person: if two rows are the same person "
    "(e.g. an old address under another name), move all addresses into one row and delete the other.",
    "emails: every address of the person, separated by ';'. A commit matches a row by any of them (case-insensitive).",
    f"type: one of {', '.join(TYPES)}. The suggestion comes from the e-mail domain (see type_suggested_from); check it.",
    "vendor: for type vendor, the vendor company's name.",
    "start_date, end_date: ISO dates (YYYY-MM-DD). The rows at the top are people with no commit in the last "
    "year: with an empty end_date the scan counts them as departed (unconfirmed); give the date they left, or "
    "a date after the scan's date if they are still engaged.",
    f"ip_assignment: one of {', '.join(IP_STATUSES)}; an empty cell counts as missing.",
    "ip_assignment_date: the date the assignment was signed; ip_document: where the signed document is.",
    "Delete the rows of people who are not on the company's roster: ddkit then reports them as unknown contributors.",
    "possibly_same_as: a row above that may be the same person (merge the rows if so).",
    "git_*, type_suggested_from and possibly_same_as are for information only (what the history shows); "
    "they are kept but not used. Check the file with: ddkit roster check FILE",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def roster_from_people(people: pd.DataFrame, rules: Any = None) -> tuple[pd.DataFrame, list[str]]:
    """The roster rows for a scan's people table (scanned without a roster), and notes on anything left out.

    ``possibly_same_as`` names a row above (more material) that may be the same person (see
    :func:`_same_as`); rows are never merged silently.
    """
    notes: list[str] = []
    humans = people[~people["is_bot"].astype(bool)] if len(people) else people
    if len(humans):
        # People with no commit within the inactivity window first: their end_date is the cell that matters
        # most (left blank, the scan counts them as departed, unconfirmed); then most surviving lines first.
        inactive = humans["departed"].astype(bool) if "departed" in humans else pd.Series(False, index=humans.index)
        humans = (humans.assign(_inactive=inactive)
                  .sort_values(["_inactive", "surviving_lines", "commits", "person"],
                               ascending=[False, False, False, True], kind="stable").drop(columns="_inactive"))
    rows: list[dict[str, Any]] = []
    owner: dict[str, str] = {}
    names_used: set[str] = set()
    row_names: list[list[str]] = []
    for p in humans.itertuples(index=False):
        emails = []
        for e in p.emails:
            e = str(e).strip().lower()
            if not _EMAIL_RE.match(e):
                continue
            if e in owner:  # an address is one person's only: the more material person keeps it
                continue
            emails.append(e)
        if not emails:
            notes.append(f"{p.person}: no usable e-mail address ({', '.join(map(str, p.emails)) or 'none'}); "
                          "not in the roster")
            continue
        for e in emails:
            owner[e] = p.person
        name = _CONTROL.sub(" ", str(p.person)).strip() or emails[0].split("@")[0]
        base, k = name, 2
        while name in names_used:
            name, k = f"{base} ({k})", k + 1
        names_used.add(name)
        typ, vendor, why = _suggest(p)
        seen_names = [_CONTROL.sub(" ", str(n)).strip() for n in (p.names if isinstance(p.names, list) else [])]
        row_names.append([n for n in seen_names if n] or [name])
        rows.append({
            "person": name, "emails": "; ".join(emails), "type": typ, "vendor": vendor,
            "start_date": None, "end_date": None, "ip_assignment": None, "ip_assignment_date": None,
            "ip_document": None,
            "git_commits": int(p.commits), "git_first_commit": _day(p.first_commit),
            "git_last_commit": _day(p.last_commit), "git_surviving_lines": int(p.surviving_lines),
            "git_names": "; ".join(dict.fromkeys(row_names[-1])),
            "type_suggested_from": why,
        })
    _same_as(rows, row_names, rules)
    return pd.DataFrame(rows, columns=INIT_COLUMNS), notes


_GENERIC_LOCAL = {"admin", "contact", "github", "hello", "info", "noreply", "no-reply", "office", "support",
                  "webmaster", "postmaster", "developer", "dev", "mail", "root", "team", "git", "code"}


def _same_as(rows: list[dict[str, Any]], row_names: list[list[str]], rules: Any) -> None:
    """Mark rows that may be a more material row's person: the same distinctive user name at another
    domain (``marc.schlaich@gmail.com`` and ``marc.schlaich@googlemail.com``), or the same family name
    with an address on the same non-freemail domain (``robert@acme.example`` committing as "Robert
    Engineer" and ``bob@acme.example`` as "Bob Engineer"). A hint for the person filling in the roster."""
    from .config import load_rules
    from .resolve.identities import IdentityRules
    if len(rows) < 2:
        return
    freemail = IdentityRules.from_rules(rules if rules is not None else load_rules(None)).freemail
    by_local: dict[str, int] = {}
    by_family_domain: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        emails = r["emails"].split("; ")
        families = {f for f in map(_family, row_names[i]) if f is not None}
        doms = {e.rsplit("@", 1)[1] for e in emails} - freemail
        doms = {d for d in doms if "noreply" not in d}
        locals_ = {e.rsplit("@", 1)[0] for e in emails}
        given = {n.split()[0].lower() for n in row_names[i] if n.split()}
        locals_ = {x for x in locals_ if x not in _GENERIC_LOCAL and x not in given  # 'daniel@' says little
                   and (len(x) >= 6 or re.search(r"[._\-]", x)) and "+" not in x}
        hit = None
        for x in sorted(locals_):
            k = by_local.get(x)
            if k is not None and k != i:
                hit = (k, f"same user name '{x}' at another domain")
                break
        if hit is None:
            for f in sorted(families):
                for d in sorted(doms):
                    k = by_family_domain.get((f, d))
                    if k is not None and k != i:
                        hit = (k, f"same family name '{f}', address on {d}")
                        break
                if hit:
                    break
        if hit and i > 0:
            k, why = hit
            r["possibly_same_as"] = f"{rows[k]['person']} (row {k + 2}): {why}"
        if i < SAME_AS_CANDIDATES:
            for x in locals_:
                by_local.setdefault(x, i)
            for f in families:
                for d in doms:
                    by_family_domain.setdefault((f, d), i)


def _family(name: str) -> str | None:
    parts = [t for t in re.split(r"[\s.]+", name.lower()) if t]
    if len(parts) < 2 or len(parts[-1]) < 3 or not parts[-1].isalpha():
        return None
    return parts[-1]


def _suggest(p) -> tuple[str, str | None, str]:
    classes = set(str(getattr(p, "domain_class", "") or "").split(","))
    domains = sorted({e.rsplit("@", 1)[-1] for e in p.emails if "@" in e})
    vendor = p.vendor if isinstance(p.vendor, str) and p.vendor else None
    if "company" in classes:
        return "employee", None, "company e-mail domain (" + ", ".join(domains) + ")"
    if vendor:
        return "vendor", vendor, f"{vendor}'s e-mail domain (" + ", ".join(domains) + ")"
    return "unknown", None, "no company or vendor domain (" + ", ".join(domains) + ")"


def _day(v: Any):
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return v


def init_roster(repo: str | os.PathLike, out: str | os.PathLike, company: Any = None, ref: str = "HEAD",
                rules: Any = None, progress=None, allow_other_owner: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Scan *repo* (without licenses and secrets) and write a roster to fill in at *out* (.csv or .xlsx)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(f"{out}: the roster must be written as .csv or .xlsx")
    _check_writable(out)  # before the scan, not after it
    from .pipeline import scan
    s = scan(repo, company=company, rules=rules, ref=ref, licenses=False, secrets=False, progress=progress,
             allow_other_owner=allow_other_owner)
    df, notes = roster_from_people(s.people, s.rules)
    try:
        if suffix == ".csv":
            write_csv(df, out)
        else:
            write_xlsx(df, out)
    except OSError as e:
        raise InputError(f"{out}: cannot write the roster: {e.strerror or e}") from None
    return df, notes


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise InputError(f"{out}: is a folder; give a file name ending in .csv or .xlsx")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{out}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{out}: cannot write in {parent} (permission denied)")


# -- writers ----------------------------------------------------------------------------------------

def _csv_text(v: Any) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    s = v.isoformat() if hasattr(v, "isoformat") else str(v)
    if s.startswith(_FORMULA_START):
        s = "'" + s  # a spreadsheet shows the text instead of running it; the reader removes the apostrophe
    return s


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """UTF-8 with a BOM (so that Excel shows accents right), comma-separated, every cell text."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(list(df.columns))
    for rec in df.itertuples(index=False, name=None):
        w.writerow([_csv_text(v) for v in rec])
    return atomic_write(path, ("\ufeff" + buf.getvalue()).encode("utf-8"))


def write_xlsx(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """The roster sheet first (what ddkit reads), then an Instructions sheet.

    Dropdowns for type and ip_assignment, date validation for the date columns, a frozen header,
    a note on each header cell; repository text is written as text, never as a formula.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from .report.xlsx import set_cell, write_table

    wb = Workbook()
    ws = wb.active
    ws.title = "Roster"
    write_table(ws, df, "Roster", widths={"emails": 45, "person": 24, "type_suggested_from": 40, "git_names": 30,
                                         "ip_document": 18, "vendor": 18}, plain_headers=False)
    last = max(len(df) + 1, 2) + 500  # rows added below the table keep the checks
    col = {c: get_column_letter(i) for i, c in enumerate(df.columns, start=1)}

    def add(dv: DataValidation, name: str) -> None:
        dv.add(f"{col[name]}2:{col[name]}{last}")
        ws.add_data_validation(dv)

    add(DataValidation(type="list", formula1='"' + ",".join(TYPES) + '"', allow_blank=False,
                       showErrorMessage=True, errorTitle="type", error="Choose one of: " + ", ".join(TYPES),
                       promptTitle="type", prompt="employee, founder, contractor, vendor, intern, advisor or unknown",
                       showInputMessage=True), "type")
    add(DataValidation(type="list", formula1='"' + ",".join(IP_STATUSES) + '"', allow_blank=True,
                       showErrorMessage=True, errorTitle="ip_assignment",
                       error="Choose one of: " + ", ".join(IP_STATUSES) + " (empty means missing)",
                       promptTitle="ip_assignment", prompt="signed, missing, pending or not_required; empty = missing",
                       showInputMessage=True), "ip_assignment")
    for c in DATE_COLUMNS:
        add(DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                           showErrorMessage=True, errorTitle=c, error="Enter a date (YYYY-MM-DD)",
                           promptTitle=c, prompt="A date, YYYY-MM-DD", showInputMessage=True), c)
        for r in range(2, last + 1):
            ws[f"{col[c]}{r}"].number_format = "yyyy-mm-dd"
    notes = {
        "person": "Name shown in reports; one row per person.",
        "emails": "All the person's addresses, separated by ';'.",
        "type": "employee, founder, contractor, vendor, intern, advisor or unknown (suggested from the e-mail domain).",
        "vendor": "For type vendor: the vendor company's name.",
        "start_date": "YYYY-MM-DD",
        "end_date": "YYYY-MM-DD; empty and no commit in the last year = departed (unconfirmed).",
        "ip_assignment": "signed, missing, pending or not_required; empty = missing.",
        "ip_assignment_date": "YYYY-MM-DD the assignment was signed.",
        "ip_document": "Reference to the signed document.",
    }
    for c, text in notes.items():
        ws[f"{col[c]}1"].comment = Comment(text, "ddkit")
    for c in INFO_COLUMNS:
        ws[f"{col[c]}1"].comment = Comment("For information only (what the history shows); not used by ddkit.",
                                           "ddkit")
    ws.freeze_panes = "B2"
    ws.page_setup.orientation = "landscape"  # prints one page wide
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"

    info = wb.create_sheet("Instructions")
    set_cell(info, 1, 1, "ddkit roster: instructions").font = Font(bold=True, size=14)
    for i, line in enumerate(INSTRUCTIONS, start=3):
        set_cell(info, i, 1, line).alignment = Alignment(wrap_text=True, vertical="top")
    info.column_dimensions["A"].width = 110

    def save(tmp: Path) -> None:
        wb.save(tmp)
    return atomic_write(path, save)
