"""SARIF 2.1.0 for CI (GitHub code scanning): one rule per ddkit rule id, one result per finding.

Findings about a file carry its path and lines; findings about a person, vendor or module point at
the file with the most lines at stake when there is one, and otherwise at no location (repository
level). Each result's fingerprint is the finding's stable id.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd

from .._version import __version__
from ..text import encode_path
from .cells import json_value, write_json

if TYPE_CHECKING:
    from ..config import Rules
    from ..model import Portfolio, Scan

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def _first_file(files: Any) -> str | None:
    if isinstance(files, (list, tuple)) and files:
        f = files[0]
        return f[0] if isinstance(f, (list, tuple)) else str(f).split(" (")[0]
    if isinstance(files, str) and files:
        return files.split(";")[0].split(" (")[0].strip()
    return None


def artifact_uri(path: str) -> str:
    """A relative URI reference for a repository path (RFC 3986), made from the path's own bytes.

    Every byte outside the unreserved set is percent-encoded ('/' stays the separator), so Latin-1 or
    other undecodable bytes, tabs, control characters, spaces and '%' itself survive exactly:
    ``unquote_to_bytes(uri)`` gives back git's path.
    """
    return quote(encode_path(path), safe="/")


def to_sarif(findings: pd.DataFrame, policy: Rules) -> dict[str, Any]:
    rule_ids = sorted(set(findings["rule"])) if len(findings) else []
    index = {r: i for i, r in enumerate(rule_ids)}
    rules = []
    for r in rule_ids:
        sev = policy.severity(r)
        entry = policy.rule(r)
        rules.append({
            "id": r, "name": r.replace(".", "_").replace("-", "_"),
            "shortDescription": {"text": entry["title"]},
            "fullDescription": {"text": entry["meaning"]},
            "help": {"text": entry["remediation"]},
            "defaultConfiguration": {"level": LEVELS.get(sev, "warning")},
            "properties": {"tags": ["due-diligence", r.split(".")[0]], "security-severity": SECURITY_SEVERITY.get(sev, "5.0")},
        })
    results = []
    for f in findings.to_dict(orient="records"):
        res: dict[str, Any] = {
            "ruleId": f["rule"], "ruleIndex": index[f["rule"]], "level": LEVELS.get(f["severity"], "warning"),
            "message": {"text": f"{f['subject']}: {f.get('evidence') or ''} {f.get('remediation') or ''}".strip()},
            "partialFingerprints": {"ddkitFindingId/v1": f["id"]},
            "properties": {"severity": f["severity"], "area": f.get("area"),
                           "linesAtStake": int(f.get("lines_at_stake") or 0), "subject": json_value(f["subject"])},
        }
        if f.get("status") not in (None, "open"):
            # Counsel's triage: a suppression, so code scanning shows it as dismissed, with the reason.
            tri = f.get("triage") if isinstance(f.get("triage"), dict) else {}
            res["suppressions"] = [{"kind": "external", "status": "accepted",
                                    "justification": f"{f['status']}: {tri.get('reason') or ''}".strip(" :")}]
        path = f.get("path") if isinstance(f.get("path"), str) else _first_file(f.get("files"))
        if path:
            loc: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(path), "uriBaseId": "%SRCROOT%"}}
            line = f.get("line")
            if line is not None and not pd.isna(line) and int(line) > 0:
                end = f.get("end_line")
                end = int(end) if end is not None and not pd.isna(end) and int(end) >= int(line) else int(line)
                loc["region"] = {"startLine": int(line), "endLine": end}
            res["locations"] = [{"physicalLocation": loc}]
        results.append(res)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "ddkit", "version": __version__, "semanticVersion": __version__,
                                "informationUri": "https://example.invalid/ddkit", "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///"}},
            "results": results,
        }],
    }


class SarifReporter:
    format = "sarif"

    def scan(self, s: Scan, path: Path | None) -> dict[str, Any]:
        return write_json(to_sarif(s.findings, s.rules), path)

    def portfolio(self, p: Portfolio, path: Path | None) -> dict[str, Any]:
        """One run per scanned repository."""
        from ..config import load_rules
        policy = p.rules or load_rules(p.options.get("rules"))
        runs = []
        for r in p.results:
            if r.status != "ok" or r.findings is None:
                continue
            run = to_sarif(r.findings, policy)["runs"][0]
            run["automationDetails"] = {"id": f"ddkit/{r.repo}/"}
            run["properties"] = {"repository": r.repo, "commit": r.commit}
            runs.append(run)
        return write_json({"$schema": SCHEMA, "version": "2.1.0", "runs": runs}, path)


REPORTER = SarifReporter()
