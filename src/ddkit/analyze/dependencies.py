"""Third-party dependencies: the inventory, their licenses (with where each came from), who added each
direct dependency, and the dependency policy (``dep.*`` rules).

DataFrame in, DataFrame out: ``dependency_table()`` joins the inventory (``collect/dependencies.py``) to
the license sources and to the commits that added each dependency; ``dependency_findings()`` applies
``rules/licenses.yaml: dependencies``; ``fold_vendored()`` makes a vendored copy and the same declared
package one component (one finding).
"""

from __future__ import annotations

import itertools
import operator
import posixpath
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..collect.dependencies import norm_name, vendored_component
from ..config import Company, Rules
from ..schema import DEPENDENCY_PUBLIC, Finding
from ..values import records
from .findings import finding

# Records of the frames here come from ddkit.values.records (what to_dict(orient="records") gives, a
# column at a time; to_dict's rows cost 1 ms of pip's dependency stage) or from the columns used as lists.

# The contract's JSON fields, in order, then extra columns for the sheet and findings.
JSON_FIELDS = DEPENDENCY_PUBLIC
DEPENDENCY_COLUMNS = JSON_FIELDS + ["added_by_ip_status", "kind", "license_evidence", "category", "rule", "severity"]
SOURCES = ("sbom", "environment", "lockfile", "vendored", "manifest")   # first that knows a license wins
DISTRIBUTED_DEFAULT = ("runtime", "optional")
SCOPE_ORDER = {"runtime": 0, "optional": 1, "dev": 2, "test": 3}
LIC_RULES_FOLDED = {"lic.network-copyleft", "lic.strong-copyleft", "lic.weak-copyleft",
                    "lic.proprietary-or-commercial", "lic.unknown-license"}


def empty_table() -> pd.DataFrame:
    return pd.DataFrame(columns=DEPENDENCY_COLUMNS)


