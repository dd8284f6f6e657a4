"""The AI-assisted code ledger: commits an AI tool made or helped with, and the lines of them that survive.

What git metadata shows (README: AI-assisted code): the commit's author is a tool's identity (the Copilot
coding agent, Devin's app), a ``Co-authored-by:`` trailer names one (Claude Code, Cursor, Codex, aider),
aider's "(aider)" suffix on the author's name, an ``Assisted-by:`` trailer naming a tool (the Linux
kernel's form, ``TOOL:MODEL``), a "Generated with [Claude Code]" line; and, without any commit marker,
agent configuration files at the ref. The signals are data (``rules/ai.yaml``); each commit row says which
signal found it. What git cannot show: assistance nobody marked (an editor's completions, a chat answer
pasted in). The ledger is a floor, never a measurement of all AI use.

"As generated, still unchanged" lines are the lines blame still attributes to a marked commit: lines a
person rewrote since are theirs. An AI tool is never a person (resolve/identities.py types it
``ai-assistant`` and treats it as a non-human identity): the human author, co-author or committer of the
marked commit is named as the person responsible.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..config import Rules
from ..globs import any_regex
from ..resolve.ai_tools import AI_TYPE, AiRules
from ..schema import Finding
from ..values import is_missing
from .findings import finding
from .ownership import fmt_files

AI_COMMIT_COLUMNS = ["sha", "date", "tool", "signal", "marks", "person", "author", "surviving_lines", "files",
                     "lines_added", "subject", "responsible_as", "committer"]

@dataclass
class Ledger:
    """The AI ledger of one scan (``Scan.ai``): marked commits and the shares they hold."""

    commits: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AI_COMMIT_COLUMNS))
    config_files: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["path", "tool"]))
    share: float = 0.0                # surviving lines of marked commits / all surviving lines
    surviving_lines: int = 0
    total_lines: int = 0
    recent_share: float | None = None  # lines added by marked commits / all lines added in the recent window
    recent_lines: int = 0
    recent_total: int = 0
    recent_days: int = 90
    by_person: dict[str, int] = field(default_factory=dict)
    by_module: dict[str, int] = field(default_factory=dict)
    by_tool: dict[str, int] = field(default_factory=dict)
    by_signal: dict[str, int] = field(default_factory=dict)   # marked commits per signal

    def pseudonymized(self, fix, frame) -> Ledger:
        """A copy with people's names replaced (report/pseudonym.py gives *fix* for a value, *frame* for a table)."""
        import dataclasses

        def keys(d: dict[str, int]) -> dict[str, int]:
            out: dict[str, int] = {}
            for k, n in d.items():
                out[fix(k)] = out.get(fix(k), 0) + n
            return out
        return dataclasses.replace(self, commits=frame(self.commits), config_files=frame(self.config_files),
                                   by_person=keys(self.by_person))

    def to_json(self) -> dict[str, Any]:
        """The JSON report's ``ai`` section (docs/outputs.md)."""
        rows = []
        for r in self.commits.itertuples(index=False):
            rows.append({"sha": r.sha, "date": r.date.isoformat() if isinstance(r.date, dt.date) else None,
                         "tool": r.tool, "signal": r.signal, "marks": r.marks,
                         "person": None if is_missing(r.person) else r.person, "surviving_lines": int(r.surviving_lines),
                         "lines_added": int(r.lines_added),
                         "responsible_as": None if is_missing(r.responsible_as) else r.responsible_as,
                         "committer": None if is_missing(r.committer) else r.committer})
        return {"commits": rows, "config_files": self.config_files["path"].tolist(),
                "config_tools": dict(zip(self.config_files["path"].tolist(), self.config_files["tool"].tolist())),
                "share": self.share, "surviving_lines": self.surviving_lines, "total_lines": self.total_lines,
                "recent_share": self.recent_share, "recent_days": self.recent_days,
                "recent_lines": self.recent_lines, "recent_total": self.recent_total,
                "by_person": self.by_person, "by_module": self.by_module, "by_tool": self.by_tool,
                "by_signal": self.by_signal}


