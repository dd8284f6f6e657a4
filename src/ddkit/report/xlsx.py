"""The acquisition-readiness workbook (xlsx), written for counsel to print, read and work from.

Sheets, in the contract's order, with the extra one-table sheets inserted right after their parent:
Summary, Findings, Remediation, Rewrite scope, People, Ownership, Ownership by module, Ownership by
class, Licenses, (Dependencies), (Vulnerabilities), Bus Factor, Off-boarding, Retention, Trends, Security,
(Triaged), (Triage claims: only when the scanned repository holds a triage file of its own), Rules,
Methodology. Every data sheet is one Excel table with a plain-English header row, filters and frozen
panes, and prints landscape, one page wide, with the header row repeated on every page (layout in
xlsx_layout.py, words in xlsx_text.py). Rule ids and finding ids stay, in narrow columns at the right;
commit ids are shown short and link to the forge. Text that came from a repository never becomes a
formula, and characters XML cannot hold are replaced (cells.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

from .._version import __version__
from ..fsutil import atomic_write
from ..gitutil import strip_credentials
from ..isodate import format_period
from ..severity import SEVERITIES
from ..values import is_missing, records
from . import xlsx_save
from .cells import plain
from .dependency_sheet import DEPENDENCY_SPEC  # deps
from .vulnerability_sheet import VULN_SPEC  # vulns
from .vulnerability_sheet import methodology_rows as vuln_methodology_rows  # vulns
from .xlsx_layout import (
    BOLD,
    HEADER_FILL,
    HEADER_FONT,
    WRAP,
    Col,
    fit_text,
    key_value_rows,
    materialize,
    page_setup,
    row_height,
    set_cell,
    set_default_font,
    text_lines,
)
from .xlsx_layout import write_table as write_cols
from .xlsx_text import AREA_NAMES, label, top_findings

if TYPE_CHECKING:
    from ..model import Portfolio, Scan

TITLE_FONT = Font(name="Arial", bold=True, size=16, color="1F3864")
SECTION_FONT = Font(name="Arial", bold=True, size=12, color="1F3864")
SEV_FILL = {"critical": "C00000", "high": "FF6B6B", "medium": "FFC000", "low": "FFF2CC", "info": "E7E6E6"}
RATING_FILL = {"red": "C00000", "amber": "FFC000", "green": "70AD47"}
SHA_COLUMNS = ("first_sha", "last_sha", "introduced_sha", "commit", "sha")


def commit_url(remote: str | None, sha: str) -> str | None:
    """A link to the commit on a known forge (GitHub, GitLab, Bitbucket), from the origin URL."""
    if not remote or not isinstance(sha, str) or len(sha) < 7:
        return None
    m = re.match(r"^(?:https?://(?:[^@/]+@)?|ssh://(?:[^@/]+@)?|git@)(github\.com|gitlab\.com|bitbucket\.org)[:/](.+?)(?:\.git)?/?$",
                 remote)
    if not m:
        return None
    host, path = m.groups()
    if host == "github.com":
        return f"https://github.com/{path}/commit/{sha}"
    if host == "gitlab.com":
        return f"https://gitlab.com/{path}/-/commit/{sha}"
    return f"https://bitbucket.org/{path}/commits/{sha}"


def _severity_style(cell, col: Col, rec: dict) -> None:
    if col.key == "severity":
        sev = str(plain(rec.get("severity")) or "")
        look = _SEV_LOOK.get(sev)
        if look is not None:
            # The style this gives a cell depends only on the style it had: kept per workbook, in whose font
            # and fill lists the first such cell registered them (registering hashes them: 20 µs a cell,
            # ~90 cells on pip).
            done = cell.parent.parent.__dict__.setdefault("_ddkit_severity_styles", {})
            key = (tuple(cell._style) if cell._style is not None else None, sev)
            after = done.get(key)
            if after is None:
                cell.fill, cell.font = look
                after = done[key] = StyleArray(cell._style)
            else:
                cell._style = StyleArray(after)


# Each severity's fill and font, made once: making them for each cell took 20 of the 45 µs a severity cell
# cost (~90 cells on pip).
_SEV_LOOK = {sev: (PatternFill("solid", fgColor=fill),
                   Font(name="Arial", size=10, bold=True, color="FFFFFF" if sev in ("critical", "high") else "000000"))
             for sev, fill in SEV_FILL.items()}


SEVERITY_COLS = ("severity",)     # the only column _severity_style changes


def _cols(df: pd.DataFrame, spec: list[Col], drop: tuple[str, ...] = (), ids: list[Col] | None = None) -> list[Col]:
    """The spec's columns, then any other column of *df* (generic header), then the id columns at the right."""
    # person_id is the DataFrames' join key, never shown (it may hold an unresolved identity's address).
    known = {c.key for c in spec} | {c.key for c in (ids or [])} | set(drop) | {"person_id"}
    extra = [Col(c, label(c), 14) for c in (df.columns if df is not None else []) if c not in known]
    return spec + extra + (ids or [])


# ------------------------------------------------------------------ sheet tables
def findings_cols(df: pd.DataFrame, catalogue: dict) -> list[Col]:
    spec = [
        Col("severity", "Severity", 9),
        Col("area", "Area", 12, get=lambda r: AREA_NAMES.get(str(r.get("area")), r.get("area")), hidden=True),
        Col("issue", "Issue", 16, get=lambda r: (catalogue.get(str(r.get("rule"))) or {}).get("title")),
        Col("subject", "Subject", 16),
        Col("lines_at_stake", "Lines at stake", 8, "int"),
        Col("evidence", "Evidence", 44, max_lines=16),
        Col("remediation", "What to do", 27, max_lines=16),
        Col("period", "Period", 13, get=lambda r: _period({"period_start": r.get("first_commit"),
                                                           "period_end": r.get("last_commit")})),
        Col("first_commit", "First commit", 10.5, "date", hidden=True),
        Col("last_commit", "Last commit", 10.5, "date", hidden=True),
        Col("first_sha", "Commit", 11, "sha"),
        Col("possible_roster_match", "Possible roster match", 14, hidden=True),
        Col("rolled_up", "Roll-up of de-minimis subjects", 9, "bool", hidden=True),
        Col("subjects", "Subjects rolled up", 30, max_lines=6, hidden=True),
        Col("tier", "Secret tier", 10, hidden=True), Col("detector", "Detector", 16, hidden=True),
        Col("detector_id", "Detector id", 16, hidden=True), Col("engine", "Secret engine", 12, hidden=True),
        Col("context", "Why downgraded", 20, hidden=True), Col("paths", "Paths", 30, max_lines=6, hidden=True),
    ]
    drop = ("person", "vendor", "commits", "files", "line", "end_line", "last_sha", "path", "fingerprint", "triage")
    ids = [Col("rule", "Rule id", 14, "id"), Col("id", "Finding id", 12, "id")]
    return _cols(df, spec + TRIAGE_COLS, drop, ids)


TRIAGE_COLS = [Col("status", "Status", 10), Col("triage_reason", "Triage reason", 13),
               Col("triaged_by", "Triaged by", 9), Col("triage_date", "Triage date", 10.5, "date")]


