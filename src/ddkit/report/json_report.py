"""The JSON report, schema_version 1 (see the contract)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import __version__
from .cells import json_value

if TYPE_CHECKING:
    from ..scan import Scan

PEOPLE_FIELDS = ["person", "type", "vendor", "emails", "is_bot", "commits", "first_commit", "last_commit",
                 "departed", "surviving_lines"]
FINDING_FIELDS = ["id", "rule", "area", "severity", "subject", "path", "lines_at_stake", "evidence", "remediation"]
LICENSE_FIELDS = ["path", "license_spdx", "category", "holders", "severity"]
from ..analyze.dependencies import JSON_FIELDS as DEPENDENCY_FIELDS  # noqa: E402  (deps)


def _records(df: pd.DataFrame, fields: list[str], extra: bool = False) -> list[dict[str, Any]]:
    if df is None or df.empty:
        return []
    cols = [c for c in fields if c in df.columns]
    if extra:
        cols += [c for c in df.columns if c not in cols]
    return [{c: json_value(v) for c, v in zip(cols, rec)} for rec in df[cols].itertuples(index=False, name=None)]


def to_dict(s: "Scan", pseudonymize: bool = False) -> dict[str, Any]:
    if pseudonymize:
        from .pseudonym import pseudonymized
        s = pseudonymized(s)
    people = _records(s.people, PEOPLE_FIELDS)
    bus = s.extras.get("bus_factor_json") or {"repository": s.summary.get("truck_factor"), "modules": {}}
    return {
        "schema_version": 1,
        "ddkit_version": __version__,
        "repo": {"path": s.repo.path, "ref": s.repo.ref, "commit": s.repo.commit, "remote": s.repo.remote},
        "as_of": s.as_of.isoformat(),
        "summary": json_value(s.summary),
        "rules_sha256": s.rules.sha256,
        "people": people,
        "findings": _records(s.findings, FINDING_FIELDS, extra=True),
        "licenses": _records(s.licenses, LICENSE_FIELDS),
        "dependencies": _records(s.dependencies, DEPENDENCY_FIELDS),   # deps
        "bus_factor": json_value(bus),
        "warnings": list(s.warnings),
    }


def write_json(s: "Scan", path: Path, pseudonymize: bool = False) -> dict[str, Any]:
    data = to_dict(s, pseudonymize=pseudonymize)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return data
