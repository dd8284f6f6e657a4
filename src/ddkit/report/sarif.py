"""SARIF 2.1.0 for CI (GitHub code scanning): one rule per ddkit rule id, one result per finding.

Findings about a file carry its path and lines; findings about a person, vendor or module point at
the file with the most lines at stake when there is one. Every other finding is about the repository as a
whole: GitHub's code scanning drops or hides a result without a location, so it points at the file that
best stands for the repository (:func:`repository_anchor`) and its message says it is repository-level.
Each result's fingerprint is the finding's stable id. No ``informationUri``: ddkit has no public home page
to name (an invented one would be a broken link in every upload).

GitHub's ingestion limits (docs.github.com, "SARIF results exceed limit"): at most 20 runs per file,
25,000 results and 25,000 rules per run, 1,000 locations per result and 20 tags per rule; ddkit writes
one location per result and two tags per rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd

from .._version import __version__
from ..text import encode_path
from ..values import records
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


# Files that stand for the repository as a whole, best first (a name at the root, any case, any extension).
_ANCHORS = ("readme", "license", "licence", "copying")


def repository_anchor(files: Any, *given: Any, root: str | None = None) -> str | None:
    """The file a repository-level result points at: the roster or company profile (*given*, paths) when
    it is a file of the repository (under *root*), else the root README, else the root LICENSE/COPYING,
    else the first file at the root, else the first file; None for a repository without files."""
    paths = sorted(p for p in (files["path"].tolist() if files is not None and len(files) else [])
                   if isinstance(p, str))
    tracked = set(paths)
    if root:
        for g in given:
            if g is None or not isinstance(g, (str, Path)):
                continue
            try:
                rel = Path(g).resolve().relative_to(Path(root).resolve()).as_posix()
            except (ValueError, OSError):   # outside the repository: not an artifact of it
                continue
            if rel in tracked:
                return rel
    at_root = [p for p in paths if "/" not in p]
    for stem in _ANCHORS:
        for p in at_root:
            if p.lower() == stem or p.lower().startswith(stem + "."):
                return p
    return at_root[0] if at_root else (paths[0] if paths else None)


def module_anchors(files: Any) -> dict[str, str]:
    """Module -> its largest file by lines (ties: the first path): where a module-level result points."""
    if files is None or not len(files) or "module" not in files or "lines" not in files:
        return {}
    best: dict[str, tuple[int, str]] = {}
    for path, module, lines in zip(files["path"].tolist(), files["module"].tolist(), files["lines"].tolist()):
        if not isinstance(path, str) or not isinstance(module, str):
            continue
        n = int(lines) if isinstance(lines, (int, float)) and lines == lines else 0
        if module not in best or (-n, path) < (-best[module][0], best[module][1]):
            best[module] = (n, path)
    return {m: p for m, (_, p) in best.items()}


# Rules whose subject is a module (bus factor, concentration, orphaned modules).
_MODULE_RULES = ("kn.", "own.orphaned-module")


def to_sarif(findings: pd.DataFrame, policy: Rules, anchor: str | None = None,
             modules: dict[str, str] | None = None) -> dict[str, Any]:
    """SARIF of *findings*; a finding about a module and no file points at the module's largest file
    (*modules*, :func:`module_anchors`), any other at *anchor* (:func:`repository_anchor`)."""
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
    for f in (records(findings) if len(findings) else []):
        res: dict[str, Any] = {
            "ruleId": f["rule"], "ruleIndex": index[f["rule"]], "level": LEVELS.get(f["severity"], "warning"),
            "message": {"text": f"{f['subject']}: {f.get('evidence') or ''} {f.get('remediation') or ''}".strip()},
            "partialFingerprints": {"ddkitFindingId/v1": f["id"]},
            "properties": {"severity": f["severity"], "area": f.get("area"),
                           "linesAtStake": int(f.get("lines_at_stake") or 0), "subject": json_value(f["subject"])},
        }
        if f.get("status") not in (None, "open"):
            # Counsel's triage: a suppression, so code scanning shows it as dismissed, with the reason.
            tri: dict[str, Any] = f["triage"] if isinstance(f.get("triage"), dict) else {}
            res["suppressions"] = [{"kind": "external", "status": "accepted",
                                    "justification": f"{f['status']}: {tri.get('reason') or ''}".strip(" :")}]
        path = f.get("path") if isinstance(f.get("path"), str) else _first_file(f.get("files"))
        if not path and str(f["rule"]).startswith(_MODULE_RULES) and (modules or {}).get(str(f["subject"])):
            path = (modules or {})[str(f["subject"])]
            res["message"]["text"] += (f" (Module-level finding: it concerns module {f['subject']} as a whole; "
                                       f"shown at its largest file, {path}.)")
        if not path and anchor:
            path = anchor
            res["message"]["text"] += (f" (Repository-level finding: it concerns the repository as a whole, not "
                                       f"this file; shown at {anchor}.)")
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
                                "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///"}},
            "results": results,
        }],
    }


def anchor_of(s: Scan) -> str | None:
    """The repository-level file of a scan: its roster or company profile if tracked, else README/LICENSE."""
    return repository_anchor(s.files, s.options.get("roster_path"), s.options.get("company_path"),
                             root=None if s.repo.is_bare else s.repo.path)


def anchors_of(s: Scan) -> dict[str, str]:
    """What a portfolio keeps of a scan for its SARIF: "" -> the repository-level file, module -> its file."""
    out = module_anchors(s.files)
    top = anchor_of(s)
    return {**out, "": top} if top else out


class SarifReporter:
    format = "sarif"

    def scan(self, s: Scan, path: Path | None) -> dict[str, Any]:
        return write_json(to_sarif(s.findings, s.rules, anchor_of(s), module_anchors(s.files)), path)

    def portfolio(self, p: Portfolio, path: Path | None) -> dict[str, Any]:
        """One run per scanned repository."""
        from ..config import load_rules
        policy = p.rules or load_rules(p.options.get("rules"))
        runs = []
        for r in p.results:
            if r.status != "ok" or r.findings is None:
                continue
            anchors = getattr(r, "sarif_anchors", None) or {}
            run = to_sarif(r.findings, policy, anchors.get(""), {m: a for m, a in anchors.items() if m})["runs"][0]
            run["automationDetails"] = {"id": f"ddkit/{r.repo}/"}
            run["properties"] = {"repository": r.repo, "commit": r.commit}
            runs.append(run)
        return write_json({"$schema": SCHEMA, "version": "2.1.0", "runs": runs}, path)


REPORTER = SarifReporter()
