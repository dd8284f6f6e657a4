"""Materiality: de-minimis people roll up into one finding per rule; nothing is lost (lines conserved,
every subject named), people on the roster and suggested roster matches stay individual."""

from __future__ import annotations

import ddkit


def _lines(prefix: str, n: int) -> str:
    return "".join(f"{prefix} line {i}\n" for i in range(n))


def test_roll_up_by_rule_with_conservation(make_repo, tmp_path):
    r = make_repo()
    # Founder before incorporation (2019-06-01), then 700 lines by an employee on the roster.
    r.commit({"core/a.py": _lines("a", 700)}, name="Alice Founder", email="alice@acme.example", date="2019-01-10T10:00:00+00:00")
    r.commit({"core/big.py": _lines("big", 300)}, name="Big Outsider", email="big@else.example", date="2020-01-10T10:00:00+00:00")
    for i in range(5):   # five drive-by contributors, 4 lines each: 0.4% of 1,024 lines each
        r.commit({f"core/s{i}.py": _lines(f"s{i}", 4)}, name=f"Small Person{i}", email=f"s{i}@else.example",
                 date=f"2020-02-1{i}T10:00:00+00:00")
    # Pre-incorporation drive-by whose line did not survive: not a high finding of its own.
    r.commit({"core/gone.py": "x\n"}, name="Gone Early", email="gone@else.example", date="2019-02-01T10:00:00+00:00")
    r.commit({"core/gone.py": None}, name="Alice Founder", email="alice@acme.example", date="2020-03-01T10:00:00+00:00")
    # A roster intern with one line and no assignment: counsel decides de minimis for known people.
    r.commit({"core/intern.py": "i = 1\n"}, name="Ivy Intern", email="ivy@acme.example", date="2020-04-01T10:00:00+00:00")
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type,ip_assignment,ip_assignment_date\n"
                      "Alice Founder,alice@acme.example,founder,signed,2019-06-01\n"
                      "Ivy Intern,ivy@acme.example,intern,missing,\n")
    company = tmp_path / "company.yaml"
    company.write_text("name: Acme\ndomains: [acme.example]\nincorporation_date: 2019-06-01\n")
    s = ddkit.scan(r.path, roster=roster, company=company, as_of="2020-06-30", licenses=False, secrets=False)
    f = s.findings
    unknown = f[f["rule"] == "ip.unknown-contributor"]
    # Big Outsider (300 lines, 29% of the code) is individual; the five small ones (0.4% each) and Gone Early
    # (no surviving line) roll up.
    assert sorted(unknown["subject"]) == ["6 other contributors not on the roster", "Big Outsider"]
    roll = unknown[unknown["rolled_up"] == True].iloc[0]  # noqa: E712
    assert sorted(roll["subjects"]) == ["Gone Early"] + [f"Small Person{i}" for i in range(5)]
    assert roll["lines_at_stake"] == 20 and roll["severity"] == "low" and roll["commits"] == 6
    # Conservation: the rule's lines at stake = the lines of everyone it concerns (all not on the roster).
    total_lines = int(s.ownership["lines"].sum())
    assert total_lines == 700 + 300 + 20 + 1
    not_on_roster = s.people[~s.people["in_roster"] & ~s.people["is_bot"]]
    assert int(unknown["lines_at_stake"].sum()) == int(not_on_roster["surviving_lines"].sum()) == 320
    # Pre-incorporation: the founder is individual (high); Gone Early (no surviving line) is rolled up, low.
    pre = f[f["rule"] == "ip.pre-incorporation-work"].set_index("subject")
    assert pre.loc["Alice Founder", "severity"] == "high"
    assert "Gone Early" not in pre.index
    rolled_pre = pre[pre["rolled_up"] == True]  # noqa: E712
    assert len(rolled_pre) == 1 and rolled_pre.iloc[0]["severity"] == "low" and rolled_pre.iloc[0]["subjects"] == ["Gone Early"]
    # The roster intern with one line stays an individual finding.
    assert "Ivy Intern" in set(f.loc[f["rule"] == "ip.missing-assignment", "subject"])
    # JSON carries the roll-up and its subjects.
    js = s.to_json()
    jr = [x for x in js["findings"] if x.get("rolled_up") and x["rule"] == "ip.unknown-contributor"][0]
    assert len(jr["subjects"]) == 6 and jr["lines_at_stake"] == 20


def test_thresholds_come_from_rules(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.py": _lines("a", 100)}, name="Alice Main", email="alice@else.example")
    r.commit({"b.py": _lines("b", 12)}, name="Bob Small", email="bob@else.example")
    r.commit({"c.py": _lines("c", 12)}, name="Carl Small", email="carl@else.example")
    r.commit({"d.py": _lines("d", 9)}, name="Dave Tiny", email="dave@else.example")
    r.commit({"e.py": _lines("e", 9)}, name="Eve Tiny", email="eve@else.example")
    s = ddkit.scan(r.path, as_of="2020-06-30", licenses=False, secrets=False)
    u = s.findings[s.findings["rule"] == "ip.unverified-identity"]
    # 12 lines are 8.3%: material; 9 lines are 6.3% but under the 10-line floor: de minimis.
    assert sorted(u["subject"]) == ["2 other contributors with unverified identities", "Alice Main", "Bob Small",
                                    "Carl Small"]
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "findings.yaml").write_text("materiality: {min_lines: 5, min_share: 0.1}\n")
    s = ddkit.scan(r.path, rules=rules, as_of="2020-06-30", licenses=False, secrets=False)
    u = s.findings[s.findings["rule"] == "ip.unverified-identity"]
    assert sorted(u["subject"]) == ["4 other contributors with unverified identities", "Alice Main"]


def test_console_says_what_to_do_next_without_a_roster(make_repo):
    import subprocess
    import sys
    r = make_repo()
    r.commit({"a.py": _lines("a", 30)}, name="Alice Main", email="alice@else.example")
    r.commit({"b.py": _lines("b", 10)}, name="Bob Other", email="bob@gmail.com")
    p = subprocess.run([sys.executable, "-m", "ddkit", "scan", str(r.path), "--no-licenses", "--no-secrets",
                        "--as-of", "2020-06-30"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    nxt = [line for line in p.stdout.splitlines() if line.strip().startswith("next:")]
    assert len(nxt) == 1
    assert "2 people holding 40 surviving lines (100% of surviving lines)" in nxt[0]
    assert f"ddkit roster init {r.path}" in nxt[0]


def test_small_modules_roll_up(make_repo):
    r = make_repo()
    r.commit({"core/a.py": _lines("a", 3000)}, name="Alice Main", email="alice@else.example", date="2018-01-01T10:00:00+00:00")
    r.commit({"small1/b.py": _lines("b", 25)}, name="Bob Other", email="bob@else.example", date="2018-02-01T10:00:00+00:00")
    r.commit({"small2/c.py": _lines("c", 25)}, name="Carl Other", email="carl@else.example", date="2018-03-01T10:00:00+00:00")
    s = ddkit.scan(r.path, as_of="2024-06-30", licenses=False, secrets=False)   # everyone departed (inactive)
    orphaned = s.findings[s.findings["rule"] == "own.orphaned-module"].set_index("subject")
    # core (98% of the code) is its own finding; small1 and small2 (0.8% each) are one roll-up.
    assert sorted(orphaned.index) == ["2 small modules mostly written by people who left", "core"]
    roll = orphaned.loc["2 small modules mostly written by people who left"]
    assert roll["subjects"] == ["small1", "small2"] and roll["lines_at_stake"] == 50 and roll["severity"] == "low"
