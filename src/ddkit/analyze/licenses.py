"""License policy: ScanCode's detections → categories → findings, and who brought each notice in.

The policy is data (``rules/licenses.yaml``): the company's outbound license picks a policy that maps
license categories and specific licenses to rule ids; holders that are not the company's legal names are
third parties. Every third-party notice and vendored file is joined to the commit that introduced the
file (renames followed), its author, and that author's classification and IP status.
"""

from __future__ import annotations

import re
from typing import Any, cast

import pandas as pd

from .. import globs
from ..config import Company, Rules
from ..schema import Finding
from ..severity import SEVERITIES
from .findings import finding

LICENSE_COLUMNS = ["path", "license_spdx", "license_expression", "category", "holders", "copyrights", "severity",
                   "rule", "start_line", "end_line", "score", "vendored", "lines", "introduced_by",
                   "introduced_sha", "introduced_date", "introducer_type", "introducer_ip_status"]



def policy_for(rules: Rules, outbound: str) -> tuple[str, dict]:
    lic = rules.get("licenses", {})
    out = lic.get("outbound", {})
    key = "proprietary" if outbound.lower() == "proprietary" else None
    if key is None:
        low = {k.lower(): v for k, v in out.items()}
        key = low.get(outbound.lower(), out.get("default", "permissive"))
    else:
        key = out.get("proprietary", "proprietary")
    return key, lic.get("outbound_policies", {}).get(key, {})


def project_license(scan: pd.DataFrame, rules: Rules) -> tuple[str, str] | None:
    """(SPDX id, path) of the repository's own license, from its root LICENSE/COPYING file, or None.

    Used as the outbound license when no company profile sets one: a product published under the GPL is
    judged by the copyleft policy, not as a closed product. Of the file's detections, the one covering the
    most lines is the license (git's COPYING quotes GPL-1.0 and GPL-3.0 around the GPL-2.0 text); of its
    symbols, the first whose policy is the most restrictive present (copyleft, then proprietary, then
    permissive)."""
    if scan is None or not len(scan):
        return None
    rank = {"copyleft": 0, "proprietary": 1}
    # The root's license files (not README/NOTICE: they mention licenses), as references are followed.
    from ..collect.licenses import license_files
    cands = license_files(scan["path"])
    by_path = scan.set_index("path")
    for p in cands:
        dets = [d for d in (by_path.at[p, "detections"] or []) if isinstance(d.get("license_expression_spdx"), str)
                and d.get("start_line") and d.get("end_line")]
        if not dets:
            continue
        best = max(dets, key=lambda d: (int(d["end_line"]) - int(d["start_line"]), -int(d["start_line"])))
        syms = [x for x in re.split(r"\s+(?:AND|OR|WITH)\s+|[()]", best["license_expression_spdx"]) if x.strip()]
        syms = [x.strip() for x in syms if not x.strip().startswith("LicenseRef-")]
        if not syms:
            continue
        sym = min(syms, key=lambda x: rank.get(policy_for(rules, x)[0], 2))
        return sym, p
    return None


def _norm(s: str) -> str:
    s = re.sub(r"[^a-z0-9 ]+", " ", s.lower())
    s = re.sub(r"\b(inc|incorporated|ltd|limited|llc|gmbh|corp|corporation|co|the|and|all rights reserved)\b", " ", s)
    return " ".join(s.split())


def is_company(holder: str, company: Company) -> bool:
    h = _norm(holder)
    return any(n and (h == n or h.startswith(n + " ") or n in h) for n in (_norm(x) for x in company.legal_names))


def _keys(expression: str | None) -> list[str]:
    if not isinstance(expression, str) or not expression:
        return []
    return [k for k in re.split(r"[\s()]+", expression) if k and k.upper() not in ("AND", "OR", "WITH")]


def classify(expression: str | None, db: dict[str, dict], policy: dict, order: list[str]) -> tuple[str | None, str | None]:
    """(worst category, rule id or None) for a ScanCode license expression."""
    worst_rule, worst_cat = None, None
    cats = policy.get("categories", {})
    specific = policy.get("licenses", {}) or {}
    for k in _keys(expression):
        cat = (db.get(k) or {}).get("category") or "Unknown"
        rule = specific.get(k, cats.get(cat, "lic.unknown-license"))
        if worst_cat is None:
            worst_cat = cat
        if rule and (worst_rule is None or order.index(rule) < order.index(worst_rule)):
            worst_rule, worst_cat = rule, cat
    return worst_cat, worst_rule


