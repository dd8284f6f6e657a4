"""Provenance: code the company may not own because it arrived fully formed (bulk imports).

Shared helpers of the provenance analyses (analyze/ai.py, the bulk-import rule below).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .. import globs
from ..config import Company, Rules


def excluded_paths(rules: Rules, company: Company, files: pd.DataFrame) -> Callable[[str], bool]:
    """Whether a path (at the ref or only in history) is vendored, generated or excluded: at the ref as
    the files stage classified it (its content markers included); elsewhere by the globs alone."""
    at_ref = dict(zip(files["path"].tolist(), files["category"].tolist())) if len(files) else {}
    pr = rules.get("paths", {})
    gl = tuple([g["glob"] for g in pr.get("vendored", [])] + list(company.vendored)
               + [g["glob"] for g in pr.get("generated", [])] + [e["glob"] for e in company.excludes])
    rx = globs.any_regex(gl)

    def excluded(path: str) -> bool:
        cat = at_ref.get(path)
        if cat is not None:
            return cat in ("vendored", "generated", "excluded")
        return rx.match(path) is not None
    return excluded
