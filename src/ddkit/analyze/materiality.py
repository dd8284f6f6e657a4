"""Materiality: de-minimis subjects roll up into one finding per rule.

Diligence reports what could change the price or the deal; a one-line patch from a passer-by is *de
minimis* and is summarised, not listed one by one (GLOSSARY). A finding about a person is de minimis
when their surviving lines are fewer than ``materiality.min_lines`` or less than ``materiality.min_share``
of the repository's surviving lines (rules/findings.yaml), none at all always: on the roster or not (a
roster left as ``roster init`` wrote it must not turn hundreds of zero-line people into high findings).

Nothing disappears: the roll-up names every subject (``subjects``), carries their total lines at
stake, and People still lists everyone. Lines are conserved per rule: individual plus rolled-up lines at
stake equal the lines of all the people the rule concerns.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..config import Rules
from ..schema import Finding
from ..severity import SEVERITIES
from .findings import finding


def _settings(rules: Rules) -> dict[str, Any]:
    m = rules.get("findings", {}).get("materiality", {})
    return {"min_lines": int(m.get("min_lines", 0)), "min_share": float(m.get("min_share", 0.0)),
            "rules": list(m.get("rules", [])), "rollup_severity": str(m.get("rollup_severity", "low"))}


def _split(records: list[Finding], small) -> tuple[list[Finding], dict[str, list[Finding]]]:
    """(the records kept as they are, the de-minimis ones grouped by rule) for a predicate *small*."""
    keep: list[Finding] = []
    groups: dict[str, list[Finding]] = {}
    for rec in records:
        (groups.setdefault(rec["rule"], []) if small(rec) else keep).append(rec)
    return keep, groups


def is_de_minimis(lines: int, total_lines: int, min_lines: int, min_share: float) -> bool:
    share = lines / total_lines if total_lines else 0.0
    return lines <= 0 or lines < min_lines or share < min_share


def roll_up(rules: Rules, records: list[Finding], people: pd.DataFrame, total_lines: int) -> list[Finding]:
    """Replace the de-minimis person findings of each rule in ``materiality.rules`` by one roll-up.

    Materiality is by lines at stake, for everyone: a person on the roster with no surviving line is no more
    a finding of its own than a passer-by is (an unfilled roster must not weigh more, or less, than none)."""
    cfg = _settings(rules)
    if not cfg["rules"]:
        return records

    def small(rec: dict) -> bool:
        lines = int(rec.get("lines_at_stake") or 0)
        # A suggested roster match holding lines stays individual: its lines may well be a known person's.
        # A person's finding, or a vendor's (ip.contractor-no-assignment for its staff together).
        about = isinstance(rec.get("person"), str) or isinstance(rec.get("vendor"), str)
        return (rec["rule"] in cfg["rules"] and about
                and not (lines > 0 and isinstance(rec.get("possible_roster_match"), str))
                and is_de_minimis(lines, total_lines, cfg["min_lines"], cfg["min_share"]))

    keep, groups = _split(records, small)
    for rule, g in groups.items():
        if len(g) == 1 and int(g[0].get("lines_at_stake") or 0) > 0:
            keep.append(g[0])      # one small subject is clearer shown as itself
            continue
        keep.append(_rollup(rules, rule, g, total_lines, cfg))
    return keep


# Module-level rules: a module holding a de-minimis share of the code is rolled up the same way.
_MODULE_NOUN = {
    "own.orphaned-module": "small modules mostly written by people who left",
    "kn.low-truck-factor": "small modules with a low truck factor",
    "kn.departed-concentration": "small modules known only to people who left",
    "kn.vendor-concentration": "small modules known only to a vendor or contractors",
}


def roll_up_modules(rules: Rules, records: list[Finding], module_lines: dict[str, int], total_lines: int) -> list[Finding]:
    """Replace the findings about de-minimis modules (less than min_share of the surviving lines) of each
    module rule by one roll-up that names every module. The repository itself is never rolled up."""
    cfg = _settings(rules)
    module_rules = set(rules.get("findings", {}).get("materiality", {}).get("module_rules", []))
    keep, groups = _split(records, lambda rec: rec["rule"] in module_rules and str(rec.get("subject")) in module_lines
                          and is_de_minimis(int(module_lines[str(rec.get("subject"))]), total_lines,
                                            cfg["min_lines"], cfg["min_share"]))
    for rule, g in groups.items():
        if len(g) == 1:
            keep.append(g[0])
            continue
        names = sorted(str(r["subject"]) for r in g)
        lines = sum(int(module_lines.get(m, 0)) for m in names)
        share = lines / total_lines if total_lines else 0.0
        rec = finding(rules, rule, f"{len(g)} {_MODULE_NOUN.get(rule, 'small modules')}",
                      f"{len(g)} modules, each under {cfg['min_share']:.1%} of the code ({lines:,} surviving lines in "
                      f"all, {share:.1%}): " + "; ".join(f"{m} ({int(module_lines.get(m, 0)):,})" for m in names)
                      + ". Each module's own finding text: " + " | ".join(str(r["evidence"]) for r in g[:5])
                      + (" …" if len(g) > 5 else ""),
                      "For each module, name an owner among current staff and plan knowledge transfer; small "
                      "modules can be reviewed together.", lines_at_stake=sum(int(r.get("lines_at_stake") or 0) for r in g),
                      id_extra="de-minimis-modules", subjects=names, rolled_up=True)
        rec["severity"] = cfg["rollup_severity"]
        keep.append(rec)
    return keep


# Subject-level rules (a copyright holder, a file): what the roll-up calls its subjects and where they are.
_SUBJECT_NOUN = {
    "lic.third-party-copyright": ("other third-party copyright holders", "are named in files holding"),
    "lic.unknown-license": ("other files with an unknown license", "hold"),
}


def roll_up_subjects(rules: Rules, records: list[Finding], total_lines: int) -> list[Finding]:
    """Replace the de-minimis findings of each rule in ``materiality.subject_rules`` (a holder whose files,
    or a file whose lines, are under the threshold) by one roll-up naming every subject."""
    cfg = _settings(rules)
    subject_rules = set(rules.get("findings", {}).get("materiality", {}).get("subject_rules", []))
    keep, groups = _split(records, lambda rec: rec["rule"] in subject_rules and not rec.get("rolled_up") and is_de_minimis(
        int(rec.get("lines_at_stake") or 0), total_lines, cfg["min_lines"], cfg["min_share"]))
    for rule, g in groups.items():
        if len(g) == 1:
            keep.append(g[0])
            continue
        g = sorted(g, key=lambda r: (-int(r.get("lines_at_stake") or 0), str(r["subject"])))
        noun, verb = _SUBJECT_NOUN.get(rule, ("other subjects", "hold"))
        lines = sum(int(r.get("lines_at_stake") or 0) for r in g)
        share = lines / total_lines if total_lines else 0.0
        files = sorted({f for r in g for f in (r.get("files") or ([str(r["path"])] if r.get("path") else []))})
        shown = ", ".join(f"{r['subject']} ({int(r.get('lines_at_stake') or 0):,})" for r in g[:10])
        rec = finding(rules, rule, f"{len(g)} {noun}",
                      f"{len(g)} {noun} {verb} {lines:,} lines ({share:.1%} of the surviving lines); each is below the "
                      f"materiality threshold ({cfg['min_share']:.1%} of the code, at least {cfg['min_lines']} lines). "
                      f"Largest: {shown}{' …' if len(g) > 10 else ''}. Every one is listed in this finding's subjects "
                      f"and on the Licenses sheet.",
                      "De minimis: review them together; record the decision (triage), or keep the notices and list "
                      "them in the third-party notices.", lines_at_stake=lines, id_extra="de-minimis",
                      files=files, subjects=[str(r["subject"]) for r in g], rolled_up=True)
        # The roll-up's severity, but never above its most severe member (third-party notices are info
        # under a permissive or copyleft product policy).
        worst = min(SEVERITIES.index(str(r["severity"])) for r in g)
        rec["severity"] = SEVERITIES[max(worst, SEVERITIES.index(cfg["rollup_severity"]))]
        keep.append(rec)
    return keep


def _rollup(rules: Rules, rule: str, g: list[Finding], total_lines: int, cfg: dict[str, Any]) -> Finding:
    g = sorted(g, key=lambda r: (-int(r.get("lines_at_stake") or 0), str(r["subject"])))
    lines = sum(int(r.get("lines_at_stake") or 0) for r in g)
    commits = sum(int(r.get("commits") or 0) for r in g)
    firsts = [r["first_commit"] for r in g if r.get("first_commit") is not None and not pd.isna(r["first_commit"])]
    lasts = [r["last_commit"] for r in g if r.get("last_commit") is not None and not pd.isna(r["last_commit"])]
    share = lines / total_lines if total_lines else 0.0
    noun = str(rules.catalogue.get(rule, {}).get("rollup_noun", "subjects"))   # rules/findings.yaml
    names = [str(r["subject"]) for r in g]
    shown = ", ".join(f"{r['subject']} ({int(r.get('lines_at_stake') or 0)})" for r in g[:10])
    evidence = (f"{len(g)} {noun} own {share:.1%} of the surviving lines ({lines:,} lines, {commits:,} commits"
                + (f", {min(firsts)} to {max(lasts)}" if firsts and lasts else "") + "); each is below the "
                f"materiality threshold ({cfg['min_share']:.1%} of the code, at least {cfg['min_lines']} lines). "
                f"Largest: {shown}{' …' if len(g) > 10 else ''}. Every one is listed on the People sheet and in "
                f"this finding's subjects.")
    remediation = ("De minimis: no document per person is needed unless counsel decides otherwise; record the "
                   "decision (triage), or remove and rewrite these lines if the buyer requires it.")
    rec = finding(rules, rule, f"{len(g)} other {noun}", evidence, remediation, lines_at_stake=lines,
                  id_extra="de-minimis", commits=commits, first_commit=min(firsts) if firsts else None,
                  last_commit=max(lasts) if lasts else None, subjects=names, rolled_up=True)
    rec["severity"] = cfg["rollup_severity"]
    return rec