def _signals(ai: AiRules, commits: pd.DataFrame, messages: pd.DataFrame | None) -> dict[str, list[tuple[str, str, str]]]:
    """sha -> [(tool, signal name, marks)] for every commit with at least one marker."""
    out: dict[str, list[tuple[str, str, str]]] = {}

    def add(sha: str, tool: str, sig: dict) -> None:
        item = (tool, str(sig["name"]), str(sig["marks"]))
        lst = out.setdefault(sha, [])
        if item not in lst:
            lst.append(item)

    by_kind: dict[str, list[dict]] = {}
    for s in ai.signals:
        by_kind.setdefault(str(s["kind"]), []).append(s)
    shas = commits["sha"].tolist()
    names = commits["author_name_raw"].tolist()
    emails = commits["author_email_raw"].tolist()
    cos = commits["coauthors"].tolist() if "coauthors" in commits else [[]] * len(commits)
    name_pats = [(re.compile(str(s.get("pattern", "(?!)")), re.I), s) for s in by_kind.get("author_name", [])]
    for sha, n, e, co in zip(shas, names, emails, cos):
        tool = ai.identity_tool(n, e)
        if tool:
            for s in by_kind.get("author", []):
                add(sha, tool, s)
        for pat, s in name_pats:
            if isinstance(n, str) and pat.search(n):
                add(sha, str(s.get("tool") or "unknown tool"), s)
        for cn, ce in (co if isinstance(co, list) else []):
            t = ai.identity_tool(cn, ce)
            if t:
                for s in by_kind.get("coauthor", []):
                    add(sha, t, s)
    if messages is not None and len(messages):
        msg_pats = [(re.compile(str(s.get("pattern", "(?!)")), re.I), s) for s in by_kind.get("message", [])]
        for sha, assisted, lines in zip(messages["sha"].tolist(), messages["assisted_by"].tolist(),
                                        messages["marker_lines"].tolist()):
            for v in assisted or []:
                t = ai.assisted_tool(v)
                if t:
                    for s in by_kind.get("assisted_by", []):
                        add(sha, t, s)
            for line in lines or []:
                for pat, s in msg_pats:
                    m = pat.search(line)
                    if m:
                        found = (m.groupdict().get("tool") or s.get("tool") or "unknown tool")
                        add(sha, _tool_name(ai, found), s)
    return out


def _tool_name(ai: AiRules, text: str) -> str:
    """A tool named in a message ("claude code"), spelled as rules/ai.yaml spells it when it is one of them."""
    t = text.strip()
    for tool in ai.tools:
        if t.lower() == tool.tool.lower() or any(p.search(t) for p in tool.assisted_by):
            return tool.tool
    return t


