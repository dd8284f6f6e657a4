"""IP findings: every ``ip.*`` rule of the contract (and ``ip.missing-assignment``, an extension).

Each finding names the person or vendor, the evidence (commits, first and last commit with sha,
surviving lines, the files with most lines at stake) and a remediation sentence counsel can act on.
See the README for the exact semantics of each rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import pandas as pd

from ..config import Company, Rules
from ..values import is_missing
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

    def lines(self, shas: Iterable[str]) -> int:
        return sum(n for sha in shas for _, n in self.per_sha.get(sha, ()))

    def files(self, shas: Iterable[str], n: int = 5) -> list[tuple[str, int]]:
        acc: dict[str, int] = {}
        for sha in shas:
            for path, k in self.per_sha.get(sha, ()):
                acc[path] = acc.get(path, 0) + k
        return sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


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


def _windows(ordered: pd.DataFrame) -> dict[str, _Window]:
    """Each person's commits in the order of *ordered* (what ``groupby(sort=False)`` gives, without a frame each)."""
    co = ordered["coauthor"].tolist() if "coauthor" in ordered else [False] * len(ordered)
    out: dict[str, _Window] = {}
    for pid, sha, day, c in zip(ordered["person_id"].tolist(), ordered["sha"].tolist(),
                                ordered["author_day"].tolist(), co):
        if pid is None or (isinstance(pid, float) and pid != pid):   # what groupby drops
            continue
        w = out.get(pid)
        if w is None:
            w = out[pid] = _Window([], [], [])
        w.sha.append(sha)
        w.day.append(day)
        w.co.append(c)
    return out


def _window_of(frame: pd.DataFrame) -> _Window:
    co = frame["coauthor"].tolist() if "coauthor" in frame else [False] * len(frame)
    return _Window(frame["sha"].tolist(), frame["author_day"].tolist(), co)


def _window_evidence(cs: _Window, stake: _Stake) -> tuple[dict, str]:
    """*cs*: one person's commits, oldest first."""
    shas = cs.sha
    days = cs.day
    first = {"sha": shas[0], "author_day": days[0]}
    last = {"sha": shas[-1], "author_day": days[-1]}
    lines = stake.lines(shas)
    files = stake.files(shas)
    info = dict(commits=len(cs), first_commit=first["author_day"], last_commit=last["author_day"],
                first_sha=first["sha"], last_sha=last["sha"], lines_at_stake=lines, files=[f for f, _ in files])
    n_co = sum(1 for c in cs.co if not is_missing(c) and bool(c))    # fillna(False).astype(bool).sum()
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
                blame: pd.DataFrame, roster_given: bool, coauthored: pd.DataFrame | None = None) -> list[dict]:
    """Every ip.* finding. *coauthored*: co-authored commits as rows of their co-authors, who are authors
    for copyright (they need paperwork too): their windows and lines at stake include those commits."""
    stake = _Stake(blame)
    recs: list[dict] = []
    humans = people[~people["is_bot"]] if len(people) else people
    if coauthored is not None and len(coauthored):
        commits = pd.concat([commits.assign(coauthor=False), coauthored], ignore_index=True)
    ordered = commits.sort_values(["author_date", "sha"], kind="stable") if len(commits) else commits
    by_person = _windows(ordered) if len(commits) else {}
    inc = company.incorporation_date
    vendor_staff: dict[str, list] = {}

    def emit(rule: str, p, window: _Window, evidence, remedy) -> None:
        """One finding about *p*'s commits in *window* (none when it is empty); *evidence* and *remedy*
        make the sentences from (info, evidence of the window) and info."""
        if len(window):
            info, ev = _window_evidence(window, stake)
            recs.append(finding(rules, rule, p.person, evidence(info, ev), remedy(info), person=p.person, **info))

    for p in humans.itertuples():
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
        pids = [s.person_id for s in staff]
        cs = _window_of(ordered[ordered["person_id"].isin(pids)])     # their commits together, oldest first
        info, ev = _window_evidence(cs, stake)
        names = ", ".join(s.person for s in staff)
        recs.append(finding(
            rules, "ip.contractor-no-assignment", vendor,
            f"Staff of vendor {vendor} ({names}) have no signed IP assignment: {ev}.",
            f"Obtain an IP assignment from {vendor} covering its staff's work {_period(info)} ({_counts(info)}), "
            f"and check that the MSA/SOW assigns (not licenses) the deliverables, including any reusable framework.",
            vendor=vendor, **info))

    unresolved = humans[~humans["in_roster"]] if len(humans) else humans
    for p in unresolved.itertuples():
        cs = by_person.get(p.person_id)
        if cs is None or not len(cs):
            continue
        info, ev = _window_evidence(cs, stake)
        emails = ", ".join(p.emails) if isinstance(p.emails, list) else ""
        # A display name made unique with its address already shows it.
        who = p.person if p.person.endswith(">") else f"{p.person} <{emails}>"
        hint = ""
        match = getattr(p, "possible_roster_match", None)
        if isinstance(match, str):
            hint = (f" Possibly {match} on the roster ({p.possible_roster_match_reason}): add the address to the "
                    f"roster to merge them.")
        if roster_given:
            recs.append(finding(
                rules, "ip.unknown-contributor", p.person,
                f"{who} matches no roster entry: {ev}.{hint}",
                f"Identify {p.person}; add them to the roster with their IP paperwork, or obtain an IP assignment "
                f"covering work {_period(info)} ({_counts(info)}), or remove and rewrite that code.",
                person=p.person, possible_roster_match=match if isinstance(match, str) else None, **info))
        elif "company" not in str(p.domain_class).split(",") and "vendor" not in str(p.domain_class).split(","):
            recs.append(finding(
                rules, "ip.unverified-identity", p.person,
                f"{who} committed from an address on neither a company nor a vendor domain, "
                f"and no roster was given: {ev}.",
                f"Identify {p.person} and record their relationship and IP paperwork in a roster "
                f"({_counts(info)}).", person=p.person, **info))
    return recs
