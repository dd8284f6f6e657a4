"""People: commit statistics per person and who has departed (contract definition)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from ..schema import PEOPLE_COLUMNS
from ..values import is_missing


def local_day(commits: pd.DataFrame) -> pd.Series:
    """The calendar day of each commit in its author's own time zone (what `git log` shows)."""
    if commits.empty:
        return pd.Series([], dtype="object")
    tz = commits["author_tz"].fillna("+0000").tolist()
    # Each distinct offset worked out once (a history has a few dozen): sign, then hours and minutes.
    minutes = {t: {"+": 1, "-": -1}.get(t[:1], 1) * (int(t[1:3]) * 60 + int(t[3:5])) for t in set(tz)}
    # In numpy (the column's wall time, whose day .dt.date gives), and a date object per distinct day: the
    # string column's map and .dt.date cost 4.5 ms on pip.
    local = (commits["author_date"].dt.tz_localize(None).to_numpy()
             + np.array([minutes[t] for t in tz], dtype="timedelta64[m]"))
    days, which = np.unique(local.astype("datetime64[D]"), return_inverse=True)
    dates = np.array([pd.NaT if d is None else d for d in days.astype(object).tolist()], dtype=object)
    return pd.Series(dates[which], index=commits.index, dtype=object)


def coauthor_rows(commits: pd.DataFrame) -> pd.DataFrame:
    """One row per (commit, co-author) from the commits' Co-authored-by trailers."""
    cos_col = commits["coauthors"].tolist() if "coauthors" in commits else [[]] * len(commits)
    rows = [(sha, n, e) for sha, cos in zip(commits["sha"].tolist(), cos_col)
            for n, e in (cos if isinstance(cos, list) else [])]
    return pd.DataFrame(rows, columns=["sha", "author_name_raw", "author_email_raw"])


def attach_coauthors(co: pd.DataFrame, commits: pd.DataFrame, identities: pd.DataFrame) -> pd.DataFrame:
    """The co-authored commits as commit rows of their co-authors (person_id is the co-author's, ``coauthor``
    True): what the IP analysis adds to each co-author's own commits. A co-author who is also the commit's
    author is not counted twice."""
    if co.empty or commits.empty:
        return commits.iloc[0:0].assign(coauthor=pd.Series(dtype=bool))
    # What a left merge of the co-authors on (name_raw, email_raw), then an inner merge of the commits on sha
    # gave (commits in their order, each one's co-authors in trailer order), found in dicts on plain lists
    # and taken by position: the merges on pip's 16k commits cost 5 ms for its ~300 co-author rows.
    rows_of: dict[tuple[Any, Any], list[int]] = {}
    for i, key in enumerate(zip(identities["name_raw"].tolist(), identities["email_raw"].tolist())):
        rows_of.setdefault(key, []).append(i)
    co_rows: dict[Any, list[int]] = {}      # sha -> the identity rows of its co-authors (-1: none)
    for sha, key in zip(co["sha"].tolist(), zip(co["author_name_raw"].tolist(), co["author_email_raw"].tolist())):
        co_rows.setdefault(sha, []).extend(rows_of.get(key, [-1]))
    at = np.flatnonzero(commits["sha"].isin(list(co_rows)).to_numpy())
    shas = commits["sha"].to_numpy()[at].tolist()
    own = dict(zip(shas, commits["person_id"].to_numpy()[at].tolist()))
    pids = identities["person_id"].tolist()
    pick: list[int] = []            # commit positions
    who: list[int] = []             # identity rows
    seen: set[tuple[Any, Any]] = set()
    for pos, sha in zip(at.tolist(), shas):
        for r in co_rows[sha]:
            pid = pids[r] if r >= 0 else None
            # a co-author with an identity, who is not the commit's author, once per commit
            if is_missing(pid) or pid == own[sha] or (sha, pid) in seen:
                continue
            seen.add((sha, pid))
            pick.append(pos)
            who.append(r)
    out = commits.take(pick).drop(columns=["person_id"]).reset_index(drop=True)
    out["person_id"] = identities["person_id"].array.take(who)
    return out.assign(coauthor=True)


