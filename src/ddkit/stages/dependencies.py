"""Dependencies (analyze/dependencies.py: manifests and lockfiles at the ref, their licenses, who added
them) and their known vulnerabilities (analyze/vulnerabilities.py, against the offline OSV data)."""

from __future__ import annotations

from ..analyze import dependencies as dep_mod
from .interface import Needs, Stage, StageResult


def run_dependencies(c: Needs) -> StageResult:
    deps, found, warnings = dep_mod.analyze(c["info"].path, c["files"], c["changes"], c["commits"], c["people"],
                                            c["rules"], c["company"], c["licenses"], c["dep_inputs"])
    # The file-level license findings a dependency already reports (a vendored copy of a declared
    # dependency, a manifest or lockfile itself) are dropped: one component, one finding.
    return StageResult(tables={"dependencies": deps}, findings=found, warnings=warnings,
                       revise=lambda earlier: dep_mod.fold_vendored(earlier, deps))


def run_vulnerabilities(c: Needs) -> StageResult:
    """Nothing assessed without a database (vuln_info says so; the Summary lists it as not assessed)."""
    from .. import globs
    from ..analyze import vulnerabilities as vuln_mod
    rules, company, info = c["rules"], c["company"], c["info"]
    vglobs = [g["glob"] for g in rules.get("paths", {}).get("vendored", [])] + list(company.vendored)
    vulns, found, warnings, vuln_info = vuln_mod.run(
        rules, c["vuln_db"], info.path, c["dependencies"], c["changes"], c["commits"], c["people"], c["as_of"],
        lambda p: any(globs.match(p, g) for g in vglobs), c["files"], info.commit)
    return StageResult(tables={"vulnerabilities": vulns, "vuln_info": vuln_info}, findings=found, warnings=warnings)


DEPENDENCIES = Stage("dependencies", needs=("info", "rules", "company", "dep_inputs", "files", "changes", "commits",
                                            "people", "licenses"),
                     produces=("dependencies",), run=run_dependencies)
VULNERABILITIES = Stage("vulnerabilities", needs=("info", "rules", "company", "vuln_db", "as_of", "files", "changes",
                                                  "commits", "people", "dependencies"),
                        produces=("vulnerabilities", "vuln_info"), run=run_vulnerabilities)
