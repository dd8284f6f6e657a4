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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook

from .._version import __version__
from ..fsutil import atomic_write
from ..severity import SEVERITIES
from . import xlsx_save
from .dependency_sheet import DEPENDENCY_SPEC  # deps
from .methodology_sheet import add_methodology_sheet
from .summary_sheet import add_summary_sheet
from .vulnerability_sheet import VULN_SPEC  # vulns
from .xlsx_layout import Col, key_value_rows, page_setup, set_cell, set_default_font
from .xlsx_layout import write_table as write_cols
from .xlsx_sheet import SEVERITY_COLS, TITLE_FONT, add_data_sheet, severity_style, sheet_cols
from .xlsx_tables import (
    BUS_SPEC,
    LICENSE_DROP,
    LICENSE_SPEC,
    OWN_CLASS_SPEC,
    OWN_MODULE_SPEC,
    OWNERSHIP_SPEC,
    PEOPLE_SPEC,
    RETENTION_SPEC,
    REWRITE_SPEC,
    SECURITY_SPEC,
    SIM_SPEC,
    TRIAGE_CLAIMS_SPEC,
    add_remediation_sheet,
    add_rules_sheet,
    add_set_aside_table,
    add_trends_sheet,
    findings_cols,
    findings_frame,
    ownership_by_file,
    people_sheet_frame,
    triage_validation,
)
from .xlsx_text import label

if TYPE_CHECKING:
    from ..model import Portfolio, Scan


def write_workbook(s: Scan, path: Path) -> Path:
    wb = Workbook()
    set_default_font(wb)
    add_summary_sheet(wb, s)
    cat = s.rules.catalogue
    df = findings_frame(s.findings, False)          # open findings; triaged ones on the Triaged sheet
    cols = findings_cols(df, cat)
    ws = add_data_sheet(wb, s, "Findings", df, cols)
    if len(df):
        triage_validation(ws, cols, len(df))
    add_remediation_sheet(wb, s)
    add_data_sheet(wb, s, "Rewrite scope", s.rewrite_scope, REWRITE_SPEC)
    ppl = people_sheet_frame(s)
    add_data_sheet(wb, s, "People", ppl, sheet_cols(ppl, PEOPLE_SPEC), material=True)
    add_data_sheet(wb, s, "Ownership", ownership_by_file(s.ownership), OWNERSHIP_SPEC)
    add_data_sheet(wb, s, "Ownership by module", s.ownership_by_module, OWN_MODULE_SPEC, material=True)
    add_data_sheet(wb, s, "Ownership by class", s.ownership_by_classification, OWN_CLASS_SPEC)
    add_data_sheet(wb, s, "Licenses", s.licenses,
                   sheet_cols(s.licenses, LICENSE_SPEC, LICENSE_DROP, [Col("rule", "Rule id", 14, "id")]))
    add_data_sheet(wb, s, "Dependencies", s.dependencies, DEPENDENCY_SPEC)   # deps
    add_data_sheet(wb, s, "Vulnerabilities", getattr(s, "vulnerabilities", None), VULN_SPEC)   # vulns
    from .ai_sheet import AI_SPEC, ai_frame  # provenance: the AI ledger (before Bus Factor, per the contract)
    add_data_sheet(wb, s, "AI-assisted code", ai_frame(s), AI_SPEC)
    add_data_sheet(wb, s, "Bus Factor", s.bus_factor, BUS_SPEC)
    sim = s.simulations if s.simulations is not None else pd.DataFrame()
    add_data_sheet(wb, s, "Off-boarding", sim, SIM_SPEC)
    add_data_sheet(wb, s, "Retention", s.retention, RETENTION_SPEC)
    add_trends_sheet(wb, s)
    if s.security is not None:
        cols = sheet_cols(s.security, SECURITY_SPEC, ("sha",), [Col("rule", "Rule id", 14, "id")])
        add_set_aside_table(add_data_sheet(wb, s, "Security", s.security, cols), s, len(s.security) + 1, len(cols))
    # Triaged: the findings counsel decided (accepted, false positive, resolved), never dropped.
    df = findings_frame(s.findings, True)
    cols = findings_cols(df, cat)
    claimed = len(s.triage_claims)
    ws = add_data_sheet(wb, s, "Triaged", df, cols,
                        note=f"the scanned repository's own triage file claims {claimed} decisions, not applied: "
                             f"Triage claims sheet" if claimed else None)
    if len(df):
        triage_validation(ws, cols, len(df))
    if len(s.triage_claims):
        add_data_sheet(wb, s, "Triage claims", s.triage_claims, TRIAGE_CLAIMS_SPEC)
    add_rules_sheet(wb, s)
    add_methodology_sheet(wb, s)
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
        last = write_cols(sheet, df, name, cols, style=severity_style, style_cols=SEVERITY_COLS,
                          deferred=True)
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
    return write_cols(ws, df, name, cols, start_row=start_row, style=severity_style)


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
