"""The AI markers of rules/ai.yaml: which trailers, identities and lines name a tool, and which never do.

The expected answers are written out by hand from the forms the tools are documented to write (and from
real histories: psf/requests, pypa/pip, git/git), not computed with ddkit's code.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ddkit.analyze.ai import AiRules, _signals, band
from ddkit.config import load_rules


@pytest.fixture(scope="module")
def ai() -> AiRules:
    return AiRules.from_rules(load_rules())


@pytest.mark.parametrize("value, tool", [
    ("Codex", "Codex"),                                  # pypa/pip
    ("Codex:gpt-5.5", "Codex"),
    ("Claude (Anthropic AI)", "Claude"),
    ("OpenCode:Kimi-K2.5", "OpenCode"),
    ("Claude Opus 4.6", "Claude"),                       # git/git
    ("Opus 4.7", "Claude"),
    ("Claude Sonnet 4.6 <noreply@anthropic.com>", "Claude"),
    ("claude-code:claude-opus-4-1", "Claude"),            # the kernel's TOOL:MODEL form
    ("SomeNewAgent:model-x1", "SomeNewAgent"),            # an unknown tool in TOOL:MODEL form is still a tool
    ("GitHub Copilot", "GitHub Copilot"),
    ("Cursor Agent", "Cursor"),
])
def test_assisted_by_names_a_tool(ai, value, tool):
    assert ai.assisted_tool(value) == tool


@pytest.mark.parametrize("value", [
    "Junio C Hamano <gitster@pobox.com>",       # git/git: a person
    "Waldek Maleska <weakcamel@users.github.com>",
    "Devin",                                    # a first name is never a tool
    "Devin Doucette <devin@doucette.cc>",
    "Claude",
    "Claude Martin <claude@example.fr>",
    "Cursor",
    "https://example.com/some:thing",
    "",
])
def test_assisted_by_never_takes_a_person_for_a_tool(ai, value):
    assert ai.assisted_tool(value) is None


@pytest.mark.parametrize("name, email, tool", [
    ("Claude", "noreply@anthropic.com", "Claude"),
    ("Claude Opus 4.6", "noreply@anthropic.com", "Claude"),
    ("Cursor Agent", "cursoragent@cursor.com", "Cursor"),
    ("Codex", "noreply@openai.com", "Codex"),
    ("Devin AI", "158243242+devin-ai-integration[bot]@users.noreply.github.com", "Devin"),
    ("aider (anthropic/claude-3-5-sonnet)", "noreply@aider.chat", "aider"),
    ("Copilot", "198982749+Copilot@users.noreply.github.com", "GitHub Copilot"),
    ("copilot-swe-agent[bot]", "198982749+copilot-swe-agent[bot]@users.noreply.github.com", "GitHub Copilot"),
    ("Devin J. Pohly", "djpohly@gmail.com", None),
    ("Abbaad Haider", "abbaad@gmail.com", None),        # "aider" inside a name is nobody's tool
    ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", None),
])
def test_identities(ai, name, email, tool):
    assert ai.identity_tool(name, email) == tool


def _commits(rows):
    return pd.DataFrame(rows, columns=["sha", "author_name_raw", "author_email_raw", "coauthors"])


def test_every_kind_of_signal_and_its_marks(ai):
    commits = _commits([
        ("a" * 40, "Jane Doe", "jane@acme.example", [("Claude", "noreply@anthropic.com")]),
        ("b" * 40, "Jane Doe (aider)", "jane@acme.example", []),
        ("c" * 40, "Copilot", "198982749+Copilot@users.noreply.github.com", [("Jane Doe", "jane@acme.example")]),
        ("d" * 40, "Jane Doe", "jane@acme.example", []),
        ("e" * 40, "Jane Doe", "jane@acme.example", []),
        ("f" * 40, "Devin Smith", "devin@acme.example", [("Devin Jones", "dj@acme.example")]),
    ])
    messages = pd.DataFrame([
        ("d" * 40, "s", ["Codex:gpt-5"], []),
        ("e" * 40, "s", [], ["🤖 Generated with [Claude Code](https://claude.com/claude-code)"]),
        ("f" * 40, "s", ["Devin Jones <dj@acme.example>"], []),
    ], columns=["sha", "subject", "assisted_by", "marker_lines"])
    got = _signals(ai, commits, messages)
    assert got == {
        "a" * 40: [("Claude", "AI co-author trailer", "authorship")],
        "b" * 40: [("aider", "aider author-name suffix", "authorship")],
        "c" * 40: [("GitHub Copilot", "AI commit author", "authorship")],
        "d" * 40: [("Codex", "Assisted-by trailer", "assistance")],
        "e" * 40: [("Claude", "Generated-with line", "authorship")],
    }


def test_bands():
    ai = AiRules.from_rules(load_rules())
    assert band(ai, 0.0) is None
    assert band(ai, 0.01) == "low"
    assert band(ai, 0.19) == "low"
    assert band(ai, 0.2) == "medium"
    assert band(ai, 0.5) == "high"
