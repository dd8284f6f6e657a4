"""Known vulnerabilities end to end: a sample repository built here (tests/gitrepo.py) with dependencies at
affected, fixed and unpinned versions in PyPI, npm, Go and Maven, one upgraded and one removed in the
history, scanned against the fixture OSV database tests/data/osv. Every expected answer (which dependency,
which advisory, severity, exposure window, who brought it in) is worked out by hand below from the fixture
advisories' ranges and the commits made here, not from ddkit's code."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import ddkit
from gitrepo import Repo, ddkit_cli

OSV = Path(__file__).resolve().parent / "data" / "osv"
AS_OF = "2024-03-01"   # 14 days after the fixture's newest advisory (2024-02-16): not stale

LOCK = {"name": "web", "version": "1.0.0", "lockfileVersion": 2, "requires": True,
        "packages": {"": {"name": "web", "version": "1.0.0", "dependencies": {"lodash": "^4.17.0"}},
                     "node_modules/lodash": {"version": "4.17.20", "license": "MIT"},
                     "node_modules/minimist": {"version": "1.2.5", "license": "MIT"}},
        "dependencies": {"lodash": {"version": "4.17.20"}, "minimist": {"version": "1.2.5"}}}
POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId>
  <artifactId>svc</artifactId>
  <version>1.0</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>2.14.1</version>
    </dependency>
  </dependencies>
</project>
"""
GO_MOD = "module example.com/svc\n\ngo 1.17\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.7.7\n\tgolang.org/x/text v0.3.6\n)\n"


def _none(v):
    # (pd.NA / NaT: the typed tables' missing values; a calendar day is a naive Timestamp)
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    return v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else v


def _day(v):
    return _none(v)


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    r = Repo(tmp_path_factory.mktemp("vulns") / "repo")
    shas = {}
    shas["alice"] = r.commit({"requirements.txt": "urllib3==1.26.5\nrequests>=2.20\nPyYAML==5.3\n", "app.py": "print(1)\n"},
                             name="Alice", email="alice@acme.example", date="2021-01-10T10:00:00+00:00")
    shas["bob"] = r.commit({"requirements-dev.txt": "pyyaml==5.1\n"}, name="Bob", email="bob@acme.example",
                           date="2021-02-01T10:00:00+00:00")
    shas["carol"] = r.commit({"requirements.txt": "urllib3==1.26.5\nrequests>=2.20\nPyYAML==5.4\n"}, name="Carol",
                             email="carol@acme.example", date="2021-06-01T10:00:00+00:00")
    pkg = '{\n  "name": "web",\n  "version": "1.0.0",\n  "dependencies": {\n    "lodash": "^4.17.0"\n  }\n}\n'
    shas["dave"] = r.commit({"package.json": pkg, "package-lock.json": json.dumps(LOCK, indent=2) + "\n",
                             "go.mod": GO_MOD, "pom.xml": POM}, name="Dave", email="dave@acme.example",
                            date="2021-09-01T10:00:00+00:00")
    shas["erin"] = r.commit({"go.mod": None}, name="Erin", email="erin@acme.example", date="2022-01-15T10:00:00+00:00")
    s = ddkit.scan(r.path, as_of=AS_OF, licenses=False, secrets=False, vuln_db=[OSV])
    return r, shas, s


