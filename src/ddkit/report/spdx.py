"""An SPDX 2.3 JSON document (``--spdx-out``), written and validated with ``spdx-tools``; and the NTIA
minimum-elements check of the components both SBOMs (this one and CycloneDX) describe.

The same components as the CycloneDX SBOM (``report/sbom.py``): each declared package once (at the
lockfile's or the pin's version when there is one) and each vendored directory the license scan found
that is not a declared package. The scanned project is the described package; it DEPENDS_ON every
component (a transitive one says so in the relationship's comment). Declared licenses are the SPDX
expressions ddkit found (ScanCode's ``LicenseRef-scancode-*`` ids are declared as extracted licensing
info with their text from ScanCode's license data); concluded licenses are NOASSERTION (ddkit records
what the sources say, it does not conclude). Suppliers are not known offline: NOASSERTION, and the NTIA
check says so. Namespace and creation time derive from the commit and the as-of date, so the same scan
gives the same document.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._version import __version__
from ..analyze.dependencies import SCOPE_ORDER, vendored_components
from ..collect.dependencies import norm_name
from ..errors import InputError
from ..fsutil import atomic_write

if TYPE_CHECKING:
    from ..model import Portfolio, Scan


def _purl_version(purl: Any) -> str | None:
    from packageurl import PackageURL
    try:
        return PackageURL.from_string(purl).version if isinstance(purl, str) and purl.startswith("pkg:") else None
    except ValueError:
        return None


def components(deps: pd.DataFrame | None, licenses: pd.DataFrame | None) -> list[dict[str, Any]]:
    """One record per component (name, version, purl, license, scope, direct, vendored directory)."""
    out: list[dict[str, Any]] = []
    vc = vendored_components(licenses)
    vend_by_key = {r["key"]: r for r in vc.to_dict(orient="records")}
    matched: set[str] = set()
    if deps is not None and len(deps):
        groups: dict[tuple[str, str], list[dict]] = {}
        for r in deps.to_dict(orient="records"):
            if r.get("license_source") == "first-party":
                continue
            groups.setdefault((r["ecosystem"], norm_name(r["ecosystem"], r["name"])), []).append(r)
        for (_eco, _key), rows in sorted(groups.items()):
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


def _ref(i: int, name: str) -> str:
    return f"SPDXRef-Package-{i}-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-")[:60] or "component")


def build_document(s: Scan):
    from license_expression import get_spdx_licensing
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        CreationInfo,
        Document,
        ExternalPackageRef,
        ExternalPackageRefCategory,
        ExtractedLicensingInfo,
        Package,
        Relationship,
        RelationshipType,
        SpdxNoAssertion,
    )

    from .notices import license_text
    licensing = get_spdx_licensing()
    name = s.company.name or Path(str(s.repo.path)).name or "project"
    seed = f"{s.repo.path}@{s.repo.commit}"
    created = dt.datetime.combine(s.as_of, dt.time(0, 0))
    info = CreationInfo(spdx_version="SPDX-2.3", spdx_id="SPDXRef-DOCUMENT", name=f"{name} dependencies",
                        document_namespace=f"https://ddkit.invalid/spdx/{uuid.uuid5(uuid.NAMESPACE_URL, 'ddkit:' + seed)}",
                        creators=[Actor(ActorType.TOOL, f"ddkit-{__version__}")], created=created,
                        creator_comment=f"Scanned commit {s.repo.commit} (ref {s.repo.ref}) as of {s.as_of.isoformat()}")
    project = Package(spdx_id="SPDXRef-Package-project", name=name, download_location=SpdxNoAssertion(),
                      version=s.repo.commit, files_analyzed=False,
                      supplier=Actor(ActorType.ORGANIZATION, s.company.name) if s.company.name else SpdxNoAssertion(),
                      license_concluded=SpdxNoAssertion(), license_declared=SpdxNoAssertion(),
                      copyright_text=SpdxNoAssertion())
    packages = [project]
    rels = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-Package-project")]
    extracted: dict[str, ExtractedLicensingInfo] = {}

    def declared(expr: str | None):
        if not expr:
            return SpdxNoAssertion()
        try:
            parsed = licensing.parse(expr, validate=False, strict=False)
        except Exception:   # an expression the parser refuses: NOASSERTION
            parsed = None
        if parsed is None:
            return SpdxNoAssertion()
        for key in licensing.license_keys(parsed):
            k = str(key)
            if k.startswith("LicenseRef-") and k not in extracted:
                text = license_text(k) or f"The text of {k} is in ScanCode's license database (licensedcode)."
                extracted[k] = ExtractedLicensingInfo(license_id=k, extracted_text=text, license_name=k)
            elif not k.startswith("LicenseRef-") and licensing.known_symbols.get(k) is None:
                return SpdxNoAssertion()       # not an SPDX id: the validator would refuse the document
        return parsed
    for i, c in enumerate(components(s.dependencies, s.licenses), start=1):
        refs = [ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", c["purl"])] if c["purl"] else []
        p = Package(spdx_id=_ref(i, c["name"]), name=c["name"], download_location=SpdxNoAssertion(),
                    version=c["version"], files_analyzed=False, supplier=SpdxNoAssertion(),
                    license_concluded=SpdxNoAssertion(), license_declared=declared(c["license"]),
                    copyright_text=SpdxNoAssertion(), external_references=refs,
                    comment=(f"scope {c['scope']}, {'direct' if c['direct'] else 'transitive'}"
                             + (f"; vendored in {c['vendored']}" if c["vendored"] else "")))
        packages.append(p)
        rels.append(Relationship("SPDXRef-Package-project", RelationshipType.DEPENDS_ON, p.spdx_id,
                                 comment=None if c["direct"] else "transitive (locked)"))
    return Document(creation_info=info, packages=packages, relationships=rels,
                    extracted_licensing_info=list(extracted.values()))


def validate(doc) -> list[str]:
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    return [m.validation_message for m in validate_full_spdx_document(doc)]


def write_spdx(s: Scan, path: Path | None) -> dict:
    import json

    from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
    doc = build_document(s)
    errors = validate(doc)
    if errors:   # a bug: ddkit writes only documents its validator accepts
        raise RuntimeError("SPDX document does not validate: " + "; ".join(errors[:3]))
    data = DocumentConverter().convert(doc)
    if path is not None:
        atomic_write(path, json.dumps(data, indent=2) + "\n")
    return data


class SpdxReporter:
    format = "spdx"

    def scan(self, s: Scan, path: Path | None) -> dict:
        return write_spdx(s, path)

    def portfolio(self, p: Portfolio, path: Path | None) -> dict:
        raise InputError("--spdx-out is written per repository: run ddkit scan for each one "
                         "(scan-many writes one CycloneDX document with --sbom-out)")


REPORTER = SpdxReporter()
