"""Pseudonymized reports for data rooms: people become "Contributor 07", e-mail addresses disappear.

Types and vendors are kept (they are what the reader needs); the mapping is stable for the same input
(ordered by surviving lines, then commits, then name) and written to a separate key file only when asked.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..fsutil import atomic_write

if TYPE_CHECKING:
    from ..model import Portfolio, Scan

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


def frame(df: pd.DataFrame, fix) -> pd.DataFrame:
    """Every text cell of *df* with names replaced and e-mail addresses removed."""
    if df is None or df.empty:
        return df
    df = df.copy()
    for c in df.columns:
        if c in _NOT_PERSONAL:   # deps: "pkg:npm/x@1.0.0" is a package, not an e-mail address
            continue
        if df[c].dtype == object or str(df[c].dtype).startswith("str"):
            df[c] = df[c].map(fix)
    return df


_NOT_PERSONAL = ("purl",)   # deps


def people_frame(people: pd.DataFrame, names: dict[str, str], fix) -> pd.DataFrame:
    out = people.copy()
    out["person"] = out["person"].map(lambda p: names.get(p, p))
    for c in ("emails", "names", "roster_emails"):
        if c in out:
            out[c] = [[] for _ in range(len(out))]
    for col in [c for c in out.columns if c not in ("person", "emails", "names", "roster_emails")]:
        if out[col].dtype == object:
            out[col] = out[col].map(fix)
    return out


def pseudonymized(s: Scan) -> Scan:
    """A copy of *s* in which every table, every text cell and every warning is pseudonymised.

    Walks the model's fields generically: any DataFrame field (today's and any added later) has its
    text cells rewritten, so a new table cannot leak names.
    """
    names = mapping(s.people)
    fix = _replacer(s.people, names)
    out = copy.copy(s)
    for f in dataclasses.fields(s):
        v = getattr(s, f.name)
        if isinstance(v, pd.DataFrame):
            if f.name in ("people",):
                setattr(out, f.name, people_frame(v, names, fix))
            else:
                setattr(out, f.name, frame(v.drop(columns=[c for c in _RAW_COLUMNS if c in v.columns]), fix))
        elif hasattr(v, "pseudonymized"):   # a result object holding tables and names (the AI ledger)
            setattr(out, f.name, v.pseudonymized(fix, lambda df: frame(df, fix)))
    out.warnings = [fix(w) for w in s.warnings]
    return out


# Raw identities (as git wrote them) are never shown in a pseudonymised report.
_RAW_COLUMNS = ("email_raw", "email", "email_key", "author_email_raw", "committer_email_raw", "author_email")


def pseudonymized_portfolio(p: Portfolio) -> Portfolio:
    """The same portfolio with people replaced by pseudonyms consistent across repositories."""
    names = mapping(p.people)
    frames = [r.people for r in p.results if r.people is not None and len(r.people)]
    allp = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["person", "names"])
    fix = _replacer(allp, names)
    out = []
    for r in p.results:
        r2 = copy.copy(r)
        if r.people is not None:
            r2.people = people_frame(r.people, names, fix)
        r2.findings = frame(r.findings, fix) if r.findings is not None else None
        r2.remediation = frame(r.remediation, fix) if r.remediation is not None else None
        r2.dependencies = frame(r.dependencies, fix) if r.dependencies is not None else None   # deps
        r2.warnings = [fix(w) for w in r.warnings]
        out.append(r2)
    return dataclasses.replace(p, results=out)


def write_key(people: pd.DataFrame, path: str | Path) -> Path:
    """The pseudonym-to-person key (CSV), for a scan's or a portfolio's people."""
    import io
    names = mapping(people)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["pseudonym", "person", "emails"])
    for person, pseudo in names.items():
        row = people[people["person"] == person].iloc[0]
        w.writerow([pseudo, person, "; ".join(row["emails"])])
    return atomic_write(path, buf.getvalue())