def test_current_and_past_matches(sample):
    r, shas, s = sample
    lock_text = (r.path / "package-lock.json").read_text()
    got = {(v.name, v.advisory, v.current): v for v in s.vulnerabilities.itertuples()}
    # (package, primary advisory, at the ref?) -> version, fixed, severity, manifest, line, who, when, until
    want = {
        # log4j 2.14.1 in [2.13.0, 2.15.0); CVSS 10.0 critical; a runtime (compile-scope) dependency: critical.
        ("org.apache.logging.log4j:log4j-core", "GHSA-jfh8-c2jp-5v3q", True):
            ("2.14.1", "2.15.0", "critical", "pom.xml", _line(POM, "log4j-core"), "Dave", "2021-09-01", None),
        # lodash: package.json allows ^4.17.0 but the lockfile beside it resolves 4.17.20 (< 4.17.21): CVSS 7.2 high.
        ("lodash", "GHSA-35jh-r3h4-6jhm", True):
            ("4.17.20", "4.17.21", "high", "package-lock.json", _line(lock_text, '"node_modules/lodash"'), "Dave",
             "2021-09-01", None),
        # minimist 1.2.5, locked transitive, in [1.0.0, 1.2.6): CVSS 9.8 critical, runtime: critical.
        ("minimist", "GHSA-xvch-5gv4-984h", True):
            ("1.2.5", "1.2.6", "critical", "package-lock.json", _line(lock_text, '"node_modules/minimist"'), "Dave",
             "2021-09-01", None),
        # pyyaml==5.1 in requirements-dev.txt: < 5.4, CVSS 9.8 critical, dev-only: one level lower, high.
        ("pyyaml", "GHSA-8q59-q68h-6hv4", True):
            ("5.1", "5.4", "high", "requirements-dev.txt", 1, "Bob", "2021-02-01", None),
        # urllib3 1.26.5 < 1.26.17: GHSA-v845 (CVSS 5.9 medium) and PYSEC-2023-192, one vulnerability.
        ("urllib3", "GHSA-v845-jxx5-vc9f", True):
            ("1.26.5", "1.26.17", "medium", "requirements.txt", 1, "Alice", "2021-01-10", None),
        # requests>=2.20 meets [2.3.0, 2.31.0): CVSS 6.1 medium, unpinned: one level lower, low.
        ("requests", "GHSA-j8r2-6x86-q33q", True):
            (">=2.20", "2.31.0", "low", "requirements.txt", 2, "Alice", "2021-01-10", None),
        # PyYAML==5.3 from Alice's first commit until Carol's upgrade to 5.4: fixed in the history (info).
        ("pyyaml", "GHSA-8q59-q68h-6hv4", False):
            ("5.3", "5.4", "info", "requirements.txt", None, "Alice", "2021-01-10", "2021-06-01"),
        # golang.org/x/text v0.3.6 < 0.3.7 from Dave's commit until Erin deleted go.mod: removed (info).
        ("golang.org/x/text", "GO-2021-0113", False):
            ("v0.3.6", None, "info", "go.mod", None, "Dave", "2021-09-01", "2022-01-15"),
    }
    assert set(got) == set(want)
    for k, (version, fixed, sev, manifest, line, who, since, until) in want.items():
        v = got[k]
        assert (v.version, _none(v.fixed), v.severity, v.manifest, v.added_by, _day(v.exposed_from)) == \
            (version, fixed, sev, manifest, who, since), k
        assert (None if _none(v.exposed_until) is None else _day(v.exposed_until)) == until, k
        if line is not None:
            assert int(v.line) == line, k
    by = {k: got[k] for k in got}
    assert by[("pyyaml", "GHSA-8q59-q68h-6hv4", False)].fixed_by == "Carol"
    assert by[("pyyaml", "GHSA-8q59-q68h-6hv4", False)].status == "fixed in history"
    assert by[("pyyaml", "GHSA-8q59-q68h-6hv4", False)].introduced_sha == shas["alice"]
    assert by[("pyyaml", "GHSA-8q59-q68h-6hv4", False)].fixed_sha == shas["carol"]
    assert by[("golang.org/x/text", "GO-2021-0113", False)].status == "removed in history"
    assert by[("golang.org/x/text", "GO-2021-0113", False)].fixed_by == "Erin"
    assert by[("urllib3", "GHSA-v845-jxx5-vc9f", True)].aliases == ["CVE-2023-43804", "PYSEC-2023-192"]
    assert by[("urllib3", "GHSA-v845-jxx5-vc9f", True)].introduced_sha == shas["alice"]
    assert by[("requests", "GHSA-j8r2-6x86-q33q", True)].match == "range"
    assert bool(by[("minimist", "GHSA-xvch-5gv4-984h", True)].direct) is False   # (a boolean column)


def test_findings_one_per_package_and_vulnerability(sample):
    _r, _shas, s = sample
    f = s.findings[s.findings["rule"] == "dep.known-vulnerability"]
    got = {(x.subject, str(x.severity), x.path) for x in f.itertuples()}
    assert got == {("org.apache.logging.log4j:log4j-core (maven)", "critical", "pom.xml"),
                   ("lodash (npm)", "high", "package-lock.json"), ("minimist (npm)", "critical", "package-lock.json"),
                   ("pyyaml (pypi)", "high", "requirements-dev.txt"), ("urllib3 (pypi)", "medium", "requirements.txt"),
                   ("requests (pypi)", "low", "requirements.txt")}
    u = f[f["subject"] == "urllib3 (pypi)"].iloc[0]
    assert "GHSA-v845-jxx5-vc9f" in u.evidence and "CVE-2023-43804" in u.evidence and "PYSEC-2023-192" in u.evidence
    assert "Upgrade urllib3 to 1.26.17" in u.remediation
    req = f[f["subject"] == "requests (pypi)"].iloc[0]
    assert "unpinned" in req.evidence and "pin it" in req.remediation
    # The past exposure is not a finding.
    assert not any("go.mod" == p for p in f["path"])


