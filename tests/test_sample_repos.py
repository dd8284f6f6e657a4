"""The sample repositories are reproducible and their answers agree with git itself."""

import csv
import json
import re
import subprocess

import pytest
from sample_repos.generate import HERE, SAMPLES, answers, build, build_synthetic


def _git(path, *args):
    return subprocess.run(["git", "-C", str(path), *args], capture_output=True, check=True).stdout


@pytest.mark.parametrize("name", SAMPLES)
def test_reproducible_and_answers_committed(name, tmp_path):
    a = build(name, tmp_path / "one")
    b = build(name, tmp_path / "two")
    fmt = "--format=%H %an %ae %ad %cn %ce %cd"
    assert _git(a, "log", fmt) == _git(b, "log", fmt)
    assert _git(a, "rev-parse", "HEAD") == _git(b, "rev-parse", "HEAD")
    committed = json.loads((HERE / name / "answers.json").read_text(encoding="utf-8"))
    assert committed == answers(name), "run: python sample_repos/generate.py --write-answers"
    assert int(_git(a, "rev-list", "--count", "HEAD")) == committed["commit_count"]
    assert committed["head"] == _git(a, "rev-parse", "HEAD").decode().strip()


def _person_of(email: str, name: str, roster: dict[str, str]) -> str:
    e = re.sub(r"^\d+\+", "", email.strip("<>").lower())
    return roster.get(e, name)


@pytest.mark.parametrize("name", SAMPLES)
def test_answers_match_git_blame(name, tmp_path):
    """The bookkeeping's surviving lines per file and person equal `git blame -w` with the ignore-revs file."""
    repo = build(name, tmp_path)
    ans = json.loads((HERE / name / "answers.json").read_text(encoding="utf-8"))
    roster = {}
    with open(HERE / name / "roster.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            for e in r["emails"].split(";"):
                roster[e.strip().lower()] = r["person"]
    extra = []
    if (repo / ".git-blame-ignore-revs").exists():
        extra = ["--ignore-revs-file", ".git-blame-ignore-revs"]
    for path, expected in ans["ownership"].items():
        out = _git(repo, "blame", "-w", "--line-porcelain", *extra, "HEAD", "--", path).decode("utf-8", "replace")
        got: dict[str, int] = {}
        author = None
        for line in out.splitlines():
            if line.startswith("author "):
                author = line[7:]
            elif line.startswith("author-mail "):
                p = _person_of(line[12:], author, roster)
                got[p] = got.get(p, 0) + 1
        assert got == expected, path
    assert sum(ans["scanned_files"].values()) == ans["total_scanned_lines"]
    assert sum(sum(o.values()) for o in ans["ownership"].values()) == ans["total_scanned_lines"]


def test_synthetic_is_deterministic(tmp_path):
    a = build_synthetic(600, tmp_path / "a")
    b = build_synthetic(600, tmp_path / "b")
    assert _git(a, "rev-parse", "HEAD") == _git(b, "rev-parse", "HEAD")
    assert int(_git(a, "rev-list", "--count", "HEAD")) == 600
