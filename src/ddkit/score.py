"""The readiness score: policy in rules/score.yaml, explained on the Summary sheet."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .config import Rules


def rating(score: float, th: dict) -> str:
    return "green" if score >= th.get("green", 80) else ("amber" if score >= th.get("amber", 50) else "red")


def readiness(findings: pd.DataFrame, rules: Rules, areas_assessed: list[str], partial: bool = False,
              areas_not_assessed: list[str] | None = None) -> dict[str, Any]:
    """The score over *areas_assessed* only (an area whose stage did not run is not scored as clean: it is
    listed, from *areas_not_assessed*, with score None and rating 'not assessed'). A *partial* score
    (something was not assessed: ``summary.not_assessed``) is never green: at most ``caps.partial``
    (default: one below the green threshold), ``capped_by`` 'partial'."""
    cfg = rules.get("score", {})
    w = cfg.get("weights", {})
    cap_rule = float(cfg.get("per_rule_cap", 100))
    aw = cfg.get("area_weights", {})
    th = cfg.get("rating", {})
    per_area: dict[str, dict[str, Any]] = {}
    for area in areas_assessed:
        f = findings[findings["area"] == area] if len(findings) else findings
        cost = 0.0
        if len(f):
            cost_of = [float(w.get(str(s), 0)) for s in f["severity"]]
            by_rule = pd.Series(cost_of, index=f["rule"].to_numpy()).groupby(level=0).sum()
            cost = float(by_rule.clip(upper=cap_rule).sum())
        score = max(0.0, 100.0 - cost)
        per_area[area] = {"score": round(score), "rating": rating(score, th), "findings": int(len(f))}
    total_w = sum(float(aw.get(a, 0)) for a in per_area)
    overall = sum(per_area[a]["score"] * float(aw.get(a, 0)) for a in per_area) / total_w if total_w else 100.0
    for area in areas_not_assessed or []:
        if area not in per_area:
            per_area[area] = {"score": None, "rating": "not assessed", "findings": 0}
    sev = {str(x) for x in findings["severity"]} if len(findings) else set()
    caps = cfg.get("caps", {})
    capped_by: str | None = None
    for s in ("critical", "high"):
        if s in sev and s in caps and overall > caps[s]:
            overall, capped_by = float(caps[s]), s
            break
    if partial:
        # Never green: the unassessed part could hold anything. Capped on the integer shown, so that the
        # number and the rating agree (79 amber, not 79.6 rounding to a green-looking 80).
        below_green = math.ceil(float(th.get("green", 80))) - 1
        limit = float(min(caps.get("partial", below_green), below_green))   # (an overlay cannot make it green)
        if round(overall) > limit:
            overall, capped_by = limit, capped_by or "partial"
    return {"readiness_score": int(round(overall)), "rating": rating(overall, th), "areas": per_area,
            "capped_by": capped_by}


def not_assessed(company: Any, roster: pd.DataFrame, people: pd.DataFrame, *, licenses: bool,
                 secrets: bool, roster_rows_to_complete: int = 0) -> list[tuple[str, tuple[str, ...]]]:
    """What the inputs and options left unassessed: (what and why, for ``summary.not_assessed``; the areas
    left out of the score entirely). Anything here makes the score partial (never green)."""
    out: list[tuple[str, tuple[str, ...]]] = []
    humans = int((~people["is_bot"].astype(bool)).sum()) if len(people) else 0
    if company is None or company.incorporation_date is None:
        # Nobody can have worked before a date nobody gave: the rule did not run (no company profile, or one
        # without incorporation_date).
        out.append(("pre-incorporation work (no incorporation date)", ()))
    if not len(roster) and humans:
        # Without a roster nothing says who signed what or when anyone left: the assignment rules
        # (ip.missing-assignment, ip.contractor-no-assignment, ip.pre-assignment-work, ip.work-after-end-date)
        # cannot run, and departures are inferred from inactivity.
        out.append(("IP assignments and engagement dates (no roster)", ()))
    elif roster_rows_to_complete:
        # Blank cells are read pessimistically (missing assignment, unknown type, departed when inactive),
        # but they are still unanswered: a roster with blanks is partial as no roster is, so it can never
        # score above (or be green where) the scan without one is capped.
        n = roster_rows_to_complete
        out.append((f"IP assignments and engagement dates of {n} roster row{'s' if n != 1 else ''} with blank cells "
                    "(`ddkit roster check` lists them)", ()))
    if not licenses:
        out.append(("licenses: file licenses, copyright notices and the project's own license (--no-licenses)",
                    ("license",)))
        if company is None or company.outbound_license_source != "company profile":
            # The product's license then comes from no profile and no root license file: dependencies are
            # judged by the proprietary policy, which may be the wrong one (an open-source project).
            out.append(("the product's own license (--no-licenses, none in the company profile): dependency "
                        "licenses judged as for a proprietary product", ()))
    if not secrets:
        out.append(("security: secrets in the history and at the ref, and the security checklist (--no-secrets)",
                    ("security",)))
    return out


def explanation(rules: Rules) -> str:
    cfg = rules.get("score", {})
    w = cfg.get("weights", {})
    aw = cfg.get("area_weights", {})
    th = cfg.get("rating", {})
    caps = cfg.get("caps", {})
    return (f"Each area starts at 100. Every finding costs points by severity (critical {w.get('critical')}, high "
            f"{w.get('high')}, medium {w.get('medium')}, low {w.get('low')}, info {w.get('info')}); one kind of "
            f"finding costs an area at most {cfg.get('per_rule_cap')}. The overall score is the weighted mean of the "
            f"areas assessed (" + ", ".join(f"{a} {int(float(v) * 100)}%" for a, v in aw.items()) + "), "
            f"at most {caps.get('critical')} when there is a critical finding and at most {caps.get('high')} when "
            f"there is a high one. Rating: green from {th.get('green')}, amber from {th.get('amber')}, red below. "
            f"A partial score (something was not assessed: see Not assessed) is never green: at most "
            f"{caps.get('partial', math.ceil(float(th.get('green', 80))) - 1)}.")