def findings_frame(findings: pd.DataFrame, triaged: bool) -> pd.DataFrame:
    """Open findings (Findings sheet) or the ones counsel triaged (Triaged sheet), with the triage columns
    counsel types into: status, reason, by, date (read back by `ddkit triage import`)."""
    if "status" not in findings.columns:
        findings = findings.assign(status="open", triage=None)
    if "triage" not in findings.columns:
        findings = findings.assign(triage=None)
    sel = findings["status"] != "open" if triaged else findings["status"] == "open"
    df = findings[sel].copy()
    tri = [t if isinstance(t, dict) else {} for t in df["triage"]]
    df["triage_reason"] = [t.get("reason") for t in tri]
    df["triaged_by"] = [t.get("by") for t in tri]
    df["triage_date"] = [t.get("date") for t in tri]
    return df.drop(columns=["triage"])


def _status_and_date(ws, cols: list[Col], n: int, choices: list[str], date_key: str) -> None:
    """A dropdown of *choices* on the status column and date validation on *date_key*, rows 2..n+1: the
    columns counsel types into (read back by `ddkit triage import`)."""
    from openpyxl.worksheet.datavalidation import DataValidation
    keys = [c.key for c in cols]
    j = get_column_letter(keys.index("status") + 1)
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=False,
                        showErrorMessage=True, errorTitle="Status", error="Choose " + ", ".join(choices))
    dv.add(f"{j}2:{j}{n + 1}")
    ws.add_data_validation(dv)
    dj = get_column_letter(keys.index(date_key) + 1)
    dd = DataValidation(type="date", operator="greaterThan", formula1="1")
    dd.add(f"{dj}2:{dj}{n + 1}")
    ws.add_data_validation(dd)


def _triage_validation(ws, cols: list[Col], n: int) -> None:
    _status_and_date(ws, cols, n, ["open", "accepted", "false-positive", "resolved"], "triage_date")


def remediation_frame(df: pd.DataFrame | None) -> pd.DataFrame:
    df = df.copy() if df is not None else pd.DataFrame()
    if "status" not in df:
        df["status"] = "Open"
    df["owner"] = None
    df["due_date"] = None
    return df


def _period(r: dict) -> str | None:
    return format_period(plain(r.get("period_start")), plain(r.get("period_end")))


REMEDIATION_SPEC = [
    Col("subject", "Subject", 16), Col("subject_type", "Type", 10),
    Col("contact", "Contact (roster e-mail)", 24,
        get=lambda r: "\n".join(str(plain(r.get("contact")) or "").split("; ")) or None),
    Col("gap", "Gap in the chain of title", 18), Col("document", "Document needed", 30),
    Col("period", "Period to cover", 13, get=_period), Col("lines_at_stake", "Lines at stake", 8, "int"),
    Col("ip_document", "Document on file", 12),
    Col("severity", "Severity", 9), Col("status", "Status", 11), Col("owner", "Owner", 13),
    Col("due_date", "Due date", 11, "date"),
]
# files_at_stake counts the findings' top files only: the Rewrite scope sheet has every file.
REMEDIATION_DROP = ("period_start", "period_end", "top_files", "files_at_stake")


def remediation_cols(df: pd.DataFrame) -> list[Col]:
    ids = [Col("rules", "Rule ids", 13, "id"), Col("finding_ids", "Finding ids", 12, "id")]
    return _cols(df, REMEDIATION_SPEC, REMEDIATION_DROP, ids)


def people_sheet_frame(s: Scan) -> pd.DataFrame:
    cols = ["person", "type", "vendor", "emails", "is_bot", "commits", "first_commit", "last_commit",
            "departed", "departed_status", "surviving_lines", "in_roster", "start_date", "end_date", "ip_assignment",
            "ip_assignment_date", "ip_document"]
    df = s.people
    extra = [c for c in s.roster.columns if c not in ("person", "emails", "row") and c not in cols]
    return df[[c for c in cols + extra if c in df.columns]]


PEOPLE_SPEC = [
    Col("person", "Person", 18), Col("type", "Type", 10), Col("vendor", "Vendor", 12),
    Col("emails", "E-mail addresses", 26, get=lambda r: "\n".join(r["emails"]) if isinstance(r.get("emails"), list)
        else r.get("emails")), Col("is_bot", "Bot", 5, "bool"), Col("commits", "Commits", 8, "int"),
    Col("first_commit", "First commit", 10.5, "date"), Col("last_commit", "Last commit", 10.5, "date"),
    Col("departed", "Departed", 8, "bool"), Col("departed_status", "Departure", 11),
    Col("surviving_lines", "Surviving lines", 9, "int"), Col("in_roster", "On the roster", 7, "bool"),
    Col("start_date", "Start date", 10.5, "date"),
    Col("end_date", "End date", 10.5, "date"), Col("ip_assignment", "IP assignment", 10),
    Col("ip_assignment_date", "Assignment signed on", 10.5, "date"), Col("ip_document", "Document on file", 12),
]


def ownership_by_file(own: pd.DataFrame) -> pd.DataFrame:
    """One row per file: its surviving lines and who holds them (the Ownership sheet)."""
    cols = ["path", "module", "lines", "owners", "top_owner_classification", "departed_share", "outsourced_share",
            "people"]
    if own is None or own.empty:
        return pd.DataFrame(columns=cols)
    # Plain Python over the columns: a pandas group per file costs ~1 s on a repository of 1,000 files.
    # (A row's file is checked for a missing path or module only when it is not yet a group, a file's sums
    # are one loop, the frame is made from columns rather than from a dict per row: 4,400 rows and 630 files
    # on pip, 5.2 ms -> 4.2.)
    groups: dict[tuple, list[tuple]] = {}
    for path, module, person, n, departed, typ, cls in zip(
            *(own[c].tolist() for c in ("path", "module", "person", "lines", "departed", "type", "classification"))):
        g = groups.get((path, module))
        if g is None:
            if is_missing(path) or is_missing(module):       # what groupby drops
                continue
            g = groups[(path, module)] = []
        g.append((person, int(n), bool(departed), typ, cls))
    rows = []
    for (path, module) in sorted(groups):
        g = groups[(path, module)]
        if len(g) > 1:
            g.sort(key=lambda x: (-x[1], x[0]))    # lines descending, then person
        total = gone = out = 0
        for _, n, departed, typ, _ in g:
            total += n
            if departed:
                gone += n
            if typ in ("contractor", "vendor"):
                out += n
        owners = "; ".join(f"{p} ({n})" for p, n, *_ in g[:6])
        if len(g) > 6:
            owners += f"; {len(g) - 6} others ({sum(x[1] for x in g[6:])})"
        rows.append((path, module, total, owners, g[0][4], round(gone / total, 4) if total else 0.0,
                     round(out / total, 4) if total else 0.0, len(g)))
    return pd.DataFrame(dict(zip(cols, map(list, zip(*rows)))) if rows else rows, columns=cols)


