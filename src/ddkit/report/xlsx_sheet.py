"""What the workbook's sheets share: fonts and fills, commit links, the severity cell's look, a sheet's
columns (spec, then the frame's other columns, then the ids), one data sheet = one table, and the text
helpers the column specs and the Summary both use."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

from ..isodate import format_period
from .cells import plain
from .xlsx_layout import (
    Col,
    page_setup,
)
from .xlsx_layout import write_table as write_cols
from .xlsx_text import label

if TYPE_CHECKING:
    from ..model import Scan


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


def severity_style(cell, col: Col, rec: dict) -> None:
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


SEVERITY_COLS = ("severity",)     # the only column severity_style changes


def sheet_cols(df: pd.DataFrame, spec: list[Col], drop: tuple[str, ...] = (), ids: list[Col] | None = None) -> list[Col]:
    """The spec's columns, then any other column of *df* (generic header), then the id columns at the right."""
    # person_id is the DataFrames' join key, never shown (it may hold an unresolved identity's address).
    known = {c.key for c in spec} | {c.key for c in (ids or [])} | set(drop) | {"person_id"}
    extra = [Col(c, label(c), 14) for c in (df.columns if df is not None else []) if c not in known]
    return spec + extra + (ids or [])


def status_and_date(ws, cols: list[Col], n: int, choices: list[str], date_key: str) -> None:
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


def period_text(r: dict) -> str | None:
    return format_period(plain(r.get("period_start")), plain(r.get("period_end")))


def list_text(v: Any, n: int = 10) -> str | None:
    v = v if isinstance(v, (list, tuple)) else []
    return "; ".join(map(str, v[:n])) + (f" … and {len(v) - n} more" if len(v) > n else "") if v else None


def modules_drop(v: Any) -> str | None:
    return "; ".join(f"{m['module']} ({m['truck_factor_before']} → {m['truck_factor_after']})" for m in v) \
        if isinstance(v, (list, tuple)) and len(v) else None


def counts_text(v: Any, unit: str = "") -> str | None:
    return "; ".join(f"{k} ({n}{unit if n == 1 else unit + ('s' if unit else '')})" for k, n in v.items()) \
        if isinstance(v, dict) and v else None


def periods_text(v: Any) -> str | None:
    if not isinstance(v, (list, tuple)):
        return None
    out = []
    for p in v:
        span = p["start"] if p["start"] == p["end"] else f"{p['start']} to {p['end']}"
        out.append(f"all of their work ({span})" if p.get("whole_work") else span)
    return "; ".join(out)


def files_text(v: Any, n: int = 12) -> str | None:
    if not isinstance(v, (list, tuple)) or not len(v):
        return None
    return "; ".join(f"{f['path']} ({f['lines']})" for f in v[:n]) + (f" … and {len(v) - n} more" if len(v) > n else "")


def chart_labels(val: bool = False, percent: bool = False):
    """Data labels that show the number only (not the series or category name)."""
    from openpyxl.chart.label import DataLabelList
    d = DataLabelList()
    d.showVal, d.showPercent = val, percent
    d.showSerName = d.showCatName = d.showLegendKey = d.showLeaderLines = False
    return d


def add_data_sheet(wb, s: Scan, title: str, df: pd.DataFrame | None, cols: list[Col],
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
    last = write_cols(ws, df, title, cols, link=lambda sha: commit_url(remote, sha), style=style or severity_style,
                      style_cols=None if style else SEVERITY_COLS, show_only=show, deferred=True)
    page_setup(ws, company_name(s), s.as_of.isoformat(), len(cols), last, note=note)
    return ws


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


def company_name(s: Scan) -> str:
    return s.company.name or Path(s.repo.path).name
