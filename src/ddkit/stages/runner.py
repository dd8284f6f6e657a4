"""Walking the list of stages: in which order they run, whether the list is consistent, and putting their
results together in the order of the list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..model import StageStats
from ..progress import Progress
from ..schema import Finding
from .interface import GATHERED, Needs, Stage, StageResult


def schedule(stages: Sequence[Stage]) -> list[Stage]:
    """The order the stages run in: the list's, except that a stage that waits for background work, and
    every stage that needs what it produces, run after the stages that need none of it. Those run while the
    background work (blame's workers, the secrets history) finishes; nothing waits for it sooner than a
    stage that needs it."""
    late_products: set[str] = set()
    late: set[str] = set()
    for s in stages:
        if s.waits or any(n in late_products or n in GATHERED for n in s.needs):
            late.add(s.name)
            late_products.update(s.produces)
    return [s for s in stages if s.name not in late] + [s for s in stages if s.name in late]


def check(stages: Sequence[Stage], inputs: Iterable[str]) -> list[str]:
    """What is wrong with a list of stages (empty when nothing): names and products unique, every need an
    input or a product of a stage listed earlier, the gathered values needed only by the last stage."""
    inputs = set(inputs)
    errors: list[str] = []
    seen: set[str] = set()
    produced: dict[str, str] = {}
    for i, s in enumerate(stages):
        if s.name in seen:
            errors.append(f"stage name {s.name!r} is used twice")
        seen.add(s.name)
        for n in s.needs:
            if n in GATHERED:
                if i != len(stages) - 1:
                    errors.append(f"stage {s.name!r} needs {n!r}, which only the last stage may (it gathers "
                                  "every stage before it)")
            elif n not in inputs and n not in produced:
                errors.append(f"stage {s.name!r} needs {n!r}, which is no input and no product of a stage "
                              "listed before it")
        if s.when is not None and s.when not in inputs:
            errors.append(f"stage {s.name!r} is switched by {s.when!r}, which is no input")
        for p in s.produces:
            if p in inputs or p in GATHERED or p in produced:
                errors.append(f"stage {s.name!r} produces {p!r}, already "
                              + (f"produced by {produced[p]!r}" if p in produced else "an input"))
            produced.setdefault(p, s.name)
    return errors


def walk(stages: Sequence[Stage], inputs: dict[str, Any], progress: Progress, warnings: list[str],
         versions: dict[str, str]) -> dict[str, Any]:
    """Run *stages* (in :func:`schedule`'s order) on *inputs*; returns every value by name. *warnings* and
    *versions* are the scan's before any stage (the repository's notes, ddkit's and git's versions); a
    stage that needs the gathered values gets them with each stage's added in list order."""
    values = dict(inputs)
    results: dict[str, StageResult] = {}
    for s in schedule(stages):
        if any(n in GATHERED for n in s.needs):
            values.update(gather([(x, results[x.name]) for x in stages[:stages.index(s)]], warnings, versions))
        need = Needs(values, s)
        if s.when is not None and not values[s.when]:
            r = StageResult(tables=s.skipped(need) if s.skipped is not None else dict.fromkeys(s.produces))
        else:
            with progress.stage(s.name):
                r = s.run(need)
            progress.timings.update(r.timings)
        if set(r.tables) != set(s.produces):
            raise RuntimeError(f"stage {s.name!r} produced {sorted(r.tables)}, not its declared {sorted(s.produces)}")
        values.update(r.tables)
        results[s.name] = r
    return values


def gather(done: Sequence[tuple[Stage, StageResult]], warnings: list[str], versions: dict[str, str]) -> dict[str, Any]:
    """The findings, warnings, statistics and versions of *done* (stages with their results), in list order."""
    found: list[Finding] = []
    out_warnings = list(warnings)
    out_versions = dict(versions)
    stats: dict[str, Any] = {}
    for s, r in done:
        if r.revise is not None:
            found = r.revise(found)
        found += r.findings
        out_warnings += r.warnings
        out_versions.update(r.versions)
        if r.stats is not None:
            stats[s.name] = r.stats
    return {"findings": found, "warnings": out_warnings, "stats": StageStats(**stats), "versions": out_versions}