# ----------------------------------------------------------------------------- who added it
def additions(history: pd.DataFrame, commits: pd.DataFrame, people: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """{(manifest directory, 'ecosystem:name'): who added it} for the dependencies declared at the ref.

    A dependency is added by the commit after which some manifest of that directory declares it, in the
    unbroken run of versions that reaches the ref: a version bump changes the line but not the set of names,
    so it is not an addition; moving a dependency between manifests of one directory in one commit (e.g.
    setup.py → pyproject.toml) is not one either; renamed manifests keep their identity."""
    if history is None or history.empty:
        return {}
    state: dict[str, dict[int, frozenset]] = {}
    added: dict[tuple[str, str], str] = {}
    # The columns as lists and each path's directory worked out once: the records of to_dict and two
    # dirnames per version cost 2.5 ms of pip's 5.8 (789 versions of 122 paths).
    paths = [ref if isinstance(ref, str) else path
             for path, ref in zip(history["path"].tolist(), history["path_at_ref"].tolist())]
    dir_of = {p: posixpath.dirname(p) for p in set(paths)}
    rows = zip(history["sha"].tolist(), map(dir_of.__getitem__, paths), history["status"].tolist(),
               history["file_id"].tolist(), history["names"].tolist())
    for sha, batch_rows in itertools.groupby(rows, key=operator.itemgetter(0)):   # one commit's versions
        batch = list(batch_rows)
        batch_dirs = {d for _, d, _, _, _ in batch}
        before = {d: frozenset().union(*state.get(d, {}).values()) for d in batch_dirs}
        for _, d, status, file_id, names in batch:
            files = state.setdefault(d, {})
            if status == "D":
                files.pop(file_id, None)
            else:
                files[file_id] = names
        for d in batch_dirs:
            after = frozenset().union(*state.get(d, {}).values())
            for k in after - before[d]:
                added[(d, k)] = sha
            for k in before[d] - after:
                added.pop((d, k), None)
    # Only the adding commits and their authors are looked up (isin, then plain lists): indexing pip's
    # 16k commits and 868 people by label, and a row Series per addition, cost 2.5 ms.
    when: dict[str, tuple[Any, Any]] = {}
    if len(commits):
        c = commits["sha"].isin(list(set(added.values())))
        when = {sha: (pid, day) for sha, pid, day in zip(commits["sha"][c].tolist(), commits["person_id"][c].tolist(),
                                                          commits["author_day"][c].tolist())}
    who: dict[Any, dict[str, Any]] = {}
    if len(people):
        m = people["person_id"].isin([pid for pid, _ in when.values()])
        cols = ["person_id", "person", "type", "ip_assignment", "in_roster", "vendor"]   # the last three optional
        values = [people[col][m].tolist() if col in people or i < 3 else [None] * int(m.sum())
                  for i, col in enumerate(cols)]
        who = {r[0]: dict(zip(cols, r)) for r in zip(*values)}
    out = {}
    for key, sha in added.items():
        pid, day = when.get(sha, (None, None))
        p = who.get(pid) if pid is not None else None
        ip = None
        if p is not None:
            ip = p["ip_assignment"] if p["in_roster"] else "not on the roster"
            if p["in_roster"] and not isinstance(ip, str):
                ip = "missing"
        out[key] = dict(added_sha=sha, added_date=day, added_by=p["person"] if p is not None else None,
                        added_by_type=p["type"] if p is not None else None, added_by_ip_status=ip,
                        added_by_vendor=(p["vendor"] if p is not None and isinstance(p["vendor"], str) else None))
    return out


# ----------------------------------------------------------------------------- licenses
def vendored_components(license_table: pd.DataFrame) -> pd.DataFrame:
    """Vendored directories (node_modules/x, vendor/x, third_party/x, vendor/github.com/a/b …) with the
    licenses the license scan found in them. Columns: directory, name, key, license_spdx, files."""
    cols = ["directory", "name", "key", "license_spdx", "files"]
    if license_table is None or license_table.empty:
        return pd.DataFrame(columns=cols)
    groups: dict[str, dict] = {}

    def column(c: str) -> list:      # the three columns used, as lists (a column missing: None)
        return license_table[c].tolist() if c in license_table else [None] * len(license_table)
    for path, vendored, spdx in zip(license_table["path"].tolist(), column("vendored"), column("license_spdx")):
        if not vendored:
            continue
        comp = vendored_component(path)
        if comp is None:
            continue
        d, name = comp
        g = groups.setdefault(d, dict(directory=d, name=name, key=norm_name("pypi", name), licenses=[], files=[],
                                      license_file=None))
        g["files"].append(path)
        if isinstance(spdx, str) and spdx:
            if posixpath.basename(path).upper().startswith(("LICENSE", "LICENCE", "COPYING")):
                g["license_file"] = spdx
            if spdx not in g["licenses"]:
                g["licenses"].append(spdx)
    rows = []
    for g in groups.values():
        lic = g["license_file"] or (" AND ".join(f"({x})" if " " in x else x for x in g["licenses"]) or None)
        rows.append(dict(directory=g["directory"], name=g["name"], key=g["key"], license_spdx=lic,
                         files=sorted(g["files"])))
    return pd.DataFrame(rows, columns=cols)


def _lookup(df: pd.DataFrame | None) -> dict[tuple[str | None, str], dict]:
    out: dict[tuple[str | None, str], dict] = {}
    if df is None or df.empty:
        return out
    for r in records(df):
        if not isinstance(r.get("key"), str):
            continue
        eco = r.get("ecosystem") if isinstance(r.get("ecosystem"), str) else None
        for k in ((eco, r["key"]), (None, r["key"])):
            prev = out.get(k)
            if prev is None or (not prev.get("license_spdx") and r.get("license_spdx")):
                out[k] = r
    return out


def dependency_table(inv: pd.DataFrame, added: dict, vendored_pkgs: pd.DataFrame | None = None,
                     license_table: pd.DataFrame | None = None, environment: pd.DataFrame | None = None,
                     sbom: pd.DataFrame | None = None) -> pd.DataFrame:
    """The inventory with each row's license (and where it came from) and who added it."""
    if inv is None or inv.empty:
        return empty_table()
    from ..collect.dep_licenses import normalize_license, statement_to_spdx
    env = _lookup(environment)
    sb = _lookup(sbom)
    vc = vendored_components(license_table)
    vend: dict[str, dict] = {}
    for r in records(vc):
        vend.setdefault(r["key"], r)
    vman: dict[str, dict] = {}
    if vendored_pkgs is not None and len(vendored_pkgs):
        for r in records(vendored_pkgs):
            vman.setdefault(norm_name("pypi", r["name"]), r)
    # Licenses the lockfiles record, by (directory, ecosystem, name) and by (ecosystem, name).
    lock: dict[tuple, str] = {}
    for r in records(inv[inv["kind"] == "lockfile"]):
        if isinstance(r.get("lock_license"), str) and r["lock_license"]:
            k = norm_name(r["ecosystem"], r["name"])
            lock.setdefault((posixpath.dirname(r["manifest"]), r["ecosystem"], k), r["lock_license"])
            lock.setdefault((None, r["ecosystem"], k), r["lock_license"])
    rows = []
    for r in records(inv):
        eco, key = r["ecosystem"], norm_name(r["ecosystem"], r["name"])
        d = posixpath.dirname(r["manifest"])
        vkey = norm_name("pypi", r["name"])
        lic, source, evidence = None, "none", None
        if r.get("first_party") is True:
            # The repository's own package: its code is scanned as the product's own (ownership, licenses),
            # so it is listed, not judged as a third-party component.
            raw = r.get("first_party_license")
            lic = (statement_to_spdx(raw) if isinstance(raw, str) and raw else None)
            source, evidence = "first-party", r.get("first_party_manifest")
        for src in SOURCES if source == "none" else ():
            if src == "sbom":
                hit = sb.get((eco, key)) or sb.get((None, key))
                val = hit and hit.get("license_spdx")
                ev = hit and hit.get("evidence")
            elif src == "environment":
                hit = env.get((eco, key))
                val = hit and hit.get("license_spdx")
                ev = hit and hit.get("evidence")
            elif src == "lockfile":
                raw = lock.get((d, eco, key)) or lock.get((None, eco, key))
                val = normalize_license(raw) if raw else None
                ev = next((m for m in inv.loc[(inv["kind"] == "lockfile") & (inv["lock_license"] == raw), "manifest"]),
                          None) if raw else None
            elif src == "vendored":
                hit = vend.get(vkey)
                val = hit and hit.get("license_spdx")
                ev = hit and hit.get("directory")
            else:
                hit = vman.get(vkey)
                val = statement_to_spdx(hit.get("license")) if hit else None
                ev = hit and hit.get("path")
            if val:
                lic, source, evidence = val, src, ev
                break
        who = added.get((d, f"{eco}:{key}"), {}) if r["direct"] else {}
        rows.append(dict(purl=r["purl"], name=r["name"], version=r["version"], ecosystem=eco, scope=r["scope"],
                         direct=bool(r["direct"]), license_spdx=lic, license_source=source, manifest=r["manifest"],
                         line=int(r["line"]) if pd.notna(r["line"]) else None, added_by=who.get("added_by"),
                         added_by_type=who.get("added_by_type"), added_sha=who.get("added_sha"),
                         added_date=who.get("added_date"), added_by_ip_status=who.get("added_by_ip_status"),
                         kind=r["kind"], license_evidence=evidence, category=None, rule=None, severity=None,
                         _vendor=who.get("added_by_vendor"),
                         _vendored_files=(vend.get(vkey) or {}).get("files") or []))
    df = pd.DataFrame(rows)
    df = df.sort_values(["ecosystem", "name", "manifest"], key=lambda s: s.str.lower() if s.dtype == object else s,
                        kind="stable").reset_index(drop=True)
    return df


# ----------------------------------------------------------------------------- policy
def _policy(rules: Rules, company: Company) -> tuple[dict, dict]:
    from .licenses import policy_for
    key, _ = policy_for(rules, company.outbound_license)
    dep = rules.get("licenses", {}).get("dependencies", {}) or {}
    return dep, (dep.get("policies", {}) or {}).get(key, {}) or {}


def _spdx_index(db: dict) -> dict[str, str]:
    """lower-case SPDX id → ScanCode category."""
    out = {}
    for v in (db or {}).values():
        spdx = v.get("spdx")
        if isinstance(spdx, str) and spdx and spdx.lower() not in out:
            out[spdx.lower()] = v.get("category") or "Unknown"
    return out


_REF_CATEGORIES = {"licenseref-unlicensed": "Proprietary Free", "licenseref-proprietary": "Proprietary Free",
                   "licenseref-commercial": "Commercial", "licenseref-public-domain": "Public Domain"}


def classify(expression: str | None, spdx_cat: dict[str, str], pol: dict, order: list[str]) -> tuple[str | None, str | None]:
    """(category, rule or None) of an SPDX expression: AND takes the worst, OR the best (the licensee chooses)."""
    if not isinstance(expression, str) or not expression:
        return None, (pol.get("categories") or {}).get("Unknown")
    try:
        from license_expression import get_spdx_licensing
        lic = get_spdx_licensing()
        parsed = lic.parse(expression, strict=False)
    except Exception:
        parsed = None
    rank = {r: i for i, r in enumerate(order)}
    none_rank = len(order) + 1

    def leaf(sym: str) -> tuple[int, str, str | None]:
        s = sym.strip()
        specific = pol.get("licenses") or {}
        if s in specific:
            rule = specific[s]
            cat = spdx_cat.get(s.lower(), "Unknown")
        else:
            base = s.split(" WITH ")[0].strip()
            cat = _REF_CATEGORIES.get(base.lower()) or spdx_cat.get(base.lower()) or (
                spdx_cat.get(base.lower().replace("-only", "")) or "Unknown")
            rule = specific.get(base, (pol.get("categories") or {}).get(cat))
        return (rank.get(rule, none_rank) if rule else none_rank), cat, rule

    def ev(node) -> tuple[int, str, str | None]:
        name = type(node).__name__
        if name in ("AND", "OR") and getattr(node, "args", None):
            vals = [ev(a) for a in node.args]
            return min(vals, key=lambda v: v[0]) if name == "AND" else max(vals, key=lambda v: v[0])
        return leaf(str(node))

    if parsed is None:
        _, cat, rule = leaf(expression)
        return cat, rule
    _, cat, rule = ev(parsed)
    return cat, rule


def apply_policy(deps: pd.DataFrame, rules: Rules, company: Company, db: dict) -> pd.DataFrame:
    """Category, rule and severity of each row, by license and scope (a dev or test dependency is not
    distributed with the product). Unknown licenses are flagged for direct dependencies only."""
    if deps is None or deps.empty:
        return deps
    dep_cfg, pol = _policy(rules, company)
    order = dep_cfg.get("rule_order", [])
    distributed = set(dep_cfg.get("distributed_scopes", DISTRIBUTED_DEFAULT))
    spdx_cat = _spdx_index(db)
    deps = deps.copy()
    cats, rls, sevs = [], [], []
    for lic, scope, direct, source in zip(deps["license_spdx"], deps["scope"], deps["direct"], deps["license_source"]):
        which = pol.get("distributed" if scope in distributed else "not_distributed") or {}
        cat, rule = classify(lic, spdx_cat, which, order)
        if (rule == "dep.unknown-license" and not direct) or source == "first-party":
            rule = None
        cats.append(cat if isinstance(lic, str) else None)
        rls.append(rule)
        sevs.append(((pol.get("severity") or {}).get(rule) or rules.severity(rule)) if rule else "info")
    deps["category"], deps["rule"], deps["severity"] = cats, rls, sevs
    return deps


REMEDIATION = {
    "dep.network-copyleft": "Replace this dependency or get counsel's opinion before closing: network-copyleft (AGPL) "
                            "terms can require releasing the product's source to its users, even for a hosted service.",
    "dep.strong-copyleft": "Replace this dependency, isolate it behind a process boundary, or get counsel's opinion: "
                           "shipping it with the product can require releasing the product's source under the same license.",
    "dep.weak-copyleft": "Keep it as a separate, unmodified library (dynamic linking for LGPL, unmodified files for "
                         "MPL/EPL), publish any changes to it, and list it in the third-party notices.",
    "dep.proprietary-or-commercial": "Produce the commercial license that permits this use, or replace the dependency.",
    "dep.unknown-license": "Find the license of this dependency (its registry page or source) and record it, e.g. "
                           "with --environment or --sbom; until then treat it as not licensed to the company.",
}


def _who(r: dict) -> str:
    if not isinstance(r.get("added_by"), str):
        return "the commit that added it is not known"
    ip = r.get("added_by_ip_status")
    kind = r.get("added_by_type")
    if kind == "vendor" and isinstance(r.get("_vendor"), str):
        kind = f"staff of vendor {r['_vendor']}"
    text = (f"added by {r['added_by']} ({kind}, IP assignment: {ip}) in commit {str(r['added_sha'])[:10]} on "
            f"{r['added_date']}")
    if r.get("added_by_type") in ("contractor", "vendor") and ip not in ("signed", "not_required"):
        text += "; no signed assignment covers the work that brought it in"
    return text


def components(deps: pd.DataFrame) -> list[dict]:
    """One record per package (ecosystem, name): its rows across manifests and lockfiles, worst rule."""
    if deps is None or deps.empty:
        return []
    out: dict[tuple[str, str], dict] = {}
    for r in records(deps):
        k = (r["ecosystem"], norm_name(r["ecosystem"], r["name"]))
        out.setdefault(k, {"key": k, "rows": []})["rows"].append(r)
    return list(out.values())


def dependency_findings(rules: Rules, deps: pd.DataFrame) -> list[Finding]:
    """One finding per package whose worst row raises a rule (a package in package.json and its lockfile is
    one component, one finding)."""
    order = (rules.get("licenses", {}).get("dependencies", {}) or {}).get("rule_order", [])
    rank = {r: i for i, r in enumerate(order)}
    recs = []
    for comp in components(deps):
        rows = comp["rows"]
        flagged = [r for r in rows if isinstance(r.get("rule"), str)]
        if not flagged:
            continue
        # The worst row; among equals, the declaring manifest (it has the line and who added it).
        r = sorted(flagged, key=lambda x: (rank.get(x["rule"], 99), x["kind"] != "manifest", not x["direct"],
                                           SCOPE_ORDER.get(x["scope"], 9), x["manifest"]))[0]
        decl = next((x for x in rows if x["kind"] == "manifest" and isinstance(x.get("added_by"), str)), r)
        who = {k: decl.get(k) for k in ("added_by", "added_by_type", "added_by_ip_status", "added_sha", "added_date",
                                        "_vendor")}
        where = ", ".join(sorted({f"{x['manifest']}" + (f" line {x['line']}" if x.get("line") else "") for x in rows}))
        lic = (f"license {r['license_spdx']} (category {r['category']}; from the {r['license_source']}"
               f"{': ' + str(r['license_evidence']) if r.get('license_evidence') else ''})"
               if isinstance(r.get("license_spdx"), str) else
               "no license found in the lockfiles, vendored copies, installed environment or SBOMs given")
        vend = r.get("_vendored_files") or []
        ev = (f"{r['name']} {r['version'] or ''} ({r['ecosystem']}, {r['scope']} dependency, "
              f"{'direct' if r['direct'] else 'transitive'}) declared in {where}: {lic}; {_who(who)}."
              + (f" A copy is vendored in the repository ({len(vend)} file{'s' if len(vend) != 1 else ''}: "
                 f"{', '.join(vend[:5])}{' …' if len(vend) > 5 else ''}); this finding covers it." if vend else ""))
        subject = f"{r['name']} ({r['ecosystem']})"
        rec = finding(rules, r["rule"], subject, ev.replace("  ", " "), REMEDIATION.get(r["rule"], ""),
                      path=decl["manifest"], line=decl.get("line"), person=who.get("added_by"),
                      vendor=who.get("_vendor"), first_sha=who.get("added_sha"), first_commit=who.get("added_date"),
                      files=vend or None)
        rec["severity"] = r["severity"]
        recs.append(rec)
    return recs


def fold_vendored(found: list[Finding], deps: pd.DataFrame) -> list[Finding]:
    """Drop the file-level license findings (lic.*copyleft, …) that the dependency analysis already reports:
    on a vendored copy of a package that is also a declared dependency with its own dep.* finding (one
    component, one finding), and on the manifests and lockfiles themselves (the license names a lockfile
    records, or a dependency named like a license, are about dependencies, not about that file)."""
    if deps is None or deps.empty or "_vendored_files" not in deps:
        return found
    covered: set[str] = set(deps["manifest"])
    for r in records(deps):
        if isinstance(r.get("rule"), str) and r.get("_vendored_files"):
            covered.update(r["_vendored_files"])
    if not covered:
        return found
    return [f for f in found if not (f.get("rule") in LIC_RULES_FOLDED and f.get("path") in covered)]


def public(deps: pd.DataFrame) -> pd.DataFrame:
    """The table without internal helper columns."""
    if deps is None or deps.empty:
        return empty_table()
    return deps[[c for c in DEPENDENCY_COLUMNS if c in deps.columns]].reset_index(drop=True)


# ----------------------------------------------------------------------------- the whole step
def load_inputs(sbom: Iterable[str] | str | None, environment: Iterable[str] | str | None) -> dict[str, Any]:
    """Read the user's SBOMs and environments before any scanning (a bad file is an input error)."""
    from ..collect.dep_licenses import read_environment, read_sboms
    sboms = [sbom] if isinstance(sbom, (str, Path)) else list(sbom or [])
    envs = [environment] if isinstance(environment, (str, Path)) else list(environment or [])
    env_frames = [read_environment(e) for e in envs]
    return {"sbom": read_sboms(sboms), "environment": pd.concat(env_frames, ignore_index=True) if env_frames else None,
            "sbom_paths": [str(p) for p in sboms], "environment_paths": [str(p) for p in envs]}


def analyze(repo: str, files: pd.DataFrame, changes: pd.DataFrame, commits: pd.DataFrame, people: pd.DataFrame,
            rules: Rules, company: Company, license_table: pd.DataFrame | None, inputs: dict | None,
            db: dict | None = None) -> tuple[pd.DataFrame, list[Finding], list[str]]:
    """(dependency table with helper columns, dep.* findings, warnings) for one repository."""
    from .. import globs
    from ..collect.dependencies import inventory, manifest_history
    inputs = inputs or {}
    inv, vend_pkgs, warnings = inventory(repo, files)
    if inv.empty:
        return empty_table(), [], warnings
    pr = rules.get("paths", {})
    vglobs = [g["glob"] for g in pr.get("vendored", [])] + list(company.vendored)

    def is_vendored(p: str) -> bool:
        return any(globs.match(p, g) for g in vglobs)

    # Who added a dependency is asked only for those declared at the ref (dependency_table's lookup keys).
    wanted: dict[str, set[str]] = {}
    for m, e, n, direct in zip(inv["manifest"], inv["ecosystem"], inv["name"], inv["direct"]):
        if direct:
            wanted.setdefault(posixpath.dirname(m), set()).add(f"{e}:{norm_name(e, n)}")
    hist, w = manifest_history(repo, changes, commits, is_vendored, wanted)
    warnings += w
    added = additions(hist, commits, people)
    deps = dependency_table(inv, added, vend_pkgs, license_table, inputs.get("environment"), inputs.get("sbom"))
    if db is None:   # ScanCode's license database (categories), loaded only when some license is known
        from ..collect.licenses import license_db_summary
        db = license_db_summary() if deps["license_spdx"].notna().any() else {}
    deps = apply_policy(deps, rules, company, db)
    return deps, dependency_findings(rules, deps), warnings


def merge_portfolio(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """scan-many: one row per (ecosystem, package, version, license, scope) with the repositories using it."""
    cols = ["purl", "name", "version", "ecosystem", "scope", "direct", "license_spdx", "license_source",
            "repositories", "manifests"]
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return pd.DataFrame(columns=cols)
    df = pd.concat(frames, ignore_index=True)
    df["_key"] = [norm_name(e, n) for e, n in zip(df["ecosystem"], df["name"])]
    rows = []
    for _, g in df.groupby(["ecosystem", "_key", df["version"].fillna(""), df["license_spdx"].fillna(""),
                            "scope"], sort=True):
        first = g.iloc[0]
        known = g[g["license_source"] != "none"]
        rows.append(dict(purl=first["purl"], name=first["name"], version=first["version"],
                         ecosystem=first["ecosystem"], scope=first["scope"], direct=bool(g["direct"].any()),
                         license_spdx=first["license_spdx"],
                         license_source=(known["license_source"].iloc[0] if len(known) else "none"),
                         repositories=sorted(set(g["repository"])),
                         manifests=sorted({f"{r}:{m}" for r, m in zip(g["repository"], g["manifest"])})))
    return pd.DataFrame(rows, columns=cols)
