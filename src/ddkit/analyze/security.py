"""Pre-sale security audit: secrets in history and at the ref, and the security-policy checklist.

Reports carry a secret's detector, place and a redacted fingerprint, never the secret itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from itertools import compress
from typing import Any

import pandas as pd

from ..config import Rules
from ..globs import fnmatch_any
from ..schema import Finding
from ..values import is_missing
from .findings import finding

SECURITY_COLUMNS = ["check", "status", "rule", "severity", "detail", "path", "line", "commit", "date",
                    "author", "fingerprint", "tier", "detector", "reason", "paths"]
_TIER_RANK = {"provider": 0, "generic": 1, "entropy": 2, "info": 3}
_SEV_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


@functools.lru_cache(maxsize=256)
def _glob_regex(globs: tuple[str, ...]) -> re.Pattern:
    """Whose ``match`` on a lower-cased path is true when the path matches any lower-cased glob
    (``fnmatch.fnmatchcase``)."""
    # One alternation of the globs: one call per path instead of one per glob (the checklist tried 60,000
    # pairs on pip).
    return fnmatch_any(g.lower() for g in globs)


def _best(grp: pd.DataFrame) -> pd.Series:
    """The occurrence that speaks for a secret: reported before downgraded, then the strongest tier."""
    order = grp.assign(_a=(grp["action"] != "report").astype(int), _t=grp["tier"].map(_TIER_RANK).fillna(3))
    return order.sort_values(["_a", "_t"], kind="stable").iloc[0]


def suppression_counts(history: pd.DataFrame, tree: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Occurrences and distinct secrets suppressed or downgraded, per reason (for the Methodology sheet).

    What a group-by on reason gives (sorted; a missing reason left out; a missing fingerprint counted as an
    occurrence, not as a secret), counted in plain Python: pandas' concat and four group-bys cost 1.3 ms
    on pip's 201 occurrences."""
    rows = [row for d in (history, tree) if len(d)
            for row in zip(d["action"].tolist(), d["reason"].tolist(), d["fingerprint"].tolist())]
    # A secret counts under a reason only when no occurrence of it is reported.
    reported = {f for a, _r, f in rows if a == "report"}
    out: dict[str, dict[str, int]] = {}
    for action, key in (("suppress", "suppressed"), ("downgrade", "downgraded")):
        n: dict[Any, int] = {}
        only: dict[Any, set] = {}
        for a, r, f in rows:
            if a != action or is_missing(r):
                continue
            n[r] = n.get(r, 0) + 1
            if f not in reported:
                only.setdefault(r, set()).add(f)
        out[key] = {str(r): n[r] for r in sorted(n)}
        out[key + "_secrets"] = {str(r): sum(not is_missing(f) for f in only[r]) for r in sorted(only)}
    return out


STRICT_REASON = "set aside ({}): reported under --secrets-strict"


def strict(df: pd.DataFrame) -> pd.DataFrame:
    """``--secrets-strict``: every occurrence set aside is reported instead, at the downgraded severity,
    its reason saying why it would have been set aside."""
    if df is None or df.empty or not (df["action"] == "suppress").any():
        return df
    out = df.copy()
    m = out["action"] == "suppress"
    out.loc[m, "reason"] = [STRICT_REASON.format(r) for r in out.loc[m, "reason"].tolist()]
    out.loc[m, "action"] = "downgrade"
    return out


def set_aside(history: pd.DataFrame, tree: pd.DataFrame) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """What the context filter set aside (judged not to be a secret), never the value: one entry per match
    (a value at a path, by a detector, for a reason; the line where history last added it, as git log
    lists history newest first, or its line at the ref), and how many entries per reason and detector. A
    value that a finding reports (the same fingerprint reported or downgraded anywhere) is in that finding,
    not here."""
    frames = [d for d in (history, tree) if d is not None and len(d)]
    if not frames:
        return [], {}
    rows = [r for d in frames for r in zip(d["action"].tolist(), d["path"].tolist(), d["line"].tolist(),
                                           d["detector_id"].tolist(), d["reason"].tolist(),
                                           d["fingerprint"].tolist())]
    in_findings = {f for a, _p, _l, _d, _r, f in rows if a != "suppress"}
    seen: set[tuple] = set()
    out: list[dict[str, Any]] = []
    counts: dict[str, dict[str, int]] = {}
    for a, path, line, det, reason, fp in rows:
        if a != "suppress" or fp in in_findings:
            continue
        key = (path, det, str(reason), fp)
        if key in seen:
            continue
        seen.add(key)
        out.append(dict(path=path, line=int(line), detector=det, reason=str(reason)))
        per = counts.setdefault(str(reason), {})
        per[det] = per.get(det, 0) + 1
    return out, {r: dict(sorted(counts[r].items())) for r in sorted(counts)}


