"""A CycloneDX 1.6 JSON SBOM (``--sbom-out``), written with cyclonedx-python-lib.

The scanned project is the metadata component; each declared package (manifest and lockfile rows of the
same package are one component, at the lockfile's resolved version when there is one) and each vendored
directory the license scan found is a library component with its purl, its license, where the license came
from (``ddkit:license_source``) and, as evidence, the manifests and vendored files it was found in. The
project depends on its direct dependencies. Serial number and timestamp derive from the commit and the
as-of date, so the same scan gives the same document.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..analyze.dependencies import SCOPE_ORDER, vendored_components
from ..collect.dependencies import norm_name
from ..fsutil import atomic_write

if TYPE_CHECKING:
    from ..model import Portfolio, Scan



def _occurrence(component_ref: str, location: str, line: int | None = None):
    """One place a component was seen, with a bom-ref derived from it. Why the bom-ref: cyclonedx-python-lib
    keeps occurrences in a sorted set ordered by bom-ref first, and occurrences without one compare neither
    less nor greater, so their order followed Python's per-process string hashing and two scans of the same
    commit wrote different SBOMs."""
    from cyclonedx.model.component_evidence import Occurrence
    return Occurrence(bom_ref=f"{component_ref}#{location}" + (f":{line}" if line is not None else ""),
                      location=location, line=line)

def _licenses(expr: Any):
    from cyclonedx.factory.license import LicenseFactory
    if not isinstance(expr, str) or not expr:
        return []
    try:
        return [LicenseFactory().make_from_string(expr)]
    except Exception:  # pragma: no cover - a string the factory refuses: keep it as a name
        from cyclonedx.model.license import DisjunctiveLicense
        return [DisjunctiveLicense(name=expr)]


def _purl(s: Any):
    from packageurl import PackageURL
    try:
        return PackageURL.from_string(s) if isinstance(s, str) and s.startswith("pkg:") else None
    except ValueError:
        return None


def build_bom(deps: pd.DataFrame, licenses: pd.DataFrame | None, name: str, version: str | None,
              when: dt.date, serial_seed: str):
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from cyclonedx.model.component_evidence import ComponentEvidence

    project = Component(name=name, version=version, type=ComponentType.APPLICATION, bom_ref="project")
    bom = Bom(serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"ddkit:{serial_seed}"),
              metadata=BomMetaData(component=project,
                                   timestamp=dt.datetime.combine(when, dt.time(0, 0), tzinfo=dt.timezone.utc)))
    direct_refs = []
    used_refs: set[str] = set()
    vendored_matched: set[str] = set()
    vc = vendored_components(licenses)
    vend_by_key = {r["key"]: r for r in vc.to_dict(orient="records")}
    if deps is not None and len(deps):
        groups: dict[tuple[str, str], list[dict]] = {}
        for r in deps.to_dict(orient="records"):
            groups.setdefault((r["ecosystem"], norm_name(r["ecosystem"], r["name"])), []).append(r)
        for (eco, key), rows in sorted(groups.items()):
            lock = [r for r in rows if r["kind"] == "lockfile" and isinstance(r.get("version"), str)]
            pinned = [r for r in rows if _purl(r["purl"]) and _purl(r["purl"]).version]
            best = (lock or pinned or rows)[0]
            purl = _purl(best["purl"])
            ver = purl.version if purl and purl.version else None
            scope = min((r["scope"] for r in rows), key=lambda s: SCOPE_ORDER.get(s, 9))
            lic_row = next((r for r in rows if isinstance(r.get("license_spdx"), str)), rows[0])
            ref = f"{eco}:{key}@{ver or ''}"
            if ref in used_refs:
                continue
            used_refs.add(ref)
            occ = [_occurrence(ref, r["manifest"], int(r["line"]) if pd.notna(r.get("line")) else None)
                   for r in rows]
            vend = vend_by_key.get(norm_name("pypi", rows[0]["name"]))
            if vend:
                vendored_matched.add(vend["directory"])
                occ += [_occurrence(ref, f) for f in vend["files"]]
            props = [Property(name="ddkit:license_source", value=str(lic_row.get("license_source") or "none")),
                     Property(name="ddkit:scope", value=scope),
                     Property(name="ddkit:direct", value=str(any(bool(r["direct"]) for r in rows)).lower())]
            c = Component(name=rows[0]["name"], version=ver, type=ComponentType.LIBRARY, bom_ref=ref, purl=purl,
                          licenses=_licenses(lic_row.get("license_spdx")), properties=props,
                          scope=(ComponentScope.REQUIRED if scope == "runtime" else
                                 ComponentScope.OPTIONAL if scope == "optional" else ComponentScope.EXCLUDED),
                          evidence=ComponentEvidence(occurrences=occ))
            bom.components.add(c)
            if any(bool(r["direct"]) for r in rows):
                direct_refs.append(c)
    for v in vc.to_dict(orient="records"):
        if v["directory"] in vendored_matched:
            continue
        ref = f"vendored:{v['directory']}"
        c = Component(name=v["name"], type=ComponentType.LIBRARY, bom_ref=ref,
                      licenses=_licenses(v["license_spdx"]),
                      properties=[Property(name="ddkit:license_source", value="vendored" if v["license_spdx"] else "none"),
                                  Property(name="ddkit:vendored_directory", value=v["directory"])],
                      evidence=ComponentEvidence(occurrences=[_occurrence(ref, f) for f in v["files"]]))
        bom.components.add(c)
        direct_refs.append(c)
    bom.register_dependency(project, direct_refs)
    return bom


def to_json_text(bom) -> str:
    from cyclonedx.output.json import JsonV1Dot6
    return JsonV1Dot6(bom).output_as_string(indent=2)


def _write(text: str, path: Path | None) -> dict:
    if path is not None:
        atomic_write(path, text + "\n")
    return json.loads(text)


def write_sbom(s: Scan, path: Path | None) -> dict:
    name = s.company.name or Path(s.repo.path).name
    bom = build_bom(s.dependencies, s.licenses, name, s.repo.commit, s.as_of, f"{s.repo.path}@{s.repo.commit}")
    _ai_properties(bom, s)
    from .cyclonedx_vulns import add_vulnerabilities  # vulns
    add_vulnerabilities(bom, getattr(s, "vulnerabilities", None))
    return _write(to_json_text(bom), path)


def _ai_properties(bom, s: Scan) -> None:
    """The AI ledger's headline on the SBOM's metadata (an "AI bill of materials" in brief): properties
    ``ddkit:ai:*`` (docs/outputs.md)."""
    from cyclonedx.model import Property
    led = s.ai
    if led is None:
        return
    props = {"ddkit:ai:share": f"{led.share:.4f}", "ddkit:ai:surviving_lines": str(led.surviving_lines),
             "ddkit:ai:marked_commits": str(len(led.commits)),
             "ddkit:ai:tools": ", ".join(led.by_tool) or "none",
             "ddkit:ai:signals": ", ".join(led.by_signal) or "none",
             "ddkit:ai:config_files": ", ".join(led.config_files["path"].tolist()) or "none"}
    if led.recent_share is not None:
        props[f"ddkit:ai:recent_share_{led.recent_days}d"] = f"{led.recent_share:.4f}"
    for k, v in props.items():
        bom.metadata.properties.add(Property(name=k, value=v))


def write_portfolio_sbom(p: Portfolio, path: Path | None) -> dict:
    """scan-many: one document whose components are every repository's dependencies (merged)."""
    frames = [r.dependencies for r in p.results
              if r.status == "ok" and r.dependencies is not None and len(r.dependencies)]
    deps = pd.concat(frames, ignore_index=True) if frames else None
    bom = build_bom(deps, None, "portfolio", None, p.as_of, "portfolio:" + ",".join(sorted(r.repo for r in p.results)))
    return _write(to_json_text(bom), path)


class CycloneDxReporter:
    format = "cyclonedx"

    def scan(self, s: Scan, path: Path | None) -> dict:
        return write_sbom(s, path)

    def portfolio(self, p: Portfolio, path: Path | None) -> dict:
        return write_portfolio_sbom(p, path)


REPORTER = CycloneDxReporter()
