"""Issue 23, parts 1, 2 and 6 end to end: the same answer whichever way the roster comes; an unfilled roster
never scores better than none; misspelt columns and non-ISO dates exit 2 with one line; what was not
assessed is said and the score is partial. Each misuse case has a positive control: without the fix the bad
behaviour is possible (as tests/test_git_safety.py does)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from sample_repos.generate import HERE, SAMPLES, build

import ddkit
from ddkit import pipeline
from ddkit.roster import load_roster
from ddkit.roster_init import init_roster
from gitrepo import ddkit_cli

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = Path("/work/.mirror/psf+requests/repo")
OSV = Path(__file__).resolve().parent / "data" / "osv"     # a vulnerability database: vulnerabilities assessed
QUICK = dict(licenses=False, secrets=False)


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    out = {}
    for name in SAMPLES:
        ans = json.loads((HERE / name / "answers.json").read_text(encoding="utf-8"))
        out[name] = (build(name, root), ans, HERE / name / "company.yaml", HERE / name / "roster.csv")
    return out


def _answer(s) -> tuple:
    """What a reader of the report sees: every finding and every person, as JSON."""
    js = s.to_json()
    people = sorted(json.dumps(p, sort_keys=True, default=str) for p in js["people"])
    findings = sorted(json.dumps({k: v for k, v in f.items()}, sort_keys=True, default=str) for f in js["findings"])
    summary = {k: v for k, v in js["summary"].items() if k not in ("seconds",)}
    return people, findings, json.dumps(summary, sort_keys=True, default=str)


# -- one input path ------------------------------------------------------------------------------------

def test_roster_as_file_xlsx_dataframe_or_records_gives_the_same_report(samples, tmp_path):
    repo, ans, company, roster_csv = samples["acme"]
    xlsx = tmp_path / "roster.xlsx"
    pd.read_csv(roster_csv, dtype=str, keep_default_na=False).to_excel(xlsx, index=False)
    want = _answer(ddkit.scan(repo, roster=roster_csv, company=company, as_of=ans["as_of"], **QUICK))
    assert any('"ip.pre-assignment-work"' in f for f in want[1])     # the roster matters to this answer
    kinds = {
        "xlsx": xlsx, "str path": str(roster_csv),
        "read_csv": pd.read_csv(roster_csv), "read_csv dtype=str": pd.read_csv(roster_csv, dtype="str"),
        "read_csv dates parsed": pd.read_csv(roster_csv, parse_dates=["start_date", "end_date", "ip_assignment_date"]),
        "read_excel": pd.read_excel(xlsx), "records": pd.read_csv(roster_csv).to_dict("records"),
        "dict of columns": pd.read_csv(roster_csv, keep_default_na=False).to_dict("list"),
    }
    company_dict = {"name": "Acme Payments Inc.", **{k: v for k, v in
                                                     __import__("yaml").safe_load(company.read_text()).items()}}
    for kind, roster in kinds.items():
        got = _answer(ddkit.scan(repo, roster=roster, company=company_dict if kind == "records" else company,
                                 as_of=ans["as_of"], **QUICK))
        assert got == want, kind


def test_raw_dataframe_positive_control(samples, monkeypatch):
    """Without the one validation (the DataFrame handed to the scan as it is, as before) its e-mail cells are
    strings, nobody matches the roster, and the report differs without a word."""
    repo, ans, company, roster_csv = samples["acme"]
    want = _answer(ddkit.scan(repo, roster=roster_csv, company=company, as_of=ans["as_of"], **QUICK))
    monkeypatch.setattr(pipeline, "load_roster", lambda r: r if isinstance(r, pd.DataFrame) else load_roster(r))
    raw = ddkit.scan(repo, roster=pd.read_csv(roster_csv), company=company, as_of=ans["as_of"], **QUICK)
    assert _answer(raw) != want
    assert not raw.people["in_roster"].astype(bool).any()


def test_anything_else_is_exit_2_not_a_crash(samples):
    repo, ans, company, _ = samples["acme"]
    for bad in (42, {"person", "emails"}, ["alice@acme.example"]):
        with pytest.raises(ddkit.InputError):
            ddkit.scan(repo, roster=bad, **QUICK)
    with pytest.raises(ddkit.InputError, match="company profile must be"):
        ddkit.scan(repo, company=["Acme"], **QUICK)


# -- misspelt columns and dates: exit 2, one line, before scanning --------------------------------------

def _one_line(p, *needles):
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_misspelt_roster_column_exit_2_and_roster_check_says_it(samples, tmp_path):
    repo, ans, company, roster_csv = samples["acme"]
    bad = tmp_path / "roster.csv"
    bad.write_text(roster_csv.read_text(encoding="utf-8").replace("ip_assignment_date", "ip_asignment_date", 1),
                   encoding="utf-8")
    p = ddkit_cli("roster", "check", bad)
    assert p.returncode == 2 and "roster OK" not in p.stdout
    assert "unknown column 'ip_asignment_date' (did you mean 'ip_assignment_date'?)" in p.stdout
    _one_line(ddkit_cli("scan", repo, "--roster", bad, "--no-licenses", "--no-secrets"),
              str(bad), "row 1", "did you mean 'ip_assignment_date'")


def test_misspelt_column_positive_control(samples, tmp_path, monkeypatch):
    """Without the check, the misspelt column is kept as an extra one and every pre-assignment finding is
    silently gone (the issue's 'roster OK' report)."""
    from ddkit import roster as roster_mod
    repo, ans, company, roster_csv = samples["acme"]
    bad = tmp_path / "roster.csv"
    bad.write_text(roster_csv.read_text(encoding="utf-8").replace("ip_assignment_date", "ip_asignment_date", 1),
                   encoding="utf-8")
    good = ddkit.scan(repo, roster=roster_csv, company=company, as_of=ans["as_of"], **QUICK)
    monkeypatch.setattr(roster_mod, "_near_known", lambda col: None)
    silent = ddkit.scan(repo, roster=bad, company=company, as_of=ans["as_of"], **QUICK)
    rule = "ip.pre-assignment-work"
    assert (good.findings["rule"] == rule).any() and not (silent.findings["rule"] == rule).any()


@pytest.mark.parametrize("value", ["26/11/2020", "20201126", "44161", "2020-W48-4"])
def test_non_iso_dates_exit_2_naming_file_key_and_value(samples, tmp_path, value):
    repo, ans, company, roster_csv = samples["acme"]
    roster = tmp_path / "roster.csv"
    roster.write_text(f"person,emails,type,end_date\nA,a@x.example,employee,{value}\n", encoding="utf-8")
    _one_line(ddkit_cli("scan", repo, "--roster", roster, "--no-licenses", "--no-secrets"),
              str(roster), "row 2", f"end_date '{value}'", "ISO date")
    prof = tmp_path / "company.yaml"
    prof.write_text(f"name: Acme\nincorporation_date: {value}\n", encoding="utf-8")
    _one_line(ddkit_cli("scan", repo, "--company", prof, "--no-licenses", "--no-secrets"),
              str(prof), "incorporation_date", "ISO date")
    tri = tmp_path / "triage.yaml"
    tri.write_text(f"findings:\n  0123456789abcdef:\n    status: accepted\n    date: {value}\n", encoding="utf-8")
    _one_line(ddkit_cli("scan", repo, "--triage", tri, "--no-licenses", "--no-secrets"),
              str(tri), "0123456789abcdef", "ISO date")
    _one_line(ddkit_cli("scan", repo, "--as-of", value, "--no-licenses", "--no-secrets"), "--as-of", "ISO date")


# -- unknown is not good: an unfilled roster never scores above no roster ----------------------------------

def _fill(rows: list[dict], truth: pd.DataFrame, n: int) -> list[dict]:
    """The first *n* rows that the sample's true roster knows, filled from it (type, dates, assignment)."""
    by_email = {e: r for r in truth.to_dict("records") for e in r["emails"]}
    done = 0
    for r in rows:
        t = next((by_email[e.strip()] for e in r["emails"].split(";") if e.strip() in by_email), None)
        if t is None or done >= n:
            continue
        for c in ("type", "vendor", "start_date", "end_date", "ip_assignment", "ip_assignment_date", "ip_document"):
            v = t[c]
            r[c] = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
        done += 1
    return rows


def _write(rows: list[dict], path: Path) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.mark.parametrize("name", SAMPLES)
def test_unfilled_or_partly_filled_roster_never_scores_above_no_roster(samples, tmp_path, name):
    repo, ans, company, roster_csv = samples[name]
    init = tmp_path / "init.csv"
    init_roster(repo, init, company=company)
    rows = list(csv.DictReader(open(init, encoding="utf-8-sig")))
    three = _write(_fill([dict(r) for r in rows], load_roster(roster_csv), 3), tmp_path / "three.csv")
    base = ddkit.scan(repo, company=company, as_of=ans["as_of"], **QUICK)
    for roster in (init, three):
        s = ddkit.scan(repo, roster=roster, company=company, as_of=ans["as_of"], **QUICK)
        assert s.summary["readiness_score"] <= base.summary["readiness_score"], (roster.name, s.summary, base.summary)
        # Departures are the same: a blank end date with no recent commit is departed (unconfirmed).
        if roster == init:
            assert s.summary["departed"] >= base.summary["departed"]
            gone = s.people[s.people["departed"] & s.people["in_roster"]]
            assert (gone["departed_status"] == "unconfirmed").all()


def test_a_filled_roster_can_score_above_no_roster_positive_control(samples, tmp_path):
    """The comparison above can fail: the same init roster with every row answered favourably (founders with
    signed assignments, engaged until 2099) scores above no roster, so 'never above' is a property of the
    blanks, not of any roster."""
    ups = {}
    for name in SAMPLES:
        repo, ans, company, _ = samples[name]
        init = tmp_path / f"{name}.csv"
        init_roster(repo, init, company=company)
        rows = [dict(r, type="founder", vendor="", ip_assignment="signed", ip_assignment_date="2000-01-01",
                     end_date="2099-12-31") for r in csv.DictReader(open(init, encoding="utf-8-sig"))]
        rosy = ddkit.scan(repo, roster=_write(rows, tmp_path / f"{name}-rosy.csv"), company=company,
                          as_of=ans["as_of"], **QUICK).summary
        base = ddkit.scan(repo, company=company, as_of=ans["as_of"], **QUICK).summary
        ups[name] = rosy["readiness_score"] - base["readiness_score"]
    assert min(ups.values()) >= 0 and max(ups.values()) > 0, ups     # (globex: both capped by a high finding)


def test_blank_end_date_positive_control(make_repo, tmp_path):
    """A roster person with a blank end date and no commit for years: departed (unconfirmed), shown and
    counted; an end date after as_of says still engaged; without the rule (as before) they were current."""
    r = make_repo()
    r.commit({"a.py": "".join(f"a{i}\n" for i in range(40))}, name="Old Timer", email="old@x.example",
             date="2017-01-10T10:00:00+00:00")
    r.commit({"b.py": "".join(f"b{i}\n" for i in range(40))}, name="New Hand", email="new@x.example",
             date="2024-05-10T10:00:00+00:00")
    roster = tmp_path / "r.csv"
    roster.write_text("person,emails,type,ip_assignment,end_date\nOld Timer,old@x.example,employee,signed,\n"
                      "New Hand,new@x.example,employee,signed,\n")
    s = ddkit.scan(r.path, roster=roster, as_of="2024-06-30", **QUICK)
    p = s.people.set_index("person")
    assert bool(p.loc["Old Timer", "departed"]) and p.loc["Old Timer", "departed_status"] == "unconfirmed"
    assert not bool(p.loc["New Hand", "departed"])
    assert s.summary["departed"] == 1 and "own.departed-author" in set(s.findings["rule"])
    js = s.to_json()
    assert {x["person"]: x["departed_status"] for x in js["people"]} == {"Old Timer": "unconfirmed", "New Hand": None}
    roster.write_text("person,emails,type,ip_assignment,end_date\nOld Timer,old@x.example,employee,signed,2030-01-01\n"
                      "New Hand,new@x.example,employee,signed,\n")
    s = ddkit.scan(r.path, roster=roster, as_of="2024-06-30", **QUICK)
    assert not bool(s.people.set_index("person").loc["Old Timer", "departed"])


def test_zero_line_roster_person_is_not_a_high_finding(make_repo, tmp_path):
    r = make_repo()
    r.commit({"core/a.py": "".join(f"a{i}\n" for i in range(400))}, name="Alice", email="alice@acme.example",
             date="2019-07-10T10:00:00+00:00")
    r.commit({"core/gone.py": "x\n"}, name="Gone Early", email="gone@acme.example", date="2019-02-01T10:00:00+00:00")
    r.commit({"core/gone.py": None}, name="Alice", email="alice@acme.example", date="2019-08-01T10:00:00+00:00")
    r.commit({"core/kept.py": "".join(f"k{i}\n" for i in range(60))}, name="Kept Early", email="kept@acme.example",
             date="2019-03-01T10:00:00+00:00")
    roster = tmp_path / "r.csv"
    roster.write_text("person,emails,type,ip_assignment\nAlice,alice@acme.example,founder,signed\n"
                      "Gone Early,gone@acme.example,contractor,\nKept Early,kept@acme.example,contractor,\n")
    company = tmp_path / "c.yaml"
    company.write_text("name: Acme\nincorporation_date: 2019-06-01\n")
    s = ddkit.scan(r.path, roster=roster, company=company, as_of="2020-01-01", **QUICK)
    f = s.findings
    high = f[f["severity"] == "high"]
    assert "Gone Early" not in set(high["subject"])
    # Positive control: the same rules with lines at stake are high, individually.
    assert {("ip.pre-incorporation-work", "Kept Early"), ("ip.contractor-no-assignment", "Kept Early")} <= set(
        zip(high["rule"], high["subject"]))
    rolled = f[f["rolled_up"] == True]  # noqa: E712
    assert all("Gone Early" in subs for subs in rolled["subjects"]) and len(rolled) == 2
    assert "Gone Early" in set(s.people["person"])     # still listed on People


# -- not assessed: said, shown, and the score partial ----------------------------------------------------

def test_not_assessed_and_partial(make_repo, tmp_path):
    r = make_repo()
    r.commit({"README.md": "Copyright Acme\n", "a.py": "x = 1\n"}, name="Alice", email="alice@acme.example",
             date="2024-05-10T10:00:00+00:00")
    roster = tmp_path / "r.csv"
    roster.write_text("person,emails,type,ip_assignment,ip_assignment_date\n"
                      "Alice,alice@acme.example,founder,signed,2019-01-01\n")
    company = tmp_path / "c.yaml"
    company.write_text("name: Acme\nlegal_names: [Acme]\nincorporation_date: 2019-01-01\noutbound_license: MIT\n")
    schema = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
    full = ddkit.scan(r.path, roster=roster, company=company, as_of="2024-06-30", secrets=False, vuln_db=OSV)
    assert full.summary["partial"] is True and full.summary["not_assessed"] == [
        "security: secrets in the history and at the ref, and the security checklist (--no-secrets)"]
    assert full.summary["areas"]["security"]["rating"] == "not assessed"
    assert full.summary["rating"] != "green" and full.summary["readiness_score"] <= 79
    jsonschema.validate(full.to_json(), schema)
    cases = {
        "no company": dict(roster=roster, licenses=False),
        "no roster": dict(company=company, licenses=False),
    }
    for what, kw in cases.items():
        s = ddkit.scan(r.path, as_of="2024-06-30", secrets=False, **kw)
        na = s.summary["not_assessed"]
        assert s.summary["partial"] and s.summary["rating"] != "green", what
        assert any(x.startswith("licenses") for x in na) and s.summary["areas"]["license"]["score"] is None
        assert ("pre-incorporation work (no incorporation date)" in na) == (what == "no company")
        assert ("IP assignments and engagement dates (no roster)" in na) == (what == "no roster")
        jsonschema.validate(s.to_json(), schema)
    # The console and the Summary sheet say it.
    p = ddkit_cli("scan", r.path, "--as-of", "2024-06-30", "--no-licenses", "--no-secrets",
                  "--out", tmp_path / "r.xlsx")
    assert p.returncode == 0, p.stderr
    assert "not assessed: pre-incorporation work (no incorporation date)" in p.stdout and "partial)" in p.stdout
    import openpyxl
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["Summary"]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "Not assessed" in text and "pre-incorporation work (no incorporation date)" in text


def test_everything_assessed_can_be_green_positive_control(make_repo, tmp_path):
    """The cap is what keeps a partial score from green: the same repository, under a policy where nothing
    costs points, is green when everything is assessed and amber (79) when the secrets are not."""
    r = make_repo()
    r.commit({"a.py": "x = 1\n"}, name="Alice", email="alice@acme.example", date="2024-05-10T10:00:00+00:00")
    roster = tmp_path / "r.csv"
    roster.write_text("person,emails,type,ip_assignment,ip_assignment_date\n"
                      "Alice,alice@acme.example,founder,signed,2019-01-01\n")
    company = tmp_path / "c.yaml"
    company.write_text("name: Acme\nincorporation_date: 2019-01-01\noutbound_license: MIT\n")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "score.yaml").write_text("weights: {critical: 0, high: 0, medium: 0, low: 0, info: 0}\n"
                                      "caps: {critical: 100, high: 100}\n")
    kw = dict(roster=roster, company=company, rules=rules, as_of="2024-06-30", vuln_db=OSV)
    full = ddkit.scan(r.path, **kw).summary
    assert full["not_assessed"] == [] and full["partial"] is False
    assert full["readiness_score"] == 100 and full["rating"] == "green"
    part = ddkit.scan(r.path, secrets=False, **kw).summary
    assert part["partial"] is True and part["readiness_score"] == 79 and part["rating"] == "amber"
    assert part["score_capped_by"] == "partial"