OWNERSHIP_SPEC = [
    Col("path", "File", 40), Col("module", "Module", 14), Col("lines", "Surviving lines", 9, "int"),
    Col("people", "People", 7, "int"), Col("owners", "Owners (surviving lines)", 48),
    Col("top_owner_classification", "Largest owner is", 14), Col("departed_share", "Share by departed people", 10, "pct"),
    Col("outsourced_share", "Share by contractors and vendors", 12, "pct"),
]
OWN_MODULE_SPEC = [
    Col("module", "Module", 16), Col("person", "Person", 20), Col("classification", "Classification", 18),
    Col("departed", "Departed", 8, "bool"), Col("lines", "Surviving lines", 10, "int"),
    Col("share_of_module", "Share of module", 10, "pct"),
]
OWN_CLASS_SPEC = [
    Col("module", "Module", 18), Col("classification", "Classification", 24), Col("lines", "Surviving lines", 10, "int"),
    Col("share_of_module", "Share of module", 10, "pct"),
]
LICENSE_SPEC = [
    Col("path", "File", 28), Col("license_spdx", "License (SPDX)", 16), Col("category", "Category", 12),
    Col("severity", "Severity", 9), Col("holders", "Copyright holders", 18), Col("copyrights", "Copyright notices", 24),
    Col("lines", "Lines", 7, "int"), Col("where", "At lines", 8,
                                         get=lambda r: None if plain(r.get("start_line")) is None else
                                         f"{int(r['start_line'])}–{int(plain(r.get('end_line')) or r['start_line'])}"),
    Col("vendored", "Vendored", 8, "bool"), Col("introduced_by", "Brought in by", 16),
    Col("introducer_type", "Their type", 10), Col("introducer_ip_status", "Their IP assignment", 10),
    Col("introduced_date", "Brought in on", 10.5, "date"), Col("introduced_sha", "Commit", 11, "sha"),
    Col("license_expression", "ScanCode license expression", 14), Col("scan_error", "Scan error", 12),
]
LICENSE_DROP = ("start_line", "end_line", "score")
BUS_SPEC = [
    Col("scope", "Scope", 16), Col("files", "Source files", 8, "int"), Col("truck_factor", "Truck factor", 8, "int"),
    Col("top_authors", "Top authors (files they know)", 50),
    Col("vendor_share", "Files known only to one vendor", 11, "pct"), Col("vendor_top", "That vendor", 14),
    Col("contractor_share", "Files known only to contractors", 11, "pct"),
    Col("departed_share", "Files known only to departed people", 11, "pct"),
    Col("orphaned_files", "Files with no author left", 9, "int"),
]
SIM_SPEC = [
    Col("scenario", "If these leave", 18), Col("scope", "Scope", 16), Col("files", "Source files", 8, "int"),
    Col("orphaned_files", "Files orphaned", 9, "int"), Col("truck_factor_before", "Truck factor now", 9, "int"),
    Col("truck_factor_after", "Truck factor after", 9, "int"), Col("orphaned", "Files left with no author", 60),
]
def _list(v: Any, n: int = 10) -> str | None:
    v = v if isinstance(v, (list, tuple)) else []
    return "; ".join(map(str, v[:n])) + (f" … and {len(v) - n} more" if len(v) > n else "") if v else None


def _modules_drop(v: Any) -> str | None:
    return "; ".join(f"{m['module']} ({m['truck_factor_before']} → {m['truck_factor_after']})" for m in v) \
        if isinstance(v, (list, tuple)) and len(v) else None


def _counts(v: Any, unit: str = "") -> str | None:
    return "; ".join(f"{k} ({n}{unit if n == 1 else unit + ('s' if unit else '')})" for k, n in v.items()) \
        if isinstance(v, dict) and v else None


def _periods(v: Any) -> str | None:
    if not isinstance(v, (list, tuple)):
        return None
    out = []
    for p in v:
        span = p["start"] if p["start"] == p["end"] else f"{p['start']} to {p['end']}"
        out.append(f"all of their work ({span})" if p.get("whole_work") else span)
    return "; ".join(out)


def _files(v: Any, n: int = 12) -> str | None:
    if not isinstance(v, (list, tuple)) or not len(v):
        return None
    return "; ".join(f"{f['path']} ({f['lines']})" for f in v[:n]) + (f" … and {len(v) - n} more" if len(v) > n else "")


RETENTION_SPEC = [
    Col("rank", "Rank", 6, "int"), Col("person", "Person", 18), Col("type", "Type", 10),
    Col("surviving_lines", "Surviving lines", 9, "int"), Col("files_known", "Source files they know", 9, "int"),
    Col("files_orphaned", "Files only they know (orphaned if they leave)", 12, "int"),
    Col("orphaned_files", "Those files", 40, get=lambda r: _list(r.get("orphaned_files"))),
    Col("modules_losing_knowledge", "Modules whose truck factor drops (now → after)", 30,
        get=lambda r: _modules_drop(r.get("modules_losing_knowledge"))),
    Col("truck_factor_drops", "Modules affected", 9, "int"),
    Col("repository_truck_factor_after", "Repository truck factor if they left", 11, "int"),
]
REWRITE_SPEC = [
    Col("subject", "Subject", 18), Col("subject_type", "Type", 10),
    Col("periods", "Period(s) to rewrite", 22, get=lambda r: _periods(r.get("periods"))),
    Col("nfiles", "Files", 7, "int", get=lambda r: len(r.get("files") or [])),
    Col("surviving_lines", "Surviving lines", 9, "int"),
    Col("share_of_repository", "Share of all surviving lines", 10, "pct"),
    Col("modules", "Modules (lines)", 20, get=lambda r: _counts(r.get("modules"))),
    Col("files", "Files (lines)", 38, get=lambda r: _files(r.get("files"))),
    Col("current_staff_who_know", "Current staff who know these files (files)", 24,
        get=lambda r: _counts(r.get("current_staff_who_know"))),
    Col("nobody_on_staff_knows", "Source files no current staff member knows", 11, "int"),
]
# The scanned repository's own triage file: the other side's claims, shown beside the findings they are
# about and never applied (the import never reads this sheet).
TRIAGE_CLAIMS_SPEC = [
    Col("finding_id", "Finding id", 14, "id", get=lambda r: r.get("id")),
    Col("status", "Claimed status", 11), Col("reason", "Claimed reason", 30), Col("by", "Claimed by", 12),
    Col("date", "Claim date", 10.5, "date"),
    Col("finding_severity", "Severity", 9), Col("finding_subject", "Subject", 22),
    Col("finding_status", "Status in this report", 11,
        get=lambda r: r.get("finding_status") or "no such finding"),
    Col("source", "Where the claim is written", 26), Col("finding_rule", "Rule id", 14, "id"),
]
SECURITY_SPEC = [
    Col("check", "Check", 22), Col("status", "Status", 9), Col("severity", "Severity", 9), Col("detail", "Detail", 24),
    Col("path", "File", 26), Col("line", "Line", 6, "int"), Col("date", "Date", 10.5, "date"),
    Col("author", "Author", 16), Col("commit", "Commit", 11, "sha"), Col("fingerprint", "Fingerprint", 20),
    Col("tier", "Tier", 9), Col("detector", "Detector", 16, hidden=True),
    Col("reason", "Why downgraded", 18), Col("paths", "All paths", 24, max_lines=6),
]
CLASSES = ["employee", "founder", "contractor", "vendor", "intern", "advisor", "unknown"]


def trends_frame(df: pd.DataFrame) -> pd.DataFrame:
    return df if df is not None else pd.DataFrame()


def trends_cols(df: pd.DataFrame) -> list[Col]:
    spec = [Col("quarter", "Quarter", 9), Col("commits", "Commits", 9, "int"), Col("added_lines", "Lines added", 10, "int")]
    for c in CLASSES:
        spec.append(Col(f"{c}_lines", f"Lines by {c}s" if c != "unknown" else "Lines by people not on the roster",
                        11, "int"))
    spec.append(Col("outsourced_share", "Outsourced share of lines added", 11, "pct"))
    drop = tuple(f"{c}_commits" for c in CLASSES)
    return _cols(df, spec, drop)


