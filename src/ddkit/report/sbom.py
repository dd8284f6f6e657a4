"""A CycloneDX 1.6 JSON SBOM (``--sbom-out``), written with cyclonedx-python-lib.

The scanned project is the metadata component; each declared package (manifest and lockfile rows of the same
package are one component, at the lockfile's resolved version when there is one) and each vendored directory
the license scan found is a library component with its purl, its license, where the license came from
(``ddkit:license_source``) and, as evidence, the manifests and vendored files it was found in. The project
depends on its direct dependencies. Which components there are, and each one's version, license and places,
is the analysis' (``Scan.components``, analyze/components.py); this module renders them. Serial number and
timestamp derive from the commit and the as-of date, so the same scan gives the same document.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

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


def build_bom(components: pd.DataFrame, name: str, version: str | None, when: dt.date, serial_seed: str):
    """The CycloneDX document of *components* (``Scan.components``: analyze/components.py chose them)."""
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from cyclonedx.model.component_evidence import ComponentEvidence

    project = Component(name=name, version=version, type=ComponentType.APPLICATION, bom_ref="project")
    bom = Bom(serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"ddkit:{serial_seed}"),
              metadata=BomMetaData(component=project,
                                   timestamp=dt.datetime.combine(when, dt.time(0, 0), tzinfo=dt.timezone.utc)))
    direct_refs = []
    for c in components.to_dict(orient="records"):
        ref = c["ref"]
        occ = [_occurrence(ref, location, line) for location, line in c["occurrences"]]
        if isinstance(c["vendored_directory"], str):
            props = [Property(name="ddkit:license_source", value=c["license_source"]),
                     Property(name="ddkit:vendored_directory", value=c["vendored_directory"])]
            comp = Component(name=c["name"], type=ComponentType.LIBRARY, bom_ref=ref,
                             licenses=_licenses(c["license_spdx"]), properties=props,
                             evidence=ComponentEvidence(occurrences=occ))
        else:
            scope = c["scope"]
            props = [Property(name="ddkit:license_source", value=c["license_source"]),
                     Property(name="ddkit:scope", value=scope),
                     Property(name="ddkit:direct", value=str(bool(c["direct"])).lower())]
            comp = Component(name=c["name"], version=c["version"], type=ComponentType.LIBRARY, bom_ref=ref,
                             purl=_purl(c["purl"]), licenses=_licenses(c["license_spdx"]), properties=props,
                             scope=(ComponentScope.REQUIRED if scope == "runtime" else
                                    ComponentScope.OPTIONAL if scope == "optional" else ComponentScope.EXCLUDED),
                             evidence=ComponentEvidence(occurrences=occ))
        bom.components.add(comp)
        if c["direct"]:
            direct_refs.append(comp)
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
    components = s.components
    bom = build_bom(components, name, s.repo.commit, s.as_of, f"{s.repo.path}@{s.repo.commit}")
    _ai_properties(bom, s)
    from .cyclonedx_vulns import add_vulnerabilities  # vulns
    add_vulnerabilities(bom, components, getattr(s, "vulnerabilities", None))
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
    bom = build_bom(p.components, "portfolio", None, p.as_of, "portfolio:" + ",".join(sorted(r.repo for r in p.results)))
    return _write(to_json_text(bom), path)


class CycloneDxReporter:
    format = "cyclonedx"

    def scan(self, s: Scan, path: Path | None) -> dict:
        return write_sbom(s, path)

    def portfolio(self, p: Portfolio, path: Path | None) -> dict:
        return write_portfolio_sbom(p, path)


REPORTER = CycloneDxReporter()
