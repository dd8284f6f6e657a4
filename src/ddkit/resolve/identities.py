"""From raw git identities to people.

Order of resolution for each (name, e-mail) pair seen in the history:
1. ``.mailmap`` at the scanned ref;
2. forge no-reply addresses reduced to one canonical form (``123+login@users.noreply.github.com``);
3. bots, by the name and e-mail patterns in ``rules/identities.yaml``;
4. the roster, by any of a person's e-mails (case-insensitive), raw or mapped;
5. otherwise one person per canonical e-mail address, classified by the company's and vendors'
   domains; such identities are *unresolved* and listed as such.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from ..config import Company, Rules
from ..disjoint import DisjointSets
from ..text import first_few
from ..values import is_missing
from .mailmap import Mailmap

IDENTITY_COLUMNS = ["name_raw", "email_raw", "name", "email", "email_key", "person_id", "person",
                    "is_bot", "matched_by", "domain_class", "commits"]


@dataclass
class IdentityRules:
    bot_name: list[re.Pattern[str]]
    bot_email: list[re.Pattern[str]]
    noreply: list[tuple[re.Pattern[str], str]]
    freemail: set[str]
    merge_by_name: bool = True
    generic_names: frozenset[str] = frozenset()

    @classmethod
    def from_rules(cls, rules: Rules) -> IdentityRules:
        r = rules.get("identities", {})
        bots = r.get("bots", {})
        return cls(
            bot_name=[re.compile(p, re.I) for p in bots.get("name_patterns", [])],
            bot_email=[re.compile(p, re.I) for p in bots.get("email_patterns", [])],
            noreply=[(re.compile(x["pattern"], re.I), x["canonical"]) for x in r.get("forge_noreply", [])],
            freemail={d.lower() for d in r.get("freemail_domains", [])},
            merge_by_name=bool(r.get("merge_by_name", True)),
            generic_names=frozenset(n.lower() for n in r.get("generic_names", [])),
        )

    def name_key(self, name: str) -> str | None:
        """A key under which same-named unmatched identities merge, or None when the name is too weak."""
        if not self.merge_by_name:
            return None
        n = unicodedata.normalize("NFKD", name)
        if not n.isascii():   # no ASCII character is a combining one: most names skip the walk over characters
            n = "".join(ch for ch in n if not unicodedata.combining(ch))
        n = " ".join(n.lower().replace(".", " ").split())
        if len(n.split()) < 2 or n in self.generic_names or "@" in n:
            return None
        return n

    def canonical_email(self, email: str) -> str:
        e = email.strip().strip("<>").lower()
        for pat, canon in self.noreply:
            m = pat.match(e)
            if m:
                return canon.format(**m.groupdict())
        return e

    def is_bot(self, name: str, email: str) -> bool:
        return any(p.search(name) for p in self.bot_name) or any(p.search(email) for p in self.bot_email)


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1] if "@" in email else ""


def _in_domains(domain: str, domains: list[str]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in domains)


def domain_class(email: str, company: Company, irules: IdentityRules) -> tuple[str, str | None]:
    """('company'|'vendor'|'freemail'|'other'|'none', vendor name)."""
    d = _domain(email)
    if not d:
        return "none", None
    if _in_domains(d, company.domains):
        return "company", None
    for vendor, doms in company.vendors.items():
        if _in_domains(d, doms):
            return "vendor", vendor
    if d in irules.freemail:
        return "freemail", None
    return "other", None


@dataclass
class Resolution:
    identities: pd.DataFrame           # one row per raw (name, email) pair
    people: pd.DataFrame               # one row per person (no commit statistics yet)
    warnings: list[str] = field(default_factory=list)


def resolve_identities(commits: pd.DataFrame, roster: pd.DataFrame, company: Company, rules: Rules,
                       mailmap: Mailmap) -> Resolution:
    irules = IdentityRules.from_rules(rules)
    from .ai_tools import AI_TYPE, AiRules
    ai_rules = AiRules.from_rules(rules)   # an AI tool's identity is never a person (rules/ai.yaml)
    # Commits per distinct (name, e-mail), sorted: what a sorted groupby().size() gives, counted over plain
    # lists (the groupby and its itertuples cost 3 ms on pip's 17k rows).
    pairs = sorted(Counter(zip(commits["author_name_raw"].tolist(), commits["author_email_raw"].tolist())).items())

    roster_by_email: dict[str, int] = {}
    for i, emails in enumerate(roster["emails"] if len(roster) else []):
        for e in emails:
            roster_by_email[irules.canonical_email(e)] = i
    have_roster = len(roster) > 0

    rows = []
    claims: list[tuple[str, str, int, str]] = []    # (.mailmap's commit address, its proper address, commits, to what)
    for (name_raw, email_raw), n in pairs:
        name, email = mailmap.map(name_raw, email_raw)
        mapped = (name, email) != (name_raw, email_raw)
        key = irules.canonical_email(email)
        raw_key = key if email == email_raw else irules.canonical_email(email_raw)
        dclass, vendor = domain_class(key, company, irules)
        # The raw identity is tested only when it differs (most are not mapped): the patterns are most of the loop.
        bot = irules.is_bot(name, key) or ((name_raw, raw_key) != (name, key) and irules.is_bot(name_raw, raw_key))
        # The roster is the authority on whose address is whose; the .mailmap is the repository's own
        # (the seller's) file. So the address the commit was made with is looked up first: a .mailmap line
        # cannot move a contractor's roster address onto a founder.
        r_idx = roster_by_email.get(raw_key, roster_by_email.get(key))
        if mapped and key != raw_key:
            raw_class = domain_class(raw_key, company, irules)[0]
            if have_roster and r_idx is not None and raw_key not in roster_by_email:
                claims.append((email_raw, email, n, "roster"))
            elif not have_roster and dclass in ("company", "vendor") and raw_class != dclass:
                claims.append((email_raw, email, n, dclass))
        ai_tool = ai_rules.identity_tool(name, key) or ai_rules.identity_tool(name_raw, raw_key)
        if ai_tool and r_idx is None:
            pid = "ai:" + ai_tool.lower()
            matched = "ai"
            bot = True
        elif r_idx is not None:
            pid = "roster:" + roster.iloc[r_idx]["person"]
            matched = "roster"
        elif bot:
            pid = "bot:" + (key or name.lower())
            matched = "bot"
        else:
            pid = None  # decided below, once aliases are linked
            matched = "mailmap" if mapped else ("domain" if dclass in ("company", "vendor") and not have_roster else "none")
        rows.append(dict(name_raw=name_raw, email_raw=email_raw, name=name, email=email, email_key=key,
                         person_id=pid, person=None, is_bot=bot and r_idx is None, matched_by=matched,
                         domain_class=dclass, vendor_guess=vendor, commits=n))
    _link_unmatched(rows, irules)
    ident = pd.DataFrame(rows, columns=[*IDENTITY_COLUMNS, "vendor_guess"])

    people_rows = []
    warnings: list[str] = _mailmap_claims(claims)
    # One person per person_id, in order of first appearance (groupby(sort=False), without a frame each).
    groups: dict[str, list[dict]] = {}
    for row in rows:
        if not is_missing(row["person_id"]):
            groups.setdefault(row["person_id"], []).append(row)
    for pid, grp in groups.items():
        by_name: dict[str, int] = {}
        for r_ in grp:
            if not is_missing(r_["name"]):
                by_name[r_["name"]] = by_name.get(r_["name"], 0) + r_["commits"]
        # Most commits first; equal counts by name (a grouped sum is sorted by name, then sorted stably).
        names = sorted(sorted(by_name), key=lambda k: -by_name[k])
        emails = sorted({r_["email_key"] for r_ in grp if r_["email_key"]}
                        | {r_["email_raw"].lower() for r_ in grp if r_["email_raw"]})
        dclasses = {r_["domain_class"] for r_ in grp}
        base = dict(person_id=pid, names=names, emails=emails, is_bot=any(bool(r_["is_bot"]) for r_ in grp))
        if pid.startswith("roster:"):
            r = roster[roster["person"] == pid[len("roster:"):]].iloc[0]
            rec = {**base, **{k: r[k] for k in roster.columns if k not in ("emails",)}}
            rec.update(person=r["person"], in_roster=True, roster_emails=list(r["emails"]), resolved=True)
        else:
            vendor = next((r_["vendor_guess"] for r_ in grp
                           if isinstance(r_["vendor_guess"], str) and r_["vendor_guess"]), None)
            if pid.startswith("ai:"):
                typ = AI_TYPE
            elif base["is_bot"]:
                typ = "bot"
            elif have_roster:
                typ = "unknown"
            elif "company" in dclasses:
                typ = "employee"
            elif vendor:
                typ = "vendor"
            else:
                typ = "unknown"
            rec = {**base, "person": names[0], "type": typ, "vendor": vendor if typ == "vendor" else None,
                   "in_roster": False, "roster_emails": [], "ip_assignment": None,
                   "resolved": base["is_bot"] or (not have_roster and typ != "unknown")}
        rec["domain_class"] = ",".join(sorted(dclasses))
        people_rows.append(rec)
    people = pd.DataFrame(people_rows)
    if len(people):
        people = _unique_display_names(people)
        ident["person"] = ident["person_id"].map(dict(zip(people["person_id"], people["person"])))
        # Without a roster there is nothing to suggest; with one, a tuple per person of the columns
        # suggest_roster_match reads (itertuples over every column cost 1.4 ms on pip).
        rkeys = roster_keys(roster, irules)
        people["possible_roster_match"], people["possible_roster_match_reason"] = zip(
            *[suggest_roster_match(p, rkeys, irules) if not p.in_roster and not p.is_bot else (None, None)
              for p in people[["person", "names", "emails", "in_roster", "is_bot"]].itertuples()]) \
            if rkeys else (None, None)
        unresolved = people[~people["resolved"]]
        if len(unresolved):
            # One line, not one per contributor (git/git has thousands): the People sheet lists them all.
            shown = ", ".join(unresolved["person"].head(5))
            warnings.append(f"{len(unresolved)} identit{'y' if len(unresolved) == 1 else 'ies'} not resolved to a "
                            f"roster entry or a company/vendor domain (listed on the People sheet, type unknown), e.g. "
                            f"{shown}{' …' if len(unresolved) > 5 else ''}")
    return Resolution(ident.drop(columns=["vendor_guess"]), people, warnings)


def _mailmap_claims(claims: list[tuple[str, str, int, str]]) -> list[str]:
    """One warning line per kind of .mailmap rewrite that decides who a contributor is: an address the roster
    does not list, attributed by the .mailmap to a roster person; without a roster, an address outside the
    company's (or a vendor's) domains moved onto them, which makes its author an employee (or vendor staff).
    Both are applied, since that is what a .mailmap is for (a personal address of a known employee), but the
    .mailmap is the seller's own file, so the report says which attributions rest on it alone."""
    total: dict[tuple[str, str, str], int] = {}
    for a, b, n, kind in claims:      # one address may commit under several names
        total[(a, b, kind)] = total.get((a, b, kind), 0) + n
    claims = [(a, b, n, kind) for (a, b, kind), n in total.items()]
    out = []
    for kind, what in (("roster", "roster people whose roster rows do not list them"),
                       ("company", "company addresses (so their authors count as employees)"),
                       ("vendor", "vendor addresses (so their authors count as vendor staff)")):
        rows = sorted((c for c in claims if c[3] == kind), key=lambda c: (-c[2], c[0]))
        if not rows:
            continue
        shown = first_few([f"{a} → {b} ({n} commit{'s' if n != 1 else ''})" for a, b, n, _ in rows])
        out.append(f"the repository's .mailmap attributes {len(rows)} address{'es' if len(rows) != 1 else ''} to "
                   f"{what}: {shown}; the .mailmap is the repository's own claim: confirm these addresses "
                   "in the roster")
    return out