# ------------------------------------------------------------------ sheets
def _labels(val: bool = False, percent: bool = False):
    """Data labels that show the number only (not the series or category name)."""
    from openpyxl.chart.label import DataLabelList
    d = DataLabelList()
    d.showVal, d.showPercent = val, percent
    d.showSerName = d.showCatName = d.showLegendKey = d.showLeaderLines = False
    return d


def _data_sheet(wb, s: Scan, title: str, df: pd.DataFrame | None, cols: list[Col],
                style: Callable | None = None, material: bool = False, note: str | None = None) -> Any:
    """One sheet, one table. With *material*, rows about de-minimis people (materiality in the rules: not
    on the roster, few surviving lines) are filtered out of the print but stay in the table. *note*: a
    line for the page header."""
    ws = wb.create_sheet(title)
    df = df if df is not None else pd.DataFrame()
    remote = s.repo.remote
    show = None
    if material and len(df) and "person" in df:
        small = de_minimis_people(s)
        if small:
            df = df.assign(material=~df["person"].isin(small))
            cols = cols + [Col("material", "Material (not de minimis)", 10, "bool")]
            hidden = int((~df["material"]).sum())
            if hidden:
                show = ("material", "Yes")
                note = f"{hidden} rows about de-minimis contributors hidden by the filter"
    last = write_cols(ws, df, title, cols, link=lambda sha: commit_url(remote, sha), style=style or _severity_style,
                      style_cols=None if style else SEVERITY_COLS, show_only=show, deferred=True)
    page_setup(ws, _company(s), s.as_of.isoformat(), len(cols), last, note=note)
    return ws


SET_ASIDE_SPEC = [Col("path", "File", 40), Col("line", "Line", 6, "int"), Col("detector", "Detector", 26),
                  Col("reason", "Why set aside", 40)]


def _set_aside_table(ws, s: Scan, last: int, width: int) -> None:
    """Below the Security findings: every secret match the context filter set aside, with why (never the
    value), so that counsel sees what was judged not to be a secret. The lines above the table are short
    (one per reason) and unwrapped: each prints on one line across the empty cells to its right."""
    rows = s.stats.secrets.get("set_aside") or []
    counts = s.stats.secrets.get("set_aside_counts") or {}
    n = len(rows)
    lines = [(f"Secret matches set aside (judged not to be a secret): {n}", SECTION_FONT)]
    lines += [(f"{why}: " + ", ".join(f"{d} {k}" for d, k in per.items()), None) for why, per in counts.items()]
    lines.append(("--secrets-strict reports them as low findings instead." if not s.options.get("secrets_strict")
                  else "Reported as low findings above (--secrets-strict).", None))
    r = last + 2
    for k, (text, font) in enumerate(lines):
        set_cell(ws, r + k, 1, text, font)
    end = r + len(lines) - 1
    if n:
        # The findings' table sets the column widths and the frozen header: kept.
        widths = {k: v.width for k, v in ws.column_dimensions.items()}
        freeze, titles = ws.freeze_panes, ws.print_title_rows
        end = write_cols(ws, pd.DataFrame(rows, columns=["path", "line", "detector", "reason"]), "SecretsSetAside",
                         [Col(c.key, c.label, c.width, c.kind) for c in SET_ASIDE_SPEC], start_row=end + 1,
                         style=_severity_style, deferred=True)
        for k, w in widths.items():
            ws.column_dimensions[k].width = max(w or 0, ws.column_dimensions[k].width or 0)
        ws.freeze_panes, ws.print_title_rows = freeze, titles
    page_setup(ws, _company(s), s.as_of.isoformat(), max(width, len(SET_ASIDE_SPEC)), end)


def de_minimis_people(s: Scan) -> set[str]:
    """People whose findings the materiality rules roll up: not on the roster, not a bot, and too few
    surviving lines (rules/findings.yaml, materiality)."""
    m = s.rules.get("findings", {}).get("materiality", {}) or {}
    min_lines, min_share = int(m.get("min_lines", 0)), float(m.get("min_share", 0.0))
    ppl = s.people
    if not min_lines or ppl is None or ppl.empty:
        return set()
    total = int(ppl["surviving_lines"].fillna(0).sum())
    out = set()
    for p, lines, roster, bot in zip(ppl["person"], ppl["surviving_lines"].fillna(0), ppl["in_roster"].astype(bool),
                                     ppl["is_bot"].astype(bool)):
        share = lines / total if total else 0.0
        if not roster and not bot and lines < min_lines and share < min_share:
            out.add(p)
    return out


def _company(s: Scan) -> str:
    return s.company.name or Path(s.repo.path).name


def _remediation_sheet(wb, s: Scan) -> None:
    df = remediation_frame(s.remediation)
    cols = remediation_cols(df)
    ws = _data_sheet(wb, s, "Remediation", df, cols)
    if len(df):
        keys = [c.key for c in cols]
        _status_and_date(ws, cols, len(df), ["Open", "Requested", "Signed", "Not needed"], "due_date")
        materialize(ws)       # the table's cells, to change them
        for r in range(2, len(df) + 2):
            ws.cell(row=r, column=keys.index("due_date") + 1).number_format = "yyyy-mm-dd"


def _rules_sheet(wb, s: Scan) -> None:
    cat = s.rules.catalogue
    rows = []
    for rid, e in cat.items():
        doc = e.get("document")
        rows.append(dict(rule=rid, area=AREA_NAMES.get(str(e.get("area")), e.get("area")),
                         severity=s.rules.severity(rid), title=e.get("title"),
                         explanation=f"{str(e.get('meaning', '')).rstrip('.')}. {str(e.get('remediation', '')).rstrip('.')}.",
                         document=doc))
    cols = [Col("rule", "Rule id", 24), Col("area", "Area", 14), Col("severity", "Severity in force", 9),
            Col("title", "Title", 26), Col("explanation", "What it means legally, and what fixes it", 80),
            Col("document", "Document that fixes it", 24)]
    _data_sheet(wb, s, "Rules", pd.DataFrame(rows), cols)


