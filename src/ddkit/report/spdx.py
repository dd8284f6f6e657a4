"""An SPDX 2.3 JSON document (``--spdx-out``), written and validated with ``spdx-tools``.

The components (chosen by analyze/components.py ``spdx_components``, which the summary's NTIA check counts
too): each declared package once (at the lockfile's or the pin's version when there is one) and each
vendored directory the license scan found that is not a declared package. The scanned project is the
described package; it DEPENDS_ON every component (a transitive one says so in the relationship's comment).
Declared licenses are the SPDX expressions ddkit found (ScanCode's ``LicenseRef-scancode-*`` ids are
declared as extracted licensing info with their text from ScanCode's license data); concluded licenses are
NOASSERTION (ddkit records what the sources say, it does not conclude). Suppliers are not known offline:
NOASSERTION, and the NTIA check says so. Namespace and creation time derive from the commit and the as-of
date, so the same scan gives the same document.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from .._version import __version__
from ..analyze.components import spdx_components
from ..errors import InputError
from ..fsutil import atomic_write

if TYPE_CHECKING:
    from ..model import Portfolio, Scan


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
        except Exception:
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
    for i, c in enumerate(spdx_components(s.dependencies, s.licenses), start=1):
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
