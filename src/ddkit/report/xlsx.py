"""The acquisition-readiness workbook (xlsx).

Sheets, in the contract's order: Summary, Findings, Remediation, People, Ownership, Licenses,
Bus Factor, Trends, Security (when security checks ran), Methodology. Every data sheet is an Excel
table with a header row, filters and frozen panes. Text that came from a repository never becomes
a formula, and characters XML cannot hold are replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from .. import __version__
from .cells import clean_text, is_formula_like, plain

if TYPE_CHECKING:
    from ..scan import Scan

SHEETS = ["Summary", "Findings", "Remediation", "People", "Ownership", "Licenses", "Bus Factor", "Trends",
          "Security", "Methodology"]
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
    for w in s.warnings:
        rows.append(("Warning", w))
    return rows


def write_workbook(s: "Scan", path: Path, pseudonymize: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws["A1"] = "Acquisition-readiness summary"
    ws["A1"].font = TITLE_FONT
    summary = [("Company", s.company.name or "(no company profile)"), ("Repository", s.repo.path),
               ("Commit", s.repo.commit), ("As of", s.as_of.isoformat())]
    summary += [(k.replace("_", " ").capitalize(), v) for k, v in s.summary.items() if not isinstance(v, dict)]
    _key_values(ws, summary, start_row=3)

    tables = {
        "Findings": s.findings,
        "Remediation": s.remediation,
        "People": people_sheet_frame(s),
        "Ownership": s.ownership,
        "Licenses": s.licenses,
        "Bus Factor": s.bus_factor,
        "Trends": s.trends,
    }
    more = s.extras.get("sheet_tables", {})   # {sheet: {table title: DataFrame}} shown below the main table
    for name, df in tables.items():
        w = wb.create_sheet(name)
        df = df if df is not None else pd.DataFrame()
        write_table(w, df, name.replace(" ", ""), wrap=("evidence", "remediation"))
        row = max(len(df), 1) + 3
        for k, (title, extra_df) in enumerate(more.get(name, {}).items(), start=1):
            set_cell(w, row, 1, title).font = Font(bold=True)
            write_table(w, extra_df, f"{name.replace(' ', '')}_{k}", start_row=row + 1)
            row += max(len(extra_df), 1) + 4
        w.freeze_panes = "A2"
    if "security" in s.extras:
        write_table(wb.create_sheet("Security"), s.extras["security"], "Security")
    _key_values(wb.create_sheet("Methodology"), methodology_rows(s))
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path