def _trends_sheet(wb, s: Scan) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.worksheet.pagebreak import Break
    df = trends_frame(s.trends)
    cols = trends_cols(df)
    ws = _data_sheet(wb, s, "Trends", df, cols)
    n = len(df)
    if n == 0:
        return
    keys = [c.key for c in cols]
    # Each chart on a page of its own (a row break before each), so that none is split.
    top = n + 2
    ws.row_breaks.append(Break(id=n + 1))
    ws.row_breaks.append(Break(id=top + 22))
    bar = BarChart()
    bar.type, bar.grouping, bar.overlap = "col", "stacked", 100
    bar.title = "Lines added per quarter, by who wrote them"
    for c in CLASSES:
        k = f"{c}_lines"
        if k in df and df[k].sum() > 0:
            j = keys.index(k) + 1
            bar.add_data(Reference(ws, min_col=j, min_row=1, max_row=n + 1), titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
    bar.y_axis.title = "Lines added"
    bar.y_axis.scaling.min = 0
    bar.height, bar.width = 9, 24
    bar.legend.position = "b"
    ws.add_chart(bar, f"A{top}")
    if "outsourced_share" in keys:
        line = LineChart()
        line.title = "Share of lines added by contractors and vendors (0–100%)"
        j = keys.index("outsourced_share") + 1
        line.add_data(Reference(ws, min_col=j, min_row=1, max_row=n + 1), titles_from_data=True)
        line.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
        for ser in line.series:
            ser.smooth = False                      # straight lines: no overshoot above 100% or below 0
            ser.marker.symbol = "circle"
        line.y_axis.scaling.min, line.y_axis.scaling.max = 0, 1
        line.y_axis.number_format = "0%"
        line.y_axis.majorUnit = 0.25
        line.legend = None
        if n <= 24:
            line.dataLabels = _labels(val=True)
            line.dataLabels.numFmt = "0%"
            line.dataLabels.position = "t"
        line.height, line.width = 9, 24
        ws.add_chart(line, f"A{top + 23}")
    page_setup(ws, _company(s), s.as_of.isoformat(), len(cols), top + 44)


def methodology_rows(s: Scan) -> list[tuple[str, Any]]:
    from ..score import explanation
    f = s.files
    not_scanned = f[f["category"] != "text"] if len(f) else f
    v = s.versions or {}
    scanned = int((f["category"] == "text").sum()) if len(f) else 0
    rows: list[tuple[str, Any]] = [
        ("Report", "ddkit acquisition-readiness workbook: a technical due-diligence review of one git repository, "
                   "covering who wrote the code, whether the company can show it owns it, third-party licenses, "
                   "secrets and knowledge concentration."),
        ("Repository", strip_credentials(s.repo.path)),
        ("Remote", s.repo.remote or "(none)"),
        ("Ref scanned", s.repo.ref),
        ("Commit", s.repo.commit or "(empty repository)"),
        ("As of", s.as_of.isoformat()),
        ("Company profile", s.company.source or "(none given)"),
        ("Roster", "(none given)" if s.roster.empty else f"{len(s.roster)} people"),
        ("Triage file applied", s.options.get("triage") or "(none)"),
        ("The repository's own triage file", f"{len(s.triage_claims)} claimed decisions, not applied (Triage claims "
         f"sheet)" if len(s.triage_claims) else "(none)"),
        ("ddkit version", v.get("ddkit", __version__)),
        ("git version", v.get("git", "unknown")),
        ("ScanCode version", f"scancode-toolkit {v['scancode']}" if "scancode" in v else
         "ScanCode not run (licenses not scanned)"),
        ("Secrets engine version", "; ".join(f"{k} {x}" for k, x in v.items() if k not in ("ddkit", "git", "scancode"))
         or "not run (secrets not scanned)"),
        ("Rules in force", "; ".join(s.rules.sources)),
        ("Rules SHA-256", s.rules.sha256),
        ("Shallow history", "yes: history is truncated" if s.repo.is_shallow else "no"),
        ("Commits", len(s.commits)),
        ("Files at the ref", len(f)),
        ("Files scanned for ownership", scanned),
        ("Files not scanned for ownership", len(not_scanned)),
    ]
    if len(not_scanned):
        for cat, g in not_scanned.groupby("category"):
            reasons = [r for r in g["reason"].dropna().unique() if r][:3]
            rows.append((f"Not scanned: {cat}", f"{len(g)} files ({'; '.join(reasons) or cat}), e.g. " + "; ".join(
                g["path"].head(8))))
    ns = s.not_scanned_for_licenses
    if ns is not None and len(ns):
        for reason, g in ns.groupby("reason"):
            rows.append(("Not scanned for licenses", f"{reason}: {len(g)} files, e.g. " + "; ".join(g["path"].head(5))))
    rows += [
        ("Definition: surviving lines", "Lines at the scanned ref attributed by whitespace-insensitive blame "
         "(git blame -w), after .mailmap, in text files that are not vendored or generated, counted per person."),
        ("Definition: departed", "Roster end date on or before the as-of date; for someone not on the roster, "
         "no commit in the inactivity window before the as-of date. Bots never depart."),
        ("Definition: truck factor", "Avelino et al. (ICPC 2016) degree-of-authorship algorithm: the fewest "
         "authors whose removal leaves more than half of the source files without an author. A person is an "
         "author of a file when their degree of authorship (from creating the file and the number of their "
         "changes, against everyone else's) is above 75% of the file's best."),
        ("Definition: identities", "Raw git identities are resolved through the .mailmap at the scanned ref, "
         "GitHub/GitLab no-reply forms, bot patterns and the roster's e-mails. Identities that match no roster "
         "entry are listed as unresolved (People sheet, type unknown), never dropped."),
        ("Definition: IP findings", "Work before the incorporation date; work before the person's assignment "
         "was signed; contractors and vendors without a signed written assignment (software is not work made "
         "for hire); employees, founders, interns and advisors without a signed PIIA; contributors not on the "
         "roster; work after the end date. Dates are the author dates in the author's time zone. Each rule is "
         "explained on the Rules sheet."),
        ("Definition: remediation", "One row per gap in the chain of title: a person whose gaps need different "
         "documents or cover different periods has one row per gap, each with only the period it covers."),
        ("Definition: retention", "Current employees and founders (not departed), ranked by the source files "
         "only they know (orphaned if they leave), then the modules whose truck factor would drop, from the "
         "off-boarding simulation."),
        ("Definition: rewrite scope", "For each remediation subject: the surviving lines written in the gap "
         "periods (all of the subject's work when the gap has no period), their files and modules, and which "
         "current employees and founders are authors of those files: the size of a clean-room rewrite if the "
         "signature cannot be obtained."),
        ("Definition: licenses", "ScanCode (scancode-toolkit " + v.get("scancode", "unknown") + ") on the files at "
         "the ref, after a keyword screen; categories from ScanCode's license database; policy per outbound "
         "license in the rules." if s.options.get("licenses") else "Licenses were not scanned (--no-licenses)."),
        ("Definition: secrets", "The secrets engine (" + ("; ".join(f"{k} {x}" for k, x in v.items()
         if k not in ("ddkit", "git", "scancode")) or "see above") + ") on every line added in the history and on "
         "the files at the ref. Tiers: provider (a recognised credential format, e.g. an AWS key), generic (a "
         "password or token assigned in code), entropy (a random-looking string: a guess). A committed "
         "credential file (.netrc, .pgpass, Docker config.json, ...) is reported whatever its value looks like; "
         "a weak or placeholder value, or a test or documentation path, lowers it to low, with the reason. "
         "Matches judged not to be secrets (placeholders, hashes, test fixtures, documentation examples) are "
         "set aside and listed, with why, below the Security sheet's findings (--secrets-strict reports them). "
         "Reports show a fingerprint, never the secret." if s.options.get("secrets", True) else "Secrets were not scanned."),
        ("Definition: bulk imports", "A commit whose newly created files (not renames, copies, vendored or generated "
         "files) hold many added lines across many files at once (thresholds on the Rules sheet) and whose surviving "
         "lines are material. Severity from the facts: high before incorporation or the author's start date, without "
         "an assignment in force on that day, or with other copyright holders in those files; medium otherwise. A bulk "
         "import is a question to ask, not proof of copying: git cannot show where code came from."),
        ("Definition: copied code", "With --reference: winnowing fingerprints over normalised tokens (identifiers, "
         "strings and numbers replaced, comments and layout dropped), so copies are found after reformatting and "
         "renaming; one finding per file of this repository, with its line ranges and the reference files and lines "
         "it matches. Code copied and then rewritten beyond recognition, or copied from code not given as a "
         "reference, is not found." if s.options.get("references") else
         "No reference corpus was given (--reference): copied code was not compared. This is not a gap in the "
         "score (not listed under Not assessed): a reference is evidence about one case (a claimant's or a previous "
         "employer's code), not a check every scan can run; code that arrived fully formed is still judged from the "
         "history (bulk imports)."),
        ("Definition: AI-assisted code", "Commits carrying a marker of an AI tool (rules/ai.yaml): a tool's identity "
         "as author or Co-authored-by (Claude, Cursor, Codex, Devin, aider, the Copilot coding agent), aider's "
         "'(aider)' author suffix, an Assisted-by trailer naming a tool by identity or TOOL:MODEL form (never by a "
         "first name), a 'Generated with [tool]' line; and agent configuration files at the ref. Surviving lines "
         "'as generated' are those blame still gives to a marked commit. What git metadata cannot show: AI "
         "assistance nobody marked (editor completions, pasted chat answers, a squash that dropped the trailers), "
         "and how much of a marked commit the tool wrote rather than the person. The ledger is a floor, not a "
         "measurement of all AI use. An AI tool is never a person: the human author, co-author or committer is "
         "named as responsible."),
        ("Readiness score", explanation(s.rules)),
        ("Limits", "ddkit reads the repository, not the contracts: a finding says a document is needed or missing "
         "from the roster, not that rights are lacking. Blame shows who last changed a line, not who had the idea; "
         "code copied in by a person is theirs in this report unless a license notice says otherwise. Binary, "
         "vendored and generated files are not attributed. Secret detection finds known credential formats and "
         "high-entropy strings; it can miss others and flag test values. Dates and identities are as recorded by "
         "git and can be set by the author."),
    ]
    rows += vuln_methodology_rows(s)   # vulns
    unresolved = (s.people[~s.people["resolved"].astype(bool)] if len(s.people) and "resolved" in s.people
                  else s.people.iloc[:0])
    if len(unresolved):
        rows.append(("Identities not resolved", f"{len(unresolved)}: " + "; ".join(unresolved["person"].head(30)) +
                     (f" … and {len(unresolved) - 30} more (People sheet)" if len(unresolved) > 30 else "")))
    # Warnings: one row per kind, the first few in full.
    kinds: dict[str, list[str]] = {}
    for w in s.warnings:
        kinds.setdefault(w.split(":", 1)[0][:60], []).append(w)
    for k, ws_ in kinds.items():
        if len(ws_) <= 3:
            rows += [("Warning", w) for w in ws_]
        else:
            rows.append(("Warning", f"{k}: {len(ws_)} times, e.g. " + " | ".join(ws_[:3])))
    return rows


def _methodology_sheet(wb, s: Scan) -> None:
    ws = wb.create_sheet("Methodology")
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 110
    for j, h in enumerate(("Item", "Value"), start=1):
        c = set_cell(ws, 1, j, h, HEADER_FONT)
        c.fill = HEADER_FILL
    last = key_value_rows(ws, methodology_rows(s), 2, (30, 110)) - 1
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    page_setup(ws, _company(s), s.as_of.isoformat(), 2, last)


# ------------------------------------------------------------------ Summary
def _vuln_figure(sm: dict) -> str:
    """vulns: the Summary's line: not assessed, or the open count and the database's snapshot date."""
    v = sm.get("vulnerabilities") or {}
    if not v.get("assessed"):
        return "not assessed (no --vuln-db)"
    return (f"{v.get('open', 0)} in {v.get('vulnerable_packages', 0)} packages (database of {v.get('snapshot')}"
            + (", stale" if v.get("stale") else "") + ")")


def _share_text(share) -> str:
    """A share as a percentage; a share too small to show at one decimal is "under 0.1%", never "0.0%" (counsel
    reads 0.0% as none: requests has one AI-marked commit, 3 of 19,437 surviving lines)."""
    if share is None:
        return "n/a"
    return "under 0.1%" if 0 < share < 0.0005 else f"{share:.1%}"


def _summary_sheet(wb, s: Scan) -> None:
    from openpyxl.chart import BarChart, PieChart, Reference

    from ..score import explanation
    ws = wb.active
    ws.title = "Summary"
    ws.sheet_view.showGridLines = False
    widths = (30, 13, 13, 13, 22, 36)
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    merged_w = sum(widths[1:])
    ws.column_dimensions["G"].width = 3
    for col in "HIJKLMN":
        ws.column_dimensions[col].width = 11
    sm = s.summary
    set_cell(ws, 1, 1, f"Acquisition-readiness report: {_company(s)}", TITLE_FONT)
    commit = s.repo.commit or "(empty repository)"
    rows = [("Repository", s.repo.remote or strip_credentials(s.repo.path)),
            ("Commit scanned", f"{commit[:10]} (ref {s.repo.ref}; full id in the Methodology sheet)"
             if s.repo.commit else commit),
            ("As of", s.as_of), ("Generated by", f"ddkit {__version__}")]
    r = 3
    for key, v in rows:
        set_cell(ws, r, 1, key, BOLD)
        c = set_cell(ws, r, 2, v)
        if isinstance(v, dt.date):
            c.number_format = "yyyy-mm-dd"
            c.alignment = Alignment(horizontal="left")
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=6)
        r += 1
    url = commit_url(s.repo.remote, s.repo.commit) if s.repo.commit else None
    if url:
        ws.cell(row=4, column=2).hyperlink = url
    r += 1
    set_cell(ws, r, 1, "Readiness score", Font(name="Arial", bold=True, size=14))
    set_cell(ws, r, 2, sm.get("readiness_score"), Font(name="Arial", bold=True, size=20))
    rc = set_cell(ws, r, 3, str(sm.get("rating", "")).upper(), Font(name="Arial", bold=True, color="FFFFFF"))
    rc.fill = PatternFill("solid", fgColor=RATING_FILL.get(sm.get("rating") or "", "FFFFFF"))
    rc.alignment = Alignment(horizontal="center", vertical="center")
    if sm.get("partial"):
        set_cell(ws, r, 4, "Partial: see Not assessed below", Font(name="Arial", bold=True))
    ws.row_dimensions[r].height = 28
    r += 2
    for j, h in enumerate(("Area", "Score", "Rating", "Findings"), start=1):
        hc = set_cell(ws, r, j, h, HEADER_FONT)
        hc.fill = HEADER_FILL
    r += 1
    for area, a in (sm.get("areas") or {}).items():
        set_cell(ws, r, 1, AREA_NAMES.get(area, area))
        set_cell(ws, r, 2, a["score"])
        cc = set_cell(ws, r, 3, a["rating"])
        cc.fill = PatternFill("solid", fgColor=RATING_FILL.get(a["rating"], "FFFFFF"))
        set_cell(ws, r, 4, a["findings"])
        r += 1
    r += 1
    # Findings by severity and key figures side by side (severity A:B, key figures D:F).
    set_cell(ws, r, 1, "Findings by severity", SECTION_FONT)
    set_cell(ws, r, 4, "Key figures", SECTION_FONT)
    r += 1
    sev_first = r
    share = sm.get("outsourced_share")
    figures = [("Commits", sm.get("commits")), ("Contributors (people)", sm.get("contributors")),
               ("Departed contributors", sm.get("departed")), ("Identities not resolved", sm.get("unresolved_identities")),
               ("Truck factor", sm.get("truck_factor")),
               ("Code from AI-marked commits", _share_text(sm.get("ai_share"))),
               ("Lines by contractors and vendors", f"{share:.0%}" if share is not None else "n/a"),
               ("Product license (policy)", f"{sm.get('outbound_license') or 'proprietary'} ("
                                            f"{sm.get('outbound_license_source') or 'default'})"),
               ("Known vulnerabilities", _vuln_figure(sm))]   # vulns
    sev = list((sm.get("findings_by_severity") or {}).items())
    for k in range(max(len(sev), len(figures))):
        if k < len(sev):
            name, n = sev[k]
            cc = set_cell(ws, r + k, 1, name.capitalize())
            cc.fill = PatternFill("solid", fgColor=SEV_FILL.get(name, "FFFFFF"))
            set_cell(ws, r + k, 2, int(n))
        if k < len(figures):
            set_cell(ws, r + k, 4, figures[k][0])
            ws.merge_cells(start_row=r + k, start_column=4, end_row=r + k, end_column=5)
            c = set_cell(ws, r + k, 6, figures[k][1])
            c.alignment = Alignment(horizontal="left")
    sev_last = sev_first + len(sev) - 1
    r += max(len(sev), len(figures)) + 1

    def block(title: str, items: list[tuple[str, str, str | None]], r: int) -> int:
        set_cell(ws, r, 1, title, SECTION_FONT)
        r += 1
        for left, text, fill in items:
            a = set_cell(ws, r, 1, left, Font(name="Arial", size=9, bold=True,
                                              color="FFFFFF" if fill in (SEV_FILL["critical"], SEV_FILL["high"]) else "000000"))
            a.alignment = WRAP
            if fill:
                a.fill = PatternFill("solid", fgColor=fill)
            text = fit_text(text, merged_w, max_lines=4)
            b = set_cell(ws, r, 2, text)
            b.alignment = WRAP
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=6)
            ws.row_dimensions[r].height = row_height(max(text_lines(text, merged_w), text_lines(left, widths[0], True)))
            r += 1
        if not items:
            set_cell(ws, r, 2, "None.")
            r += 1
        return r + 1

    not_assessed = sm.get("not_assessed") or []
    if not_assessed:   # what the score leaves out, and why (a partial score is never green)
        r = block("Not assessed: the score is partial (never green)",
                  [(f"{k}.", str(what), None) for k, what in enumerate(not_assessed, start=1)], r)
    open_findings = s.findings[s.findings["status"] == "open"] if "status" in s.findings else s.findings
    top = top_findings(open_findings, s.people, s.rules.catalogue, 10)
    items = [(f"{k}. {str(f['severity']).upper()} · {AREA_NAMES.get(str(f['area']), f['area'])}", text,
              SEV_FILL.get(str(f["severity"]))) for k, (f, text) in enumerate(top, start=1)]
    r = block("Top findings: the problem → the fix", items, r)
    ret = s.retention if s.retention is not None else pd.DataFrame()
    items = []
    for x in records(ret.head(5)):
        drop = _modules_drop(x.get("modules_losing_knowledge"))
        mods = f"; truck factor drops in {drop}" if drop else ""
        items.append((f"{x['rank']}. {x['person']} ({x['type']})",
                      f"the only author of {x['files_orphaned']} of the {x['files_known']} source files they know"
                      f"{mods}; {x['surviving_lines']} surviving lines", None))
    r = block("Whom to retain: current staff whose departure would orphan the most (Retention sheet)", items, r)
    rw = s.rewrite_scope if s.rewrite_scope is not None else pd.DataFrame()
    items = []
    for x in records(rw.head(6)):
        who = _counts(x.get("current_staff_who_know"), " file") or "no current employee or founder"
        nf = len(x.get("files") or [])
        items.append((f"{x['subject']} ({x['subject_type']})",
                      f"rewrite {x['surviving_lines']} surviving lines ({x['share_of_repository']:.1%} of the code) in "
                      f"{nf} file{'s' if nf != 1 else ''} — modules {_counts(x.get('modules'))}; known on staff by: {who}",
                      None))
    if len(rw) > 6:
        items.append(("…", f"and {len(rw) - 6} more subjects (Rewrite scope sheet)", None))
    r = block("If the paperwork cannot be obtained: clean-room rewrite scope (Rewrite scope sheet)", items, r)
    set_cell(ws, r, 1, "How the score is computed", BOLD).alignment = WRAP
    text = explanation(s.rules)
    cc = set_cell(ws, r, 2, text)
    ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=6)
    cc.alignment = WRAP
    ws.row_dimensions[r].height = row_height(text_lines(text, merged_w))
    last = r
    # Charts, with numbers on them: findings by severity; surviving lines by classification.
    ch = BarChart()
    ch.type = "bar"
    ch.title = "Findings by severity"
    ch.legend = None
    ch.add_data(Reference(ws, min_col=2, min_row=sev_first, max_row=sev_last), titles_from_data=False)
    ch.set_categories(Reference(ws, min_col=1, min_row=sev_first, max_row=sev_last))
    ch.x_axis.scaling.orientation = "maxMin"
    ch.dataLabels = _labels(val=True)
    ch.height, ch.width = 6.5, 13
    ws.add_chart(ch, "H3")
    own = s.ownership
    if own is not None and len(own):
        by = own.groupby("classification")["lines"].sum().sort_values(ascending=False)
        base = 20
        set_cell(ws, base, 8, "Surviving lines by classification", BOLD)
        for k, (cl, n) in enumerate(by.items(), start=base + 1):
            set_cell(ws, k, 8, cl)
            ws.merge_cells(start_row=k, start_column=8, end_row=k, end_column=10)
            set_cell(ws, k, 11, int(n)).number_format = "#,##0"
            set_cell(ws, k, 12, float(n) / float(by.sum())).number_format = "0%"
        pie = PieChart()
        pie.title = "Surviving lines by classification"
        pie.add_data(Reference(ws, min_col=11, min_row=base + 1, max_row=base + len(by)), titles_from_data=False)
        pie.set_categories(Reference(ws, min_col=8, min_row=base + 1, max_row=base + len(by)))
        pie.dataLabels = _labels(percent=True)
        pie.legend.position = "r"
        pie.height, pie.width = 7.5, 13
        ws.add_chart(pie, f"H{base + len(by) + 2}")
    page_setup(ws, _company(s), s.as_of.isoformat(), 14, max(last, 45), fit_height=1)


