"""The AI tools' identities (rules/ai.yaml ``ai``): which names, addresses and ``Assisted-by:`` values are
an AI tool's, not a person's.

Identity resolution (resolve/identities.py) types such an identity ``ai-assistant`` (an AI tool is never a
person) and the AI-assisted code ledger (analyze/ai.py) uses the same rules to find marked commits; they live
here, at the lower of the two layers, so that resolution does not import an analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..config import Rules

AI_TYPE = "ai-assistant"
# TOOL:MODEL (the kernel's Assisted-by form): a tool's name, a colon and a model id without spaces. A
# person's name with an address ("Jane Doe <jane@example.com>") has no such colon; a URL is refused below.
_TOOL_MODEL = re.compile(r"^(?P<tool>[A-Za-z][\w.+-]*(?: [A-Za-z][\w.+-]*)?)\s*:\s*(?P<model>[\w.+/@-]+)(?:\s|$)")
_ADDRESS = re.compile(r"<(?P<email>[^<>]*)>")


@dataclass
class Tool:
    tool: str
    emails: list[re.Pattern[str]]
    names: list[re.Pattern[str]]
    assisted_by: list[re.Pattern[str]]


@dataclass
class AiRules:
    tools: list[Tool]
    signals: list[dict[str, Any]]
    config_files: list[tuple[str, str]]
    bands: list[tuple[float, str]]
    recent_days: int
    # identity_tool's answers, by (name, email): the ledger asks once per commit and co-author (pip: 18,618
    # questions about some 1,000 identities), and the answer depends only on the pair and the rules.
    _known: dict[tuple[str | None, str | None], str | None] = field(default_factory=dict, repr=False,
                                                                     compare=False)

    @classmethod
    def from_rules(cls, rules: Rules) -> AiRules:
        r = rules.get("ai", {}) or {}

        def comp(pats: Any) -> list[re.Pattern[str]]:   # (the policy file's list, or None)
            return [re.compile(p, re.I) for p in pats or []]
        tools = [Tool(str(t["tool"]), comp(t.get("emails")), comp(t.get("names")), comp(t.get("assisted_by")))
                 for t in r.get("tools", []) or []]
        bands = sorted((float(b["min_share"]), str(b["severity"])) for b in r.get("share_bands", []) or [])
        return cls(tools, list(r.get("signals", []) or []),
                   [(str(c["glob"]), str(c.get("tool") or "")) for c in r.get("config_files", []) or []],
                   bands, int(r.get("recent_days", 90)))

    def identity_tool(self, name: str | None, email: str | None) -> str | None:
        """The tool whose known identity this is, or None (a person, or a bot that is no AI tool)."""
        key = (name, email)
        if key in self._known:
            return self._known[key]
        n, e = (name or "").strip(), (email or "").strip().strip("<>").lower()
        tool = next((t.tool for t in self.tools
                     if (e and any(p.search(e) for p in t.emails)) or (n and any(p.search(n) for p in t.names))),
                    None)
        self._known[key] = tool
        return tool

    def assisted_tool(self, value: str) -> str | None:
        """The tool an ``Assisted-by:`` value names, or None when it names a person (or nothing known).

        A value with an address is a tool only when the address is a tool's; otherwise a tool is named by
        one of its patterns (``Claude Opus 4.6``, ``Codex``) or in TOOL:MODEL form. A first name alone
        ("Devin", "Claude") is never enough.
        """
        v = (value or "").strip()
        if not v:
            return None
        m = _ADDRESS.search(v)
        if m:
            return self.identity_tool(v[:m.start()], m["email"])
        if "://" in v:
            return None
        for t in self.tools:
            if any(p.search(v) for p in t.assisted_by):
                return t.tool
        tm = _TOOL_MODEL.match(v)
        if tm:
            raw = tm["tool"].strip()
            for t in self.tools:      # "claude-code:claude-opus-4" names a known tool by another spelling
                if any(p.search(raw) for p in t.assisted_by) or raw.lower() == t.tool.lower():
                    return t.tool
            return raw
        return None