@pytest.mark.skipif(not REQUESTS.exists(), reason="the psf/requests clone is not on this machine")
def test_requests_unfilled_roster_never_scores_above_no_roster(tmp_path):
    company = tmp_path / "company.yaml"
    company.write_text("name: Requests Inc.\nincorporation_date: 2016-01-01\n")
    init = tmp_path / "init.csv"
    init_roster(REQUESTS, init)
    rows = list(csv.DictReader(open(init, encoding="utf-8-sig")))
    for r, (t, ip, d) in zip(rows, [("founder", "signed", "2011-02-01"), ("employee", "signed", "2016-06-01"),
                                    ("contractor", "missing", "")]):
        r.update(type=t, ip_assignment=ip, ip_assignment_date=d)
    three = _write(rows, tmp_path / "three.csv")
    kw = dict(company=company, as_of="2026-12-01", **QUICK)
    base = ddkit.scan(REQUESTS, **kw).summary
    for roster in (init, three):
        s = ddkit.scan(REQUESTS, roster=roster, **kw)
        sm = s.summary
        assert sm["readiness_score"] <= base["readiness_score"] and sm["departed"] == base["departed"], roster.name
        # The 209 high pre-incorporation findings with no line at stake: none.
        f = s.findings
        assert not ((f["severity"] == "high") & (f["lines_at_stake"] == 0) & f["person"].notna()).any()


