"""IP findings: every ``ip.*`` rule of the contract (and ``ip.missing-assignment``, an extension).

Each finding names the person or vendor, the evidence (commits, first and last commit with sha,
surviving lines, the files with most lines at stake) and a remediation sentence counsel can act on.
See the README for the exact semantics of each rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from ..config import Company, Rules
from ..schema import Finding
from .findings import finding
from .ownership import fmt_files

EMPLOYEE_LIKE = ("employee", "founder", "intern", "advisor")


def _is_date(v) -> bool:
    return isinstance(v, dt.date) and not pd.isna(v)


class _Stake:
    """Surviving lines and files per commit, from the blame table (plain dicts: called per finding)."""

    def __init__(self, blame: pd.DataFrame):
        self.per_sha: dict[str, list[tuple[str, int]]] = {}
        for path, sha, n in zip(blame["path"].tolist(), blame["sha"].tolist(), blame["lines"].tolist()):
            self.per_sha.setdefault(sha, []).append((path, int(n)))

    def files_and_lines(self, shas: Iterable[str], n: int = 5) -> tuple[list[tuple[str, int]], int]:
        """The *n* files with most surviving lines of these commits, and all their surviving lines."""
        acc: dict[str, int] = {}
        held_by = self.per_sha.get
        for sha in shas:
            for path, k in held_by(sha, ()):
                acc[path] = acc.get(path, 0) + k
        return sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))[:n], sum(acc.values())


class _Window:
    """Some commits, oldest first, as plain lists (sha, author day, whether a co-authored row): a person's
    commits, or a part of them. Plain lists, not DataFrames: one per person (git/git has thousands)."""

    __slots__ = ("sha", "day", "co")

    def __init__(self, sha: list, day: list, co: list):
        self.sha, self.day, self.co = sha, day, co

    def __len__(self) -> int:
        return len(self.sha)

    def where(self, keep: Callable[[dt.date], bool]) -> _Window:
        idx = [i for i, d in enumerate(self.day) if keep(d)]
        return _Window([self.sha[i] for i in idx], [self.day[i] for i in idx], [self.co[i] for i in idx])


def _before(limit: dt.date) -> Callable[[dt.date], bool]:
    return lambda d: d < limit


def _after(limit: dt.date) -> Callable[[dt.date], bool]:
    return lambda d: d > limit


def _from_until(start: dt.date | None, end: dt.date) -> Callable[[dt.date], bool]:
    """On or after *start* (when there is one) and before *end*."""
    return lambda d: d < end and (start is None or d >= start)


class _Rows:
    """Every commit row and then every co-authored row, as lists (person id, sha, author day, whether a
    co-authored row), and ``order``: their positions sorted by author date then sha (stable, no date last),
    what ``sort_values`` of the two frames put together gave. Only these columns (concatenating and sorting
    the whole frames cost 10 ms on pip), and numpy sorts the dates: sorting the sha strings (pandas) cost
    7 ms, and only the rows that share a date (a commit and its co-authored rows, a rebase) need them."""

    def __init__(self, commits: pd.DataFrame, coauthored: pd.DataFrame | None):
        cols = ["person_id", "sha", "author_day", "author_date"]
        rows = commits[cols].assign(coauthor=False)
        if coauthored is not None and len(coauthored):
            rows = pd.concat([rows, coauthored.reindex(columns=[*cols, "coauthor"])], ignore_index=True)
        self.pid, self.sha, self.day = rows["person_id"].tolist(), rows["sha"].tolist(), rows["author_day"].tolist()
        self.co = rows["coauthor"].fillna(False).astype(bool).tolist()
        dates = rows["author_date"].array.asi8.copy()
        dates[dates == np.iinfo(np.int64).min] = np.iinfo(np.int64).max     # NaT: last, as sort_values puts it
        order = np.argsort(dates, kind="stable")
        sorted_dates = dates[order]
        self.order = order.tolist()
        starts = np.flatnonzero(np.r_[True, sorted_dates[1:] != sorted_dates[:-1], True]).tolist()
        for i, j in zip(starts, starts[1:]):
            if j - i > 1:
                self.order[i:j] = sorted(self.order[i:j], key=self.sha.__getitem__)

    def window(self, positions: list[int]) -> _Window:
        return _Window([self.sha[i] for i in positions], [self.day[i] for i in positions],
                       [self.co[i] for i in positions])

    def windows(self) -> dict[str, _Window]:
        """Each person's commits, oldest first (what ``groupby(sort=False)`` gives, without a frame each)."""
        positions: dict[str, list[int]] = {}
        pid = self.pid
        for i in self.order:
            positions.setdefault(pid[i], []).append(i)
        return {p: self.window(ix) for p, ix in positions.items()
                if not (p is None or (isinstance(p, float) and p != p))}     # what groupby drops


