"""CycloneDX ``vulnerabilities`` for ``--sbom-out`` (vulns): each vulnerability at the ref, once (aliases
collapsed), with its rating, its aliases as references, the fixed version as a recommendation, and the
components it affects (by their bom-ref in the same document)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..analyze.components import vulnerable_components

_SEVERITY = {"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "INFO"}


def _source(advisory: str):
    from cyclonedx.model import XsUri
    from cyclonedx.model.vulnerability import VulnerabilitySource
    if advisory.startswith("GHSA-"):
        return VulnerabilitySource(name="GitHub Advisory Database", url=XsUri(f"https://github.com/advisories/{advisory}"))
    return VulnerabilitySource(name="OSV", url=XsUri(f"https://osv.dev/vulnerability/{advisory}"))


def add_vulnerabilities(bom: Any, components: pd.DataFrame, vulns: pd.DataFrame | None) -> None:
    """Add the current rows of the scan's vulnerabilities table to *bom* (built by ``sbom.build_bom`` from
    *components*; which of them each advisory affects: analyze/components.py)."""
    if vulns is None or vulns.empty:
        return
    from decimal import Decimal

    from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus
    from cyclonedx.model.vulnerability import (
        BomTarget,
        BomTargetVersionRange,
        Vulnerability,
        VulnerabilityRating,
        VulnerabilityReference,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
    )
    affected = vulnerable_components(components, vulns)
    cur = vulns[vulns["current"].astype(bool)]
    for adv, g in cur.groupby("advisory", sort=True):
        first = g.iloc[0]
        # A pinned version is named; an unpinned requirement's range is in ddkit's own table.
        targets = [BomTarget(ref=ref, versions=[] if version is None else [BomTargetVersionRange(
                       version=version, status=ImpactAnalysisAffectedStatus.AFFECTED)])
                   for ref, version in affected[str(adv)]]
        sev = first.get("advisory_severity") if isinstance(first.get("advisory_severity"), str) else None
        score = first.get("cvss_score")
        rating = VulnerabilityRating(
            source=_source(str(adv)), severity=VulnerabilitySeverity(_SEVERITY[sev].lower()) if sev else None,
            score=Decimal(str(score)) if score is not None and not pd.isna(score) else None,
            method=VulnerabilityScoreSource.CVSS_V3 if score is not None and not pd.isna(score) else None)
        aliases = first["aliases"] if isinstance(first["aliases"], (list, tuple)) else []
        fixed = sorted({str(x) for x in g["fixed"].dropna()})
        v = Vulnerability(
            bom_ref=f"vuln:{adv}", id=str(adv), source=_source(str(adv)),
            references=[VulnerabilityReference(id=a, source=_source(a)) for a in aliases],
            ratings=[rating], description=first.get("summary") if isinstance(first.get("summary"), str) else None,
            recommendation=("Upgrade to " + " or ".join(fixed) + " or later") if fixed else "No fixed version published",
            affects=targets)
        bom.vulnerabilities.add(v)