def test_scan_many_takes_the_roster_and_profile_as_data(samples):
    repo, ans, company, roster_csv = samples["acme"]
    import yaml
    kw = dict(as_of=ans["as_of"], licenses=False, secrets=False, cache=False, jobs=1)
    by_path = ddkit.scan_many([str(repo)], roster=roster_csv, company=company, **kw)
    by_data = ddkit.scan_many([str(repo)], roster=pd.read_csv(roster_csv),
                              company=yaml.safe_load(company.read_text()), **kw)
    assert list(by_data.repositories["status"]) == ["ok"]
    cols = ["rule", "subject", "severity", "lines_at_stake"]
    assert by_data.findings[cols].equals(by_path.findings[cols])
    assert by_data.repositories.loc[0, "readiness_score"] == by_path.repositories.loc[0, "readiness_score"]


def test_blank_roster_is_partial_like_no_roster(make_repo, tmp_path, monkeypatch):
    """Everyone on the company's domain: without a roster nothing is found, but the score is partial (79 at
    most). A roster left blank must not turn that into a green: its blanks are unanswered too."""
    r = make_repo()
    for who in ("alice", "bob"):
        r.commit({f"{who}.py": "".join(f"{who}{i} = {i}\n" for i in range(50))}, name=who.title(),
                 email=f"{who}@acme.example", date="2024-05-10T10:00:00+00:00")
    company = tmp_path / "c.yaml"
    company.write_text("name: Acme\ndomains: [acme.example]\nincorporation_date: 2019-01-01\noutbound_license: MIT\n")
    rules = tmp_path / "rules"
    rules.mkdir()
    # The pre-sale checklist (no CI, no security policy…) is the same with or without a roster: free here.
    (rules / "score.yaml").write_text("weights: {critical: 0, high: 0, medium: 0, low: 0, info: 0}\n"
                                      "caps: {critical: 100, high: 100}\n")
    (rules / "findings.yaml").write_text("severities: {ip.missing-assignment: low}\n")
    init = tmp_path / "init.csv"
    init_roster(r.path, init, company=company)
    kw = dict(company=company, rules=rules, as_of="2024-06-30", vuln_db=OSV)
    base = ddkit.scan(r.path, **kw).summary
    blank = ddkit.scan(r.path, roster=init, **kw).summary
    assert base["partial"] and base["readiness_score"] <= 79
    assert blank["partial"] and blank["rating"] != "green" and blank["readiness_score"] <= base["readiness_score"]
    assert any("2 roster rows with blank cells" in x for x in blank["not_assessed"])
    # Positive control: were the blanks not counted as unanswered, the blank roster would score green.
    from ddkit.stages import analyses
    real = analyses.not_assessed
    monkeypatch.setattr(analyses, "not_assessed", lambda *a, **k: real(*a, **{**k, "roster_rows_to_complete": 0}))
    kw["as_of"] = "2024-06-29"      # (another input: not the result kept in the cache for the scan above)
    assert ddkit.scan(r.path, roster=init, **kw).summary["rating"] == "green"
