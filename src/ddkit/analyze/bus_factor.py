"""Degree of authorship, truck factor and knowledge concentration.

Avelino, Passos, Hora and Valente, "A novel approach for estimating truck factors" (ICPC 2016), as
their tool computes it. For each (person, file):

    DOA = 3.293 + 1.098·FA + 0.164·DL − 0.321·ln(1 + AC)

FA = 1 if the person added the file (renames followed back to the first name), DL = the person's
modifications and renames of the file, AC = everyone else's. The authors of a file are those whose
DOA ÷ the file's best DOA is above 0.75 and whose DOA is at least 3.293 (or who added the file). The
truck factor is the number of top authors (by files authored) removed, one at a time, before fewer
than half of the files have an author. Source files at the ref only (not vendored or generated);
bots' changes are left out; merges carry no changes.
"""

from __future__ import annotations

import math

import pandas as pd

from ..collect.history import follow_renames
from ..config import Rules
from ..schema import Finding
from ..values import is_missing
from .findings import finding

DOA_COLUMNS = ["path", "person_id", "person", "fa", "dl", "ac", "doa", "doa_norm", "author"]


def file_events(changes: pd.DataFrame, commits: pd.DataFrame) -> pd.DataFrame:
    """Changes oldest first, each tagged with a stable file id that follows renames, and its person."""
    if changes.empty:
        return pd.DataFrame(columns=["file_id", "path", "path_at_ref", "person_id", "status", "sha"])
    ch = follow_renames(changes, commits, ["person_id", "author_date"])
    return ch[["file_id", "path", "path_at_ref", "person_id", "status", "sha"]]


def degree_of_authorship(changes: pd.DataFrame, commits: pd.DataFrame, people: pd.DataFrame,
                         files: pd.DataFrame) -> pd.DataFrame:
    """DOA per (source file at the ref, person) and whether the person is one of the file's authors."""
    src = files[(files["category"] == "text") & files["is_source"]]["path"] if len(files) else pd.Series(dtype=str)
    ev = file_events(changes, commits)
    bots = set(people.loc[people["is_bot"], "person_id"]) if len(people) else set()
    ev = ev[ev["path_at_ref"].isin(set(src)) & ~ev["person_id"].isin(bots)]
    if ev.empty:
        return pd.DataFrame(columns=DOA_COLUMNS)
    ev = ev.assign(fa=(ev["status"].isin(["A", "C"])).astype(int), dl=(ev["status"].isin(["M", "R", "T"])).astype(int))
    per = ev.groupby(["path_at_ref", "person_id"], sort=False).agg(fa=("fa", "max"), dl=("dl", "sum")).reset_index()
    per["ac"] = per.groupby("path_at_ref")["dl"].transform("sum") - per["dl"]
    per["doa"] = 3.293 + 1.098 * per["fa"] + 0.164 * per["dl"] - 0.321 * (1 + per["ac"]).map(math.log)
    per["doa_norm"] = per["doa"] / per.groupby("path_at_ref")["doa"].transform("max")
    per["author"] = (per["doa_norm"] > 0.75) & ((per["doa"] >= 3.293) | (per["fa"] == 1))
    per = per.rename(columns={"path_at_ref": "path"})
    per["person"] = per["person_id"].map(dict(zip(people["person_id"], people["person"])))
    return per[DOA_COLUMNS].sort_values(["path", "doa"], ascending=[True, False], kind="stable").reset_index(drop=True)


def authors_by_file(doa: pd.DataFrame, paths) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {p: set() for p in paths}
    for path, pid in doa.loc[doa["author"], ["path", "person_id"]].itertuples(index=False, name=None):
        if path in out:
            out[path].add(pid)
    return out


def truck_factor(authors: dict[str, set[str]], names: dict[str, str] | None = None) -> tuple[int | None, list[str]]:
    """Greedy truck factor and the people removed, in order (ties broken by name, for stable results)."""
    if not authors:
        return None, []
    names = names or {}
    remaining = [set(a) for a in authors.values()]
    counts: dict[str, int] = {}
    files_of: dict[str, list[int]] = {}
    for i, a in enumerate(remaining):
        for p in a:
            counts[p] = counts.get(p, 0) + 1
            files_of.setdefault(p, []).append(i)
    # Removing the top author leaves everyone else's count of files as it was, so the greedy order is known
    # from the start: most files first, then by name, then first seen (sorted is stable), which is what
    # recounting after each removal and taking the min gave (the recounts cost 1 ms per scenario on pip).
    left = [len(a) for a in remaining]
    with_author = sum(1 for n in left if n)
    removed: list[str] = []
    for top in sorted(counts, key=lambda p: (-counts[p], names.get(p, p))):
        if with_author * 2 < len(remaining):
            break
        for i in files_of[top]:
            left[i] -= 1
            if not left[i]:
                with_author -= 1
        removed.append(top)
    return len(removed), removed


