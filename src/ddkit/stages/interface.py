"""What a stage is: a name, what it needs, what it produces, and one ``run`` (the shape of pip-audit's
``interface.py``). The list of stages is in ``ddkit/stages/__init__.py``; ``runner.py`` walks it.

A stage's ``run`` receives a :class:`Needs` (the named values it declared, and only those: reading
anything else is an error, so the declaration cannot drift from the code) and returns a
:class:`StageResult`: its products by name, its findings and its warnings. The pipeline puts findings and
warnings together in the order of the list, whatever order the stages ran in (docs/extending.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..schema import Finding

# What the runner gathers from the stages listed before a stage that needs them (the last stage, which
# assembles the Scan): every finding and warning in list order, the collectors' statistics and the tool
# versions.
GATHERED = ("findings", "warnings", "stats", "versions")


@dataclass
class StageResult:
    """What one stage gives back."""

    tables: dict[str, Any] = field(default_factory=dict)   # its products, by the names in Stage.produces
    findings: list[Finding] = field(default_factory=list)  # finding records (schema.Finding)
    warnings: list[str] = field(default_factory=list)      # one line each (summary and console)
    # How this stage revises the findings of the stages listed before it (the dependencies stage drops the
    # file-level license findings a dependency already reports): applied before its own are added.
    revise: Callable[[list[Finding]], list[Finding]] | None = None
    stats: dict[str, Any] | None = None     # what the collector did: Scan.stats.<stage name>
    versions: dict[str, str] = field(default_factory=dict)   # tools it ran: Scan.versions
    timings: dict[str, float] = field(default_factory=dict)  # background work it waited for, by name


@dataclass(frozen=True)
class Stage:
    """One step of a scan.

    *name* is what the progress display shows (and the key of ``Scan.timings``). *needs* names inputs of
    the scan (``ddkit.stages.INPUTS``), products of stages listed earlier, or :data:`GATHERED`.
    *when* names an input that switches the stage on (``licenses``, ``secrets``, ``corpora``); switched off,
    it shows nothing and its products are *skipped*'s (default: each None). *waits*: it waits for work
    started in the background (blame's workers, the secrets history thread); the stages that need nothing
    from it run first, so that work has time to finish (runner.schedule).
    """

    name: str
    needs: tuple[str, ...]
    produces: tuple[str, ...]
    run: Callable[[Needs], StageResult]
    when: str | None = None
    skipped: Callable[[Needs], dict[str, Any]] | None = None
    waits: bool = False


class Needs(Mapping[str, Any]):
    """The values a stage declared in ``needs``: reading another is a KeyError that names the stage."""

    def __init__(self, values: Mapping[str, Any], stage: Stage) -> None:
        self._values, self._stage = values, stage

    def __getitem__(self, name: str) -> Any:
        if name not in self._stage.needs:
            raise KeyError(f"stage {self._stage.name!r} reads {name!r}, which its needs do not declare")
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._stage.needs)

    def __len__(self) -> int:
        return len(self._stage.needs)