# Second-level labels under which organisations register (wellcome.ac.uk is "wellcome", not "ac").
_SECOND_LEVEL = {"ac", "co", "com", "edu", "gov", "net", "org", "ne", "or", "go"}


def _domain_stem(domain: str) -> str | None:
    """The registered name of a domain ("kennethreitz" for kennethreitz.org and _.kennethreitz.com), or None
    when too short to mean anything."""
    labels = [x for x in domain.lower().split(".") if x]
    if len(labels) < 2:
        return None
    stem = labels[-3] if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL else labels[-2]
    return stem if len(stem) >= 4 else None


# Local parts too common to say anything about who wrote a commit.
_GENERIC_LOCAL = {"me", "mail", "info", "admin", "dev", "git", "github", "hello", "contact", "root", "user", "noreply",
                  "no-reply", "support", "office", "team", "webmaster", "postmaster", "code", "hi", "_"}


# A roster person as suggest_roster_match compares it: the name's key and each address split once.
RosterKey = tuple[str, str | None, list[tuple[str, str, str, str | None]]]


def roster_keys(roster: pd.DataFrame, irules: IdentityRules) -> list[RosterKey]:
    """(person, name key, [(address, user name, domain, domain stem)]) per roster row, in roster order:
    worked out once, not once per unresolved identity (itertuples over the roster per identity cost 0.5 s
    on pip with a roster of six)."""
    out: list[RosterKey] = []
    for person, emails in zip(roster["person"].tolist(), roster["emails"].tolist()) if len(roster) else ():
        parts = []
        for e in emails:
            local, _, domain = e.lower().partition("@")
            parts.append((e, local, domain, _domain_stem(domain)))
        out.append((person, irules.name_key(str(person)), parts))
    return out


