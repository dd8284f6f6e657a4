"""Who knows the code (analyze/bus_factor.py: degree of authorship, truck factor, concentration) and how the
activity moved (analyze/trends.py)."""

from __future__ import annotations

from ..analyze import bus_factor
from ..analyze.trends import trends_table
from .interface import Needs, Stage, StageResult


def run(c: Needs) -> StageResult:
    commits, people, files = c["commits"], c["people"], c["files"]
    doa = bus_factor.degree_of_authorship(c["changes"], commits, people, files)
    bus = bus_factor.bus_factor_table(doa, files, people)
    repo_row = bus[bus["scope"] == "(repository)"]
    truck_factors = {
        "repository": int(repo_row["truck_factor"].iloc[0]) if len(repo_row) else None,
        "modules": {r.scope: (int(r.truck_factor) if r.truck_factor is not None else None)
                    for r in bus.itertuples() if r.scope != "(repository)"}}
    return StageResult(tables={"doa": doa, "bus_factor": bus, "trends": trends_table(commits, people),
                               "truck_factors": truck_factors},
                       findings=bus_factor.knowledge_findings(c["rules"], bus))


KNOWLEDGE = Stage("knowledge", needs=("rules", "files", "changes", "commits", "people"),
                  produces=("doa", "bus_factor", "trends", "truck_factors"), run=run)