def _responsible(ai: AiRules, row: dict, identities: dict[tuple[str, str], tuple[str, str]],
                 people_type: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """The human responsible for a marked commit, as what, and their person id: its author when a person;
    else its first human co-author; else its committer when a person (a commit whose only author is an AI
    tool identity: whoever committed it put the code there, e.g. a person committing under the tool's
    address); else (None, None, None): nobody."""
    if row["person_id"] is not None and people_type.get(row["person_id"]) not in (AI_TYPE, "bot"):
        return row["person"], "author", row["person_id"]
    for cn, ce in row["coauthors"]:
        pid_person = identities.get((cn, ce))
        if pid_person is None or ai.identity_tool(cn, ce):
            continue
        pid, person = pid_person
        if people_type.get(pid) not in (AI_TYPE, "bot"):
            return person, "co-author", pid
    cn, ce = row["committer_name_raw"], row["committer_email_raw"]
    if isinstance(cn, str) and cn and not ai.identity_tool(cn, ce):
        key = identities.get((cn, ce))
        if key is not None:
            pid, person = key
            if people_type.get(pid) not in (AI_TYPE, "bot"):
                return person, "committer", pid
        elif not re.search(r"(\[bot\]|^github$|noreply@github\.com)", f"{cn} {ce}", re.I):
            return cn, "committer", None
    return None, None, None


def ledger(rules: Rules, commits: pd.DataFrame, messages: pd.DataFrame | None, blame: pd.DataFrame,
           files: pd.DataFrame, changes: pd.DataFrame, identities: pd.DataFrame, people: pd.DataFrame,
           as_of: dt.date, vendored_or_generated=None) -> Ledger:
    """The ledger: every marked commit with its tool, signal, person and surviving lines; the shares."""
    ai = AiRules.from_rules(rules)
    out = Ledger(recent_days=ai.recent_days)
    # Agent configuration files at the ref (any category: a CLAUDE.md is documentation, not source).
    if len(files) and ai.config_files:
        paths = files["path"].tolist()
        hits = []
        for p in paths:
            for glob, tool in ai.config_files:
                if any_regex((glob,)).match(p):
                    hits.append((p, tool))
                    break
        out.config_files = pd.DataFrame(hits, columns=["path", "tool"])
    total = int(blame["lines"].sum()) if len(blame) else 0
    out.total_lines = total
    if commits.empty:
        return out
    marks = _signals(ai, commits, messages)
    # Surviving lines per commit and per (commit, path) from the blame table.
    per_sha: dict[str, list[tuple[str, int]]] = {}
    if len(blame):
        for path, sha, n in zip(blame["path"].tolist(), blame["sha"].tolist(), blame["lines"].tolist()):
            if sha in marks:
                per_sha.setdefault(sha, []).append((path, int(n)))
    module_of = dict(zip(files["path"].tolist(), files["module"].tolist())) if len(files) else {}
    ident = {(n, e): (p, q) for n, e, p, q in zip(identities["name_raw"].tolist(), identities["email_raw"].tolist(),
                                                       identities["person_id"].tolist(), identities["person"].tolist())
             if not is_missing(p)} if len(identities) else {}
    ptype = dict(zip(people["person_id"].tolist(), people["type"].tolist())) if len(people) else {}
    sel = commits[commits["sha"].isin(list(marks))]
    rows = []
    by_person: dict[str, int] = {}
    by_module: dict[str, int] = {}
    by_tool: dict[str, int] = {}
    by_signal: dict[str, int] = {}
    for r in sel.to_dict(orient="records"):
        r["person_id"] = None if is_missing(r.get("person_id")) else r["person_id"]
        r["coauthors"] = r.get("coauthors") if isinstance(r.get("coauthors"), list) else []
        sigs = marks[r["sha"]]
        tools = list(dict.fromkeys(t for t, _, _ in sigs))
        signals = list(dict.fromkeys(s for _, s, _ in sigs))
        kind = "authorship" if any(m == "authorship" for _, _, m in sigs) else "assistance"
        held = sorted(per_sha.get(r["sha"], []), key=lambda kv: (-kv[1], kv[0]))
        lines = sum(n for _, n in held)
        person, role, _ = _responsible(ai, r, ident, ptype)
        day = r.get("author_day")
        cn, ce = r.get("committer_name_raw"), r.get("committer_email_raw")
        rows.append(dict(sha=r["sha"], date=day if isinstance(day, dt.date) else None, tool=", ".join(tools),
                         signal=", ".join(signals), marks=kind, person=person,
                         author=None if is_missing(r.get("person")) else r.get("person"),
                         surviving_lines=lines, files=fmt_files(held[:5]) if held else "",
                         lines_added=int(r.get("added") or 0), subject="", responsible_as=role,
                         committer=f"{cn} <{ce}>" if isinstance(cn, str) else None))
        by_person[person or "(no person named)"] = by_person.get(person or "(no person named)", 0) + lines
        for path, n in held:
            mod = module_of.get(path, "(root)")
            by_module[mod] = by_module.get(mod, 0) + n
        # A commit marked by two tools: its lines are counted once, under its first tool.
        by_tool[tools[0]] = by_tool.get(tools[0], 0) + lines
        for s in signals:
            by_signal[s] = by_signal.get(s, 0) + 1
    df = pd.DataFrame(rows, columns=AI_COMMIT_COLUMNS)
    if messages is not None and len(messages) and len(df):
        subj = dict(zip(messages["sha"].tolist(), messages["subject"].tolist()))
        df["subject"] = df["sha"].map(subj).fillna("")
    df = df.sort_values(["surviving_lines", "date", "sha"], ascending=[False, False, True], kind="stable")
    out.commits = df.reset_index(drop=True)
    out.surviving_lines = int(df["surviving_lines"].sum()) if len(df) else 0
    out.share = round(out.surviving_lines / total, 4) if total else 0.0
    out.by_person = dict(sorted(by_person.items(), key=lambda kv: (-kv[1], kv[0])))
    out.by_module = dict(sorted(by_module.items(), key=lambda kv: (-kv[1], kv[0])))
    out.by_tool = dict(sorted(by_tool.items(), key=lambda kv: (-kv[1], kv[0])))
    out.by_signal = dict(sorted(by_signal.items(), key=lambda kv: (-kv[1], kv[0])))
    _recent(out, commits, changes, set(marks), as_of, vendored_or_generated)
    return out


def _recent(out: Ledger, commits: pd.DataFrame, changes: pd.DataFrame, marked: set[str], as_of: dt.date,
            excluded) -> None:
    """The share of the lines added in the last ``recent_days`` days (up to as_of) that marked commits added."""
    if changes.empty or "author_day" not in commits:
        return
    start = as_of - dt.timedelta(days=out.recent_days)
    recent = {sha for sha, d in zip(commits["sha"].tolist(), commits["author_day"].tolist())
              if isinstance(d, dt.date) and start < d <= as_of}
    if not recent:
        return
    total = marked_n = 0
    for sha, path, added, binary in zip(changes["sha"].tolist(), changes["path"].tolist(), changes["added"].tolist(),
                                        changes["binary"].tolist()):
        if sha not in recent or binary or (excluded is not None and excluded(path)):
            continue
        total += int(added)
        if sha in marked:
            marked_n += int(added)
    out.recent_total, out.recent_lines = total, marked_n
    out.recent_share = round(marked_n / total, 4) if total else None


def band(ai: AiRules, share: float) -> str | None:
    """The severity of the highest band the share reaches (None: a zero share or no band)."""
    if not share or share <= 0:
        return None
    sev = None
    for lo, s in ai.bands:
        if share >= lo:
            sev = s
    return sev


def ai_findings(rules: Rules, led: Ledger, people: pd.DataFrame | None = None, roster_given: bool = False) -> list[Finding]:
    """``ai.code-share`` and ``ai.recent-share`` (severity from the policy bands), ``ai.agent-config``;
    with *people*, ``ip.ai-authored-code``."""
    ai = AiRules.from_rules(rules)
    out: list[Finding] = unowned_findings(rules, led, people, roster_given) if people is not None else []
    tools = ", ".join(f"{t} {n} lines" for t, n in led.by_tool.items()) or "none still surviving"
    people = ", ".join(f"{p} {n}" for p, n in list(led.by_person.items())[:5])
    sev = band(ai, led.share)
    if sev is not None:
        rec = finding(rules, "ai.code-share", "(repository)",
                      f"{_n(len(led.commits), 'commit')} carrying an AI marker; {led.surviving_lines} of {led.total_lines} "
                      f"surviving lines ({led.share:.2%}) are still as those commits left them. By tool: {tools}. "
                      f"Person responsible: {people}. Signals: "
                      + ", ".join(f"{s} ({_n(n, 'commit')})" for s, n in led.by_signal.items()) + ".",
                      rules.rule("ai.code-share")["remediation"], lines_at_stake=led.surviving_lines)
        rec["severity"] = _override(rules, "ai.code-share", sev)
        if len(led.commits):
            dates = [d for d in led.commits["date"].tolist() if isinstance(d, dt.date)]
            rec["commits"] = int(len(led.commits))
            rec["first_commit"], rec["last_commit"] = (min(dates), max(dates)) if dates else (None, None)
        out.append(rec)
    elif len(led.commits):   # marked commits, but none of their lines survive: said, at no cost
        rec = finding(rules, "ai.code-share", "(repository)",
                      f"{_n(len(led.commits), 'commit')} carrying an AI marker; none of their lines survive at the ref.",
                      rules.rule("ai.code-share")["remediation"], lines_at_stake=0)
        rec["severity"] = "info"
        out.append(rec)
    rsev = band(ai, led.recent_share or 0.0)
    if rsev is not None:
        rec = finding(rules, "ai.recent-share", "(repository)",
                      f"In the {led.recent_days} days before as_of, marked commits added {led.recent_lines} of "
                      f"{led.recent_total} added lines ({(led.recent_share or 0):.2%}).",
                      rules.rule("ai.recent-share")["remediation"], lines_at_stake=led.recent_lines)
        rec["severity"] = _override(rules, "ai.recent-share", rsev)
        out.append(rec)
    if len(led.config_files):
        paths = led.config_files["path"].tolist()
        tools_c = sorted({t for t in led.config_files["tool"].tolist() if t})
        out.append(finding(rules, "ai.agent-config", "(repository)",
                           f"{len(paths)} AI agent configuration file{'s' if len(paths) != 1 else ''} at the ref ("
                           + ", ".join(paths[:10]) + (" …" if len(paths) > 10 else "") + "): the code was worked on "
                           f"with {', '.join(tools_c) or 'an AI agent'}, whether or not any commit says so.",
                           rules.rule("ai.agent-config")["remediation"], path=paths[0] if len(paths) == 1 else None))
    return out


def unowned_findings(rules: Rules, led: Ledger, people: pd.DataFrame, roster_given: bool) -> list[Finding]:
    """``ip.ai-authored-code``: the surviving lines of commits whose only author is an AI tool identity (no
    human author or co-author) are owned by no person. Whoever committed them put them there (a person may
    well commit under a tool's address: git records what it is told) and is named as responsible; their IP
    status decides the severity as for any contributor: medium when no person is named at all (the committer
    is a tool or bot too: a chain-of-title gap like an unknown contributor's), when the committer is not on
    the roster or has no assignment signed; low when their assignment is signed or there is no roster
    (then said as not known). One finding per person responsible (or one for nobody)."""
    c = led.commits
    if c is None or c.empty or "responsible_as" not in c:
        return []
    sel = c[(c["marks"] == "authorship") & c["responsible_as"].map(lambda v: is_missing(v) or v == "committer")]
    sel = sel[sel["surviving_lines"] > 0]
    if sel.empty:
        return []
    by_name = people.drop_duplicates("person").set_index("person") if len(people) else None
    out: list[Finding] = []
    groups: dict[str | None, list[dict]] = {}
    for r in sel.to_dict(orient="records"):
        groups.setdefault(None if is_missing(r["person"]) else r["person"], []).append(r)
    for person, rows in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        lines = sum(int(r["surviving_lines"]) for r in rows)
        tools = ", ".join(dict.fromkeys(str(r["tool"]) for r in rows))
        committers = ", ".join(dict.fromkeys(str(r["committer"]) for r in rows if not is_missing(r["committer"])))
        shas = ", ".join(str(r["sha"])[:12] for r in rows[:5]) + (" …" if len(rows) > 5 else "")
        dates = [r["date"] for r in rows if isinstance(r["date"], dt.date)]
        head = (f"{_n(len(rows), 'commit')} ({shas}) name an AI tool ({tools}) as their only author, with no human "
                f"co-author: their {lines} surviving lines are owned by no person. ")
        if person is None:
            severity = "medium"
            evidence = head + (f"They were committed by {committers or 'an unknown identity'}, a tool or bot identity "
                               "too: no person is on record as responsible for them.")
            subject = "(no person named)"
        else:
            p = by_name.loc[person] if by_name is not None and person in by_name.index else None
            if p is not None and bool(p.get("in_roster", False)):
                sig = p.get("ip_assignment")
                status = "assignment signed" if sig in ("signed", "not_required") else f"assignment {sig or 'missing'}"
                severity = "low" if sig in ("signed", "not_required") else "medium"
            elif roster_given:
                status, severity = "not on the roster", "medium"
            else:
                status, severity = "IP assignment not known (no roster)", "low"
            evidence = head + (f"They were committed by {committers}: {person} is the person responsible for them "
                               f"({status}).")
            subject = person
        rec = finding(rules, "ip.ai-authored-code", subject, evidence, rules.rule("ip.ai-authored-code")["remediation"],
                      lines_at_stake=lines, person=person, commits=len(rows),
                      first_commit=min(dates) if dates else None, last_commit=max(dates) if dates else None,
                      first_sha=str(rows[0]["sha"]), last_sha=str(rows[-1]["sha"]))
        rec["severity"] = _override(rules, "ip.ai-authored-code", severity)
        out.append(rec)
    return out


def _n(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def _override(rules: Rules, rule: str, band_severity: str) -> str:
    """A `severities:` override of the rule wins over the band (the user's policy); else the band."""
    over = rules.get("findings", {}).get("severities", {})
    return str(over[rule]) if rule in over else band_severity
