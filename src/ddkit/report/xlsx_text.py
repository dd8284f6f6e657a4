"""Words for counsel: plain-English column headers, area names and the Summary's top-findings sentences."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..isodate import format_day
from ..values import records
from .cells import plain

AREA_NAMES = {"ip": "IP and chain of title", "ownership": "Code ownership", "license": "Licenses and third-party code",
              "knowledge": "Knowledge and bus factor", "security": "Security", "dependencies": "Dependencies",
              "ai": "AI-assisted code"}

# Headers for every column the workbook shows; any other column gets a generated header (label()).
LABELS = {
    "id": "Finding id", "finding_ids": "Finding ids", "rule": "Rule id", "rules": "Rule ids", "area": "Area",
    "severity": "Severity", "subject": "Subject", "path": "File", "lines_at_stake": "Lines at stake",
    "evidence": "Evidence", "remediation": "What to do", "person": "Person", "vendor": "Vendor",
    "commits": "Commits", "first_commit": "First commit", "last_commit": "Last commit", "first_sha": "Commit",
    "last_sha": "Last commit id", "files": "Files", "line": "Line", "end_line": "End line",
    "fingerprint": "Fingerprint", "status": "Status", "triage": "Triage", "subject_type": "Type",
    "contact": "Contact (roster e-mail)", "gap": "Gap in the chain of title", "document": "Document needed",
    "period_start": "Period from", "period_end": "Period to", "files_at_stake": "Files at stake",
    "top_files": "Files with most lines", "ip_document": "Document on file", "owner": "Owner", "due_date": "Due date",
    "type": "Type", "emails": "E-mail addresses", "is_bot": "Bot", "departed": "Departed",
    "departed_status": "Departure",
    "surviving_lines": "Surviving lines", "in_roster": "On the roster", "start_date": "Start date",
    "end_date": "End date", "ip_assignment": "IP assignment", "ip_assignment_date": "Assignment signed on",
    "github": "GitHub account", "module": "Module", "classification": "Classification", "lines": "Lines",
    "share_of_file": "Share of file", "share_of_module": "Share of module", "license_spdx": "License (SPDX)",
    "license_expression": "ScanCode license expression", "category": "Category", "holders": "Copyright holders",
    "copyrights": "Copyright notices", "start_line": "From line", "score": "ScanCode score", "vendored": "Vendored",
    "introduced_by": "Brought in by", "introduced_sha": "Commit", "introduced_date": "Brought in on",
    "introducer_type": "Brought in by (type)", "introducer_ip_status": "Their IP assignment",
    "scan_error": "Scan error", "scope": "Scope", "truck_factor": "Truck factor", "top_authors": "Top authors",
    "vendor_share": "Files known only to one vendor", "contractor_share": "Files known only to contractors",
    "departed_share": "Files known only to departed people", "vendor_top": "That vendor",
    "orphaned_files": "Files orphaned", "scenario": "If these leave", "orphaned": "Files left with no author",
    "truck_factor_before": "Truck factor now", "truck_factor_after": "Truck factor after", "quarter": "Quarter",
    "added_lines": "Lines added", "outsourced_share": "Outsourced share", "check": "Check", "detail": "Detail",
    "commit": "Commit", "date": "Date", "author": "Author", "repository": "Repository",
    "repositories": "Repositories", "repo": "Repository", "ref": "Ref", "error": "Error",
    "readiness_score": "Readiness score", "rating": "Rating", "contributors": "Contributors", "cached": "From cache",
    "seconds": "Seconds", "critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info",
    "rank": "Rank", "files_known": "Files they know", "files_orphaned": "Files only they know",
    "modules_losing_knowledge": "Modules whose truck factor drops (now → after)",
    "truck_factor_drops": "Modules affected", "repository_truck_factor_after": "Repository truck factor if they left",
    "periods": "Period(s) to rewrite", "share_of_repository": "Share of all surviving lines", "modules": "Modules (lines)",
    "current_staff_who_know": "Current staff who know these files",
    "nobody_on_staff_knows": "Source files no current staff member knows",
}
_WORDS = {"ip": "IP", "spdx": "SPDX", "id": "id", "ids": "ids", "sha": "commit", "url": "URL", "pr": "PR",
          "ci": "CI", "sbom": "SBOM", "doa": "degree of authorship", "tf": "truck factor", "purl": "package URL"}


def label(key: str) -> str:
    """A plain-English header for a column: the known one, else words made from the identifier."""
    if key in LABELS:
        return LABELS[key]
    words = [_WORDS.get(w.lower(), w.lower()) for w in str(key).replace("-", "_").split("_") if w]
    text = " ".join(words) or str(key)
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------ the Summary's top findings
LOW_TIER_DETECTORS = ("entropy", "keyword")


def is_low_tier_secret(f: dict) -> bool:
    """Entropy-only or keyword-only secret hits (a guess, not a recognised credential format)."""
    if not str(f.get("rule", "")).startswith("sec.secret"):
        return False
    tier = plain(f.get("tier")) or plain(f.get("confidence"))
    if isinstance(tier, str) and tier.lower() in ("low", "entropy", "weak"):
        return True
    if isinstance(plain(f.get("context")), str) and plain(f.get("context")):
        return True      # downgraded by the context filter (test fixture, documentation example)
    det = str(plain(f.get("detector")) or f.get("subject") or "").lower()
    return any(k in det for k in LOW_TIER_DETECTORS)


def _day(v: Any) -> str | None:
    return format_day(plain(v))


def _period(f: dict) -> str:
    a, b = _day(f.get("first_commit")), _day(f.get("last_commit"))
    if a and b and a != b:
        return f"{a} to {b}"
    return f"on {a}" if a else ""


def _who(name: Any, types: dict[str, str]) -> str:
    name = plain(name)
    if not isinstance(name, str):
        return "an unknown author"
    t = types.get(name)
    return f"{name} ({t})" if t and t != "unknown" else name


def _first_sentence(text: Any) -> str:
    t = str(plain(text) or "").strip()
    for sep in (". ", "; "):
        if sep in t:
            t = t.split(sep, 1)[0]
    t = t.rstrip(".")
    return t[:1].lower() + t[1:] if t[:2] != t[:2].upper() else t


def headline(group: list[dict], types: dict[str, str], title: str, summary: dict | None = None) -> str:
    """One sentence for counsel: the problem, then → the fix. *group* is one finding, or several that are
    one event (a key id and its secret in the same commit; files brought in by one commit). *summary* is the
    rule's {problem, fix} from the catalogue (rules/findings.yaml); the problem is followed by the period."""
    f = group[0]
    rule = str(f["rule"])
    subject = str(plain(f.get("subject")) or "")
    lines = int(plain(f.get("lines_at_stake")) or 0)
    per = _period(f)
    per_s = f" ({per})" if per else ""
    who = _who(subject, types)
    if summary:    # the catalogue's sentence wins over the built-in ones below
        return (str(summary["problem"]).format(who=who, subject=subject, lines=lines) + per_s + " → "
                + str(summary["fix"]).format(who=who, subject=subject, lines=lines))
    if rule.startswith("sec.secret"):
        dets = list(dict.fromkeys(str(plain(g.get("detector")) or str(g.get("subject", "")).split(" in ")[0])
                                  for g in group))
        det = " and ".join(dets)
        n = f" ({len(group)} values)" if len(group) > 1 and len(dets) == 1 else ""
        it = "them" if len(group) > 1 else "it"
        path = plain(f.get("path")) or subject.split(" in ", 1)[-1]
        by = _who(f.get("person"), types)
        when = _day(f.get("first_commit"))
        where = ("still in the code at the ref" if rule == "sec.secret-in-tree"
                 else "removed since, but still in the history")
        fix = (f"revoke and reissue {it}, move {it} to a secret store, then rewrite history before sharing the "
               f"repository" if rule == "sec.secret-in-tree" else
               f"revoke and reissue {it}, then rewrite history before sharing the repository")
        return f"{det}{n} committed in {path}" + (f" on {when}" if when else "") + f" by {by}; {where} → {fix}"
    if rule == "ip.contractor-no-assignment":
        kind = "vendor" if plain(f.get("vendor")) and not plain(f.get("person")) else None
        w = f"{subject} ({kind})" if kind else who
        return (f"{w} has no signed IP assignment for {lines} surviving lines{per_s}; commissioned software is not "
                f"work made for hire → written IP assignment from {subject}" +
                (" under its MSA/SOW, covering its staff" if kind else ""))
    if rule.startswith(("lic.", "dep.")):
        subjects = ", ".join(dict.fromkeys(str(plain(g.get("subject"))) for g in group))
        by = plain(f.get("person"))
        when = _day(f.get("first_commit"))
        src = f" (brought in by {_who(by, types)}" + (f" on {when}" if when else "") + ")" if by else ""
        return f"{title}: {subjects}{src} → {_first_sentence(f.get('remediation'))}"
    if rule == "own.departed-author":
        return (f"{who} has left and still owns {lines} surviving lines → confirm the assignment is on file and "
                f"name who maintains that code")
    stake = f" ({lines} surviving lines)" if lines else ""
    return f"{title}: {subject}{stake} → {_first_sentence(f.get('remediation'))}"


