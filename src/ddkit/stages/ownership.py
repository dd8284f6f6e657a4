"""Blame at the ref (collect/blame.py) and what it tells: who owns the surviving lines, departed authors,
orphaned modules and the IP chain of title (analyze/ownership.py, analyze/ip.py)."""

from __future__ import annotations

import pandas as pd

from ..analyze import ip, ownership
from .interface import Needs, Stage, StageResult


def run_blame(c: Needs) -> StageResult:
    blamer = c["blame_job"]
    blame, warnings, stats = blamer.result(c["progress"])
    return StageResult(tables={"blame": blame}, warnings=warnings, stats=stats,
                       timings={"blame (overlapped)": blamer.seconds})


def run_ownership(c: Needs) -> StageResult:
    rules, people, blame = c["rules"], c["people"], c["blame"]
    own = ownership.ownership_table(blame, c["commits"], people, c["files"])
    # Each person's surviving lines: the People sheet's column, added where the Scan is assembled.
    totals = own.groupby("person_id")["lines"].sum() if len(own) else pd.Series(dtype=int)
    found = ownership.departed_findings(rules, own, people)
    found += ownership.orphaned_module_findings(rules, own)
    # The IP analysis judges the company profile as given (not the license the licenses stage filled in).
    found += ip.ip_findings(rules, c["profile"], people, c["commits"], blame, roster_given=len(c["roster"]) > 0,
                            coauthored=c["coauthored"])
    return StageResult(tables={"ownership": own, "surviving_lines": totals,
                               "ownership_by_module": ownership.by_module(own),
                               "ownership_by_classification": ownership.by_classification(own)},
                       findings=found)


BLAME = Stage("blame", needs=("blame_job", "progress"), produces=("blame",), run=run_blame, waits=True)
OWNERSHIP = Stage("ownership", needs=("rules", "profile", "roster", "files", "commits", "people", "coauthored", "blame"),
                  produces=("ownership", "surviving_lines", "ownership_by_module", "ownership_by_classification"),
                  run=run_ownership)