# ------------------------------------------------------------------ the workbook
@xlsx_save.gc_paused()
def write_workbook(s: Scan, path: Path) -> Path:
    wb = Workbook()
    set_default_font(wb)
    _summary_sheet(wb, s)
    cat = s.rules.catalogue
    df = findings_frame(s.findings, False)          # open findings; triaged ones on the Triaged sheet
    cols = findings_cols(df, cat)
    ws = _data_sheet(wb, s, "Findings", df, cols)
    if len(df):
        _triage_validation(ws, cols, len(df))
    _remediation_sheet(wb, s)
    _data_sheet(wb, s, "Rewrite scope", s.rewrite_scope, REWRITE_SPEC)
    ppl = people_sheet_frame(s)
    _data_sheet(wb, s, "People", ppl, _cols(ppl, PEOPLE_SPEC), material=True)
    _data_sheet(wb, s, "Ownership", ownership_by_file(s.ownership), OWNERSHIP_SPEC)
    _data_sheet(wb, s, "Ownership by module", s.ownership_by_module, OWN_MODULE_SPEC, material=True)
    _data_sheet(wb, s, "Ownership by class", s.ownership_by_classification, OWN_CLASS_SPEC)
    _data_sheet(wb, s, "Licenses", s.licenses, _cols(s.licenses, LICENSE_SPEC, LICENSE_DROP, [Col("rule", "Rule id", 14, "id")]))
    _data_sheet(wb, s, "Dependencies", s.dependencies, DEPENDENCY_SPEC)   # deps
    _data_sheet(wb, s, "Vulnerabilities", getattr(s, "vulnerabilities", None), VULN_SPEC)   # vulns
    from .ai_sheet import AI_SPEC, ai_frame  # provenance: the AI ledger (before Bus Factor, per the contract)
    _data_sheet(wb, s, "AI-assisted code", ai_frame(s), AI_SPEC)
    _data_sheet(wb, s, "Bus Factor", s.bus_factor, BUS_SPEC)
    sim = s.simulations if s.simulations is not None else pd.DataFrame()
    _data_sheet(wb, s, "Off-boarding", sim, SIM_SPEC)
    _data_sheet(wb, s, "Retention", s.retention, RETENTION_SPEC)
    _trends_sheet(wb, s)
    if s.security is not None:
        cols = _cols(s.security, SECURITY_SPEC, ("sha",), [Col("rule", "Rule id", 14, "id")])
        _set_aside_table(_data_sheet(wb, s, "Security", s.security, cols), s, len(s.security) + 1, len(cols))
    # Triaged: the findings counsel decided (accepted, false positive, resolved), never dropped.
    df = findings_frame(s.findings, True)
    cols = findings_cols(df, cat)
    claimed = len(s.triage_claims)
    ws = _data_sheet(wb, s, "Triaged", df, cols,
                     note=f"the scanned repository's own triage file claims {claimed} decisions, not applied: "
                          f"Triage claims sheet" if claimed else None)
    if len(df):
        _triage_validation(ws, cols, len(df))
    if len(s.triage_claims):
        _data_sheet(wb, s, "Triage claims", s.triage_claims, TRIAGE_CLAIMS_SPEC)
    _rules_sheet(wb, s)
    _methodology_sheet(wb, s)
    _stamp(wb, s.as_of)
    atomic_write(path, functools.partial(xlsx_save.save, wb))
    return path


