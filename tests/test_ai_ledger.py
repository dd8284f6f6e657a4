"""The AI-assisted code ledger end to end: marked commits of every kind in a small repository, their
surviving lines (counted here from what each commit wrote and what later commits replaced, not by ddkit's
blame), the person responsible, and AI tools never treated as people."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd

import ddkit

ROOT = Path(__file__).resolve().parents[1]

CO_CLAUDE = "\n\nCo-authored-by: Claude <noreply@anthropic.com>\n"


def _lines(n: int, tag: str) -> str:
    return "".join(f"{tag} line {i}\n" for i in range(n))


def _repo(make_repo):
    r = make_repo()
    jane = dict(name="Jane Doe", email="jane@acme.example")
    r.commit({"src/base.py": _lines(40, "base")}, date="2024-01-02T10:00:00+00:00", **jane)
    # 1. a Claude co-author trailer: 10 lines, 4 of them rewritten later by Jane -> 6 survive
    a = r.commit({"src/a.py": _lines(10, "claude")}, date="2024-02-01T10:00:00+00:00",
                 msg="add a" + CO_CLAUDE, **jane)
    # 2. aider's author-name suffix: 8 lines, all survive
    b = r.commit({"src/b.py": _lines(8, "aider")}, date="2024-03-01T10:00:00+00:00",
                 name="Jane Doe (aider)", email="jane@acme.example")
    # 3. the Copilot coding agent as author, Jane as co-author: 5 lines
    c = r.commit({"lib/c.py": _lines(5, "copilot")}, date="2024-04-10T10:00:00+00:00",
                 name="Copilot", email="198982749+Copilot@users.noreply.github.com",
                 msg="agent work\n\nCo-authored-by: Jane Doe <jane@acme.example>\n")
    # 4. Assisted-by in TOOL:MODEL form: 3 lines
    d = r.commit({"lib/d.py": _lines(3, "codex")}, date="2024-05-01T10:00:00+00:00",
                 msg="d\n\nAssisted-by: Codex:gpt-5\n", **jane)
    # 5. traps: an Assisted-by naming a person; a human called Devin; a body that mentions the trailer
    r.commit({"lib/e.py": _lines(7, "human")}, date="2024-05-02T10:00:00+00:00",
             msg="e\n\nWe use an Assisted-by trailer for AI tools.\n\nAssisted-by: Devin Smith <devin@acme.example>\n",
             name="Devin Smith", email="devin@acme.example")
    # Jane rewrites 4 of Claude's lines
    r.commit({"src/a.py": _lines(6, "claude") + _lines(4, "jane")}, date="2024-06-01T10:00:00+00:00", **jane)
    r.commit({"CLAUDE.md": "# notes for the agent\n"}, date="2024-06-02T10:00:00+00:00", **jane)
    return r, dict(a=a, b=b, c=c, d=d)


def test_ledger_end_to_end(make_repo, tmp_path):
    r, sha = _repo(make_repo)
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-06-30")
    led = s.ai
    got = {row.sha: (row.tool, row.signal, row.marks, row.person, row.surviving_lines)
           for row in led.commits.itertuples()}
    assert got == {
        sha["a"]: ("Claude", "AI co-author trailer", "authorship", "Jane Doe", 6),
        sha["b"]: ("aider", "aider author-name suffix", "authorship", "Jane Doe", 8),
        sha["c"]: ("GitHub Copilot", "AI commit author", "authorship", "Jane Doe", 5),
        sha["d"]: ("Codex", "Assisted-by trailer", "assistance", "Jane Doe", 3),
    }
    total = 40 + 10 + 8 + 5 + 3 + 7 + 1          # every surviving line (CLAUDE.md is one)
    assert led.total_lines == total and led.surviving_lines == 22
    assert led.share == round(22 / total, 4)
    assert led.by_tool == {"aider": 8, "Claude": 6, "GitHub Copilot": 5, "Codex": 3}
    assert led.by_person == {"Jane Doe": 22}
    assert led.by_module == {"src": 14, "lib": 8}
    assert led.config_files["path"].tolist() == ["CLAUDE.md"]
    # The last 90 days before 2024-06-30: commits c (5), d (3), e (7), Jane's rewrite (+4) and CLAUDE.md (1).
    assert (led.recent_lines, led.recent_total) == (8, 5 + 3 + 7 + 4 + 1)

    # AI tools are never people: typed ai-assistant, no IP finding, no truck factor author.
    ppl = s.people.set_index("person")
    ai_rows = s.people[s.people["type"] == "ai-assistant"]
    assert len(ai_rows) == 2 and ai_rows["is_bot"].all()          # Claude (co-author) and Copilot (author)
    assert "Devin Smith" in ppl.index and ppl.loc["Devin Smith", "type"] != "ai-assistant"
    ai_ids = set(ai_rows["person"])
    assert not set(s.findings["subject"].dropna()) & ai_ids
    assert not set(s.doa.loc[s.doa["author"], "person_id"]) & set(ai_rows["person_id"])

    f = s.findings.set_index("rule")
    assert f.loc["ai.code-share", "severity"] == "medium"       # 22 of 74 lines: the 20-50% band
    assert f.loc["ai.agent-config", "severity"] == "info"

    data = s.to_json(tmp_path / "r.json")
    jsonschema.validate(data, json.loads((ROOT / "schemas" / "report.schema.json").read_text()))
    assert {c["sha"] for c in data["ai"]["commits"]} == set(sha.values())
    assert data["ai"]["config_files"] == ["CLAUDE.md"]


def test_pseudonymized_ledger_names_nobody(make_repo, tmp_path):
    r, _ = _repo(make_repo)
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-06-30")
    assert "Jane Doe" in json.dumps(s.to_json())          # positive control: the plain report names her
    text = json.dumps(s.to_json(pseudonymize=True))
    assert "Jane Doe" not in text and "jane@acme.example" not in text


def test_commits_authored_by_a_tool_alone(make_repo, tmp_path):
    """A person committing under an AI tool's address (the tool the only author, no human co-author): the
    lines are owned by no person; the committer is named as responsible and judged like any contributor;
    a tool committing its own commit leaves nobody responsible. Counts from what each commit wrote."""
    r = make_repo()
    jane = dict(name="Jane Doe", email="jane@acme.example")
    claude = dict(name="Claude", email="noreply@anthropic.com")
    r.commit({"src/base.py": _lines(40, "base")}, date="2024-01-02T10:00:00+00:00", **jane)
    spoof = r.commit({"src/x.py": _lines(10, "x")}, date="2024-02-01T10:00:00+00:00",
                     committer=("Mallory Stranger", "mallory@elsewhere.example"), **claude)
    alone = r.commit({"src/y.py": _lines(6, "y")}, date="2024-02-02T10:00:00+00:00",
                     committer=("Claude", "noreply@anthropic.com"), **claude)
    jane_c = r.commit({"src/z.py": _lines(4, "z")}, date="2024-02-03T10:00:00+00:00",
                      committer=("Jane Doe", "jane@acme.example"), **claude)
    # Positive control: the tool as author with Jane as co-author is hers (no finding).
    co = r.commit({"src/w.py": _lines(5, "w")}, date="2024-02-04T10:00:00+00:00",
                  msg="w\n\nCo-authored-by: Jane Doe <jane@acme.example>\n",
                  committer=("Claude", "noreply@anthropic.com"), **claude)
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type,start_date,ip_assignment,ip_assignment_date\n"
                      "Jane Doe,jane@acme.example,employee,2023-01-01,signed,2023-01-01\n")
    s = ddkit.scan(r.path, roster=roster, licenses=False, secrets=False, as_of="2024-06-30")
    led = s.ai.commits.set_index("sha")
    assert led.loc[spoof, "responsible_as"] == "committer" and led.loc[spoof, "person"] == "Mallory Stranger"
    assert led.loc[spoof, "committer"] == "Mallory Stranger <mallory@elsewhere.example>"
    assert pd.isna(led.loc[alone, "person"]) and pd.isna(led.loc[alone, "responsible_as"])
    assert led.loc[jane_c, "person"] == "Jane Doe" and led.loc[co, "responsible_as"] == "co-author"
    f = s.findings[s.findings["rule"] == "ip.ai-authored-code"]
    got = {row.subject: (str(row.severity), int(row.lines_at_stake), row.first_sha) for row in f.itertuples()}
    assert got == {"Mallory Stranger": ("medium", 10, spoof), "(no person named)": ("medium", 6, alone),
                   "Jane Doe": ("low", 4, jane_c)}
    ev = f.set_index("subject")
    assert "owned by no person" in ev.loc["Mallory Stranger", "evidence"]
    assert "mallory@elsewhere.example" in ev.loc["Mallory Stranger", "evidence"]
    assert "not on the roster" in ev.loc["Mallory Stranger", "evidence"]
    assert "no person is on record" in ev.loc["(no person named)", "evidence"]
    # The tool is still never a person: no finding names it.
    ai_people = set(s.people.loc[s.people["type"] == "ai-assistant", "person"])
    assert ai_people and not set(s.findings["subject"].dropna()) & ai_people
    data = s.to_json(tmp_path / "r.json")
    jsonschema.validate(data, json.loads((ROOT / "schemas" / "report.schema.json").read_text()))
    by_sha = {c["sha"]: c for c in data["ai"]["commits"]}
    assert by_sha[spoof]["responsible_as"] == "committer" and by_sha[alone]["person"] is None
    # A person known only as a committer is a person too: a pseudonymised report names nobody.
    assert "Mallory Stranger" in json.dumps(data)          # positive control
    text = json.dumps(s.to_json(pseudonymize=True))
    assert "Mallory" not in text and "mallory@elsewhere.example" not in text and "Jane Doe" not in text


def test_portfolio_pseudonymises_a_committer_only_person(make_repo):
    r = make_repo()
    r.commit({"src/base.py": _lines(40, "base")}, date="2024-01-02T10:00:00+00:00", name="Jane Doe",
             email="jane@acme.example")
    r.commit({"src/x.py": _lines(10, "x")}, date="2024-02-01T10:00:00+00:00", name="Claude",
             email="noreply@anthropic.com", committer=("Mallory Stranger", "mallory@elsewhere.example"))
    p = ddkit.scan_many([str(r.path)], as_of="2024-06-30", licenses=False, secrets=False, cache=False, jobs=1)
    assert "Mallory Stranger" in json.dumps(p.to_json())     # positive control
    text = json.dumps(p.to_json(pseudonymize=True))
    assert "Mallory" not in text and "mallory@elsewhere.example" not in text