def _window_evidence(cs: _Window, stake: _Stake) -> tuple[dict, str]:
    """*cs*: one person's commits, oldest first."""
    shas = cs.sha
    days = cs.day
    first = {"sha": shas[0], "author_day": days[0]}
    last = {"sha": shas[-1], "author_day": days[-1]}
    files, lines = stake.files_and_lines(shas)
    info = dict(commits=len(cs), first_commit=first["author_day"], last_commit=last["author_day"],
                first_sha=first["sha"], last_sha=last["sha"], lines_at_stake=lines, files=[f for f, _ in files])
    n_co = cs.co.count(True)     # co: bools (_Rows fills a missing flag with False)
    co_note = f" ({n_co} as co-author)" if n_co else ""
    text = (f"{len(cs)} commit{'s' if len(cs) != 1 else ''}{co_note} from {first['author_day']} ({first['sha'][:10]}) "
            f"to {last['author_day']} ({last['sha'][:10]}); {lines} surviving lines"
            + (f"; files with most lines at stake: {fmt_files(files)}" if files else ""))
    return info, text


def _period(info: dict) -> str:
    return f"from {info['first_commit']} to {info['last_commit']}"


def _counts(info: dict) -> str:
    return f"{info['commits']} commit{'s' if info['commits'] != 1 else ''}, {info['lines_at_stake']} surviving lines"


