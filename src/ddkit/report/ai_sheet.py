"""The "AI-assisted code" sheet: one Excel table, after Dependencies (and Vulnerabilities), before Bus Factor.

One row per commit carrying an AI marker (tool, signal, authorship or assistance, the person responsible,
the lines still as it left them), then one row per agent configuration file at the ref. The shares (of
the code, of the recent changes) and the breakdown by person, module and tool are on the Findings
(``ai.*``), in the JSON ``ai`` section, and in the last rows of this table (kind "share").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .xlsx_layout import Col

if TYPE_CHECKING:
    from ..model import Scan

AI_SPEC = [
    Col("kind", "Kind", 12), Col("date", "Date", 10.5, "date"), Col("sha", "Commit", 11, "sha"),
    Col("tool", "AI tool", 14), Col("signal", "Signal that found it", 18), Col("marks", "Marks", 11),
    Col("person", "Person responsible", 18), Col("author", "Commit author", 16),
    Col("surviving_lines", "Surviving lines (as generated)", 11, "int"), Col("lines_added", "Lines added", 9, "int"),
    Col("share", "Share", 8, "pct"), Col("files", "Files (most lines)", 28), Col("subject", "Commit message", 30),
]


def ai_frame(s: Scan) -> pd.DataFrame:
    """The sheet's rows: marked commits, configuration files, then the shares by tool, person and module."""
    led = s.ai
    cols = [c.key for c in AI_SPEC]
    if led is None:
        return pd.DataFrame(columns=cols)
    parts = []
    if len(led.commits):
        parts.append(led.commits.assign(kind="commit", share=[n / led.total_lines if led.total_lines else None
                                                            for n in led.commits["surviving_lines"].tolist()]))
    if len(led.config_files):
        parts.append(pd.DataFrame({"kind": "configuration file", "tool": led.config_files["tool"].tolist(),
                                   "signal": "agent configuration file", "marks": "assistance",
                                   "files": led.config_files["path"].tolist()}))
    rows = [dict(kind="share", signal="all marked commits (share of the code)", surviving_lines=led.surviving_lines,
                 share=led.share)]
    if led.recent_share is not None:
        rows.append(dict(kind="share", signal=f"last {led.recent_days} days' added lines",
                         lines_added=led.recent_lines, share=led.recent_share))
    for what, d in (("tool", led.by_tool), ("person", led.by_person), ("module", led.by_module)):
        for k, n in d.items():
            rows.append({"kind": f"by {what}", what if what != "module" else "files": k, "surviving_lines": n,
                         "share": n / led.total_lines if led.total_lines else None})
    parts.append(pd.DataFrame(rows))
    df = pd.concat([p for p in parts if len(p)], ignore_index=True)
    for c in cols:
        if c not in df:
            df[c] = None
    return df[cols]
