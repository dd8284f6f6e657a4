"""Pseudonymized reports for data rooms: people become "Contributor 07", e-mail addresses disappear.

Types and vendors are kept (they are what the reader needs); the mapping is stable for the same input
(ordered by surviving lines, then commits, then name) and written to a separate key file only when asked.
"""

from __future__ import annotations

import copy
import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ..scan import Scan

_EMAIL = re.compile(r"[\w.+\-\[\]]+@[\w\-]+(?:\.[\w\-]+)+")


def mapping(people: pd.DataFrame) -> dict[str, str]:
    humans = people[~people["is_bot"]] if len(people) else people
    order = humans.sort_values(["surviving_lines", "commits", "person"], ascending=[False, False, True], kind="stable")
    width = max(2, len(str(len(order))))
    return {p: f"Contributor {i:0{width}d}" for i, p in enumerate(order["person"], start=1)}


def _replacer(people: pd.DataFrame, names: dict[str, str]):
    aliases: dict[str, str] = {}
    for r in people.itertuples():
        if r.person not in names:
            continue
        aliases[r.person] = names[r.person]
        for n in (r.names if isinstance(r.names, list) else []):
            if len(n) >= 3:
                aliases.setdefault(n, names[r.person])
    keys = sorted(aliases, key=len, reverse=True)
    rx = re.compile("|".join(re.escape(k) for k in keys)) if keys else None

    def fix(v: Any) -> Any:
        if isinstance(v, str):
            v = _EMAIL.sub("[e-mail removed]", v)
            return rx.sub(lambda m: aliases[m.group(0)], v) if rx else v
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v
    return fix


def pseudonymized(s: "Scan") -> "Scan":
    names = mapping(s.people)
    fix = _replacer(s.people, names)
    out = copy.copy(s)
    out.people = s.people.copy()
    out.people["person"] = out.people["person"].map(lambda p: names.get(p, p))
    out.people["emails"] = [[] for _ in range(len(out.people))]
    out.people["names"] = [[] for _ in range(len(out.people))]
    for col in [c for c in out.people.columns if c not in ("person", "emails", "names")]:
        if out.people[col].dtype == object:
            out.people[col] = out.people[col].map(fix)

    def frame(df: pd.DataFrame) -> pd.DataFrame:
        if df is None or df.empty:
            return df
        df = df.copy()
        for c in df.columns:
            if df[c].dtype == object or str(df[c].dtype).startswith("str"):
                df[c] = df[c].map(fix)
        return df
    out.findings = frame(s.findings)
    out.remediation = frame(s.remediation)
    out.ownership = frame(s.ownership)
    out.licenses = frame(s.licenses)
    out.bus_factor = frame(s.bus_factor)
    out.identities = frame(s.identities.drop(columns=["email_raw", "email", "email_key"], errors="ignore"))
    out.commits = frame(s.commits.drop(columns=["author_email_raw", "committer_email_raw", "author_email"], errors="ignore"))
    out.extras = dict(s.extras)
    out.extras["sheet_tables"] = {sheet: {t: frame(df) for t, df in tables.items()}
                                  for sheet, tables in s.extras.get("sheet_tables", {}).items()}
    if "security" in s.extras:
        out.extras["security"] = frame(s.extras["security"])
    out.warnings = [fix(w) for w in s.warnings]
    return out


def write_key(s: "Scan", path: str | Path) -> Path:
    names = mapping(s.people)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["pseudonym", "person", "emails"])
        for r in s.people.itertuples():
            if r.person in names:
                w.writerow([names[r.person], r.person, "; ".join(r.emails)])
    return p
