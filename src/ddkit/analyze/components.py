"""The third-party components the SBOMs describe: declared packages (one per ecosystem and normalised name)
and vendored directories, with the version, license, scope and places each was found.

The reports only render these (``report/sbom.py`` CycloneDX, ``report/spdx.py`` SPDX); the grouping, the
choice of version and license and the matching of a vendored copy to its declared package are decided here,
beside the dependency analysis they come from. Computed from the tables a scan holds as they are when a
report is written (after the credentials are removed, and after a notebook's edits), so a report never
disagrees with the tables it is written from.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..collect.dependencies import norm_name
from ..config import Company
from .dependencies import SCOPE_ORDER, vendored_components
from .licenses import is_company

# Scan.components / Portfolio.components (docs/outputs.md): one row per CycloneDX component.
COMPONENT_COLUMNS = ["ref", "name", "version", "ecosystem", "key", "purl", "scope", "direct", "license_spdx",
                     "license_source", "vendored_directory", "occurrences"]


def _purl_version(purl: Any) -> str | None:
    """The version a package URL names (None: no purl, one that does not parse, or one without a version)."""
    from packageurl import PackageURL
    try:
        return PackageURL.from_string(purl).version if isinstance(purl, str) and purl.startswith("pkg:") else None
    except ValueError:
        return None


def _groups(deps: pd.DataFrame | None, skip_first_party: bool) -> list[tuple[tuple[str, str], list[dict]]]:
    """The dependency rows by (ecosystem, normalised name), in that order."""
    groups: dict[tuple[str, str], list[dict]] = {}
    if deps is not None and len(deps):
        for r in deps.to_dict(orient="records"):
            if skip_first_party and r.get("license_source") == "first-party":
                continue
            groups.setdefault((r["ecosystem"], norm_name(r["ecosystem"], r["name"])), []).append(r)
    return sorted(groups.items())


def cyclonedx_components(deps: pd.DataFrame | None, licenses: pd.DataFrame | None) -> pd.DataFrame:
    """The components of the CycloneDX SBOM (``--sbom-out``), in the order they are added.

    A declared package is one component at the lockfile's resolved version when there is one (else a pinned
    purl's, else none), its scope the widest of its rows' (runtime, optional, dev, test), its license the
    first row's that has one; its occurrences are its manifests (with the line) and the files of the vendored copy of it
    the license scan found. A vendored directory that is no declared package is a component of its own
    (``ref`` ``vendored:DIR``). Two groups resolving to one ref are one component (the first)."""
    vc = vendored_components(licenses)
    vend_by_key = {r["key"]: r for r in vc.to_dict(orient="records")}
    rows_out: list[dict[str, Any]] = []
    used_refs: set[str] = set()
    vendored_matched: set[str] = set()
    for (eco, key), rows in _groups(deps, skip_first_party=False):
        lock = [r for r in rows if r["kind"] == "lockfile" and isinstance(r.get("version"), str)]
        pinned = [r for r in rows if _purl_version(r["purl"])]
        best = (lock or pinned or rows)[0]
        ver = _purl_version(best["purl"]) or None
        scope = min((r["scope"] for r in rows), key=lambda s: SCOPE_ORDER.get(s, 9))
        lic_row = next((r for r in rows if isinstance(r.get("license_spdx"), str)), rows[0])
        ref = f"{eco}:{key}@{ver or ''}"
        if ref in used_refs:
            continue
        used_refs.add(ref)
        occ: list[tuple[str, int | None]] = [(r["manifest"], int(r["line"]) if pd.notna(r.get("line")) else None)
                                             for r in rows]
        vend = vend_by_key.get(norm_name("pypi", rows[0]["name"]))
        if vend:
            vendored_matched.add(vend["directory"])
            occ += [(f, None) for f in vend["files"]]
        spdx = lic_row.get("license_spdx")
        rows_out.append(dict(ref=ref, name=rows[0]["name"], version=ver, ecosystem=eco, key=key, purl=best["purl"],
                             scope=scope, direct=any(bool(r["direct"]) for r in rows),
                             license_spdx=spdx if isinstance(spdx, str) and spdx else None,
                             license_source=str(lic_row.get("license_source") or "none"),
                             vendored_directory=None, occurrences=occ))
    for v in vc.to_dict(orient="records"):
        if v["directory"] in vendored_matched:
            continue
        rows_out.append(dict(ref=f"vendored:{v['directory']}", name=v["name"], version=None, ecosystem=None,
                             key=v["key"], purl=None, scope=None, direct=True, license_spdx=v["license_spdx"] or None,
                             license_source="vendored" if v["license_spdx"] else "none",
                             vendored_directory=v["directory"], occurrences=[(f, None) for f in v["files"]]))
    # object columns: None stays None (pandas would make a text column of str and None a str dtype with NaN)
    return pd.DataFrame(rows_out, columns=COMPONENT_COLUMNS, dtype=object)


def vulnerable_components(components: pd.DataFrame, vulns: pd.DataFrame | None) -> dict[str, list[tuple[str, str | None]]]:
    """advisory -> the declared components (CycloneDX ``ref``) that the scan's current matches of it affect, in
    the vulnerabilities table's order, each with the version affected (None: an unpinned requirement, whose
    range is in ddkit's own table). Matched by ecosystem and normalised name; advisories sorted."""
    if vulns is None or vulns.empty:
        return {}
    refs: dict[tuple[str, str], list[str]] = {}
    for c in components.to_dict(orient="records"):
        if not isinstance(c["vendored_directory"], str):
            refs.setdefault((c["ecosystem"], c["key"]), []).append(c["ref"])
    out: dict[str, list[tuple[str, str | None]]] = {}
    cur = vulns[vulns["current"].astype(bool)]
    for adv, g in cur.groupby("advisory", sort=True):
        targets = out.setdefault(str(adv), [])
        for r in g.itertuples():
            for ref in refs.get((r.ecosystem, norm_name(r.ecosystem, r.name)), []):
                if ref not in [t for t, _ in targets]:
                    targets.append((ref, str(r.version) if r.match != "range" else None))
    return out


