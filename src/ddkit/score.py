"""The readiness score: policy in rules/score.yaml, explained on the Summary sheet."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .config import Rules


def rating(score: float, th: dict) -> str:
    return "green" if score >= th.get("green", 80) else ("amber" if score >= th.get("amber", 50) else "red")


def readiness(findings: pd.DataFrame, rules: Rules, areas_assessed: list[str]) -> dict[str, Any]:
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
    sev = {str(x) for x in findings["severity"]} if len(findings) else set()
    caps = cfg.get("caps", {})
    capped_by = None
    for s in ("critical", "high"):
        if s in sev and s in caps and overall > caps[s]:
            overall, capped_by = float(caps[s]), s
            break
    return {"readiness_score": int(round(overall)), "rating": rating(overall, th), "areas": per_area,
            "capped_by": capped_by}


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
            f"there is a high one. Rating: green from {th.get('green')}, amber from {th.get('amber')}, red below.")