def attach_people(commits: pd.DataFrame, identities: pd.DataFrame) -> pd.DataFrame:
    """Add resolved identity columns to the commits table."""
    if commits.empty:
        out = commits.copy()
        for c in ("author_name", "author_email", "person_id", "person", "author_day"):
            out[c] = pd.Series(dtype="object")
        return out
    # Each commit's identity row found in a dict, its columns taken by position: what a left merge on
    # (name_raw, email_raw) gives (none found: missing), without the merge's 3 ms on pip.
    at = {k: i for i, k in enumerate(zip(identities["name_raw"].tolist(), identities["email_raw"].tolist()))}
    if len(at) != len(identities):
        raise ValueError("attach_people: an identity (name_raw, email_raw) is listed twice")
    rows = [at.get(k, -1) for k in zip(commits["author_name_raw"].tolist(), commits["author_email_raw"].tolist())]
    out = commits.reset_index(drop=True)
    for src, dst in (("name", "author_name"), ("email", "author_email"), ("person_id", "person_id"),
                     ("person", "person")):
        out[dst] = identities[src].array.take(rows, allow_fill=True)
    out["author_day"] = local_day(out)
    return out


def _commit_stats(commits: pd.DataFrame) -> pd.DataFrame:
    """Per person id: commits, first and last commit day; what ``groupby("person_id").agg(size, min, max)``
    gives, counted in plain Python (pandas compares the day objects one group at a time, slowly) when every
    day is a date; else pandas' own."""
    pids, days = commits["person_id"].tolist(), commits["author_day"].tolist()
    # (The types checked as sets and each person's days gathered into a list for min and max: 1 ms less on
    # pip's 16k commits than a test per value and two comparisons per commit.)
    if not pids or set(map(type, days)) != {dt.date} or not all(issubclass(t, str) for t in set(map(type, pids))):
        return commits.groupby("person_id").agg(commits=("sha", "size"), first_commit=("author_day", "min"),
                                                last_commit=("author_day", "max"))
    by: defaultdict[str, list[dt.date]] = defaultdict(list)
    for p, d in zip(pids, days):
        by[p].append(d)
    keys = sorted(by)
    return pd.DataFrame({"commits": pd.array([len(by[k]) for k in keys], dtype="int64"),
                         "first_commit": pd.array([min(by[k]) for k in keys], dtype=object),
                         "last_commit": pd.array([max(by[k]) for k in keys], dtype=object)},
                        index=pd.Index(keys, name="person_id", dtype=commits["person_id"].dtype))


def people_table(people: pd.DataFrame, commits: pd.DataFrame, as_of: dt.date, inactivity_days: int) -> pd.DataFrame:
    """Commit counts, first and last commit, and the departed flag for each person."""
    if people.empty:
        return pd.DataFrame(columns=PEOPLE_COLUMNS)
    stats = _commit_stats(commits)
    out = people.merge(stats, left_on="person_id", right_index=True, how="left")
    out["commits"] = out["commits"].fillna(0).astype(int)
    for c in ("start_date", "end_date", "ip_assignment_date", "ip_document", "vendor", "ip_assignment",
              "possible_roster_match", "possible_roster_match_reason"):
        if c not in out:
            out[c] = None
    window_start = as_of - dt.timedelta(days=inactivity_days)

    def departed_status(is_bot, in_roster, end_date, last) -> str | None:
        """'confirmed': the roster's end_date is on or before as_of; 'unconfirmed': no end_date says (not on
        the roster, or its end_date cell is blank) and the person has no commit within the inactivity
        window; None: not departed. A blank end_date is not an answer: the person counts as departed until
        the roster gives an end date (a date after as_of: still engaged until then). Bots never depart."""
        if is_bot:
            return None
        if in_roster and not is_missing(end_date):
            return "confirmed" if end_date <= as_of else None
        return "unconfirmed" if is_missing(last) or last <= window_start else None

    # One call per person on the plain values (a row Series per person, from DataFrame.apply, cost more).
    cols = ["is_bot", "in_roster", "end_date", "last_commit"]
    status = list(map(departed_status, *(out[c].tolist() for c in cols)))
    out["departed"] = pd.Series([x is not None for x in status], index=out.index, dtype=bool)
    out["departed_status"] = pd.Series(status, index=out.index, dtype=object)
    if "surviving_lines" not in out:
        out["surviving_lines"] = 0
    rest = [c for c in out.columns if c not in PEOPLE_COLUMNS]
    out = out[[*PEOPLE_COLUMNS, *rest]]
    return out.sort_values(["is_bot", "commits", "person"], ascending=[True, False, True], kind="stable").reset_index(drop=True)