def spdx_components(deps: pd.DataFrame | None, licenses: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The packages of the SPDX document (``--spdx-out``) and of the NTIA check: one record per component
    (name, version, purl, license, scope, direct, vendored directory). The repository's own package
    (``first-party``) is not a component here; the version is a pinned purl's, else the lockfile's."""
    out: list[dict[str, Any]] = []
    vc = vendored_components(licenses)
    vend_by_key = {r["key"]: r for r in vc.to_dict(orient="records")}
    matched: set[str] = set()
    for (_eco, _key), rows in _groups(deps, skip_first_party=True):
        lock = [r for r in rows if r.get("kind") == "lockfile" and isinstance(r.get("version"), str)]
        pinned = [r for r in rows if _purl_version(r.get("purl"))]
        best = (lock or pinned or rows)[0]
        ver = _purl_version(best.get("purl")) or (best["version"] if best in lock else None)
        lic_row = next((r for r in rows if isinstance(r.get("license_spdx"), str)), rows[0])
        vend = vend_by_key.get(norm_name("pypi", rows[0]["name"]))
        if vend:
            matched.add(vend["directory"])
        out.append(dict(name=rows[0]["name"], version=ver, purl=best.get("purl"), ecosystem=rows[0]["ecosystem"],
                        license=lic_row.get("license_spdx") if isinstance(lic_row.get("license_spdx"), str) else None,
                        scope=min((r["scope"] for r in rows), key=lambda s: SCOPE_ORDER.get(s, 9)),
                        direct=any(bool(r["direct"]) for r in rows), vendored=None))
    for v in vc.to_dict(orient="records"):
        if v["directory"] not in matched:
            out.append(dict(name=v["name"], version=None, purl=None, ecosystem=None, license=v["license_spdx"],
                            scope="runtime", direct=True, vendored=v["directory"]))
    return out


def ntia_minimum_elements(comps: list[dict[str, Any]]) -> dict[str, Any]:
    """The NTIA minimum elements (2021) a component can miss in ddkit's SBOMs: supplier name, version and a
    unique identifier (a purl). Name, dependency relationship, the SBOM's author and timestamp are always
    written. Suppliers are never known offline, so every component lacks one; said, not invented."""
    def names(pred) -> list[str]:
        return [c["name"] + (f" ({c['vendored']})" if c.get("vendored") else "") for c in comps if pred(c)]
    return {"components": len(comps), "missing_supplier": names(lambda c: True),
            "missing_version": names(lambda c: not c.get("version")),
            "missing_identifier": names(lambda c: not c.get("purl")),
            "note": "supplier names are not recorded in manifests or lockfiles and ddkit runs offline"}


def attribution(licenses: pd.DataFrame | None, dependencies: pd.DataFrame | None,
                company: Company) -> dict[str, Any]:
    """What the attribution pack (``--notices-out``, report/notices.py) lists: {'components': [...], 'files':
    [...]}. A component per declared package (ecosystem and normalised name; the repository's own package is
    none) with its versions, whether any use is direct, its first known license and the copyright holders
    of its vendored copy's files; a file per license-scan row with a third-party holder, a license, or in
    a vendored directory (the company's own notices and mere mentions in documentation are not)."""
    lic = licenses if licenses is not None else pd.DataFrame()
    holders_of_file: dict[str, list[str]] = {}
    files = []
    if len(lic):
        for r in lic.to_dict(orient="records"):
            cat = str(r.get("category") or "")
            if "company's own notice" in cat or "mentioned in documentation" in cat:
                continue
            hs = [h for h in (r.get("holders") if isinstance(r.get("holders"), list) else []) if not is_company(h, company)]
            holders_of_file[r["path"]] = hs
            if hs or r.get("vendored") or isinstance(r.get("license_spdx"), str):
                files.append(dict(path=r["path"], license=r.get("license_spdx") if isinstance(r.get("license_spdx"), str)
                                  else None, holders=hs, vendored=bool(r.get("vendored")),
                                  copyrights=[c for c in (r.get("copyrights") or []) if isinstance(c, str)]))
    vc = vendored_components(lic if len(lic) else None)
    vend_files = {r["key"]: r["files"] for r in vc.to_dict(orient="records")}
    comps: dict[tuple[str, str], dict] = {}
    deps = dependencies if dependencies is not None else pd.DataFrame()
    for r in deps.to_dict(orient="records") if len(deps) else []:
        if r.get("license_source") == "first-party":
            continue
        k = (r["ecosystem"], norm_name(r["ecosystem"], r["name"]))
        c = comps.setdefault(k, dict(name=r["name"], ecosystem=r["ecosystem"], versions=[], direct=False, license=None,
                                     license_source="none", holders=[], purl=r.get("purl"), manifests=[]))
        v = r.get("version")
        if isinstance(v, str) and v and v not in c["versions"]:
            c["versions"].append(v)
        c["direct"] = c["direct"] or bool(r.get("direct"))
        if c["license"] is None and isinstance(r.get("license_spdx"), str) and r["license_spdx"]:
            c["license"], c["license_source"] = r["license_spdx"], r.get("license_source")
        if r["manifest"] not in c["manifests"]:
            c["manifests"].append(r["manifest"])
    for c in comps.values():
        for f in vend_files.get(norm_name("pypi", c["name"]), []):
            for h in holders_of_file.get(f, []):
                if h not in c["holders"]:
                    c["holders"].append(h)
    return {"components": sorted(comps.values(), key=lambda c: (c["name"].lower(), c["ecosystem"])),
            "files": sorted(files, key=lambda f: f["path"])}