def test_summary_and_reports(sample, tmp_path):
    _r, _shas, s = sample
    v = s.summary["vulnerabilities"]
    assert v["assessed"] and v["snapshot"] == "2024-02-16" and v["snapshot_age_days"] == 14 and not v["stale"]
    assert v["open"] == 6 and v["fixed_in_history"] == 2
    assert "vulnerabilities (no --vuln-db given)" not in s.summary.get("not_assessed", [])
    d = s.to_json()
    assert len(d["vulnerabilities"]) == 8
    first = d["vulnerabilities"][0]
    assert list(first)[:11] == ["advisory", "aliases", "name", "ecosystem", "version", "fixed", "current",
                                "introduced_sha", "added_by", "exposed_from", "exposed_until"]
    sarif = s.to_sarif(tmp_path / "r.sarif")
    res = [x for x in sarif["runs"][0]["results"] if x["ruleId"] == "dep.known-vulnerability"]
    locs = {(x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             x["locations"][0]["physicalLocation"]["region"]["startLine"]) for x in res}
    assert ("requirements.txt", 1) in locs and ("requirements-dev.txt", 1) in locs and len(res) == 6
    bom = s.to_sbom(tmp_path / "bom.json")
    ids = {x["id"] for x in bom["vulnerabilities"]}
    assert ids == {"GHSA-jfh8-c2jp-5v3q", "GHSA-35jh-r3h4-6jhm", "GHSA-xvch-5gv4-984h", "GHSA-8q59-q68h-6hv4",
                   "GHSA-v845-jxx5-vc9f", "GHSA-j8r2-6x86-q33q"}
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str((tmp_path / "bom.json").read_text()) is None
    s.to_excel(tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    names = wb.sheetnames
    assert names.index("Vulnerabilities") == names.index("Dependencies") + 1
    ws = wb["Vulnerabilities"]
    assert ws.max_row == 1 + 8
    meth = " ".join(str(c.value) for row in wb["Methodology"].iter_rows() for c in row if c.value)
    assert "Vulnerability snapshot" in meth and "2024-02-16" in meth


def test_without_a_database_not_assessed(sample, tmp_path):
    r, _shas, _s = sample
    s = ddkit.scan(r.path, as_of=AS_OF, licenses=False, secrets=False)
    assert "vulnerabilities (no --vuln-db given)" in s.summary["not_assessed"]
    assert s.summary["partial"] is True and s.summary["rating"] != "green" and s.summary["readiness_score"] < 80
    assert s.vulnerabilities.empty and not (s.findings["rule"] == "dep.known-vulnerability").any()
    assert s.to_json()["vulnerabilities"] == []


def test_stale_database_warns(sample):
    r, _shas, _s = sample
    s = ddkit.scan(r.path, as_of="2024-04-01", licenses=False, secrets=False, vuln_db=OSV)
    assert s.summary["vulnerabilities"]["stale"] is True
    assert any("snapshot is from 2024-02-16, 45 days before" in w for w in s.warnings)


def test_cli_vuln_db_option_and_bad_path(sample, tmp_path):
    r, _shas, _s = sample
    p = ddkit_cli("scan", r.path, "--no-licenses", "--no-secrets", "--as-of", AS_OF, "--vuln-db",
                  tmp_path / "missing", "--quiet")
    assert p.returncode == 2 and "--vuln-db" in p.stderr and "Traceback" not in p.stderr
    out = tmp_path / "r.json"
    p = ddkit_cli("scan", r.path, "--no-licenses", "--no-secrets", "--as-of", AS_OF, "--vuln-db", OSV / "PyPI",
                  "--vuln-db", OSV / "npm", "--json", out, "--quiet", "--fail-on", "critical")
    assert p.returncode == 1, p.stderr           # minimist is critical
    d = json.loads(out.read_text())
    assert {v["name"] for v in d["vulnerabilities"] if v["current"]} == {"lodash", "minimist", "pyyaml", "urllib3",
                                                                         "requests"}


def test_a_side_branch_does_not_reopen_a_window(tmp_path):
    """Main upgrades urllib3 past the advisory; a branch made before the upgrade (and committed after it)
    changes another line and is merged. Along the main line the affected version left once and never came
    back; read in git's order of every commit, the branch's older copy of the file would reopen it."""
    from ddkit.analyze.vulnerabilities import Matcher, exposure
    from ddkit.collect import vulndb
    from ddkit.collect.dep_history import manifest_versions
    r = Repo(tmp_path / "repo")
    c1 = r.commit({"requirements.txt": "urllib3==1.26.5\nflask==2.0\nsix==1.16.0\n"}, name="Alice",
                  email="alice@acme.example", date="2021-01-10T10:00:00+00:00")
    r.git("checkout", "-q", "-b", "side")
    r.git("checkout", "-q", "main")
    c2 = r.commit({"requirements.txt": "urllib3==1.26.17\nflask==2.0\nsix==1.16.0\n"}, name="Carol",
                  email="carol@acme.example", date="2021-03-01T10:00:00+00:00")
    r.git("checkout", "-q", "side")
    r.commit({"requirements.txt": "urllib3==1.26.5\nflask==2.0\nsix==1.15.0\n"}, name="Bob", email="bob@acme.example",
             date="2021-04-01T10:00:00+00:00")
    r.git("checkout", "-q", "main")
    r.git("merge", "-q", "--no-ff", "-m", "merge side", "side", env=r.env("Carol", "carol@acme.example",
                                                                          "2021-05-01T10:00:00+00:00"))
    assert "urllib3==1.26.17" in (r.path / "requirements.txt").read_text()
    s = ddkit.scan(r.path, as_of=AS_OF, licenses=False, secrets=False, vuln_db=OSV / "PyPI")
    past = s.vulnerabilities[s.vulnerabilities["name"] == "urllib3"]
    assert len(past) == 1 and not past["current"].iloc[0]
    row = past.iloc[0]
    assert (row.introduced_sha, row.fixed_sha, row.fixed, _day(row.exposed_until)) == (c1, c2, "1.26.17", "2021-03-01")
    # Positive control: the same history read in git's order of every commit reopens the window at Bob's commit.
    db = vulndb.load(OSV / "PyPI")
    assert db is not None
    every, _ = manifest_versions(str(r.path), s.changes, s.commits, lambda p: False, None, commit=None)
    wins = [w for w in exposure(every, Matcher(db)) if w.key == ("pypi", "urllib3")]
    assert any(w.end_sha is None for w in wins)      # open again at the ref: the wrong answer


def test_cargo_rubygems_and_packagist_lockfiles(tmp_path):
    """crates.io, RubyGems and Packagist through their lockfiles (tests/data/osv-more): time 0.1.44 < 0.2.23,
    smallvec 1.6.0 in [1.0.0, 1.6.1), nokogiri 1.10.3 < 1.10.5 and guzzle 7.4.0 in [7.0.0, 7.4.4), each found on
    its lockfile. (guzzle was taken for the repository's own package before: ScanCode reads composer.lock's
    locked packages as composer.json data.)"""
    r = Repo(tmp_path / "repo")
    r.commit({
        "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\ntime = "0.1.40"\nsmallvec = "=1.6.0"\n',
        "Cargo.lock": 'version = 3\n\n[[package]]\nname = "app"\nversion = "0.1.0"\ndependencies = ["time", "smallvec"]\n\n'
                      '[[package]]\nname = "time"\nversion = "0.1.44"\n\n[[package]]\nname = "smallvec"\nversion = "1.6.0"\n',
        "Gemfile.lock": "GEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.10.3)\n\nPLATFORMS\n  ruby\n\n"
                        "DEPENDENCIES\n  nokogiri (= 1.10.3)\n",
        "composer.json": json.dumps({"name": "acme/app", "require": {"guzzlehttp/guzzle": "7.4.0"}}, indent=2) + "\n",
        "composer.lock": json.dumps({"packages": [{"name": "guzzlehttp/guzzle", "version": "7.4.0", "license": ["MIT"]}],
                                     "packages-dev": []}, indent=2) + "\n"},
        name="Alice", email="alice@acme.example", date="2022-01-10T10:00:00+00:00")
    s = ddkit.scan(r.path, as_of="2024-01-15", licenses=False, secrets=False, vuln_db=OSV.parent / "osv-more")
    got = {(v.name, v.advisory, v.version, v.fixed, v.manifest, v.severity) for v in s.vulnerabilities.itertuples()}
    assert got == {("time", "RUSTSEC-2020-0071", "0.1.44", "0.2.23", "Cargo.lock", "medium"),
                   ("smallvec", "RUSTSEC-2021-0003", "1.6.0", "1.6.1", "Cargo.lock", "medium"),
                   ("nokogiri", "GHSA-7rrm-v45f-jp64", "1.10.3", "1.10.5", "Gemfile.lock", "high"),
                   ("guzzlehttp/guzzle", "GHSA-f2wf-25xc-69c9", "7.4.0", "7.4.4", "composer.lock", "high")}
