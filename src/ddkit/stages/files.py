"""The files at the ref (collect/tree.py): path, category, blob, lines."""

from __future__ import annotations

from ..collect.tree import list_files
from .interface import Needs, Stage, StageResult


def run(c: Needs) -> StageResult:
    return StageResult(tables={"files": list_files(c["info"].path, c["info"].commit, c["rules"], c["profile"])})


FILES = Stage("files", needs=("info", "rules", "profile"), produces=("files",), run=run)