def _stamp(wb: Workbook, as_of: dt.date) -> None:
    """The document's creation date comes from as_of, not from the clock, so two writes of the same scan differ
    only in the modification time the save stamps (openpyxl's behaviour, kept)."""
    stamp = dt.datetime.combine(as_of, dt.time(0, 0))
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "ddkit"


@xlsx_save.gc_paused()
def write_portfolio_workbook(p: Portfolio, path: Path) -> Path:
    repos = p.repositories
    findings = p.findings
    wb = Workbook()
    set_default_font(wb)
    ws = wb.active
    ws.title = "Summary"
    set_cell(ws, 1, 1, "Portfolio acquisition-readiness summary", TITLE_FONT)
    ok = repos[repos["status"] == "ok"]
    counted = findings[findings["status"] == "open"] if "status" in findings and len(findings) else findings
    sev = counted["severity"].value_counts().to_dict() if len(counted) else {}
    rows = [("As of", p.as_of.isoformat()), ("Repositories", len(repos)), ("Scanned", len(ok)),
            ("Failed", int((repos["status"] == "failed").sum())),
            ("Red / amber / green", " / ".join(str(int((ok["rating"] == c).sum())) for c in ("red", "amber", "green"))),
            *[(f"Findings: {k}", int(sev.get(k, 0))) for k in SEVERITIES],
            ("People (merged across repositories)", int((~p.people["is_bot"]).sum()) if len(p.people) else 0)]
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 36, 60
    last = key_value_rows(ws, rows, 3, (36, 60))
    as_of = p.as_of.isoformat()
    page_setup(ws, "Portfolio", as_of, 2, last, fit_height=1)
    wide = {"evidence": 50, "remediation": 32, "error": 40, "document": 30, "repositories": 24, "emails": 26}
    kinds = {"is_bot": "bool", "departed": "bool", "in_roster": "bool", "cached": "bool", "first_commit": "date",
             "last_commit": "date", "period_start": "date", "period_end": "date", "outsourced_share": "pct",
             "commit": "sha", "id": "id", "rule": "id", "rules": "id", "finding_ids": "id"}
    for name, df in (("Repositories", repos), ("Findings", findings), ("Remediation", p.remediation),
                     ("People", p.people.drop(columns=["person_id"], errors="ignore")),
                     ("Dependencies", p.dependencies)):   # deps
        ids = [c for c in df.columns if kinds.get(c) == "id"]
        order = [c for c in df.columns if c not in ids] + ids
        cols = [Col(c, label(c), wide.get(c, 14 if kinds.get(c) != "id" else 13), kinds.get(c, "text")) for c in order]
        sheet = wb.create_sheet(name)
        last = write_cols(sheet, df, name, cols, style=_severity_style, style_cols=SEVERITY_COLS, deferred=True)
        page_setup(sheet, "Portfolio", as_of, len(cols), last)
    meth = wb.create_sheet("Methodology")
    meth.column_dimensions["A"].width, meth.column_dimensions["B"].width = 30, 110
    last = key_value_rows(meth, [
        ("Report", "ddkit portfolio workbook"), ("ddkit version", __version__), ("As of", p.as_of.isoformat()),
        ("Method", "Each repository is scanned exactly as `ddkit scan` does; a single repository's Methodology "
                   "sheet gives the definitions and limits. People are merged across repositories by roster "
                   "entry, or by e-mail address when not on the roster."),
        ("Failed repositories", "; ".join(f"{r}: {e}" for r, e in zip(repos.loc[repos.status == 'failed', 'repo'],
                                                                     repos.loc[repos.status == 'failed', 'error']))
         or "none"),
    ], 1, (30, 110))
    page_setup(meth, "Portfolio", as_of, 2, last)
    _stamp(wb, p.as_of)
    atomic_write(path, functools.partial(xlsx_save.save, wb))
    return path


