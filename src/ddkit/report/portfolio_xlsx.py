"""The portfolio workbook: one row per repository, all findings with a repository column, people and
paperwork merged across repositories."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Font

from .. import __version__
from .cells import write_atomic
from .xlsx import TITLE_FONT, _key_values, write_table

if TYPE_CHECKING:
    from ..portfolio import Portfolio

PORTFOLIO_SHEETS = ["Summary", "Repositories", "Findings", "Remediation", "People", "Methodology"]


def write_portfolio_workbook(p: "Portfolio", path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    repos = p.repositories
    findings = p.findings
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws["A1"] = "Portfolio acquisition-readiness summary"
    ws["A1"].font = TITLE_FONT
    ok = repos[repos["status"] == "ok"]
    sev = findings["severity"].value_counts().to_dict() if len(findings) else {}
    rows = [("As of", p.as_of.isoformat()), ("Repositories", len(repos)), ("Scanned", len(ok)),
            ("Failed", int((repos["status"] == "failed").sum())),
            ("Red / amber / green", " / ".join(str(int((ok["rating"] == c).sum())) for c in ("red", "amber", "green"))),
            *[(f"Findings: {k}", int(sev.get(k, 0))) for k in ("critical", "high", "medium", "low", "info")],
            ("People (merged across repositories)", int((~p.people["is_bot"]).sum()) if len(p.people) else 0)]
    _key_values(ws, rows, start_row=3)
    for name, df in (("Repositories", repos), ("Findings", findings), ("Remediation", p.remediation),
                     ("People", p.people.drop(columns=["person_id"], errors="ignore"))):
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
    write_atomic(path, wb.save)   # no temp file left behind on failure
    return path
