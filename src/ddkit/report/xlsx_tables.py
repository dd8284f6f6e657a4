"""The workbook's one-table sheets: each table's columns (plain-English headers, widths, kinds), the frames
they are written from, and the sheets that add something to their table (Remediation's dropdowns, the
Security sheet's set-aside matches, the Trends charts, the Rules sheet). The Dependencies, Vulnerabilities
and AI-assisted code sheets have modules of their own (dependency_sheet, vulnerability_sheet, ai_sheet)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..values import is_missing
from .cells import plain
from .xlsx_layout import (
    Col,
    materialize,
    page_setup,
    set_cell,
)
from .xlsx_layout import write_table as write_cols
from .xlsx_sheet import (
    SECTION_FONT,
    add_data_sheet,
    chart_labels,
    company_name,
    counts_text,
    files_text,
    list_text,
    modules_drop,
    period_text,
    periods_text,
    severity_style,
    sheet_cols,
    status_and_date,
)
from .xlsx_text import AREA_NAMES

if TYPE_CHECKING:
    from ..model import Scan


def findings_cols(df: pd.DataFrame, catalogue: dict) -> list[Col]:
    spec = [
        Col("severity", "Severity", 9),
        Col("area", "Area", 12, get=lambda r: AREA_NAMES.get(str(r.get("area")), r.get("area")), hidden=True),
        Col("issue", "Issue", 16, get=lambda r: (catalogue.get(str(r.get("rule"))) or {}).get("title")),
        Col("subject", "Subject", 16),
        Col("lines_at_stake", "Lines at stake", 8, "int"),
        Col("evidence", "Evidence", 44, max_lines=16),
        Col("remediation", "What to do", 27, max_lines=16),
        Col("period", "Period", 13, get=lambda r: period_text({"period_start": r.get("first_commit"),
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
    return sheet_cols(df, spec + TRIAGE_COLS, drop, ids)


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


def triage_validation(ws, cols: list[Col], n: int) -> None:
    status_and_date(ws, cols, n, ["open", "accepted", "false-positive", "resolved"], "triage_date")


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


def remediation_frame(df: pd.DataFrame | None) -> pd.DataFrame:
    df = df.copy() if df is not None else pd.DataFrame()
    if "status" not in df:
        df["status"] = "Open"
    df["owner"] = None
    df["due_date"] = None
    return df


REMEDIATION_SPEC = [
    Col("subject", "Subject", 16), Col("subject_type", "Type", 10),
    Col("contact", "Contact (roster e-mail)", 24,
        get=lambda r: "\n".join(str(plain(r.get("contact")) or "").split("; ")) or None),
    Col("gap", "Gap in the chain of title", 18), Col("document", "Document needed", 30),
    Col("period", "Period to cover", 13, get=period_text), Col("lines_at_stake", "Lines at stake", 8, "int"),
    Col("ip_document", "Document on file", 12),
    Col("severity", "Severity", 9), Col("status", "Status", 11), Col("owner", "Owner", 13),
    Col("due_date", "Due date", 11, "date"),
]


# files_at_stake counts the findings' top files only: the Rewrite scope sheet has every file.
REMEDIATION_DROP = ("period_start", "period_end", "top_files", "files_at_stake")


def remediation_cols(df: pd.DataFrame) -> list[Col]:
    ids = [Col("rules", "Rule ids", 13, "id"), Col("finding_ids", "Finding ids", 12, "id")]
    return sheet_cols(df, REMEDIATION_SPEC, REMEDIATION_DROP, ids)


def add_remediation_sheet(wb, s: Scan) -> None:
    df = remediation_frame(s.remediation)
    cols = remediation_cols(df)
    ws = add_data_sheet(wb, s, "Remediation", df, cols)
    if len(df):
        keys = [c.key for c in cols]
        status_and_date(ws, cols, len(df), ["Open", "Requested", "Signed", "Not needed"], "due_date")
        materialize(ws)       # the table's cells, to change them
        for r in range(2, len(df) + 2):
            ws.cell(row=r, column=keys.index("due_date") + 1).number_format = "yyyy-mm-dd"


REWRITE_SPEC = [
    Col("subject", "Subject", 18), Col("subject_type", "Type", 10),
    Col("periods", "Period(s) to rewrite", 22, get=lambda r: periods_text(r.get("periods"))),
    Col("nfiles", "Files", 7, "int", get=lambda r: len(r.get("files") or [])),
    Col("surviving_lines", "Surviving lines", 9, "int"),
    Col("share_of_repository", "Share of all surviving lines", 10, "pct"),
    Col("modules", "Modules (lines)", 20, get=lambda r: counts_text(r.get("modules"))),
    Col("files", "Files (lines)", 38, get=lambda r: files_text(r.get("files"))),
    Col("current_staff_who_know", "Current staff who know these files (files)", 24,
        get=lambda r: counts_text(r.get("current_staff_who_know"))),
    Col("nobody_on_staff_knows", "Source files no current staff member knows", 11, "int"),
]


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


RETENTION_SPEC = [
    Col("rank", "Rank", 6, "int"), Col("person", "Person", 18), Col("type", "Type", 10),
    Col("surviving_lines", "Surviving lines", 9, "int"), Col("files_known", "Source files they know", 9, "int"),
    Col("files_orphaned", "Files only they know (orphaned if they leave)", 12, "int"),
    Col("orphaned_files", "Those files", 40, get=lambda r: list_text(r.get("orphaned_files"))),
    Col("modules_losing_knowledge", "Modules whose truck factor drops (now → after)", 30,
        get=lambda r: modules_drop(r.get("modules_losing_knowledge"))),
    Col("truck_factor_drops", "Modules affected", 9, "int"),
    Col("repository_truck_factor_after", "Repository truck factor if they left", 11, "int"),
]


SECURITY_SPEC = [
    Col("check", "Check", 22), Col("status", "Status", 9), Col("severity", "Severity", 9), Col("detail", "Detail", 24),
    Col("path", "File", 26), Col("line", "Line", 6, "int"), Col("date", "Date", 10.5, "date"),
    Col("author", "Author", 16), Col("commit", "Commit", 11, "sha"), Col("fingerprint", "Fingerprint", 20),
    Col("tier", "Tier", 9), Col("detector", "Detector", 16, hidden=True),
    Col("reason", "Why downgraded", 18), Col("paths", "All paths", 24, max_lines=6),
]


SET_ASIDE_SPEC = [Col("path", "File", 40), Col("line", "Line", 6, "int"), Col("detector", "Detector", 26),
                  Col("reason", "Why set aside", 40)]


def add_set_aside_table(ws, s: Scan, last: int, width: int) -> None:
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
                         style=severity_style, deferred=True)
        for k, w in widths.items():
            ws.column_dimensions[k].width = max(w or 0, ws.column_dimensions[k].width or 0)
        ws.freeze_panes, ws.print_title_rows = freeze, titles
    page_setup(ws, company_name(s), s.as_of.isoformat(), max(width, len(SET_ASIDE_SPEC)), end)


def add_rules_sheet(wb, s: Scan) -> None:
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
    add_data_sheet(wb, s, "Rules", pd.DataFrame(rows), cols)


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
    return sheet_cols(df, spec, drop)


def add_trends_sheet(wb, s: Scan) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.worksheet.pagebreak import Break
    df = trends_frame(s.trends)
    cols = trends_cols(df)
    ws = add_data_sheet(wb, s, "Trends", df, cols)
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
            line.dataLabels = chart_labels(val=True)
            line.dataLabels.numFmt = "0%"
            line.dataLabels.position = "t"
        line.height, line.width = 9, 24
        ws.add_chart(line, f"A{top + 23}")
    page_setup(ws, company_name(s), s.as_of.isoformat(), len(cols), top + 44)