def top_findings(findings: pd.DataFrame, people: pd.DataFrame, catalogue: dict, n: int = 10) -> list[tuple[dict, str]]:
    """The *n* most severe findings as (finding, sentence): distinct sentences, one-event findings paired,
    low-tier secrets (entropy or keyword guesses) left out."""
    if findings is None or findings.empty:
        return []
    types = dict(zip(people["person"].tolist(), people["type"].tolist())) if people is not None and len(people) else {}
    recs = [r for r in records(findings) if not is_low_tier_secret(r)]     # (to_dict's records, column by column)
    groups: dict[Any, list[dict]] = {}
    order: list[Any] = []
    for r in recs:
        rule = str(r["rule"])
        sha = plain(r.get("first_sha"))
        key: Any  # (rule, sha, path), (rule, sha) or the finding's id
        if rule.startswith("sec.secret") and sha:
            key = (rule, sha, plain(r.get("path")))
        elif rule.startswith(("lic.", "dep.")) and sha:
            key = (rule, sha)
        else:
            key = r["id"]
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    out: list[tuple[dict, str]] = []
    seen: set[str] = set()
    for key in order:
        g = groups[key]
        entry = catalogue.get(str(g[0]["rule"])) or {}
        text = headline(g, types, str(entry.get("title", g[0]["rule"])), entry.get("summary"))
        if text in seen:
            continue
        seen.add(text)
        out.append((g[0], text))
        if len(out) >= n:
            break
    return out