# ------------------------------------------------------------------ for other workbooks (the bring-down diff)
def write_table(ws, df: pd.DataFrame, name: str, start_row: int = 1, widths: dict[str, int] | None = None,
                wrap=(), plain_headers: bool = True) -> int:
    """*df* as one Excel table with plain-English headers (generic columns), filters and a frozen header.

    ``plain_headers=False`` keeps the column names as they are: for a file ddkit reads back by its column
    names (the roster a user fills in)."""
    widths = widths or {}
    kinds = {"id": "id", "rule": "id", "first_commit": "date", "last_commit": "date"}
    cols = [Col(str(c), label(str(c)) if plain_headers else str(c),
                widths.get(str(c), 40 if str(c) in set(wrap) else 16), kinds.get(str(c), "text"))
            for c in df.columns]
    return write_cols(ws, df, name, cols, start_row=start_row, style=_severity_style)


def _key_values(ws, rows: list[tuple[str, Any]], start_row: int = 1) -> int:
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100
    return key_value_rows(ws, rows, start_row, (28, 100))


class XlsxReporter:
    format = "xlsx"

    def scan(self, s: Scan, path: Path | None) -> Path:
        if path is None:
            raise ValueError("the workbook needs a path")
        return write_workbook(s, path)

    def portfolio(self, p: Portfolio, path: Path | None) -> Path:
        if path is None:
            raise ValueError("the workbook needs a path")
        return write_portfolio_workbook(p, path)


REPORTER = XlsxReporter()