def source_files(files: pd.DataFrame) -> pd.DataFrame:
    return files[(files["category"] == "text") & files["is_source"]][["path", "module"]] if len(files) else \
        pd.DataFrame(columns=["path", "module"])


BUS_COLUMNS = ["scope", "files", "truck_factor", "top_authors", "vendor_share", "contractor_share",
               "departed_share", "vendor_top", "orphaned_files"]


def bus_factor_table(doa: pd.DataFrame, files: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    src = source_files(files)
    authors = authors_by_file(doa, src["path"])
    # Each author's name, type, vendor and departed flag as plain dicts: looked up once per author of every
    # file of every scope (a person-indexed frame's .at cost more than the rest of the table on pip).
    def by_id(col: str) -> dict:
        return dict(zip(people["person_id"].tolist(), people[col].tolist())) if len(people) else {}
    names, type_of, vendor_of, departed_of = by_id("person"), by_id("type"), by_id("vendor"), by_id("departed")
    rows = []
    scopes = [("(repository)", src)] + [(m, g) for m, g in src.groupby("module", sort=True)]
    for scope, g in scopes:
        a = {p: authors[p] for p in g["path"]}
        if not a:
            continue
        tf, _ = truck_factor(a, names)
        counts: dict[str, int] = {}
        for s in a.values():
            for p in s:
                counts[p] = counts.get(p, 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], names.get(kv[0], kv[0])))[:5]
        n = len(a)
        vendor_files: dict[str, int] = {}
        contractor = departed = orphaned = 0
        for s in a.values():
            if not s:
                orphaned += 1
                continue
            types = {type_of[p] for p in s}
            vendors = {vendor_of[p] for p in s}
            if types == {"vendor"} and len(vendors) == 1:
                v = next(iter(vendors))
                vendor_files[v] = vendor_files.get(v, 0) + 1
            if types == {"contractor"}:
                contractor += 1
            if all(bool(departed_of[p]) for p in s):
                departed += 1
        vtop = max(vendor_files.items(), key=lambda kv: (kv[1], kv[0])) if vendor_files else (None, 0)
        rows.append(dict(scope=scope, files=n, truck_factor=tf,
                         top_authors=[f"{names.get(p, p)} ({k} files)" for p, k in top],   # a list (the workbook joins it)
                         vendor_share=round(vtop[1] / n, 4), contractor_share=round(contractor / n, 4),
                         departed_share=round(departed / n, 4), vendor_top=vtop[0], orphaned_files=orphaned))
    return pd.DataFrame(rows, columns=BUS_COLUMNS)


