"""Triage that survives re-scans: decisions typed into the workbook are imported, applied on the next scan
(after a new commit), stop counting in the score, the summary and --fail-on, and go stale when their
finding disappears."""

from __future__ import annotations

import pytest
import yaml
from openpyxl import load_workbook

from ddkit.errors import InputError
from ddkit.triage import load_triage
from gitrepo import ddkit_cli as _cli
from test_hostile_git import _seller


def _repo(make_repo):
    return _seller(make_repo, "repo")   # the same three people as the hostile triage tests


def test_workbook_triage_round_trip(make_repo, tmp_path):
    r = _repo(make_repo)
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type,ip_assignment\nAlice Main,alice@acme.example,employee,signed\n"
                      "Carl Contract,carl@acme.example,contractor,missing\n")
    company = tmp_path / "company.yaml"
    company.write_text("name: Acme\ndomains: [acme.example]\n")
    out, js = tmp_path / "a.xlsx", tmp_path / "a.json"
    common = ["--roster", roster, "--company", company, "--as-of", "2020-06-30", "--no-licenses", "--no-secrets", "--quiet"]
    p = _cli("scan", r.path, *common, "--out", out, "--json", js, "--fail-on", "high")
    assert p.returncode == 1, p.stderr                               # Carl: ip.contractor-no-assignment (high)
    import json
    before = json.loads(js.read_text())
    ids = {f["rule"]: f["id"] for f in before["findings"]}
    assert all(f["status"] == "open" and f["triage"] is None for f in before["findings"])

    # Counsel types into the workbook: the contractor finding accepted, the unknown contributor a false positive.
    wb = load_workbook(out)
    ws = wb["Findings"]
    header = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(header)}
    for row in ws.iter_rows(min_row=2):
        fid = row[col["Finding id"]].value
        if fid == ids["ip.contractor-no-assignment"]:
            row[col["Status"]].value = "accepted"
            row[col["Triage reason"]].value = "assignment in the MSA, clause 9"
            row[col["Triaged by"]].value = "J. Counsel"
        if fid == ids["ip.unknown-contributor"]:
            row[col["Status"]].value = "false-positive"
            row[col["Triage reason"]].value = "Bob is Alice's second address"
    wb.save(out)
    tri = tmp_path / "triage.yaml"
    p = _cli("triage", "import", out, "--triage", tri)
    assert p.returncode == 0, p.stderr
    entries = load_triage(tri)
    assert entries[ids["ip.contractor-no-assignment"]]["status"] == "accepted"
    assert entries[ids["ip.contractor-no-assignment"]]["by"] == "J. Counsel"
    assert entries[ids["ip.unknown-contributor"]]["status"] == "false-positive"
    # Counsel also marks a decision about a finding that will go away.
    data = yaml.safe_load(tri.read_text())
    data["findings"]["0123456789abcdef"] = {"status": "resolved", "reason": "old", "by": "X", "date": "2020-01-01"}
    tri.write_text(yaml.safe_dump(data))

    # A new commit, then the re-scan with the triage file.
    r.commit({"app.py": "".join(f"a{i}\n" for i in range(51))}, name="Alice Main", email="alice@acme.example",
             date="2020-04-01T10:00:00+00:00")
    out2, js2 = tmp_path / "b.xlsx", tmp_path / "b.json"
    p = _cli("scan", r.path, *common, "--triage", tri, "--out", out2, "--json", js2, "--fail-on", "high")
    assert p.returncode == 0, p.stderr          # the only high finding is accepted: --fail-on passes
    after = json.loads(js2.read_text())
    f = {x["id"]: x for x in after["findings"]}
    assert f[ids["ip.contractor-no-assignment"]]["status"] == "accepted"
    assert f[ids["ip.contractor-no-assignment"]]["triage"]["reason"] == "assignment in the MSA, clause 9"
    assert f[ids["ip.unknown-contributor"]]["status"] == "false-positive"
    # Not counted: summary counts and score.
    assert after["summary"]["findings_by_severity"]["high"] == before["summary"]["findings_by_severity"]["high"] - 1
    assert after["summary"]["findings"] == before["summary"]["findings"] - 2
    assert after["summary"]["findings_triaged"] == 2
    # (A partial score, here without --vuln-db, is capped below green: the ip area's own score shows the rise.)
    assert after["summary"]["readiness_score"] >= before["summary"]["readiness_score"]
    assert after["summary"]["areas"]["ip"]["score"] > before["summary"]["areas"]["ip"]["score"]
    # Stale decision reported.
    assert [e["id"] for e in after["triage_stale"]] == ["0123456789abcdef"]
    assert any("stale" in w for w in after["warnings"])
    # The workbook: triaged findings on the Triaged sheet, never dropped.
    wb2 = load_workbook(out2)
    def ids_of(ws):
        k = [c.value for c in ws[1]].index("Finding id")
        return {row[k] for row in ws.iter_rows(min_row=2, values_only=True)}
    findings_ids, triaged_ids = ids_of(wb2["Findings"]), ids_of(wb2["Triaged"])
    assert triaged_ids == {ids["ip.contractor-no-assignment"], ids["ip.unknown-contributor"]}
    assert not findings_ids & triaged_ids and len(findings_ids | triaged_ids) == len(after["findings"])
    # diff shows the status changes
    p = _cli("diff", js, js2)
    assert p.returncode == 0 and "2 triage status changes" in p.stdout
    assert "(open -> accepted)" in p.stdout and "(open -> false-positive)" in p.stdout


def test_default_triage_file_is_the_current_folders(make_repo, tmp_path, monkeypatch):
    """By default a scan applies .ddkit/triage.yaml of the current folder (where `triage import` writes),
    never the one in the scanned work tree (the other side's: tests/test_hostile_git.py)."""
    r = _repo(make_repo)
    import ddkit
    s = ddkit.scan(r.path, as_of="2020-06-30", licenses=False, secrets=False)
    fid = s.findings["id"].iloc[0]
    work = tmp_path / "deal"
    (work / ".ddkit").mkdir(parents=True)
    (work / ".ddkit" / "triage.yaml").write_text(f"findings:\n  {fid}:\n    status: accepted\n    reason: ok\n")
    monkeypatch.chdir(work)
    s2 = ddkit.scan(r.path, as_of="2020-06-30", licenses=False, secrets=False)
    assert s2.findings.set_index("id").loc[fid, "status"] == "accepted"
    assert s2.triage_claims.empty


@pytest.mark.parametrize("text,message", [
    ("findings:\n  abc: {status: maybe}\n", "status 'maybe' is not one of"),
    ("findings:\n  abc: {status: accepted, date: 2024-13-01}\n", "cannot read|not an ISO date"),
    ("findings:\n  abc: {status: accepted, who: me}\n", "unknown key 'who'"),
    ("decisions: {}\n", "one top-level key"),
])
def test_bad_triage_files(tmp_path, text, message):
    p = tmp_path / "t.yaml"
    p.write_text(text)
    with pytest.raises(InputError, match=message):
        load_triage(p)
