"""schemas/report.schema.json is the whole truth: a key it does not declare fails validation, at any level,
and docs/outputs.md documents every key it declares."""

import copy
import json
import re
from pathlib import Path

import pytest

from conftest import report_schema_errors

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))

FINDING = {"id": "0123456789abcdef", "rule": "ip.unknown-contributor", "area": "ip", "severity": "high",
           "subject": "Ann", "path": None, "lines_at_stake": 3, "evidence": "e", "remediation": "r",
           "status": "open", "triage": None, "person": "Ann", "commits": 2, "first_commit": "2024-01-02",
           "files": ["a.py"], "line": None}
SCAN = {
    "schema_version": 1, "ddkit_version": "0", "repo": {"path": "/r", "ref": "HEAD", "commit": "a" * 40, "remote": None},
    "as_of": "2024-06-30",
    "summary": {"readiness_score": 80, "rating": "amber", "truck_factor": 1, "findings_by_severity":
                {"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0}, "areas": {"ip": {"score": 85,
                 "rating": "amber", "findings": 1}}},
    "rules_sha256": "b" * 64,
    "people": [{"person": "Ann", "type": "employee", "vendor": None, "emails": ["a@x.example"], "is_bot": False,
                "commits": 2, "first_commit": "2024-01-02", "last_commit": "2024-01-03", "departed": False,
                "surviving_lines": 3, "possible_roster_match": None}],
    "findings": [FINDING], "licenses": [], "dependencies": [],
    "bus_factor": {"repository": 1, "modules": {"core": 1}}, "triage_stale": [], "warnings": [],
    "retention": [], "rewrite_scope": [],
}
PORTFOLIO = {"schema_version": 1, "ddkit_version": "0", "as_of": "2024-06-30",
             "repositories": [{"repo": "/r", "ref": "HEAD", "status": "ok", "error": None, "commit": "a" * 40}],
             "findings": [{"repository": "/r", **FINDING}], "people": [], "dependencies": []}


def test_the_examples_are_valid():
    assert report_schema_errors(SCAN) == []
    assert report_schema_errors(PORTFOLIO) == []


@pytest.mark.parametrize("where", [(), ("repo",), ("summary",), ("summary", "areas", "ip"), ("findings", 0),
                                   ("people", 0), ("bus_factor",), ("summary", "findings_by_severity")])
def test_an_undeclared_key_fails(where):
    doc = copy.deepcopy(SCAN)
    node = doc
    for k in where:
        node = node[k]
    node["undeclared_key"] = 1
    assert any("undeclared_key" in e for e in report_schema_errors(doc)), where


@pytest.mark.parametrize("where", [(), ("repositories", 0), ("findings", 0)])
def test_an_undeclared_key_fails_in_a_portfolio(where):
    doc = copy.deepcopy(PORTFOLIO)
    node = doc
    for k in where:
        node = node[k]
    node["undeclared_key"] = 1
    assert any("undeclared_key" in e for e in report_schema_errors(doc)), where


def _keys(node, out):
    """Every declared property name, at every level."""
    if isinstance(node, dict):
        for k, v in (node.get("properties") or {}).items():
            out.add(k)
            _keys(v, out)
        for k, v in node.items():
            if k != "properties":
                _keys(v, out)
    elif isinstance(node, list):
        for v in node:
            _keys(v, out)
    return out


def test_docs_document_every_key():
    docs = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([A-Za-z0-9_]+)`", docs))
    missing = sorted(_keys(SCHEMA, set()) - documented)
    assert missing == [], f"docs/outputs.md does not document these JSON keys: {missing}"