def ip_findings(rules: Rules, company: Company, people: pd.DataFrame, commits: pd.DataFrame,
                blame: pd.DataFrame, roster_given: bool, coauthored: pd.DataFrame | None = None) -> list[Finding]:
    """Every ip.* finding. *coauthored*: co-authored commits as rows of their co-authors, who are authors
    for copyright (they need paperwork too): their windows and lines at stake include those commits."""
    stake = _Stake(blame)
    recs: list[Finding] = []
    humans = people[~people["is_bot"]] if len(people) else people
    rows = _Rows(commits, coauthored) if len(commits) else None
    by_person = rows.windows() if rows is not None else {}
    inc = company.incorporation_date
    vendor_staff: dict[str, list] = {}

    def emit(rule: str, p, window: _Window, evidence, remedy) -> None:
        """One finding about *p*'s commits in *window* (none when it is empty); *evidence* and *remedy*
        make the sentences from (info, evidence of the window) and info."""
        if len(window):
            info, ev = _window_evidence(window, stake)
            recs.append(finding(rules, rule, p.person, evidence(info, ev), remedy(info), person=p.person, **info))

    # Without an incorporation date only the people on the roster can have findings here (itertuples over
    # every contributor cost 2 ms on pip, which has no roster).
    checked = humans if inc is not None or not len(humans) else humans[humans["in_roster"]]
    for p in checked.itertuples():
        cs = by_person.get(p.person_id)
        if cs is None or not len(cs):
            continue
        # Work before the company existed.
        if inc is not None:
            emit("ip.pre-incorporation-work", p, cs.where(_before(inc)),
                 lambda info, ev, p=p: f"{p.person} ({p.type}) committed before the company's incorporation on {inc}: {ev}.",
                 lambda info, p=p: f"Obtain a technology assignment (confirmatory, nunc pro tunc) from {p.person} to "
                 f"{company.name or 'the company'} expressly covering the work written before incorporation, "
                 f"{_period(info)} ({_counts(info)}).")
        if not p.in_roster:
            continue
        status = p.ip_assignment or "missing"
        signed_on = p.ip_assignment_date if _is_date(p.ip_assignment_date) else None
        # Work before the person's assignment was signed (after incorporation: before it is the rule above).
        if status == "signed" and signed_on is not None:
            doc = f" (document {p.ip_document})" if isinstance(p.ip_document, str) else ""
            emit("ip.pre-assignment-work", p,
                 cs.where(_from_until(inc, signed_on)),
                 lambda info, ev, p=p, doc=doc, on=signed_on: f"{p.person} ({p.type}) signed the IP assignment on "
                 f"{on}{doc} but committed before that: {ev}.",
                 lambda info, p=p: f"Obtain a confirmatory IP assignment (nunc pro tunc) from {p.person} covering "
                 f"work {_period(info)} ({_counts(info)}).")
        if p.type == "vendor" and status not in ("signed", "not_required"):
            vendor_staff.setdefault(p.vendor or "(vendor not named)", []).append(p)
        elif p.type == "contractor" and status not in ("signed", "not_required"):
            emit("ip.contractor-no-assignment", p, cs,
                 lambda info, ev, p=p, st=status: f"{p.person} is a contractor with no signed IP assignment (roster: "
                 f"{st}); a contractor's code is not work made for hire: {ev}.",
                 lambda info, p=p: f"Obtain a written IP assignment (present assignment, 'hereby assigns') from "
                 f"{p.person} covering all work {_period(info)} ({_counts(info)}).")
        elif p.type == "unknown" and status not in ("signed", "not_required"):
            # A row left as `roster init` wrote it: the roster names the person but not the relationship,
            # which is no more than no roster says (ip.unverified-identity): unknown is not good.
            emit("ip.unclassified-contributor", p, cs,
                 lambda info, ev, p=p, st=status: f"{p.person} is on the roster with type unknown and no signed IP "
                 f"assignment (roster: {st}); who owns their code is not established: {ev}.",
                 lambda info, p=p: f"Complete {p.person}'s roster row (type: employee, founder, contractor, vendor, "
                 f"intern or advisor; ip_assignment), then obtain the matching assignment covering work "
                 f"{_period(info)} ({_counts(info)}).")
        elif p.type in EMPLOYEE_LIKE and status in ("missing", "pending"):
            emit("ip.missing-assignment", p, cs,
                 lambda info, ev, p=p, st=status: f"{p.person} ({p.type}) has no signed invention-assignment agreement "
                 f"(roster: {st}): {ev}.",
                 lambda info, p=p: f"Obtain a signed PIIA from {p.person} with a present assignment and a confirmatory "
                 f"assignment of the work already done {_period(info)} ({_counts(info)}).")
        if _is_date(p.end_date):
            emit("ip.work-after-end-date", p, cs.where(_after(p.end_date)),
                 lambda info, ev, p=p: f"{p.person} ({p.type}) committed after the engagement ended on {p.end_date}: {ev}.",
                 lambda info, p=p: f"Obtain a confirmatory IP assignment from {p.person} covering the work after the "
                 f"end date, {_period(info)} ({_counts(info)}), or a record of the extended engagement.")

    for vendor, staff in sorted(vendor_staff.items()):
        pids = {s.person_id for s in staff}
        assert rows is not None     # staff are people with commits
        cs = rows.window([i for i in rows.order if rows.pid[i] in pids])    # their commits together, oldest first
        info, ev = _window_evidence(cs, stake)
        names = ", ".join(s.person for s in staff)
        recs.append(finding(
            rules, "ip.contractor-no-assignment", vendor,
            f"Staff of vendor {vendor} ({names}) have no signed IP assignment: {ev}.",
            f"Obtain an IP assignment from {vendor} covering its staff's work {_period(info)} ({_counts(info)}), "
            f"and check that the MSA/SOW assigns (not licenses) the deliverables, including any reusable framework.",
            vendor=vendor, **info))

    unresolved = humans[~humans["in_roster"]] if len(humans) else humans
    # Columns as lists, not itertuples (1.8 ms on pip's 868 contributors, most of them here); an empty
    # people table (nothing committed) has no domain_class.
    cols = ["person_id", "person", "emails", "possible_roster_match", "possible_roster_match_reason", "domain_class"]
    columns = [unresolved[c].tolist() for c in cols] if len(unresolved) else [[] for _ in cols]
    for pid, person, emails, match, match_reason, domain_class in zip(*columns):
        cs = by_person.get(pid)
        if cs is None or not len(cs):
            continue
        classes = str(domain_class).split(",")
        if not roster_given and ("company" in classes or "vendor" in classes):
            continue
        info, ev = _window_evidence(cs, stake)
        addresses = ", ".join(emails) if isinstance(emails, list) else ""
        # A display name made unique with its address already shows it.
        who = person if person.endswith(">") else f"{person} <{addresses}>"
        if roster_given:
            hint = (f" Possibly {match} on the roster ({match_reason}): add the address to the roster to merge "
                    f"them." if isinstance(match, str) else "")
            recs.append(finding(
                rules, "ip.unknown-contributor", person,
                f"{who} matches no roster entry: {ev}.{hint}",
                f"Identify {person}; add them to the roster with their IP paperwork, or obtain an IP assignment "
                f"covering work {_period(info)} ({_counts(info)}), or remove and rewrite that code.",
                person=person, possible_roster_match=match if isinstance(match, str) else None, **info))
        else:
            recs.append(finding(
                rules, "ip.unverified-identity", person,
                f"{who} committed from an address on neither a company nor a vendor domain, "
                f"and no roster was given: {ev}.",
                f"Identify {person} and record their relationship and IP paperwork in a roster "
                f"({_counts(info)}).", person=person, **info))
    return recs
