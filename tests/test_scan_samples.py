"""Every scan of the sample repositories is compared to their answer files."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from sample_repos.generate import HERE, SAMPLES, build

import ddkit


def _scan_samples(root, **options):
    """{name: (repo, answers, scan)} for every sample, scanned with its roster, profile and as_of."""
    out = {}
    for name in SAMPLES:
        repo = build(name, root)
        ans = json.loads((HERE / name / "answers.json").read_text(encoding="utf-8"))
        out[name] = (repo, ans, ddkit.scan(repo, roster=HERE / name / "roster.csv",
                                           company=HERE / name / "company.yaml", as_of=ans["as_of"], **options))
    return out


@pytest.fixture(scope="session")
def sample_scans(tmp_path_factory):
    return _scan_samples(tmp_path_factory.mktemp("samples"), licenses=False)


@pytest.mark.parametrize("name", SAMPLES)
def test_commits_conserved(sample_scans, name):
    repo, ans, s = sample_scans[name]
    assert len(s.commits) == ans["commit_count"]
    assert int((s.commits["parents"] > 1).sum()) == ans["merge_commits"]
    assert s.repo.commit == ans["head"]


@pytest.mark.parametrize("name", SAMPLES)
def test_people(sample_scans, name):
    _, ans, s = sample_scans[name]
    got = s.people.set_index("person")
    assert sorted(got.index) == sorted(p["person"] for p in ans["people"])
    for p in ans["people"]:
        g = got.loc[p["person"]]
        assert g["type"] == p["type"], p["person"]
        assert (g["vendor"] if isinstance(g["vendor"], str) else None) == p["vendor"], p["person"]
        assert bool(g["is_bot"]) == p["is_bot"], p["person"]
        assert int(g["commits"]) == p["commits"], p["person"]
        assert g["first_commit"] == pd.Timestamp(p["first_commit"]), p["person"]   # a calendar day: naive
        assert g["last_commit"] == pd.Timestamp(p["last_commit"]), p["person"]
        assert bool(g["departed"]) == p["departed"], p["person"]
        assert set(p["emails"]) <= set(g["emails"]), p["person"]
    # Roster members who never committed are not people of this repository.
    for r in ans["roster_without_commits"]:
        assert r not in got.index


@pytest.mark.parametrize("name", SAMPLES)
def test_files_classified(sample_scans, name):
    _, ans, s = sample_scans[name]
    f = s.files.set_index("path")
    for path, n in ans["scanned_files"].items():
        assert f.loc[path, "category"] == "text" and int(f.loc[path, "lines"]) == n, path
    for path, cat in ans["excluded_files"].items():
        assert f.loc[path, "category"] == cat, path
    assert set(f.index) == set(ans["scanned_files"]) | set(ans["excluded_files"])


def test_unresolved_identities_listed(sample_scans):
    _, ans, s = sample_scans["acme"]
    # One summary warning (not one per contributor); the People table lists each one.
    unresolved = [w for w in s.warnings if "not resolved" in w]
    assert len(unresolved) == 1 and unresolved[0].startswith("2 identities not resolved")
    assert "Ivan Outsider" in unresolved[0] and "zed1984" in unresolved[0]
    people = s.people.set_index("person")
    assert sorted(people.index[~people["resolved"]]) == sorted(
        p["person"] for p in ans["people"] if p["type"] == "unknown")


def test_secrets_in_sample(sample_scans):
    _, ans, s = sample_scans["acme"]
    f = s.findings
    for sec in ans["secrets"]:
        hits = f[(f.path == sec["path"]) & f.rule.str.startswith("sec.secret")]
        assert len(hits) and set(hits["first_sha"]) == {sec["commit"]}
        assert set(hits["rule"]) == {"sec.secret-in-history" if not sec["present_at_head"] else "sec.secret-in-tree"}
    for path in ans["secret_lookalikes"]:
        assert not (f.path == path).any()


def test_demo_builds_and_scans(tmp_path):
    p = subprocess.run([sys.executable, "-m", "ddkit", "demo", "--out-dir", str(tmp_path / "reports"), "--quiet"],
                       capture_output=True, text=True, env={**__import__("os").environ})
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "reports" / "acme.xlsx").stat().st_size > 5000


@pytest.mark.parametrize("name", SAMPLES)
def test_surviving_lines_exact(sample_scans, name):
    _, ans, s = sample_scans[name]
    got: dict[str, dict[str, int]] = {}
    for r in s.ownership.itertuples():
        got.setdefault(r.path, {})[r.person] = int(r.lines)
    assert got == ans["ownership"]
    per_person = s.people.set_index("person")["surviving_lines"]
    for p in ans["people"]:
        assert int(per_person[p["person"]]) == p["surviving_lines"], p["person"]
    # Line conservation: people plus bots own exactly the lines of the files scanned.
    assert int(s.people["surviving_lines"].sum()) == int(s.files.loc[s.files.category == "text", "lines"].sum()) \
        == ans["total_scanned_lines"]


@pytest.mark.parametrize("name", SAMPLES)
def test_ip_and_ownership_findings(sample_scans, name):
    _, ans, s = sample_scans[name]
    f = s.findings[s.findings.rule.str.match(r"^(ip|own)\.")]
    got = {(r.rule, r.subject): r for r in f.itertuples()}
    want = {(x["rule"], x["subject"]): x for x in ans["findings"]}
    assert set(got) == set(want)
    for key, x in want.items():
        g = got[key]
        assert int(g.lines_at_stake) == x["lines_at_stake"], key
        if "commits" in x:
            assert int(g.commits) == x["commits"], key
        for k in ("first_commit", "last_commit"):
            if k in x:
                assert getattr(g, k) == pd.Timestamp(x[k]), key
        assert g.severity == s.rules.severity(g.rule)
        assert g.evidence and g.remediation
    flagged = set(f.loc[f.rule.str.startswith("ip."), "subject"])
    for person in ans["no_ip_findings_for"]:
        assert person not in flagged
    # Findings are sorted by severity, then lines at stake.
    ranks = [("critical", "high", "medium", "low", "info").index(x) for x in s.findings["severity"]]
    assert ranks == sorted(ranks)


def test_remediation_rows(sample_scans):
    _, ans, s = sample_scans["acme"]
    rem = s.remediation
    ip_subjects = {x["subject"] for x in ans["findings"] if x["rule"].startswith("ip.")}
    assert set(rem["subject"]) == ip_subjects
    r = rem.drop_duplicates("subject").set_index("subject")
    assert r.loc["CodeForge Ltd", "subject_type"] == "vendor" and r.loc["CodeForge Ltd", "lines_at_stake"] == 119
    # One row per gap: Dan's work before the assignment and after the end date need different documents
    # and periods, so neither row covers the months his signed agreement covers.
    dan = rem[rem["subject"] == "Dan Freelancer"].sort_values("period_start")
    assert set(dan["ip_document"]) == {"DF-2020-IPA"}
    assert [(f"{a:%Y-%m-%d}", f"{b:%Y-%m-%d}") for a, b in zip(dan["period_start"], dan["period_end"])] == \
        [("2020-07-06", "2020-09-01"), ("2021-02-10", "2021-02-10")]
    assert list(dan["lines_at_stake"]) == [58, 2]
    assert set(dan["contact"]) == {"dan.freelance@gmail.com"}
    assert set(rem["status"]) == {"Open"}


@pytest.mark.parametrize("name", SAMPLES)
def test_doa_authors_and_truck_factor(sample_scans, name):
    _, ans, s = sample_scans[name]
    doa = s.doa
    got = {p: sorted(g.loc[g["author"], "person"]) for p, g in doa.groupby("path")}
    assert got == ans["doa_authors"]
    bf = s.bus_factor.set_index("scope")["truck_factor"]
    assert int(bf["(repository)"]) == ans["truck_factor"]["repository"]
    for m, tf in ans["truck_factor"]["modules"].items():
        assert int(bf[m]) == tf, m
    js = s.to_json()
    assert js["bus_factor"] == ans["truck_factor"]
    assert js["summary"]["truck_factor"] == ans["truck_factor"]["repository"]


@pytest.mark.parametrize("name", SAMPLES)
def test_knowledge_findings(sample_scans, name):
    _, ans, s = sample_scans[name]
    f = s.findings[s.findings.rule.str.startswith("kn.")]
    assert sorted(zip(f.rule, f.subject)) == sorted((k["rule"], k["subject"]) for k in ans["knowledge_findings"])
    for k in ans["knowledge_findings"]:
        if k.get("vendor"):
            row = f[(f.rule == k["rule"]) & (f.subject == k["subject"])].iloc[0]
            assert row.vendor == k["vendor"]


def test_offboarding_simulation(sample_scans):
    _, ans, s = sample_scans["acme"]
    sim = s.simulate_departure(["CodeForge Ltd"]).set_index("scope")
    billing = [p for p in ans["doa_authors"] if p.startswith("billing/")]
    assert sim.loc["billing", "orphaned_files"] == len(billing) == 3
    assert sim.loc["billing", "truck_factor_after"] == 0
    assert sim.loc["(repository)", "truck_factor_before"] == ans["truck_factor"]["repository"]
    # Losing Alice orphans the core files only she knows.
    alice = s.simulate_departure("Alice Founder").set_index("scope")
    only_alice = sorted(p for p, a in ans["doa_authors"].items() if a == ["Alice Founder"])
    assert sorted(alice.loc["(repository)", "orphaned"]) == only_alice
    with pytest.raises(ddkit.InputError):
        s.simulate_departure(["Nobody Here"])


def test_trends(sample_scans):
    _, ans, s = sample_scans["acme"]
    t = s.trends.set_index("quarter")
    humans = sum(p["commits"] for p in ans["people"] if not p["is_bot"])
    assert int(t["commits"].sum()) == humans
    assert int(t.loc["2019Q1", "founder_commits"]) == 2 and int(t.loc["2022Q1", "vendor_commits"]) == 3
    assert 0 <= t["outsourced_share"].min() and t["outsourced_share"].max() <= 1
    assert t.loc["2022Q1", "outsourced_share"] > 0.5


@pytest.fixture(scope="session")
def license_scans(tmp_path_factory):
    scans = _scan_samples(tmp_path_factory.mktemp("lic"), secrets=False, jobs=2)
    return {name: (ans, s) for name, (_repo, ans, s) in scans.items()}


@pytest.mark.parametrize("name", SAMPLES)
def test_licenses(license_scans, name):
    ans, s = license_scans[name]
    lic = s.licenses.set_index("path")
    for x in ans["licenses"]:
        row = lic.loc[x["path"]]
        if x["license_spdx"]:
            # ScanCode may name more than one license for a notice; the one written must be among them.
            assert x["license_spdx"] in row["license_spdx"].split(" AND "), (x["path"], row["license_spdx"])
        assert list(row["holders"]) == x["holders"], x["path"]
        assert bool(row["vendored"]) == x["path"].startswith(("vendor/", "third_party/"))
    f = s.findings[s.findings.area == "license"]
    got = set()
    for r in f.itertuples():
        got.add((r.rule, r.subject if r.rule in ("lic.third-party-copyright",) else
                 (r.path if isinstance(r.path, str) else None)))
    want = set()
    for x in ans["license_findings"]:
        want.add((x["rule"], x.get("subject") if x["rule"] == "lic.third-party-copyright" else x.get("path")))
    assert got == want
    for x in ans["license_findings"]:
        if x.get("subjects"):
            assert sorted(f[(f.rule == x["rule"]) & (f.subject == x["subject"])].iloc[0]["subjects"]) == x["subjects"]
        if x.get("introduced_by") and x.get("path"):
            assert f[(f.rule == x["rule"]) & (f.path == x["path"])].iloc[0]["person"] == x["introduced_by"]
            assert x["introduced_by"] in f[(f.rule == x["rule"]) & (f.path == x["path"])].iloc[0]["evidence"]
    # Severities follow the policy for the company's outbound license.
    sev = dict(zip(f.rule, f.severity))
    if name == "acme":
        assert sev["lic.strong-copyleft"] == "high"
        gpl = f[f.rule == "lic.strong-copyleft"].iloc[0]
        assert "vendored" in gpl.evidence and "Bob Engineer (employee, IP assignment: signed)" in gpl.evidence
        assert int(gpl.line) >= 1 and int(gpl.end_line) >= int(gpl.line)
    elif name == "globex":
        assert sev["lic.network-copyleft"] == "critical" and sev["lic.weak-copyleft"] == "medium"
        assert sev["lic.third-party-copyright"] == "info"   # an Apache-2.0 product: notices are ordinary


def test_no_licenses_skips_the_stage(sample_scans):
    _, _, s = sample_scans["acme"]
    assert "licenses" not in s.timings and s.licenses.empty
    assert not (s.findings.area == "license").any()


@pytest.mark.parametrize("name", SAMPLES)
def test_retention_and_rewrite_scope_truth(sample_scans, name):
    """Whom to retain and the rewrite scopes equal the generator's own bookkeeping (answers.json)."""
    _, ans, s = sample_scans[name]
    got = [dict(rank=r.rank, person=r.person, files_known=r.files_known, files_orphaned=r.files_orphaned,
                orphaned_files=sorted(r.orphaned_files), modules_losing_knowledge=r.modules_losing_knowledge,
                repository_truck_factor_after=r.repository_truck_factor_after, surviving_lines=r.surviving_lines)
           for r in s.retention.itertuples()]
    want = [{k: x[k] for k in got[0]} for x in ans["retention"]] if got else []
    assert got == want and len(want) == len(ans["retention"])
    rw = s.rewrite_scope
    assert list(rw["subject"]) == [x["subject"] for x in ans["rewrite_scope"]]
    for r, t in zip(rw.itertuples(), ans["rewrite_scope"]):
        assert r.surviving_lines == t["surviving_lines"] and {f["path"]: f["lines"] for f in r.files} == t["files"]
        assert r.modules == t["modules"] and r.current_staff_who_know == t["current_staff_who_know"]
        assert r.nobody_on_staff_knows == t["nobody_on_staff_knows"]


@pytest.mark.parametrize("name", SAMPLES)
def test_workbook_tables_deferred_as_with_cells(sample_scans, name, tmp_path, monkeypatch):
    """The workbook with its tables' rows kept as values (xlsx_layout.DEFERRED) is the one their cells give,
    part by part (each saved with ddkit's row writer and with openpyxl's own)."""
    from ddkit.report import xlsx, xlsx_layout, xlsx_save
    from gitrepo import workbook_parts
    if not xlsx_save.VERIFIED:
        pytest.skip("xlsx_save's row writer is off with this openpyxl")
    s = sample_scans[name][2]
    out = {}
    for deferred, fast in ((True, True), (False, True), (False, False)):
        monkeypatch.setattr(xlsx_layout, "DEFERRED", deferred)
        monkeypatch.setattr(xlsx_save, "FAST", fast)
        out[deferred, fast] = workbook_parts(xlsx.write_workbook(s, tmp_path / f"{deferred}-{fast}.xlsx"))
    ref = out[False, False]
    for key, parts in out.items():
        assert list(parts) == list(ref), key
        for part in ref:
            assert parts[part] == ref[part], (key, part)
