"""The acquisition-readiness workbook (xlsx).

Sheets, in the contract's order: Summary, Findings, Remediation, People, Ownership, Licenses,
Bus Factor, Trends, Security (when security checks ran), Methodology. Every data sheet is an Excel
table with a header row, filters and frozen panes. Text that came from a repository never becomes
a formula, and characters XML cannot hold are replaced.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from .._version import __version__
from ..fsutil import atomic_write
from .cells import clean_text, is_formula_like, plain
from .dependency_sheet import sheet_frame as dependencies_sheet  # deps

if TYPE_CHECKING:
    from ..model import Portfolio, Scan

HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)


def set_cell(ws, row: int, col: int, value: Any):
    """Write one value safely: repository text is always stored as text, never as a formula."""
    v = plain(value)
    if isinstance(v, str):
        v = clean_text(v)
        cell = ws.cell(row=row, column=col)
        cell.value = v
        cell.data_type = "s"
        if is_formula_like(v):
            cell.quotePrefix = True
        return cell
    cell = ws.cell(row=row, column=col, value=v)
    return cell


def write_table(ws, df: pd.DataFrame, name: str, start_row: int = 1, widths: dict[str, int] | None = None,
                wrap: Iterable[str] = ()) -> None:
    """Write *df* as an Excel table starting at *start_row*, with filters and a frozen header."""
    cols = [str(c) for c in df.columns] or ["(no data)"]
    for j, c in enumerate(cols, start=1):
        cell = set_cell(ws, start_row, j, c)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    wrap = set(wrap)
    for i, rec in enumerate(df.itertuples(index=False, name=None), start=start_row + 1):
        for j, v in enumerate(rec, start=1):
            cell = set_cell(ws, i, j, v)
            if cols[j - 1] in wrap:
                cell.alignment = Alignment(vertical="top", wrap_text=True)
            elif hasattr(cell.value, "year") and not isinstance(cell.value, str):
                cell.number_format = "yyyy-mm-dd"
    last_row = start_row + max(len(df), 1)
    ref = f"A{start_row}:{get_column_letter(len(cols))}{last_row}"
    table = Table(displayName=name.replace(" ", ""), ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = ws.cell(row=start_row + 1, column=1)
    widths = widths or {}
    for j, c in enumerate(cols, start=1):
        if c in widths:
            w = widths[c]
        else:
            sample = [len(str(plain(v) or "")) for v in (df[df.columns[j - 1]].head(200) if len(df.columns) else [])]
            w = min(max([len(c) + 2, *[s + 1 for s in sample]]), 60)
        ws.column_dimensions[get_column_letter(j)].width = max(w, 8)


def _key_values(ws, rows: list[tuple[str, Any]], start_row: int = 1) -> int:
    for i, (k, v) in enumerate(rows, start=start_row):
        set_cell(ws, i, 1, k).font = Font(bold=True)
        c = set_cell(ws, i, 2, v)
        c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100
    return start_row + len(rows)


def people_sheet_frame(s: "Scan") -> pd.DataFrame:
    cols = ["person", "type", "vendor", "emails", "is_bot", "commits", "first_commit", "last_commit",
            "departed", "surviving_lines", "in_roster", "start_date", "end_date", "ip_assignment",
            "ip_assignment_date", "ip_document"]
    df = s.people
    extra = [c for c in s.roster.columns if c not in ("person", "emails", "row") and c not in cols]
    return df[[c for c in cols + extra if c in df.columns]]


def methodology_rows(s: "Scan") -> list[tuple[str, Any]]:
    f = s.files
    not_scanned = f[f["category"] != "text"] if len(f) else f
    rows: list[tuple[str, Any]] = [
        ("Report", "ddkit acquisition-readiness workbook"),
        ("ddkit version", __version__),
        ("Repository", s.repo.path),
        ("Remote", s.repo.remote or "(none)"),
        ("Ref scanned", s.repo.ref),
        ("Commit", s.repo.commit or "(empty repository)"),
        ("As of", s.as_of.isoformat()),
        ("Company profile", s.company.source or "(none given)"),
        ("Roster", "(none given)" if s.roster.empty else f"{len(s.roster)} people"),
        ("Rules in force", "; ".join(s.rules.sources)),
        ("Rules SHA-256", s.rules.sha256),
        ("Shallow history", "yes: history is truncated" if s.repo.is_shallow else "no"),
        ("Commits", len(s.commits)),
        ("Files at the ref", len(f)),
        ("Files not scanned for ownership", len(not_scanned)),
        ("Definition: surviving lines", "Lines at the scanned ref attributed by whitespace-insensitive blame "
         "(git blame -w), after .mailmap, in text files that are not vendored or generated, counted per person."),
        ("Definition: departed", "Roster end date on or before the as-of date; for someone not on the roster, "
         "no commit in the inactivity window before the as-of date. Bots never depart."),
        ("Definition: truck factor", "Avelino et al. (ICPC 2016) degree-of-authorship algorithm: the fewest "
         "authors whose removal leaves more than half of the files without an author."),
    ]
    from ..score import explanation
    rows += [
        ("Definition: identities", "Raw git identities are resolved through the .mailmap at the scanned ref, "
         "GitHub/GitLab no-reply forms, bot patterns (rules/identities.yaml) and the roster's e-mails. Identities "
         "that match no roster entry are listed as unresolved (People sheet, type unknown), never dropped."),
        ("Definition: IP findings", "See the README: pre-incorporation work, work before the assignment date, "
         "contractors and vendors without a signed assignment, employees without a PIIA, unknown contributors, "
         "work after the end date. Dates are the author dates in the author's time zone."),
        ("Definition: licenses", "ScanCode (scancode-toolkit " + s.versions.get("scancode", "unknown") + ") on "
         "the files at the ref, after a keyword screen; categories from ScanCode's license database; policy per "
         "outbound license in rules/licenses.yaml." if s.options.get("licenses") else "Licenses were not scanned (--no-licenses)."),
        ("Definition: secrets", "detect-secrets on every line added in the history; reports show a fingerprint, "
         "never the secret." if s.options.get("secrets", True) else "Secrets were not scanned."),
        ("Definition: dependencies", "Manifests and lockfiles at the ref read with ScanCode's package parsers; "   # deps
         "license from the SBOMs given, the installed environment, the lockfile, a vendored copy or its manifest, "
         "in that order (column 'license source'); 'added by' is the commit after which the dependency has been "
         "declared without a break (version bumps and renames are not additions); dev and test dependencies are "
         "not distributed (rules/licenses.yaml: dependencies)."),
        ("Readiness score", explanation(s.rules)),
    ]
    if len(not_scanned):
        for cat, g in not_scanned.groupby("category"):
            rows.append((f"Not scanned for ownership: {cat}", f"{len(g)} files, e.g. " + "; ".join(
                f"{p} ({r})" if r else p for p, r in zip(g["path"].head(8), g["reason"].head(8)))))
    ns = s.not_scanned_for_licenses
    if ns is not None and len(ns):
        for reason, g in ns.groupby("reason"):
            rows.append(("Not scanned for licenses", f"{reason}: {len(g)} files, e.g. " + "; ".join(g["path"].head(5))))
    unresolved = s.people[~s.people["resolved"].astype(bool)] if len(s.people) and "resolved" in s.people else []
    if len(unresolved):
        rows.append(("Identities not resolved", "; ".join(unresolved["person"].head(50)) +
                     (f" … and {len(unresolved) - 50} more" if len(unresolved) > 50 else "")))
    for w in s.warnings:
        rows.append(("Warning", w))
    return rows


SEV_FILL = {"critical": "C00000", "high": "FF6B6B", "medium": "FFC000", "low": "FFF2CC", "info": "E7E6E6"}
RATING_FILL = {"red": "C00000", "amber": "FFC000", "green": "70AD47"}
AREA_NAMES = {"ip": "IP and chain of title", "ownership": "Code ownership", "license": "Licenses and third-party code",
              "knowledge": "Knowledge and bus factor", "security": "Security",
              "dependencies": "Third-party dependencies"}   # deps
SHA_COLUMNS = ("first_sha", "last_sha", "introduced_sha", "commit", "sha", "added in commit")   # deps


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


def _style_table(ws, df: pd.DataFrame, remote: str | None, start_row: int = 1) -> None:
    cols = list(df.columns)
    if "severity" in cols:
        j = cols.index("severity") + 1
        for i, sev in enumerate(df["severity"], start=start_row + 1):
            if isinstance(sev, str) and sev in SEV_FILL:
                c = ws.cell(row=i, column=j)
                c.fill = PatternFill("solid", fgColor=SEV_FILL[sev])
                c.font = Font(bold=True, color="FFFFFF" if sev in ("critical", "high") else "000000")
    for name in SHA_COLUMNS:
        if name in cols:
            j = cols.index(name) + 1
            for i, sha in enumerate(df[name], start=start_row + 1):
                url = commit_url(remote, sha) if isinstance(sha, str) else None
                if url:
                    c = ws.cell(row=i, column=j)
                    c.hyperlink = url
                    c.font = Font(color="0563C1", underline="single")


def _summary_sheet(wb, s: "Scan") -> None:
    from ..score import explanation
    ws = wb.active
    ws.title = "Summary"
    ws.sheet_view.showGridLines = False
    for col, w in zip("ABCDEF", (34, 16, 12, 12, 30, 30)):
        ws.column_dimensions[col].width = w
    sm = s.summary
    ws["A1"] = f"Acquisition-readiness report: {s.company.name or Path(s.repo.path).name}"
    ws["A1"].font = Font(bold=True, size=16, color="1F3864")
    rows = [("Repository", s.repo.remote or s.repo.path), ("Commit scanned", s.repo.commit or "(empty repository)"),
            ("Ref", s.repo.ref), ("As of", s.as_of.isoformat()), ("Generated by", f"ddkit {__version__}")]
    r = 3
    for k, v in rows:
        set_cell(ws, r, 1, k).font = Font(bold=True)
        set_cell(ws, r, 2, v)
        r += 1
    if s.repo.commit and commit_url(s.repo.remote, s.repo.commit):
        ws.cell(row=4, column=2).hyperlink = commit_url(s.repo.remote, s.repo.commit)
    r += 1
    set_cell(ws, r, 1, "Readiness score").font = Font(bold=True, size=14)
    c = ws.cell(row=r, column=2, value=sm.get("readiness_score"))
    c.font = Font(bold=True, size=20)
    rc = set_cell(ws, r, 3, str(sm.get("rating", "")).upper())
    rc.fill = PatternFill("solid", fgColor=RATING_FILL.get(sm.get("rating"), "FFFFFF"))
    rc.font = Font(bold=True, color="FFFFFF")
    rc.alignment = Alignment(horizontal="center", vertical="center")
    r += 2
    for j, h in enumerate(("Area", "Score", "Rating", "Findings"), start=1):
        hc = set_cell(ws, r, j, h)
        hc.font, hc.fill = HEADER_FONT, HEADER_FILL
    r += 1
    for area, a in (sm.get("areas") or {}).items():
        set_cell(ws, r, 1, AREA_NAMES.get(area, area))
        ws.cell(row=r, column=2, value=a["score"])
        cc = set_cell(ws, r, 3, a["rating"])
        cc.fill = PatternFill("solid", fgColor=RATING_FILL.get(a["rating"], "FFFFFF"))
        ws.cell(row=r, column=4, value=a["findings"])
        r += 1
    r += 1
    set_cell(ws, r, 1, "Findings by severity").font = Font(bold=True, size=12)
    r += 1
    sev_first = r
    for sev, n in (sm.get("findings_by_severity") or {}).items():
        cc = set_cell(ws, r, 1, sev)
        cc.fill = PatternFill("solid", fgColor=SEV_FILL[sev])
        ws.cell(row=r, column=2, value=int(n))
        r += 1
    sev_last = r - 1
    r += 1
    set_cell(ws, r, 1, "Key figures").font = Font(bold=True, size=12)
    r += 1
    share = sm.get("outsourced_share")
    for k, v in (("Commits", sm.get("commits")), ("Contributors (people)", sm.get("contributors")),
                 ("Departed contributors", sm.get("departed")), ("Identities not resolved", sm.get("unresolved_identities")),
                 ("Truck factor", sm.get("truck_factor")),
                 ("Surviving lines by contractors and vendors", f"{share:.0%}" if share is not None else "n/a")):
        set_cell(ws, r, 1, k)
        set_cell(ws, r, 2, v)
        r += 1
    r += 1
    set_cell(ws, r, 1, "Top findings").font = Font(bold=True, size=12)
    r += 1
    open_findings = s.findings[s.findings["status"] == "open"] if "status" in s.findings else s.findings
    for k, f in enumerate(open_findings.head(10).to_dict(orient="records"), start=1):
        set_cell(ws, r, 1, f"{k}. {f['severity'].upper()} · {AREA_NAMES.get(f['area'], f['area'])}")
        ws.cell(row=r, column=1).fill = PatternFill("solid", fgColor=SEV_FILL.get(f["severity"], "FFFFFF"))
        text = f"{f['subject']}: {f['remediation']}"
        cc = set_cell(ws, r, 2, text)
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=6)
        cc.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = 15 * max(1, min(6, len(text) // 110 + 1))
        r += 1
    r += 1
    set_cell(ws, r, 1, "How the score is computed").font = Font(bold=True)
    cc = set_cell(ws, r, 2, explanation(s.rules))
    ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=6)
    cc.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[r].height = 75
    # Charts: findings by severity; surviving lines by classification.
    from openpyxl.chart import BarChart, PieChart, Reference
    ch = BarChart()
    ch.type = "bar"
    ch.title = "Findings by severity"
    ch.legend = None
    ch.add_data(Reference(ws, min_col=2, min_row=sev_first, max_row=sev_last), titles_from_data=False)
    ch.set_categories(Reference(ws, min_col=1, min_row=sev_first, max_row=sev_last))
    ch.height, ch.width = 6, 11
    ws.add_chart(ch, "H3")
    own = s.ownership
    if own is not None and len(own):
        by = own.groupby("classification")["lines"].sum().sort_values(ascending=False)
        base = r + 3
        set_cell(ws, base, 1, "Surviving lines by classification").font = Font(bold=True)
        for k, (cl, n) in enumerate(by.items(), start=base + 1):
            set_cell(ws, k, 1, cl)
            ws.cell(row=k, column=2, value=int(n))
        pie = PieChart()
        pie.title = "Surviving lines by classification"
        pie.add_data(Reference(ws, min_col=2, min_row=base + 1, max_row=base + len(by)), titles_from_data=False)
        pie.set_categories(Reference(ws, min_col=1, min_row=base + 1, max_row=base + len(by)))
        pie.height, pie.width = 7, 11
        ws.add_chart(pie, "H17")
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0


def _remediation_frame(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy() if df is not None else pd.DataFrame()
    df["status"] = df["status"] if "status" in df else "Open"
    df["owner"] = None
    df["due_date"] = None
    return df


def _trends_chart(ws, df: pd.DataFrame) -> None:
    from openpyxl.chart import LineChart, Reference
    if df is None or df.empty or "outsourced_share" not in df:
        return
    cols = list(df.columns)
    n = len(df)
    ch = LineChart()
    ch.title = "Outsourced share of added lines, per quarter"
    j = cols.index("outsourced_share") + 1
    ch.add_data(Reference(ws, min_col=j, min_row=1, max_row=n + 1), titles_from_data=True)
    ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
    ch.height, ch.width = 8, 18
    ws.add_chart(ch, f"A{n + 4}")
    ch2 = LineChart()
    ch2.title = "Added lines per quarter by classification"
    for name in cols:
        if name.endswith("_lines") and name != "added_lines" and df[name].sum() > 0:
            k = cols.index(name) + 1
            ch2.add_data(Reference(ws, min_col=k, min_row=1, max_row=n + 1), titles_from_data=True)
    ch2.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
    ch2.height, ch2.width = 8, 18
    ws.add_chart(ch2, f"K{n + 4}")


def _findings_frame(findings: pd.DataFrame, triaged: bool) -> pd.DataFrame:
    """Open findings (Findings sheet) or the ones counsel triaged (Triaged sheet), with the triage columns
    counsel types into: status, reason, by, date (read back by `ddkit triage import`)."""
    if "status" not in findings.columns:
        findings = findings.assign(status="open", triage=None)
    sel = findings["status"] != "open" if triaged else findings["status"] == "open"
    df = findings[sel].copy()
    tri = [t if isinstance(t, dict) else {} for t in df["triage"]]
    df["triage_reason"] = [t.get("reason") for t in tri]
    df["triaged_by"] = [t.get("by") for t in tri]
    df["triage_date"] = [t.get("date") for t in tri]
    return df.drop(columns=["triage"])


def _triage_validation(w, df: pd.DataFrame) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation
    cols = list(df.columns)
    j = get_column_letter(cols.index("status") + 1)
    dv = DataValidation(type="list", formula1='"open,accepted,false-positive,resolved"', allow_blank=False,
                        showErrorMessage=True, errorTitle="Status",
                        error="Choose open, accepted, false-positive or resolved")
    dv.add(f"{j}2:{j}{len(df) + 1}")
    w.add_data_validation(dv)
    dj = get_column_letter(cols.index("triage_date") + 1)
    dd = DataValidation(type="date", operator="greaterThan", formula1="1")
    dd.add(f"{dj}2:{dj}{len(df) + 1}")
    w.add_data_validation(dd)


def write_workbook(s: Scan, path: Path) -> Path:
    wb = Workbook()
    _summary_sheet(wb, s)
    remote = s.repo.remote
    tables = {
        "Findings": _findings_frame(s.findings, triaged=False),
        "Remediation": _remediation_frame(s.remediation),
        "People": people_sheet_frame(s),
        "Ownership": s.ownership,
        "Licenses": s.licenses,
        "Dependencies": dependencies_sheet(s.dependencies),   # deps
        "Bus Factor": s.bus_factor,
        "Trends": s.trends,
    }
    if s.security is not None:
        tables["Security"] = s.security
    tables["Triaged"] = _findings_frame(s.findings, triaged=True)
    # {sheet: {table title: DataFrame}} shown below the main table
    more = {"Ownership": {"By module": s.ownership_by_module, "By classification": s.ownership_by_classification},
            "Bus Factor": {"Off-boarding simulation": s.simulations}}
    for name, df in tables.items():
        w = wb.create_sheet(name)
        df = df if df is not None else pd.DataFrame()
        widths = {"evidence": 80, "remediation": 60, "document": 50, "top_files": 40}
        write_table(w, df, name.replace(" ", ""), wrap=("evidence", "remediation", "document", "top_files"),
                    widths=widths)
        _style_table(w, df, remote)
        if name == "Remediation" and len(df):
            from openpyxl.worksheet.datavalidation import DataValidation
            cols = list(df.columns)
            j = get_column_letter(cols.index("status") + 1)
            dv = DataValidation(type="list", formula1='"Open,Requested,Signed,Not needed"', allow_blank=False,
                                showErrorMessage=True, errorTitle="Status", error="Choose Open, Requested, Signed or Not needed")
            dv.add(f"{j}2:{j}{len(df) + 1}")
            w.add_data_validation(dv)
            dj = get_column_letter(cols.index("due_date") + 1)
            dd = DataValidation(type="date", operator="greaterThan", formula1="1")
            dd.add(f"{dj}2:{dj}{len(df) + 1}")
            w.add_data_validation(dd)
        if name in ("Findings", "Triaged") and len(df):
            _triage_validation(w, df)
        if name == "Trends":
            _trends_chart(w, df)
        row = max(len(df), 1) + 3 + (22 if name == "Trends" and len(df) else 0)
        for k, (title, extra_df) in enumerate(more.get(name, {}).items(), start=1):
            set_cell(w, row, 1, title).font = Font(bold=True)
            write_table(w, extra_df, f"{name.replace(' ', '')}_{k}", start_row=row + 1)
            row += max(len(extra_df), 1) + 4
        w.freeze_panes = "A2"
    _key_values(wb.create_sheet("Methodology"), methodology_rows(s))
    # Deterministic file: document dates come from as_of, not from the clock.
    import datetime as _dt
    stamp = _dt.datetime.combine(s.as_of, _dt.time(0, 0))
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "ddkit"
    atomic_write(path, wb.save)
    return path


def write_portfolio_workbook(p: Portfolio, path: Path) -> Path:
    repos = p.repositories
    findings = p.findings
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws["A1"] = "Portfolio acquisition-readiness summary"
    ws["A1"].font = TITLE_FONT
    ok = repos[repos["status"] == "ok"]
    counted = findings[findings["status"] == "open"] if "status" in findings and len(findings) else findings
    sev = counted["severity"].value_counts().to_dict() if len(counted) else {}
    rows = [("As of", p.as_of.isoformat()), ("Repositories", len(repos)), ("Scanned", len(ok)),
            ("Failed", int((repos["status"] == "failed").sum())),
            ("Red / amber / green", " / ".join(str(int((ok["rating"] == c).sum())) for c in ("red", "amber", "green"))),
            *[(f"Findings: {k}", int(sev.get(k, 0))) for k in ("critical", "high", "medium", "low", "info")],
            ("People (merged across repositories)", int((~p.people["is_bot"]).sum()) if len(p.people) else 0)]
    _key_values(ws, rows, start_row=3)
    for name, df in (("Repositories", repos), ("Findings", findings), ("Remediation", p.remediation),
                     ("People", p.people.drop(columns=["person_id"], errors="ignore")),
                     ("Dependencies", p.dependencies)):   # deps
        write_table(wb.create_sheet(name), df, name, wrap=("evidence", "remediation", "error"))
    meth = wb.create_sheet("Methodology")
    _key_values(meth, [
        ("Report", "ddkit portfolio workbook"), ("ddkit version", __version__), ("As of", p.as_of.isoformat()),
        ("Method", "Each repository is scanned exactly as `ddkit scan` does; see a single repository's "
                   "Methodology sheet for the definitions. People are merged across repositories by roster "
                   "entry, or by e-mail address when not on the roster."),
        ("Failed repositories", "; ".join(f"{r}: {e}" for r, e in zip(repos.loc[repos.status == 'failed', 'repo'],
                                                                     repos.loc[repos.status == 'failed', 'error']))
         or "none"),
    ])
    atomic_write(path, wb.save)
    return path


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
