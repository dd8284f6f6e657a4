"""Table schemas and the severity enum: the vocabulary every stage and report shares.

Declared once here: the columns of each table that leaves the pipeline (``*_COLUMNS``) and the one
severity order (:data:`SEVERITIES`), also an ordered categorical so that
``findings.sort_values("severity")`` puts the worst first. No imports from the rest of ddkit, so any
module can use it.
"""

from __future__ import annotations

import pandas as pd

# ------------------------------------------------------------------ severities (one enum)
from .severity import SEVERITIES, count_at_or_above, severity_rank  # noqa: F401  (re-exported)

SEVERITY_TYPE = pd.CategoricalDtype(list(SEVERITIES), ordered=True)


# ------------------------------------------------------------------ table schemas
FINDING_COLUMNS = ["id", "rule", "area", "severity", "subject", "path", "lines_at_stake", "evidence",
                   "remediation", "person", "vendor", "commits", "first_commit", "last_commit",
                   "first_sha", "last_sha", "files", "line", "end_line"]
# The one People schema: the analysis table has these columns; JSON, workbook and portfolio show the
# public subset PEOPLE_PUBLIC (person_id and raw names stay internal).
PEOPLE_COLUMNS = ["person", "type", "vendor", "emails", "is_bot", "commits", "first_commit", "last_commit",
                  "departed", "departed_status", "surviving_lines", "in_roster", "start_date", "end_date", "ip_assignment",
                  "ip_assignment_date", "ip_document", "names", "person_id", "possible_roster_match",
                  "possible_roster_match_reason"]
PEOPLE_PUBLIC = ["person", "type", "vendor", "emails", "is_bot", "commits", "first_commit", "last_commit",
                 "departed", "departed_status", "surviving_lines", "possible_roster_match"]
LICENSE_PUBLIC = ["path", "license_spdx", "category", "holders", "severity"]
# deps: the contract's `dependencies` fields (JSON), in order; the analysis table has more columns.
DEPENDENCY_PUBLIC = ["purl", "name", "version", "ecosystem", "scope", "direct", "license_spdx", "license_source",
                     "manifest", "line", "added_by", "added_by_type", "added_sha", "added_date"]
REPO_COLUMNS = ["repo", "ref", "status", "error", "commit", "readiness_score", "rating", "truck_factor",
                "critical", "high", "medium", "low", "info", "commits", "contributors", "outsourced_share",
                "cached", "seconds"]
# Columns that hold people's names or addresses, by table: what pseudonymisation must rewrite. A new
# person-bearing table is covered because pseudonymisation rewrites every text cell of every table.
PERSON_LIST_COLUMNS = ("emails", "names", "roster_emails")


def typed_findings(df: pd.DataFrame) -> pd.DataFrame:
    """Findings with their declared dtypes: severity ordered, lines at stake an integer."""
    df = df.copy()
    df["severity"] = df["severity"].astype(SEVERITY_TYPE)
    df["lines_at_stake"] = df["lines_at_stake"].fillna(0).astype(int)
    return df


