"""Known vulnerabilities in the dependencies, offline, with their exposure history (``dep.known-vulnerability``).

Three steps, DataFrames in and out:

* :func:`match` — each dependency at the ref (direct and locked transitive rows of the dependency stage's
  table) against the OSV database (``collect/vulndb.py``) by OSV ecosystem, normalised name and the
  advisory's ``ranges``/``versions`` (``analyze/vuln_versions.py``). A pinned or locked dependency is matched
  by its version; an unpinned one by the range its manifest allows (it is affected when that range meets an
  affected range, and the row says so). A manifest's range is not matched where a lockfile of the same
  directory resolves the package (the lockfile's version is what is installed).
* :func:`exposure` — the history of every manifest and lockfile (``collect/dep_history.py``): for each
  advisory, when an affected version entered (the commit, its author, its date) and when it left (the
  upgrade or removal), per file.
* :func:`assess` — the table (one row per dependency location and advisory, current and past) and the
  findings: one per package and advisory at the ref, aliases (CVE, GHSA, PYSEC, ...) collapsed into one.
  A vulnerability fixed in the history is listed (severity info) with its exposure window, not a finding.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..collect.dependencies import norm_name
from ..collect.vulndb import OSV_ECOSYSTEM, Advisory, Affected, VulnDB
from ..config import Rules
from ..disjoint import DisjointSets
from ..schema import Finding
from ..severity import SEVERITIES
from . import vuln_versions as vv
from .findings import finding

RULE = "dep.known-vulnerability"
STALE_DAYS = 30
NOT_ASSESSED = "vulnerabilities (no --vuln-db given)"
# The contract's JSON fields first, then the rest of the sheet's.
JSON_FIELDS = ["advisory", "aliases", "name", "ecosystem", "version", "fixed", "current", "introduced_sha", "added_by",
               "exposed_from", "exposed_until"]
VULN_COLUMNS = JSON_FIELDS + [
    "severity", "advisory_severity", "severity_source", "cvss_score", "summary", "status", "match", "affected",
    "scope", "direct", "purl", "manifest", "line", "kind", "fixed_sha", "fixed_by", "dependency_added_by",
    "finding_id", "osv_ecosystem"]
DISTRIBUTED = ("runtime", "optional")


def empty_table() -> pd.DataFrame:
    return pd.DataFrame(columns=VULN_COLUMNS)


# ----------------------------------------------------------------------------- matching one dependency
@dataclass
class Hit:
    advisory: Advisory
    fixed: list[str] = field(default_factory=list)      # fixed versions of the affected ranges met
    affected: list[str] = field(default_factory=list)   # the affected ranges met, as text
    how: str = "version"                                # version | range | listed version


def is_exact(purl_type: str, version: str | None, kind: str = "manifest") -> bool:
    """Whether a requirement names one version: a lockfile's, ``==1.2`` / ``=1.2``, or a bare version where the
    ecosystem reads it as exact (not Cargo, whose bare "1.2" means ^1.2)."""
    t = vv.clean(version)
    if t is None:
        return False
    if kind in ("lockfile", "vendored"):
        return True
    if purl_type == "cargo" and not t.startswith("="):
        return False
    if purl_type == "pypi" and not t.startswith("=="):
        return False
    return bool(vv.EXACT.match(t)) and "*" not in t


class Matcher:
    """Matches dependencies against one database; results are kept per (ecosystem, name, version, exact)."""

    def __init__(self, db: VulnDB):
        self.db = db
        self._memo: dict[tuple, list[Hit]] = {}
        self.unreadable: set[tuple[str, str, str]] = set()   # (ecosystem, name, requirement) not understood

    def match(self, purl_type: str, name: str, version: str | None, exact: bool) -> list[Hit]:
        version = vv.clean(version)
        eco = OSV_ECOSYSTEM.get(purl_type)
        if eco is None:
            return []
        cands = self.db.lookup(eco, name)
        if not cands:
            return []
        key = (eco, norm_name(purl_type, name), version, exact)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = self._match(purl_type, eco, name, version, exact, cands)
        return got

    def _match(self, purl_type: str, eco: str, name: str, version: str | None, exact: bool,
               cands: list[tuple[Advisory, Affected]]) -> list[Hit]:
        hits: dict[str, Hit] = {}
        allowed_by_cls: dict[str, list | None] = {}

        def allowed(cls_name: str):
            if cls_name not in allowed_by_cls:
                allowed_by_cls[cls_name] = vv.allowed(purl_type, eco, cls_name, version, exact)
            return allowed_by_cls[cls_name]
        eco_cls = vv.version_class(eco)
        for adv, aff in cands:
            hit = None
            for rtype, events in aff.ranges:
                cls_name = vv.version_class(eco, rtype)
                if cls_name is None:
                    continue           # GIT ranges: commits of the upstream repository, not versions
                mine = allowed(cls_name)
                if mine is None:
                    self.unreadable.add((eco, name, str(version)))
                    continue
                ivs = vv.range_intervals(cls_name, events)
                if not ivs:
                    continue
                for iv in ivs:
                    if any(vv.overlaps(m, iv) for m in mine):
                        hit = hit or Hit(adv, how="version" if exact else "range")
                        hit.affected.append(vv.show(iv))
                        if iv[2] is not None and not iv[3]:
                            hit.fixed.append(vv.text(iv[2]))
            if hit is None and aff.versions and eco_cls is not None:
                mine = allowed(eco_cls)
                if mine is not None:
                    listed = [v for v in aff.versions
                              if (pv := vv.parse(eco_cls, v)) is not None and vv.contains(mine, pv)]
                    if listed:
                        hit = Hit(adv, how="listed version" if exact else "range")
                        hit.affected.append("listed: " + ", ".join(listed[:5]) + (" …" if len(listed) > 5 else ""))
                        hit.fixed += self._fixed_above(aff, eco, listed, eco_cls)
            elif hit is None and aff.versions and exact and isinstance(version, str):
                v = version.strip().lstrip("=").lstrip("v")
                if any(x.strip().lstrip("v") == v for x in aff.versions):
                    hit = Hit(adv, how="listed version", affected=[f"listed: {version}"])
            if hit is not None:
                prev = hits.get(adv.id)
                if prev is None:
                    hits[adv.id] = hit
                else:
                    prev.fixed += [f for f in hit.fixed if f not in prev.fixed]
                    prev.affected += [a for a in hit.affected if a not in prev.affected]
        return list(hits.values())

    @staticmethod
    def _fixed_above(aff: Affected, eco: str, listed: list[str], cls_name: str) -> list[str]:
        """The smallest fixed version above the listed affected ones (when the entry also has ranges)."""
        top = [vv.parse(cls_name, v) for v in listed]
        out = []
        for rtype, events in aff.ranges:
            c = vv.version_class(eco, rtype)
            if c is None:
                continue
            for f in vv.fixed_versions(events):
                pf = vv.parse(c, f)
                if pf is not None and all(t is None or vv._lt(t, pf) for t in top):
                    out.append(f)
        return out[:1]


# ----------------------------------------------------------------------------- aliases
def alias_groups(advisories: list[Advisory]) -> dict[str, tuple[str, list[str]]]:
    """{advisory id: (primary id, every other id and alias)}: advisories sharing an id or alias are one
    vulnerability. The primary is a GHSA id when there is one (the contract's example), else the first id
    of the database's own advisories in alphabetical order."""
    sets = DisjointSets()
    find = sets.find
    for a in advisories:
        for al in a.aliases:
            sets.union(a.id, al)
    members: dict[str, set[str]] = {}
    own: dict[str, set[str]] = {}
    for a in advisories:
        r = find(a.id)
        members.setdefault(r, set()).update((a.id, *a.aliases))
        own.setdefault(r, set()).add(a.id)
    out = {}
    for a in advisories:
        r = find(a.id)
        ids = sorted(own[r], key=lambda i: (not i.startswith("GHSA-"), i))
        primary = ids[0]
        out[a.id] = (primary, sorted(members[r] - {primary}))
    return out


def _worst(sevs: list[str | None]) -> str | None:
    known = [s for s in sevs if s in SEVERITIES]
    return min(known, key=SEVERITIES.index) if known else None


def _lower(sev: str) -> str:
    i = SEVERITIES.index(sev)
    return SEVERITIES[min(i + 1, len(SEVERITIES) - 1)]


# ----------------------------------------------------------------------------- history
@dataclass
class Window:
    directory: str
    key: tuple[str, str]            # (purl type, normalised name)
    name: str
    advisory: str
    version: str | None
    start_sha: str
    path: str                       # the manifest or lockfile that held the affected version
    end_sha: str | None = None
    end_version: str | None = None  # the version that ended it; None when the dependency or file was removed
    file_id: Any = -1
    role: str = "runtime"           # runtime (runtime, optional) or dev (dev, test): see _role


def _role(scope: Any) -> str:
    """Windows are kept apart for what ships and what does not: a pin in requirements-dev.txt does not keep the
    runtime requirement's exposure open."""
    return "runtime" if scope in DISTRIBUTED or not isinstance(scope, str) else "dev"


_PINNED_KINDS = ("lockfile", "vendored")


def exposure(hist: pd.DataFrame, matcher: Matcher, skip: frozenset[tuple[str, str]] = frozenset()) -> list[Window]:
    """Exposure windows: per (directory, package, runtime or dev, advisory), from the commit that brought an
    affected version in to the one that left it (an upgrade, or the removal), or open at the ref.

    Per directory, as the dependency stage decides who added a dependency: a dependency moved between the
    manifests of one directory (setup.py to pyproject.toml) stays; where a lockfile or vendor list of the
    directory records the package, its versions are the ones installed, not the manifest's range. *skip*: the
    repository's own packages (first-party). A version that could not be parsed (rows None) changes nothing."""
    if hist is None or hist.empty:
        return []
    open_w: dict[tuple, Window] = {}
    open_of: dict[tuple, set[str]] = {}     # (directory, package) -> advisories open for it
    done: list[Window] = []
    files: dict[str, dict[int, dict[tuple[str, str, str], tuple]]] = {}
    paths: dict[int, str] = {}
    effective: dict[str, dict[tuple[str, str, str], tuple]] = {}
    # The packages the directory's manifests build, at any time: depending on one of them is first-party.
    own_of: dict[str, set] = {}
    if "own" in hist:
        for path, par, own in zip(hist["path"].tolist(), hist["path_at_ref"].tolist(), hist["own"].tolist()):
            if isinstance(own, tuple):
                own_of.setdefault(posixpath.dirname(par if isinstance(par, str) else path), set()).add(own)
    recs = zip(hist["sha"].tolist(), hist["file_id"].tolist(), hist["path"].tolist(), hist["path_at_ref"].tolist(),
               hist["status"].tolist(), hist["rows"].tolist())
    for sha, batch in itertools.groupby(recs, key=operator.itemgetter(0)):
        touched: set[str] = set()
        for _sha, fid, path, par, status, rows in batch:
            d = posixpath.dirname(par if isinstance(par, str) else path)
            paths[fid] = path
            if rows is None:
                continue
            touched.add(d)
            if status == "D":
                files.get(d, {}).pop(fid, None)
                continue
            new: dict[tuple[str, str, str], list] = {}
            mine = own_of.get(d, set())
            for eco, key, name, ver, kind, scope, _direct in rows:
                if (eco, key) not in skip and (eco, key) not in mine:
                    new.setdefault((eco, key, _role(scope)), []).append((name, ver, kind, fid))
            files.setdefault(d, {})[fid] = {k: tuple(v) for k, v in new.items()}
        for d in sorted(touched):
            eff: dict[tuple[str, str, str], list] = {}
            for per_file in files.get(d, {}).values():
                for k, rs in per_file.items():
                    eff.setdefault(k, []).extend(rs)
            new_eff = {k: tuple(r for r in rs if r[2] in _PINNED_KINDS) or tuple(rs) for k, rs in eff.items()}
            old_eff = effective.get(d, {})
            for k in set(old_eff) | set(new_eff):
                if old_eff.get(k) == new_eff.get(k):
                    continue
                now: dict[str, tuple] = {}
                for name, ver, kind, fid in new_eff.get(k, ()):
                    for h in matcher.match(k[0], name, ver, is_exact(k[0], ver, kind)):
                        now.setdefault(h.advisory.id, (name, ver, fid))
                was = open_of.setdefault((d, k), set())
                for a in sorted(was - set(now)):
                    was.discard(a)
                    w = open_w.pop((d, k, a))
                    w.end_sha = sha
                    vers = list(dict.fromkeys(_plain(v) for _n, v, _k, _f in new_eff.get(k, ())))
                    w.end_version = ", ".join(vers) if vers else None
                    done.append(w)
                for a in sorted(set(now) - was):
                    was.add(a)
                    name, ver, fid = now[a]
                    open_w[(d, k, a)] = Window(d, (k[0], k[1]), name, a, _plain(ver), sha, paths[fid], file_id=fid,
                                               role=k[2])
            effective[d] = new_eff
    return done + list(open_w.values())


# ----------------------------------------------------------------------------- the whole step
def tokens_of(db: VulnDB) -> set[str]:
    """The folded last parts of every package name the database knows (what a manifest must name)."""
    from ..collect.dep_history import name_token
    return {name_token(a.name) for entries in db.index.values() for _adv, a in entries}


def assess(rules: Rules, db: VulnDB, deps: pd.DataFrame, hist: pd.DataFrame | None, commits: pd.DataFrame,
           people: pd.DataFrame, as_of: dt.date) -> tuple[pd.DataFrame, list[Finding], list[str]]:
    """(vulnerabilities table, dep.known-vulnerability findings, warnings)."""
    warnings: list[str] = []
    matcher = Matcher(db)
    cur: list[tuple[dict, Hit]] = []
    if deps is not None and len(deps):
        rows = [r for r in deps.to_dict(orient="records") if r.get("license_source") != "first-party"]
        locked = {(posixpath.dirname(r["manifest"]), r["ecosystem"], norm_name(r["ecosystem"], r["name"]))
                  for r in rows if r["kind"] == "lockfile" and isinstance(r.get("version"), str)}
        for r in rows:
            k = (posixpath.dirname(r["manifest"]), r["ecosystem"], norm_name(r["ecosystem"], r["name"]))
            if r["kind"] != "lockfile" and k in locked:
                continue         # the lockfile beside it says which version is installed
            if not isinstance(r.get("version"), str):
                r["version"] = None        # a missing version is NaN in the table: no requirement
            exact = is_exact(r["ecosystem"], r["version"], r["kind"]) or _purl_version(r.get("purl")) is not None
            ver = r["version"] if r["kind"] == "lockfile" or not exact else (_purl_version(r.get("purl")) or r["version"])
            for h in matcher.match(r["ecosystem"], r["name"], ver, exact):
                cur.append((dict(r, _exact=exact, _ver=ver), h))
    own = frozenset((r["ecosystem"], norm_name(r["ecosystem"], r["name"])) for r in deps.to_dict(orient="records")
                    if r.get("license_source") == "first-party") if deps is not None and len(deps) else frozenset()
    windows = exposure(hist, matcher, own) if hist is not None else []
    advs = {h.advisory.id: h.advisory for _r, h in cur}
    advs.update({w.advisory: db.advisories[w.advisory] for w in windows if w.advisory in db.advisories})
    groups = alias_groups(list(advs.values()))
    who = _who_table(commits, people)
    if matcher.unreadable:
        ex = sorted(matcher.unreadable)[:5]
        warnings.append(f"vulnerabilities: {len(matcher.unreadable)} requirement(s) could not be read as versions, so "
                        "they were not matched, e.g. " + "; ".join(f"{n} {v} ({e})" for e, n, v in ex))

    # Current: one row per (dependency row, vulnerability), aliases collapsed.
    out: list[dict] = []
    by_row: dict[tuple[Any, ...], dict] = {}
    open_by: dict[tuple, Window] = {}
    for w in windows:
        if w.end_sha is None:
            open_by.setdefault((w.directory, w.key, w.role, groups.get(w.advisory, (w.advisory,))[0]), w)
    for r, h in cur:
        primary, aliases = groups[h.advisory.id]
        rk = (r["manifest"], r["ecosystem"], norm_name(r["ecosystem"], r["name"]), r["_ver"], primary)
        row = by_row.get(rk)
        if row is None:
            win = open_by.get((posixpath.dirname(r["manifest"]), (r["ecosystem"], norm_name(r["ecosystem"], r["name"])),
                               _role(r["scope"]), primary))
            intro_sha = win.start_sha if win else (r.get("added_sha") if isinstance(r.get("added_sha"), str) else None)
            day, person = who.get(intro_sha, (None, None)) if intro_sha else (None, None)
            if win is None and intro_sha:
                day, person = r.get("added_date") or day, r.get("added_by") or person
            row = dict(advisory=primary, aliases=aliases, name=r["name"], ecosystem=r["ecosystem"],
                       version=_plain(r["_ver"]) if r["_exact"] else r["version"], fixed=None, current=True,
                       introduced_sha=intro_sha, added_by=person,
                       exposed_from=day, exposed_until=None, severity=None, _sevs=[], _fixed=[], _affected=[],
                       _summary=[], _vectors=[], status="open", match=h.how, scope=r["scope"], direct=bool(r["direct"]),
                       purl=r.get("purl"), manifest=r["manifest"], line=_int(r.get("line")), kind=r["kind"],
                       fixed_sha=None, fixed_by=None, dependency_added_by=r.get("added_by"),
                       finding_id=None, osv_ecosystem=OSV_ECOSYSTEM.get(r["ecosystem"]), _exact=r["_exact"])
            by_row[rk] = row
            out.append(row)
        _absorb(row, h.advisory, h.fixed, h.affected)

    # Past: closed windows (and open ones whose file is gone from the ref, which cannot happen: closed at deletion).
    past: dict[tuple, dict] = {}
    for w in windows:
        if w.end_sha is None:
            continue
        adv = db.advisories.get(w.advisory)
        if adv is None:
            continue
        primary, aliases = groups[w.advisory]
        pk = (w.directory, w.key, w.role, w.start_sha, w.end_sha, primary)
        row = past.get(pk)
        if row is None:
            d0, p0 = who.get(w.start_sha, (None, None))
            d1, p1 = who.get(w.end_sha, (None, None))
            row = dict(advisory=primary, aliases=aliases, name=w.name, ecosystem=w.key[0], version=w.version,
                       fixed=w.end_version, current=False, introduced_sha=w.start_sha, added_by=p0, exposed_from=d0,
                       exposed_until=d1, severity="info", _sevs=[], _fixed=[], _affected=[], _summary=[], _vectors=[],
                       status="fixed in history" if w.end_version else "removed in history", match="version",
                       scope=None, direct=None, purl=None, manifest=w.path, line=None, kind=None,
                       fixed_sha=w.end_sha, fixed_by=p1, dependency_added_by=None, finding_id=None,
                       osv_ecosystem=OSV_ECOSYSTEM.get(w.key[0]), _exact=True)
            past[pk] = row
        _absorb(row, adv, [], [])
    # A current row's severity: the advisory's, one level lower for a dev/test dependency or an unpinned
    # requirement (it may resolve to a fixed version); never above the advisory's.
    findings: list[Finding] = []
    for row in out:
        adv_sev = _worst(row["_sevs"])
        sev = adv_sev or rules.severity(RULE)
        if row["scope"] not in DISTRIBUTED or not row["_exact"]:
            sev = _lower(sev)
        row["severity"], row["advisory_severity"] = sev, adv_sev
        row["fixed"] = _lowest_fixed(row)
    for row in past.values():
        row["advisory_severity"] = _worst(row["_sevs"])
    findings = _findings(rules, out)
    table = pd.DataFrame([_public(r) for r in out + sorted(past.values(), key=lambda r: (str(r["exposed_from"]),
                                                                                          r["name"], r["advisory"]))],
                         columns=VULN_COLUMNS)
    # Line numbers stay integers beside the missing ones (a float column would write 12.0).
    table["line"] = pd.Series([None if v is None or pd.isna(v) else int(v) for v in table["line"]], dtype=object)
    if len(table):
        table = table.sort_values(["current", "severity", "name", "advisory", "manifest"],
                                  key=lambda s: s.map(_rank) if s.name == "severity" else s,
                                  ascending=[False, True, True, True, True], kind="stable").reset_index(drop=True)
    return table, findings, warnings


def _plain(v: Any) -> str:
    """An exact requirement as its version ("==5.4" -> "5.4"); a range as written."""
    t = (vv.clean(v) or "any version") if v is not None else "any version"
    return t.lstrip("=").strip() if vv.EXACT.match(t) else t


def _rank(s: Any) -> int:
    return SEVERITIES.index(s) if s in SEVERITIES else len(SEVERITIES)


def _int(v: Any) -> int | None:
    try:
        return None if v is None or pd.isna(v) else int(v)
    except (TypeError, ValueError):
        return None


def _purl_version(purl: Any) -> str | None:
    if not isinstance(purl, str) or "@" not in purl:
        return None
    from packageurl import PackageURL
    try:
        return PackageURL.from_string(purl).version
    except ValueError:
        return None


def _absorb(row: dict, adv: Advisory, fixed: list[str], affected: list[str]) -> None:
    row["_sevs"].append(adv.severity)
    row["_fixed"] += [f for f in fixed if f not in row["_fixed"]]
    row["_affected"] += [a for a in affected if a not in row["_affected"]]
    if adv.summary and adv.summary not in row["_summary"]:
        row["_summary"].append(adv.summary)
    row["_vectors"].append((adv.cvss_score, adv.severity_source))
    extra = [i for i in (adv.id, *adv.aliases) if i != row["advisory"] and i not in row["aliases"]]
    row["aliases"] = sorted(set(row["aliases"]) | set(extra))


def _lowest_fixed(row: dict) -> str | None:
    fixed = row["_fixed"]
    if not fixed:
        return None
    cls_name = vv.version_class(OSV_ECOSYSTEM.get(row["ecosystem"], ""))
    if cls_name is None:
        return ", ".join(fixed)
    # The lowest fixed version above the version in use (for a range: the lowest of the ranges met).
    parsed = sorted(((vv.parse(cls_name, f), f) for f in fixed), key=lambda x: (x[0] is None,))
    best = None
    for pv, f in parsed:
        if pv is None:
            continue
        if best is None or vv._lt(pv, best[0]):
            best = (pv, f)
    return best[1] if best else fixed[0]


def _public(row: dict) -> dict:
    scores = [s for s, _src in row["_vectors"] if s is not None]
    srcs = list(dict.fromkeys(src for _s, src in row["_vectors"]))
    out = {c: row.get(c) for c in VULN_COLUMNS}
    out["cvss_score"] = max(scores) if scores else None
    out["severity_source"] = "; ".join(srcs)
    out["summary"] = " | ".join(row["_summary"][:2]) or None
    out["affected"] = "; ".join(row["_affected"]) or None
    return out


def _who_table(commits: pd.DataFrame, people: pd.DataFrame) -> dict[str, tuple[Any, Any]]:
    if commits is None or commits.empty:
        return {}
    names = dict(zip(people["person_id"].tolist(), people["person"].tolist())) if len(people) else {}
    return {sha: (day, names.get(pid)) for sha, pid, day in zip(commits["sha"].tolist(), commits["person_id"].tolist(),
                                                                commits["author_day"].tolist())}


def _findings(rules: Rules, rows: list[dict]) -> list[Finding]:
    """One finding per (package, vulnerability) at the ref; its location is the lockfile row when there is one,
    else the manifest (the line to change)."""
    by: dict[tuple, list[dict]] = {}
    for r in rows:
        by.setdefault((r["ecosystem"], norm_name(r["ecosystem"], r["name"]), r["advisory"]), []).append(r)
    recs = []
    for (eco, _key, primary), rs in sorted(by.items()):
        rs = sorted(rs, key=lambda r: (_rank(r["severity"]), r["kind"] != "lockfile", r["manifest"]))
        r = rs[0]
        sev = min((x["severity"] for x in rs), key=SEVERITIES.index)
        where = "; ".join(dict.fromkeys(
            f"{x['manifest']}" + (f" line {x['line']}" if x.get("line") else "") + f" ({x['version'] or 'any version'}"
            + ("" if x["_exact"] else ", unpinned: the range it allows includes affected versions") + ")" for x in rs))
        ids = ", ".join([primary] + r["aliases"])
        fixed = r["fixed"]
        intro = (f" The affected version entered in commit {str(r['introduced_sha'])[:10]} on {r['exposed_from']}"
                 f" by {r['added_by'] or 'an unknown author'}." if r.get("introduced_sha") else "")
        ev = (f"{r['name']} ({eco}, {r['scope']} dependency, {'direct' if r['direct'] else 'transitive'}) is affected by "
              f"{ids}: {r['_summary'][0] if r['_summary'] else 'no summary'}. Severity {r['advisory_severity'] or 'not given'}"
              f" ({'; '.join(dict.fromkeys(s for _c, s in r['_vectors']))}). Affected: {'; '.join(r['_affected'])}. "
              f"Fixed in: {fixed or 'no fixed version published'}. Found in {where}.{intro}")
        rem = (f"Upgrade {r['name']} to {fixed} or later" + (" and pin it (the requirement allows affected versions)"
                                                              if not r["_exact"] else "") + "."
               if fixed else f"No fixed version of {r['name']} is published for {primary}: replace the dependency, "
                             "or record why the vulnerable code is not reachable.")
        rec = finding(rules, RULE, f"{r['name']} ({eco})", ev, rem, path=r["manifest"], line=r.get("line"),
                      id_extra=primary, person=r.get("added_by"), first_sha=r.get("introduced_sha"),
                      first_commit=r.get("exposed_from"))
        rec["severity"] = sev
        for x in rs:
            x["finding_id"] = rec["id"]
        recs.append(rec)
    return recs


# ----------------------------------------------------------------------------- summary
def summary(db: VulnDB | None, table: pd.DataFrame, as_of: dt.date) -> tuple[dict[str, Any], list[str]]:
    """(the Summary's ``vulnerabilities`` entry, warnings): the snapshot date, counts, and staleness."""
    if db is None:
        return {"assessed": False, "database": None, "snapshot": None, "open": 0, "fixed_in_history": 0}, []
    snap = db.snapshot
    warnings = list(db.warnings)
    age = (as_of - snap.date()).days if snap else None
    if snap is not None and age is not None and age > STALE_DAYS:
        warnings.append(f"vulnerabilities: the --vuln-db snapshot is from {snap.date().isoformat()}, {age} days before "
                        f"the as-of date {as_of.isoformat()} (more than {STALE_DAYS}): advisories published since are "
                        "not in it; download a fresh copy")
    cur = table[table["current"].astype(bool)] if len(table) else table
    return {"assessed": True, "database": db.describe(), "snapshot": snap.date().isoformat() if snap else None,
            "snapshot_age_days": age, "stale": bool(age is not None and age > STALE_DAYS),
            "open": int(cur["advisory"].nunique()) if len(cur) else 0,
            "vulnerable_packages": int(cur["name"].nunique()) if len(cur) else 0,
            "fixed_in_history": int((~table["current"].astype(bool)).sum()) if len(table) else 0}, warnings


def run(rules: Rules, db: VulnDB | None, repo: str, deps: pd.DataFrame, changes: pd.DataFrame, commits: pd.DataFrame,
        people: pd.DataFrame, as_of: dt.date, is_vendored: Callable[[str], bool], files: pd.DataFrame | None = None,
        commit: str | None = None) -> tuple[pd.DataFrame, list[Finding], list[str], dict[str, Any]]:
    """The stage: (table, findings, warnings, summary entry); without a database, nothing is assessed.

    Besides the dependency table, the vendor lists at the ref (``_vendor/vendor.txt``: the versions of the
    vendored packages the product ships) are matched too."""
    if db is None:
        info, _ = summary(None, empty_table(), as_of)
        return empty_table(), [], [], info
    from ..collect.dep_history import manifest_versions, vendor_lists_at_ref
    vend = vendor_lists_at_ref(repo, files) if files is not None else []
    if vend:
        extra = pd.DataFrame([dict(r, license_source="vendored", added_by=None, added_by_type=None, added_sha=None,
                                   added_date=None) for r in vend])
        deps = extra if deps is None or deps.empty else pd.concat([deps, extra], ignore_index=True)
    hist, warnings = manifest_versions(repo, changes, commits, is_vendored, tokens_of(db), commit=commit)
    table, found, w2 = assess(rules, db, deps, hist, commits, people, as_of)
    info, w3 = summary(db, table, as_of)
    return table, found, w3 + warnings + w2, info
