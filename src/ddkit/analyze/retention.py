"""The two questions a buyer asks after the findings.

*Whom must we retain?* (:func:`retention_table`): the current employees and founders (not departed, not
bots) whose departure would orphan the most knowledge, from the off-boarding simulation: the source files
where they are the only author (degree of authorship, Avelino et al.), which become orphaned if they
leave, and the modules whose truck factor would drop. Ranked by files orphaned, then modules whose truck
factor drops, then surviving lines.

*What if the paperwork cannot be obtained?* (:func:`rewrite_scope_table`): for each subject of the
remediation list (a person or vendor with a gap in the chain of title), the scope of a clean-room
rewrite of the code at stake: the surviving lines written in the gap periods (all of the subject's work
for a gap without a period of its own), their files and modules, and who among current staff (employees
and founders still engaged) knows those files (is one of their authors), so that the seller can weigh a
signature against a rewrite.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pandas as pd

from ..isodate import format_day as _day
from .bus_factor import Departures, source_files

RETENTION_COLUMNS = ["rank", "person", "type", "surviving_lines", "files_known", "files_orphaned",
                     "orphaned_files", "modules_losing_knowledge", "truck_factor_drops", "repository_truck_factor_after"]
REWRITE_COLUMNS = ["subject", "subject_type", "periods", "files", "surviving_lines", "share_of_repository",
                   "modules", "current_staff_who_know", "nobody_on_staff_knows"]
STAFF_TYPES = ("employee", "founder")
MAX_SIMULATED = 30   # simulate the departure of at most this many people (the most knowledgeable first)


def current_staff(people: pd.DataFrame) -> pd.DataFrame:
    if people is None or people.empty:
        return people
    return people[people["type"].isin(STAFF_TYPES) & ~people["departed"].astype(bool) & ~people["is_bot"].astype(bool)]


def retention_table(doa: pd.DataFrame, files: pd.DataFrame, people: pd.DataFrame,
                    departures: Departures | None = None) -> pd.DataFrame:
    """*departures*: the scan's :class:`Departures` of these tables when the caller has one (the pipeline's
    off-boarding simulations share it), else made here."""
    staff = current_staff(people)
    if staff is None or staff.empty or doa is None or doa.empty:
        return pd.DataFrame(columns=RETENTION_COLUMNS)
    if departures is None:
        departures = Departures(doa, files, people)
    authors = departures.authors
    known: dict[str, int] = {}
    sole: dict[str, int] = {}
    for a in authors.values():
        for p in a:
            known[p] = known.get(p, 0) + 1
        if len(a) == 1:
            p = next(iter(a))
            sole[p] = sole.get(p, 0) + 1
    cands = [pid for pid in staff["person_id"] if known.get(pid)]
    cands = sorted(cands, key=lambda p: (-sole.get(p, 0), -known.get(p, 0), p))[:MAX_SIMULATED]
    meta = staff.set_index("person_id")
    rows = []
    for pid in cands:
        sim = departures.simulate([pid])
        repo = sim[sim["scope"] == "(repository)"]
        mods = sim[(sim["scope"] != "(repository)")]
        drops = mods[mods["truck_factor_after"].fillna(0) < mods["truck_factor_before"].fillna(0)]
        orphaned = list(repo["orphaned"].iloc[0]) if len(repo) else []
        rows.append(dict(
            person=meta.at[pid, "person"], type=meta.at[pid, "type"],
            surviving_lines=int(meta.at[pid, "surviving_lines"] or 0), files_known=known.get(pid, 0),
            files_orphaned=len(orphaned), orphaned_files=orphaned,
            modules_losing_knowledge=[dict(module=r.scope, truck_factor_before=_int(r.truck_factor_before),
                                           truck_factor_after=_int(r.truck_factor_after)) for r in drops.itertuples()],
            truck_factor_drops=len(drops),
            repository_truck_factor_after=_int(repo["truck_factor_after"].iloc[0]) if len(repo) else None))
    df = pd.DataFrame(rows, columns=[c for c in RETENTION_COLUMNS if c != "rank"])
    df = df.sort_values(["files_orphaned", "truck_factor_drops", "surviving_lines", "person"],
                        ascending=[False, False, False, True], kind="stable").reset_index(drop=True)
    df.insert(0, "rank", range(1, len(df) + 1))
    return df


def _int(v: Any) -> int | None:
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else int(v)


def rewrite_scope_table(remediation: pd.DataFrame, findings: pd.DataFrame, blame: pd.DataFrame,
                        commits: pd.DataFrame, people: pd.DataFrame, doa: pd.DataFrame,
                        files: pd.DataFrame, *, whole_work: Collection[str]) -> pd.DataFrame:
    """*whole_work*: the rules whose gap covers all of a subject's work (remediation.whole_work_rules)."""
    if remediation is None or remediation.empty or blame is None or blame.empty:
        return pd.DataFrame(columns=REWRITE_COLUMNS)
    # Plain Python over lists: a few pandas operations per subject cost more than all the subjects' rows
    # (issue 17; tests/unit/test_rescan_shortcuts.py compares it with the DataFrame version it replaced).
    shas = commits["sha"].tolist()
    pid_of = dict(zip(shas, commits["person_id"].tolist()))
    author_day = dict(zip(shas, commits["author_day"].tolist()))
    days: dict[str, str | None] = {}

    def day_of(sha: str) -> str | None:
        # Only for the commits of a gap with a period of its own, once each (every commit's day cost 4 ms on pip).
        if sha not in days:
            days[sha] = _day(author_day.get(sha))
        return days[sha]

    lines_of: dict[Any, list[tuple[str, int, str]]] = {}   # person id -> (path, lines, sha) per blame row
    for path, sha, n in zip(blame["path"].tolist(), blame["sha"].tolist(), blame["lines"].tolist()):
        lines_of.setdefault(pid_of.get(sha), []).append((path, n, sha))
    total = int(blame["lines"].sum()) or 1
    module_of = dict(zip(files["path"], files["module"])) if len(files) else {}
    staff = current_staff(people)
    staff_ids = set(staff["person_id"]) if staff is not None and len(staff) else set()
    names = dict(zip(people["person_id"], people["person"]))
    p_ids, p_names, p_vendors = people["person_id"].tolist(), people["person"].tolist(), people["vendor"].tolist()
    auth = doa[doa["author"]] if doa is not None and len(doa) else pd.DataFrame(columns=["path", "person_id"])
    authors_of: dict[str, list] = {}
    for path, pid in zip(auth["path"].tolist(), auth["person_id"].tolist()):
        authors_of.setdefault(path, []).append(pid)
    rule_of = dict(zip(findings["id"], findings["rule"])) if len(findings) else {}
    all_src = set(source_files(files)["path"])     # the same for every subject
    groups: dict[str, list[tuple]] = {}            # subject -> its remediation rows, first seen first
    for rec in zip(remediation["subject"].tolist(), remediation["subject_type"].tolist(),
                   remediation["finding_ids"].tolist(), remediation["period_start"].tolist(),
                   remediation["period_end"].tolist()):
        if isinstance(rec[0], str) or not pd.isna(rec[0]):     # groupby leaves out missing subjects
            groups.setdefault(rec[0], []).append(rec)
    rows = []
    for subject, g in groups.items():
        is_vendor = all(r[1] == "vendor" for r in g)
        ids = {i for i, p, v in zip(p_ids, p_names, p_vendors) if (v if is_vendor else p) == subject}
        whole_all = False
        windows = []
        periods = []
        for _subject, _type, finding_ids, period_start, period_end in g:
            rules = [rule_of.get(i.strip()) for i in str(finding_ids).split(",")]
            whole = any(x in whole_work for x in rules)
            start, end = _day(period_start), _day(period_end)
            if whole or start is None or end is None:
                whole_all = True
                periods.append(dict(start=start, end=end, whole_work=True))
            else:
                windows.append((start, end))
                periods.append(dict(start=start, end=end, whole_work=False))
        sums: dict[str, int] = {}
        for pid in ids:
            for path, n, sha in lines_of.get(pid, ()):
                if whole_all or ((day := day_of(sha)) is not None and any(a <= day <= b for a, b in windows)):
                    sums[path] = sums.get(path, 0) + n
        # by path, then most lines first (stable): the order pandas' sort_index then sort_values gave
        by_file = sorted(sorted(sums.items()), key=lambda kv: -kv[1])
        by_mod: dict[str, int] = {}
        for p, n in by_file:
            m = module_of.get(p, "(root)")
            by_mod[m] = by_mod.get(m, 0) + int(n)
        knowers: dict[str, int] = {}
        for p in sums:
            for pid in authors_of.get(p, ()):
                if pid in staff_ids and pid not in ids:
                    knowers[names[pid]] = knowers.get(names[pid], 0) + 1
        src_files = all_src & sums.keys()
        others = staff_ids - ids
        known_files = {p for p in src_files if any(pid in others for pid in authors_of.get(p, ()))}
        n = int(sum(sums.values()))
        uniq: list[dict] = []
        for period in periods:
            if period not in uniq:
                uniq.append(period)
        rows.append(dict(
            subject=subject, subject_type=g[0][1], periods=uniq,
            files=[dict(path=p, lines=int(k)) for p, k in by_file], surviving_lines=n,
            share_of_repository=round(n / total, 4),
            modules=dict(sorted(by_mod.items(), key=lambda kv: (-kv[1], kv[0]))),
            current_staff_who_know=dict(sorted(knowers.items(), key=lambda kv: (-kv[1], kv[0]))),
            nobody_on_staff_knows=len(src_files - known_files)))
    df = pd.DataFrame(rows, columns=REWRITE_COLUMNS)
    return df.sort_values(["surviving_lines", "subject"], ascending=[False, True], kind="stable").reset_index(drop=True)