def introductions(changes: pd.DataFrame, commits: pd.DataFrame, people: pd.DataFrame) -> dict[str, dict]:
    """For each path at the ref: the commit that added it (renames followed back), and its author."""
    from .bus_factor import file_events
    if changes.empty:
        return {}
    ev = file_events(changes, commits)
    ev = ev[ev["path_at_ref"].notna()]
    first = ev.drop_duplicates("file_id", keep="first")
    c = commits.set_index("sha")[["person_id", "author_day"]]
    meta = people.set_index("person_id")
    out = {}
    for path, sha in zip(first["path_at_ref"], first["sha"]):
        pid = c.at[sha, "person_id"] if sha in c.index else None
        p = meta.loc[pid] if pid in meta.index else None
        out[path] = dict(introduced_by=p["person"] if p is not None else None, introduced_sha=sha,
                         introduced_date=c.at[sha, "author_day"] if sha in c.index else None,
                         introducer_type=p["type"] if p is not None else None,
                         introducer_ip_status=(p.get("ip_assignment") if p is not None and p.get("in_roster") else
                                               ("not on the roster" if p is not None else None)))
    return out


def license_table(scan: pd.DataFrame, files: pd.DataFrame, rules: Rules, company: Company, db: dict,
                  intro: dict[str, dict]) -> pd.DataFrame:
    _, policy = policy_for(rules, company.outbound_license)
    order = rules.get("licenses", {}).get("rule_order", [])
    sev_over = policy.get("severity", {}) or {}
    f = files.set_index("path") if len(files) else pd.DataFrame()
    rows = []
    for r in scan.itertuples():
        if isinstance(r.error, str) and r.error:
            rows.append(dict(path=r.path, license_spdx=None, license_expression=None, category="scan-error",
                             holders=[], copyrights=[], severity="medium", rule="lic.unknown-license",
                             start_line=None, end_line=None, score=None,
                             vendored=bool(len(f) and f.at[r.path, "category"] == "vendored"),
                             lines=int(f.at[r.path, "lines"]) if len(f) else 0, scan_error=r.error,
                             **intro.get(r.path, {})))
            continue
        cat, rule = classify(r.license_expression, db, policy, order)
        holders = list(r.holders)
        third = [h for h in holders if not is_company(h, company)]
        root_notice = "/" not in r.path and any(
            globs.match(r.path, g) for g in rules.get("licenses", {}).get("project_license_files", []))
        if (holders and not third) or (root_notice and not third):
            # The company's own license or ownership notice is not a third-party license.
            rule = None
            cat = f"{cat} (the company's own notice)" if cat else "the company's own notice"
        elif rule and is_doc_mention(r.path, rules):
            # "chardet ... is an LGPL-licensed dependency" in the docs mentions a license; it licenses nothing
            # in the product. Listed (info), not a finding.
            rule = None
            cat = f"{cat} (mentioned in documentation)"
        dets = [d for d in r.detections if d.get("start_line")]
        start = min((d["start_line"] for d in dets), default=None)
        end = max((d["end_line"] for d in dets if d.get("end_line")), default=None)
        if not dets and r.copyrights:
            start = min((c["start_line"] for c in r.copyrights if c.get("start_line")), default=None)
            end = max((c["end_line"] for c in r.copyrights if c.get("end_line")), default=None)
        scores = [d["score"] for d in r.detections if d.get("score") is not None]
        severity = sev_over.get(rule, rules.severity(rule)) if rule else "info"
        expr = r.license_expression if isinstance(r.license_expression, str) else None
        rows.append(dict(path=r.path, license_spdx=r.license_spdx if isinstance(r.license_spdx, str) else None,
                         license_expression=expr, category=cat if expr else None, holders=list(r.holders),
                         copyrights=[c["copyright"] for c in r.copyrights], severity=severity, rule=rule,
                         start_line=start, end_line=end, score=min(scores) if scores else None,
                         vendored=bool(len(f) and r.path in f.index and f.at[r.path, "category"] == "vendored"),
                         lines=int(f.at[r.path, "lines"]) if len(f) and r.path in f.index else 0, scan_error=None,
                         **intro.get(r.path, {})))
    df = pd.DataFrame(rows)
    for c in LICENSE_COLUMNS + ["scan_error"]:
        if c not in df:
            df[c] = None
    if df.empty:
        return df[LICENSE_COLUMNS + ["scan_error"]]
    df["_r"] = df["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    df = df.sort_values(["_r", "path"], kind="stable").drop(columns="_r")
    return df[LICENSE_COLUMNS + ["scan_error"]].reset_index(drop=True)


def is_doc_mention(path: str, rules: Rules) -> bool:
    """A documentation file that is not itself a license text (rules/licenses.yaml)."""
    lic = rules.get("licenses", {})
    name = path.rsplit("/", 1)[-1]
    if any(globs.match(name, g) for g in lic.get("screen", {}).get("always_scan", [])):
        return False
    return any(globs.match(path, g) for g in lic.get("documentation_globs", []))


def _who(row: Any) -> str:
    if not isinstance(row.get("introduced_by"), str):
        return "the commit that introduced it is not in the scanned history"
    ip = row.get("introducer_ip_status")
    return (f"brought in by {row['introduced_by']} ({row.get('introducer_type')}, IP assignment: {ip}) in commit "
            f"{str(row.get('introduced_sha'))[:10]} on {row.get('introduced_date')}")


REMEDIATION = {
    "lic.network-copyleft": "Remove or replace this code, or get counsel's opinion: network-copyleft (AGPL) terms can "
                            "require releasing the product's source to its users, even when it is only offered as a "
                            "service.",
    "lic.strong-copyleft": "Remove or replace this code, isolate it behind a clear process boundary, or get counsel's "
                           "opinion: distributing it inside the product can require releasing the product's source "
                           "under the same license.",
    "lic.weak-copyleft": "Keep it as a separate, replaceable library (dynamic linking for LGPL, unmodified files for "
                         "MPL/EPL), publish any changes to it, and list it in the disclosure schedule.",
    "lic.proprietary-or-commercial": "Produce the commercial license or agreement that permits this use, or remove "
                                     "the code.",
    "lic.unknown-license": "Find out the license of this file (ask its author or source) and record it; until then "
                           "treat it as not licensed to the company.",
}


def license_findings(rules: Rules, company: Company, lic: pd.DataFrame, files: pd.DataFrame,
                     scanned_paths: set[str]) -> list[Finding]:
    recs: list[Finding] = []
    for row in lic.to_dict(orient="records"):
        if not isinstance(row["rule"], str):
            continue
        where = (f"lines {row['start_line']}-{row['end_line']}" if row.get("start_line") else "whole file")
        if row["category"] == "scan-error":
            ev = f"{row['path']} could not be scanned for licenses ({row.get('scan_error')}); it is not known to be clean."
        else:
            ev = (f"{row['license_spdx']} (ScanCode: {row['license_expression']}, category {row['category']}, "
                  f"score {row['score']}) in {row['path']} {where}"
                  f"{', a vendored file' if row['vendored'] else ''}; {_who(row)}.")
        recs.append(finding(rules, row["rule"], row["path"], ev, REMEDIATION.get(row["rule"], ""), path=row["path"],
                            lines_at_stake=int(row["lines"] or 0), line=row.get("start_line"),
                            end_line=row.get("end_line"), person=row.get("introduced_by"),
                            first_sha=row.get("introduced_sha"), first_commit=row.get("introduced_date"),
                            severity_override=row["severity"]))
    # Third-party copyright holders, one finding per holder with the files.
    holders: dict[str, list[dict]] = {}
    for row in lic.to_dict(orient="records"):
        for h in row["holders"] if isinstance(row["holders"], list) else []:
            if not is_company(h, company):
                holders.setdefault(h, []).append(row)
    _, policy = policy_for(rules, company.outbound_license)
    sev = (policy.get("severity") or {}).get("lic.third-party-copyright")
    # Under a policy where third-party notices are only information (a permissive or GPL product: they need
    # only be kept), one finding lists every holder; the Licenses sheet has each file.
    if sev == "info" and len(holders) > 1:
        recs.append(_holders_rollup(
            rules, holders, "{n} third-party copyright holders",
            "Copyright notices of {n} holders other than the company in {files} files; under the {license} product "
            "license these are ordinary notices to keep (each file is on the Licenses sheet): {names}.",
            "Keep these notices and list them in the product's third-party notices (NOTICE file).", "notices", sev,
            shown=60, license=company.outbound_license))
        holders = {}
    # Holders found only in vendored code are the expected notices of the libraries vendored (their license
    # is judged per file above): one roll-up lists them all. Holders in the company's own files stay
    # individual: pasted third-party code is what counsel must see.
    vendored_only = {h: rows for h, rows in holders.items() if all(r["vendored"] for r in rows)}
    if len(vendored_only) < 2:
        vendored_only = {}
    for h, rows in sorted(holders.items()):
        if h in vendored_only:
            continue
        paths = [r["path"] for r in rows]
        who = "; ".join(f"{r['path']}: {_who(r)}" for r in rows[:5])
        first = rows[0]
        recs.append(finding(
            rules, "lic.third-party-copyright", h,
            f"Copyright notices naming {h} in {len(paths)} file{'s' if len(paths) != 1 else ''}"
            f"{' (vendored)' if all(r['vendored'] for r in rows) else ''}: {who}.",
            f"Confirm the license under which {h}'s code is used, keep its notices, and list it in the "
            f"third-party notices and the disclosure schedule; if it was pasted without a license, remove it.",
            path=paths[0] if len(paths) == 1 else None, files=paths, lines_at_stake=int(sum(r["lines"] or 0 for r in rows)),
            line=first.get("start_line") if len(paths) == 1 else None, person=first.get("introduced_by"),
            severity_override=sev))
    if vendored_only:
        recs.append(_holders_rollup(
            rules, vendored_only, "{n} holders in vendored code",
            "Copyright notices of {n} third-party holders, all in vendored code ({files} files; each file's license "
            "is judged on its own above and on the Licenses sheet): {names}.",
            "Keep these notices and list the vendored libraries, with their licenses, in the third-party notices "
            "and the disclosure schedule.", "vendored-holders", sev))
    # The project's own license or ownership notice.
    pr = rules.get("licenses", {}).get("project_license_files", [])
    root = [p for p in files["path"] if "/" not in p and any(globs.match(p, g) for g in pr)] if len(files) else []
    by_path = lic.set_index("path") if len(lic) else pd.DataFrame()
    ok = False
    for p in root:
        if len(by_path) and p in by_path.index:
            r = by_path.loc[p]
            if isinstance(r["license_expression"], str) or any(
                    is_company(h, company) for h in (r["holders"] if isinstance(r["holders"], list) else [])):
                ok = True
    if not ok and (not root or any(p in scanned_paths for p in root) or not root):
        recs.append(finding(
            rules, "lic.missing-project-license", "(repository)",
            "No license file or ownership notice at the repository root"
            + (f" (root files looked at: {', '.join(root)})" if root else "") + ".",
            f"Add a LICENSE file at the root: for a proprietary product, a copyright and all-rights-reserved notice "
            f"naming {company.name or 'the company'}; for an open-source product, the license text."))
    for r in recs:
        over = cast(dict, r).pop("severity_override", None)   # (asked for by the emitters above)
        if over:
            r["severity"] = over
    return recs


def _holders_rollup(rules: Rules, group: dict[str, list[dict]], subject: str, evidence: str, remediation: str,
                    id_extra: str, sev: str | None, shown: int | None = None, **fields: str) -> Finding:
    """One lic.third-party-copyright finding for several holders: *subject* and *evidence* are templates
    with {n} (holders), {files} (files naming them), {names} (the holders, the first *shown* of them) and
    the other *fields* (values are inserted, never read as templates)."""
    names = sorted(group)
    files_ = sorted({r["path"] for rows in group.values() for r in rows})
    listed = "; ".join(names[:shown]) + (" …" if shown is not None and len(names) > shown else "")
    return finding(rules, "lic.third-party-copyright", subject.format(n=len(names)),
                   evidence.format(n=len(names), files=len(files_), names=listed, **fields), remediation, files=files_,
                   id_extra=id_extra, lines_at_stake=int(sum(r["lines"] or 0 for rows in group.values() for r in rows)),
                   subjects=names, rolled_up=True, severity_override=sev)