def knowledge_findings(rules: Rules, bus: pd.DataFrame) -> list[Finding]:
    th = rules.get("findings", {}).get("thresholds", {})
    tf_max = int(th.get("truck_factor_threshold", 1))
    min_files = int(th.get("module_min_files", 3))
    v_share = float(th.get("vendor_concentration_share", 0.5))
    d_share = float(th.get("departed_concentration_share", 0.5))
    recs = []
    for r in bus.itertuples():
        is_repo = r.scope == "(repository)"
        where = "the repository" if is_repo else f"module {r.scope}"
        if r.truck_factor is not None and r.truck_factor <= tf_max and (is_repo or r.files >= min_files):
            # 0: most files already have no author by degree of authorship in this history (code imported
            # or merged in from another repository's history, e.g. a subtree; or all its authors are bots).
            what = ("most of its files already have no author who knows them in this history (code imported or "
                    "merged in from elsewhere, e.g. a subtree, or written by bots)" if r.truck_factor == 0 else
                    f"losing {r.truck_factor} {'person' if r.truck_factor == 1 else 'people'} leaves most files with "
                    f"no author who knows them")
            recs.append(finding(
                rules, "kn.low-truck-factor", r.scope,
                f"Truck factor of {where} is {r.truck_factor} over {r.files} source files: {what}. "
                f"Top authors: {'; '.join(r.top_authors) or 'none'}.",
                f"Spread knowledge of {where}: pair other engineers on it, document it, and make review by a second "
                f"person routine until the truck factor is above {tf_max}."))
        if is_repo or r.files < min_files:
            continue
        if r.vendor_top and r.vendor_share >= v_share:
            recs.append(finding(
                rules, "kn.vendor-concentration", r.scope,
                f"{r.vendor_share:.0%} of the source files of {where} are known only to staff of vendor {r.vendor_top}. "
                f"Top authors: {'; '.join(r.top_authors)}.",
                f"Plan a hand-over from {r.vendor_top} to employees before the sale (cut-off date, knowledge-transfer "
                f"sessions, documentation), and confirm the vendor's IP assignment.", vendor=r.vendor_top,
                id_extra=r.vendor_top))
        elif r.contractor_share >= v_share:
            recs.append(finding(
                rules, "kn.vendor-concentration", r.scope,
                f"{r.contractor_share:.0%} of the source files of {where} are known only to contractors. "
                f"Top authors: {'; '.join(r.top_authors)}.",
                "Plan a hand-over from the contractors to employees and confirm their IP assignments.",
                id_extra="contractors"))
        if r.departed_share >= d_share:
            recs.append(finding(
                rules, "kn.departed-concentration", r.scope,
                f"{r.departed_share:.0%} of the source files of {where} are known only to people who have left. "
                f"Top authors: {'; '.join(r.top_authors)}.",
                f"Name a current owner for {where} and budget time for them to learn it."))
    return recs


class Departures:
    """The off-boarding simulation of :func:`simulate_departure`, for several scenarios on one scan: what
    does not depend on who leaves (the source files per scope, their authors, the truck factors before)
    is computed once (the pipeline's scenarios computed it each, 14 ms on pip)."""

    def __init__(self, doa: pd.DataFrame, files: pd.DataFrame, people: pd.DataFrame):
        self.pid, self.person, self.vendor = (people[c].tolist() for c in ("person_id", "person", "vendor"))
        self.known = set(self.person) | {v for v in self.vendor if not is_missing(v)} | set(self.pid)
        self.names = dict(zip(self.pid, self.person))
        src = source_files(files)
        paths = src["path"].tolist()
        self.authors = authors = authors_by_file(doa, paths)     # the repository's source files' authors
        by_module: dict[str, list[str]] = {}
        for path, module in zip(paths, src["module"].tolist()):
            if not is_missing(module):     # what groupby drops
                by_module.setdefault(module, []).append(path)
        # (scope, its files' authors, truck factor before), the repository first, then each module by name
        self.scopes = []
        for scope, ps in [("(repository)", paths)] + sorted(by_module.items()):
            before = {p: authors[p] for p in ps}
            if before:
                self.scopes.append((scope, before, truck_factor(before, self.names)[0]))

    def simulate(self, leaving) -> pd.DataFrame:
        leaving = [leaving] if isinstance(leaving, str) else list(leaving)
        unknown = [x for x in leaving if x not in self.known]
        if unknown:
            from ..errors import InputError
            raise InputError(f"simulate_departure: no person or vendor named {', '.join(map(str, unknown))}")
        gone = {pid for pid, person, vendor in zip(self.pid, self.person, self.vendor)
                if person in leaving or vendor in leaving or pid in leaving}
        rows = []
        for scope, before, tf_before in self.scopes:
            after = {p: a - gone for p, a in before.items()}
            orphaned = sorted(p for p in before if before[p] and not after[p])
            rows.append(dict(scenario=", ".join(leaving), scope=scope, files=len(before),
                             orphaned_files=len(orphaned), orphaned=orphaned,
                             truck_factor_before=tf_before, truck_factor_after=truck_factor(after, self.names)[0]))
        return pd.DataFrame(rows)


def simulate_departure(doa: pd.DataFrame, files: pd.DataFrame, people: pd.DataFrame, leaving) -> pd.DataFrame:
    """Per module (and the repository): files left without an author and the new truck factor if the given
    people, or all staff of the given vendors, left."""
    return Departures(doa, files, people).simulate(leaving)
