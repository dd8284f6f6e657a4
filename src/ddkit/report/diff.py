"""Bring-down comparison: which findings are new, resolved or changed between two JSON reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError

DIFF_COLUMNS = ["change", "id", "rule", "severity", "subject", "path", "lines_before", "lines_after",
                "severity_before", "evidence", "status_before", "status_after"]


def load_report(path: str | Path) -> dict[str, Any]:
    from ..limits import load_json_text
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a ddkit JSON report ({e.__class__.__name__})") from None
    try:
        data = load_json_text(text, path)       # within the size and depth limits
    except InputError as e:
        raise InputError(f"{e}; not a ddkit JSON report") from None
    if not isinstance(data, dict) or data.get("schema_version") != 1 or "findings" not in data:
        raise InputError(f"{path}: not a ddkit JSON report with schema_version 1")
    findings = data["findings"]
    if not isinstance(findings, list):
        raise InputError(f"{path}: findings must be a list")
    for i, f in enumerate(findings):   # what the comparison reads, of the types it reads them as
        if not isinstance(f, dict):
            raise InputError(f"{path}: findings[{i}] must be an object")
        for k in ("id", "rule", "severity", "subject"):
            if not isinstance(f.get(k), str) and not (k == "subject" and f.get(k) is None):
                raise InputError(f"{path}: findings[{i}].{k} must be a text")
        for k in ("path", "evidence", "status"):
            if f.get(k) is not None and not isinstance(f[k], str):
                raise InputError(f"{path}: findings[{i}].{k} must be a text")
        if f.get("lines_at_stake") is not None and (isinstance(f["lines_at_stake"], bool)
                                                    or not isinstance(f["lines_at_stake"], (int, float))):
            raise InputError(f"{path}: findings[{i}].lines_at_stake must be a number")
        triage = f.get("triage")
        if triage is not None and not (isinstance(triage, dict) and
                                       (triage.get("reason") is None or isinstance(triage["reason"], str))):
            raise InputError(f"{path}: findings[{i}].triage must be an object whose reason is a text")
    return data


def diff_reports(before: dict, after: dict) -> pd.DataFrame:
    b = {f["id"]: f for f in before["findings"]}
    a = {f["id"]: f for f in after["findings"]}
    rows = []
    for fid, f in a.items():
        if fid not in b:
            rows.append(dict(change="new", id=fid, rule=f["rule"], severity=f["severity"], subject=f["subject"],
                             path=f.get("path"), lines_before=None, lines_after=f.get("lines_at_stake"),
                             severity_before=None, evidence=f.get("evidence")))
        else:
            o = b[fid]
            st_b, st_a = o.get("status", "open"), f.get("status", "open")
            if st_b != st_a:
                rows.append(dict(change="status", id=fid, rule=f["rule"], severity=f["severity"], subject=f["subject"],
                                 path=f.get("path"), lines_before=o.get("lines_at_stake"),
                                 lines_after=f.get("lines_at_stake"), severity_before=o["severity"],
                                 evidence=((f.get("triage") or {}).get("reason") or f.get("evidence")),
                                 status_before=st_b, status_after=st_a))
            elif (o.get("lines_at_stake"), o["severity"]) != (f.get("lines_at_stake"), f["severity"]):
                rows.append(dict(change="changed", id=fid, rule=f["rule"], severity=f["severity"], subject=f["subject"],
                                 path=f.get("path"), lines_before=o.get("lines_at_stake"),
                                 lines_after=f.get("lines_at_stake"), severity_before=o["severity"],
                                 evidence=f.get("evidence")))
    for fid, o in b.items():
        if fid not in a:
            rows.append(dict(change="resolved", id=fid, rule=o["rule"], severity=o["severity"], subject=o["subject"],
                             path=o.get("path"), lines_before=o.get("lines_at_stake"), lines_after=None,
                             severity_before=o["severity"], evidence=o.get("evidence")))
    order = {"new": 0, "changed": 1, "status": 2, "resolved": 3}
    df = pd.DataFrame(rows, columns=DIFF_COLUMNS)
    if len(df):
        df = df.sort_values(["change", "rule", "subject"], key=lambda s: s.map(order) if s.name == "change" else s,
                            kind="stable").reset_index(drop=True)
    return df


def write_diff_workbook(df: pd.DataFrame, before: dict, after: dict, path: Path) -> Path:
    from openpyxl import Workbook

    from .xlsx import _key_values, write_table
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    counts = df["change"].value_counts().to_dict() if len(df) else {}
    _key_values(ws, [("Before", f"{before['repo'].get('commit')} as of {before.get('as_of')}"),
                     ("After", f"{after['repo'].get('commit')} as of {after.get('as_of')}"),
                     ("New findings", counts.get("new", 0)), ("Changed findings", counts.get("changed", 0)),
                     ("Resolved findings", counts.get("resolved", 0)),
                     ("Triage status changes", counts.get("status", 0))])
    w = wb.create_sheet("Changes")
    write_table(w, df, "Changes", wrap=("evidence",), widths={"evidence": 80})
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
