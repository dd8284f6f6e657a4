"""Every scan of the sample repositories is compared to their answer files."""

import datetime as dt
import json
import subprocess
import sys

import pytest

import ddkit
from sample_repos.generate import HERE, SAMPLES, build


@pytest.fixture(scope="session")
def sample_scans(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    out = {}
    for name in SAMPLES:
        repo = build(name, root)
        ans = json.loads((HERE / name / "answers.json").read_text(encoding="utf-8"))
        scan = ddkit.scan(repo, roster=HERE / name / "roster.csv", company=HERE / name / "company.yaml",
                          as_of=ans["as_of"], licenses=False)
        out[name] = (repo, ans, scan)
    return out


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
        assert g["first_commit"] == dt.date.fromisoformat(p["first_commit"]), p["person"]
        assert g["last_commit"] == dt.date.fromisoformat(p["last_commit"]), p["person"]
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
    unresolved = [w for w in s.warnings if w.startswith("identity not resolved")]
    assert len(unresolved) == 2
    assert any("Ivan Outsider" in w for w in unresolved) and any("zed1984" in w for w in unresolved)


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