def suggest_roster_match(p, roster: list[RosterKey], irules: IdentityRules) -> tuple[str | None, str | None]:
    """A roster person this unresolved identity may be, and why; never merged silently (a suggestion)."""
    if not roster:
        return None, None
    names = [n for n in (p.names if isinstance(p.names, list) else [p.person]) if isinstance(n, str)]
    keys = {irules.name_key(n) for n in names} - {None}
    emails = [e for e in (p.emails if isinstance(p.emails, list) else []) if "@" in e]
    for person, rk, _ in roster:
        if rk and rk in keys:
            return person, "same name, different address"
    for person, _, parts in roster:
        for re_, rl, rd, stem_r in parts:
            for e in emails:
                el, _, ed = e.partition("@")
                if el == rl and len(el) >= 3 and el not in _GENERIC_LOCAL and not ed.startswith("users.noreply"):
                    return person, f"same user name as the roster's {re_}"
                stem_e = _domain_stem(ed)
                if (stem_e and stem_e == stem_r and ed != rd and ed not in irules.freemail
                        and rd not in irules.freemail):
                    return person, f"address on {ed}, like the roster's {re_}"
    return None, None


def _link_unmatched(rows: list[dict], irules: IdentityRules) -> None:
    """Identities that match nobody are one person when they share an address or a (strong) name."""
    sets = DisjointSets()
    find, union = sets.find, sets.union
    loose = [r for r in rows if r["person_id"] is None]
    for r in loose:
        e = "e:" + (r["email_key"] or "name:" + r["name"])
        find(e)
        nk = irules.name_key(r["name"])
        if nk:
            union(e, "n:" + nk)
        raw = r["email_key"] if r["email_raw"] == r["email"] else irules.canonical_email(r["email_raw"])
        if raw and raw != r["email_key"]:
            union(e, "e:" + raw)
    # Name each component after its smallest e-mail key, so ids do not depend on row order.
    members: dict[str, list[str]] = {}
    for r in loose:
        root = find("e:" + (r["email_key"] or "name:" + r["name"]))
        members.setdefault(root, []).append(r["email_key"] or "name:" + r["name"])
    label = {root: min(v) for root, v in members.items()}
    for r in loose:
        r["person_id"] = "id:" + label[find("e:" + (r["email_key"] or "name:" + r["name"]))]


def _unique_display_names(people: pd.DataFrame) -> pd.DataFrame:
    """Two different people must not share a display name in a report: add the address to clashes."""
    dup = people["person"].duplicated(keep=False) & ~people["in_roster"]
    people = people.copy()
    people.loc[dup, "person"] = [f"{p} <{e[0]}>" if e else p
                                 for p, e in zip(people.loc[dup, "person"], people.loc[dup, "emails"])]
    return people
