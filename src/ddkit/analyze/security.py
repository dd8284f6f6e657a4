"""Pre-sale security audit: secrets in history and at the ref, and the security-policy checklist.

Reports carry a secret's detector, place and a redacted fingerprint, never the secret itself.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import pandas as pd

from ..config import Rules
from .findings import finding

SECURITY_COLUMNS = ["check", "status", "rule", "severity", "detail", "path", "line", "commit", "date",
                    "author", "fingerprint"]


def _matches(path: str, globs: list[str]) -> bool:
    p = path.lower()
    return any(fnmatch.fnmatchcase(p, g.lower()) for g in globs)


def secret_findings(rules: Rules, history: pd.DataFrame, tree: pd.DataFrame,
                    commits: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    """One finding per distinct secret (by fingerprint): in the tree if still present at the ref."""
    texts = rules.get("security", {}).get("secret_remediation", {})
    if history.empty and tree.empty:
        return [], []
    info = commits.set_index("sha")[["author_day", "person"]] if len(commits) else None
    present = {fp: grp.iloc[0] for fp, grp in tree.groupby("fingerprint")} if len(tree) else {}
    recs, rows = [], []
    hist = history.copy()
    if len(hist) and info is not None:
        hist = hist.join(info, on="sha")
        hist = hist.sort_values(["author_day", "sha", "path", "line"], kind="stable")
    for fp, grp in hist.groupby("fingerprint", sort=False):
        first = grp.iloc[0]
        where_now = present.get(fp)
        still = where_now is not None
        rule = "sec.secret-in-tree" if still else "sec.secret-in-history"
        path = where_now["path"] if still else first["path"]
        line = int(where_now["line"]) if still else int(first["line"])
        commits_n = grp["sha"].nunique()
        evidence = (f"{first['detector']} first added in commit {first['sha'][:10]} on {first.get('author_day')} "
                    f"by {first.get('person')} in {first['path']} line {int(first['line'])}"
                    f"{f' (added in {commits_n} commits in all)' if commits_n > 1 else ''}; "
                    f"{'still present at the ref in ' + path + ' line ' + str(line) if still else 'no longer present at the ref'}; "
                    f"fingerprint {fp} (the secret itself is not reported)")
        rec = finding(rules, rule, f"{first['detector']} in {path}", evidence,
                      texts.get("in_tree" if still else "in_history", ""), path=path, id_extra=fp,
                      line=line, end_line=line, first_sha=first["sha"], first_commit=first.get("author_day"),
                      person=first.get("person"), commits=commits_n, fingerprint=fp)
        recs.append(rec)
        rows.append(dict(check="Secret in " + ("the code at the ref" if still else "history"), status="found",
                         rule=rule, severity=rec["severity"], detail=first["detector"], path=path, line=line,
                         commit=first["sha"], date=first.get("author_day"), author=first.get("person"),
                         fingerprint=fp))
    # Secrets at the ref that history did not show (e.g. added by a merge commit's own changes).
    for fp, row in present.items():
        if fp in set(hist["fingerprint"]):
            continue
        rec = finding(rules, "sec.secret-in-tree", f"{row['detector']} in {row['path']}",
                      f"{row['detector']} present at the ref in {row['path']} line {int(row['line'])}; "
                      f"fingerprint {fp} (the secret itself is not reported)",
                      texts.get("in_tree", ""), path=row["path"], id_extra=fp, line=int(row["line"]),
                      end_line=int(row["line"]), fingerprint=fp)
        recs.append(rec)
        rows.append(dict(check="Secret in the code at the ref", status="found", rule="sec.secret-in-tree",
                         severity=rec["severity"], detail=row["detector"], path=row["path"], line=int(row["line"]),
                         fingerprint=fp))
    return recs, rows


def checklist(rules: Rules, files: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    """The security-policy checklist at the ref: one row per check, a finding per missing item."""
    sec = rules.get("security", {})
    paths = [p for p, c in zip(files["path"], files["category"]) if c != "vendored"] if len(files) else []
    recs, rows = [], []
    for item in sec.get("checklist", []):
        hits = sorted(p for p in paths if _matches(p, item["globs"]))
        ok = bool(hits)
        rows.append(dict(check=item["title"], status="present" if ok else "missing", rule=item["rule"],
                         severity=None if ok else rules.severity(item["rule"]),
                         detail="; ".join(hits[:5]) if ok else "none of: " + ", ".join(item["globs"][:6])))
        if not ok:
            recs.append(finding(rules, item["rule"], item["title"],
                                f"No file at the ref matches any of: {', '.join(item['globs'])}",
                                item.get("remediation", "")))
    for eco, spec in sec.get("lockfiles", {}).items():
        manifests = sorted(p for p in paths if _matches(p.rsplit("/", 1)[-1], spec["manifests"]))
        if not manifests:
            continue
        locks = sorted(p for p in paths if _matches(p, spec["locks"]) or _matches(p.rsplit("/", 1)[-1], spec["locks"]))
        ok = bool(locks)
        title = f"Dependency lock file ({eco})"
        rows.append(dict(check=title, status="present" if ok else "missing", rule="sec.missing-lockfile",
                         severity=None if ok else rules.severity("sec.missing-lockfile"),
                         detail="; ".join((locks if ok else manifests)[:5])))
        if not ok:
            recs.append(finding(rules, "sec.missing-lockfile", title,
                                f"{eco} manifests ({', '.join(manifests[:5])}) but no lock file "
                                f"({', '.join(spec['locks'])})", sec.get("lockfile_remediation", ""),
                                id_extra=eco))
    return recs, rows


def security_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in SECURITY_COLUMNS:
        if c not in df:
            df[c] = None
    return df[SECURITY_COLUMNS]