def secret_findings(rules: Rules, history: pd.DataFrame, tree: pd.DataFrame,
                    commits: pd.DataFrame) -> tuple[list[Finding], list[dict]]:
    """One finding per distinct secret (by fingerprint), naming every path it was found in.

    In the tree (``sec.secret-in-tree``) if still present at the ref. Severity comes from the tier of its
    strongest unsuppressed occurrence (``secrets.severities`` in rules/security.yaml); a secret whose
    every occurrence is suppressed is not reported (it is counted per reason in the statistics).
    """
    from ..collect.secrets.context import settings
    sev = settings(rules)["severities"]
    texts = rules.get("security", {}).get("secret_remediation", {})
    hist = history[history["action"] != "suppress"] if len(history) else history
    tr = tree[tree["action"] != "suppress"] if len(tree) else tree
    if hist.empty and tr.empty:
        return [], []
    info = commits.set_index("sha")[["author_day", "person"]] if len(commits) else None
    if len(hist) and info is not None:
        hist = hist.join(info, on="sha")
        hist = hist.sort_values(["author_day", "sha", "path", "line"], kind="stable")
    elif len(hist):
        hist = hist.assign(author_day=None, person=None)
    present = {fp: grp for fp, grp in tr.groupby("fingerprint", sort=False)} if len(tr) else {}
    recs, rows = [], []
    fps = list(dict.fromkeys(list(hist["fingerprint"]) if len(hist) else []))
    fps += [fp for fp in present if fp not in set(fps)]
    hist_by = {fp: grp for fp, grp in hist.groupby("fingerprint", sort=False)} if len(hist) else {}
    for fp in fps:
        grp = hist_by.get(fp)
        now = present.get(fp)
        still = now is not None
        occ = pd.concat([g for g in (grp, now) if g is not None], ignore_index=True)
        best = _best(occ)
        tier, detector = best["tier"], best["detector"]
        downgraded = best["action"] == "downgrade"
        severity = sev.get(tier, sev["generic"])["tree" if still else "history"]
        if downgraded and _SEV_RANK.get(sev["downgraded"], 3) > _SEV_RANK.get(severity, 0):
            severity = sev["downgraded"]     # a downgrade never raises a severity (an info-tier public key)
        rule = "sec.secret-in-tree" if still else "sec.secret-in-history"
        first = grp.iloc[0] if grp is not None else None
        here = now.sort_values(["path", "line"], kind="stable").iloc[0] if now is not None else first
        assert here is not None  # a secret is at the ref, in history, or both
        path, line = here["path"], int(here["line"])
        all_paths = list(dict.fromkeys(list(occ.sort_values(["path"], kind="stable")["path"])))
        now_paths = sorted(set(now["path"])) if now is not None else []
        reason = best["reason"] if downgraded else ""
        parts = [f"{detector} ({tier} tier, {best['engine']} detector {best['detector_id']})"]
        if grp is not None and first is not None:
            commits_n = grp["sha"].nunique()
            parts.append(f"first added in commit {first['sha'][:10]} on {first.get('author_day')} by "
                         f"{first.get('person')} in {first['path']} line {int(first['line'])}"
                         f"{f' (added in {commits_n} commits in all)' if commits_n > 1 else ''}")
        else:
            commits_n = 0
        parts.append("still present at the ref in " + "; ".join(now_paths) if still
                     else "no longer present at the ref")
        if len(all_paths) > 1:
            parts.append(f"found in {len(all_paths)} paths: " + "; ".join(all_paths))
        if reason:
            parts.append(f"downgraded: {reason}")
        parts.append(f"fingerprint {fp} (the secret itself is not reported)")
        extra = dict(first_sha=first["sha"], first_commit=first.get("author_day"), person=first.get("person"),
                     commits=commits_n) if first is not None else {}
        rec = finding(rules, rule, f"{detector} in {path}", "; ".join(parts),
                      texts.get("in_tree" if still else "in_history", ""), path=path, id_extra=fp,
                      line=line, end_line=line, fingerprint=fp, severity=severity, tier=tier,
                      detector=detector, detector_id=best["detector_id"], engine=best["engine"],
                      context=reason or None, paths="; ".join(all_paths), **extra)
        recs.append(rec)
        rows.append(dict(check="Secret in " + ("the code at the ref" if still else "history"), status="found",
                         rule=rule, severity=severity, detail=detector, path=path, line=line,
                         commit=first["sha"] if first is not None else None,
                         date=first.get("author_day") if first is not None else None,
                         author=first.get("person") if first is not None else None, fingerprint=fp,
                         tier=tier, detector=best["detector_id"], reason=reason or None,
                         paths="; ".join(all_paths)))
    return recs, rows


def checklist(rules: Rules, files: pd.DataFrame) -> tuple[list[Finding], list[dict]]:
    """The security-policy checklist at the ref: one row per check, a finding per missing item."""
    sec = rules.get("security", {})
    paths = ([p for p, c in zip(files["path"].tolist(), files["category"].tolist()) if c != "vendored"]
             if len(files) else [])
    # Each path and file name lower-cased once, each glob list's pattern looked up once and run over them
    # by compress (4.9 ms on pip's 1,071 paths and 13 lists when each pair was a call that did all three).
    lower = [p.lower() for p in paths]
    base_lower = [p.rsplit("/", 1)[-1].lower() for p in paths]

    def matching(names: list[str], globs: list[str]) -> Iterator[str]:
        return compress(paths, map(_glob_regex(tuple(globs)).match, names))

    recs, rows = [], []
    for item in sec.get("checklist", []):
        hits = sorted(matching(lower, item["globs"]))
        ok = bool(hits)
        rows.append(dict(check=item["title"], status="present" if ok else "missing", rule=item["rule"],
                         severity=None if ok else rules.severity(item["rule"]),
                         detail="; ".join(hits[:5]) if ok else "none of: " + ", ".join(item["globs"][:6])))
        if not ok:
            recs.append(finding(rules, item["rule"], item["title"],
                                f"No file at the ref matches any of: {', '.join(item['globs'])}",
                                item.get("remediation", "")))
    for eco, spec in sec.get("lockfiles", {}).items():
        manifests = sorted(matching(base_lower, spec["manifests"]))
        if not manifests:
            continue
        lock_rx = _glob_regex(tuple(spec["locks"]))
        locks = sorted(compress(paths, map(lambda p, b: lock_rx.match(p) or lock_rx.match(b), lower, base_lower)))
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
