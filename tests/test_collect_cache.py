"""The files and blame stages' re-scan caches give exactly what the uncached way gives.

Files: git's line counts and binary verdicts are kept per (path, mode, blob) and keyed by every source of
attributes and configuration, so a re-scan diffs only the paths it has not seen. Blame: the results of
the last scan of a repository are read as one entry instead of one file per text file. A damaged entry,
or one naming a commit outside the scanned history, is recomputed, never trusted.
"""

from __future__ import annotations

import pickle
import subprocess

import pandas as pd
import pytest

from ddkit import cache, gitutil
from ddkit.collect import blame as blame_mod
from ddkit.collect import history as history_mod
from ddkit.collect import incremental, tree
from ddkit.config import load_company, load_rules
from ddkit.samples import build_sample


def _git(path, *args):
    return subprocess.run(["git", "-C", str(path), "-c", "user.name=T", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args], capture_output=True, check=True).stdout.decode()


def _diffs(monkeypatch):
    """The argument lists of the `git diff` runs the files stage makes."""
    calls: list[list[str]] = []
    real = gitutil.run

    def run(repo, *args, **kw):
        if args and args[0] == "diff":
            calls.append(list(args))
        return real(repo, *args, **kw)
    monkeypatch.setattr(gitutil, "run", run)
    return calls


@pytest.fixture
def sample(tmp_path, monkeypatch):
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    return build_sample("acme", tmp_path / "s").repo


def _files(repo, cached: bool, monkeypatch) -> pd.DataFrame:
    rules, company = load_rules(None), load_company(None)
    head = _git(repo, "rev-parse", "HEAD").strip()
    with monkeypatch.context() as m:
        if not cached:      # the whole-tree diff, no cache: the way before
            m.setattr(tree, "_attribute_sources", lambda *a: None)
        return tree.list_files(str(repo), head, rules, company)


def _same(repo, monkeypatch) -> pd.DataFrame:
    cached = _files(repo, True, monkeypatch)
    pd.testing.assert_frame_equal(cached, _files(repo, False, monkeypatch))
    return cached.set_index("path")


def test_line_counts_cached_equal_the_whole_diff_as_attributes_change(sample, monkeypatch):
    first = _same(sample, monkeypatch)
    assert first.loc["README.md", "category"] == "text" and first.loc["README.md", "lines"] > 0
    assert first.loc["assets/logo.png", "category"] == "binary"
    # A committed .gitattributes marking Markdown -diff, a rename, a new file.
    (sample / ".gitattributes").write_text("*.md -diff\n")
    _git(sample, "mv", "core/helpers.py", "core/util.py")
    (sample / "core" / "new.py").write_text("x = 1\ny = 2\n")
    _git(sample, "add", "-A")
    _git(sample, "commit", "-qm", "attributes, rename, new file")
    second = _same(sample, monkeypatch)
    assert second.loc["README.md", "category"] == "binary" and second.loc["docs/hashes.md", "lines"] == 0
    assert second.loc["core/util.py", "lines"] == first.loc["core/helpers.py", "lines"] > 0
    assert second.loc["core/new.py", "lines"] == 2
    # Attributes git reads that no commit holds: the work tree's files and info/attributes.
    (sample / "api" / ".gitattributes").write_text("routes.py binary\n")
    third = _same(sample, monkeypatch)
    assert third.loc["api/routes.py", "category"] == "binary" and third.loc["api/server.py", "category"] == "text"
    (sample / "api" / ".gitattributes").unlink()
    (sample / ".gitattributes").write_text("*.md diff\n")          # forced text, uncommitted
    (sample / ".git" / "info").mkdir(exist_ok=True)
    (sample / ".git" / "info" / "attributes").write_text("core/fx.py -diff\n")
    fourth = _same(sample, monkeypatch)
    assert fourth.loc["README.md", "category"] == "text" and fourth.loc["core/fx.py", "category"] == "binary"
    # Configuration: big files are binary to git's diff.
    _git(sample, "config", "core.bigFileThreshold", "200")
    fifth = _same(sample, monkeypatch)
    assert fifth.loc["core/ledger.py", "category"] == "binary" != fourth.loc["core/ledger.py", "category"]


def test_rescan_diffs_only_the_changed_paths(sample, monkeypatch):
    calls = _diffs(monkeypatch)
    first = _files(sample, True, monkeypatch)
    assert len(calls) == 1 and calls[0][-1] == "--"                 # cold: the whole tree
    calls.clear()
    pd.testing.assert_frame_equal(_files(sample, True, monkeypatch), first)
    assert calls == []                                               # nothing changed: no diff at all
    (sample / "core" / "fx.py").write_text("rate = 2\n" * 7)
    (sample / "new file\twith tab.py").write_text("a = 1\n")
    _git(sample, "add", "-A")
    _git(sample, "commit", "-qm", "one change, one new file")
    again = _files(sample, True, monkeypatch)
    assert len(calls) == 1
    assert calls[0][calls[0].index("--") + 1:] == [":(literal)core/fx.py", ":(literal)new file\twith tab.py"]
    calls.clear()
    pd.testing.assert_frame_equal(again, _files(sample, False, monkeypatch))
    assert again.set_index("path").loc["core/fx.py", "lines"] == 7
    # Many paths not seen: one diff of the whole tree.
    monkeypatch.setattr(tree, "NARROW_MAX", 1)
    for n in range(3):
        (sample / f"more{n}.py").write_text("x\n" * (n + 1))
    _git(sample, "add", "-A")
    _git(sample, "commit", "-qm", "three files")
    calls.clear()
    _files(sample, True, monkeypatch)
    assert len(calls) == 1 and calls[0][-1] == "--"


@pytest.mark.parametrize("damage", ["garbage", "wrong-shape"])
def test_damaged_line_counts_entry_is_recomputed(sample, tmp_path, monkeypatch, damage):
    first = _files(sample, True, monkeypatch)
    entry = next((tmp_path / "c" / "incremental").rglob("numstat/*.pkl"))
    raw = entry.read_bytes()
    if damage == "garbage":
        entry.write_bytes(raw[:-20] + b"x" * 20)
    else:
        # Well sealed, but a count that cannot be one: not trusted.
        kind, body = cache.inspect(entry)
        payload = pickle.loads(body)
        path = next(iter(payload))
        payload[path] = (payload[path][0], payload[path][1], "many")
        cache.save(entry, cache.pickle_codec(kind), payload)
    calls = _diffs(monkeypatch)
    pd.testing.assert_frame_equal(_files(sample, True, monkeypatch), first)
    assert len(calls) == 1 and calls[0][-1] == "--"                 # recomputed whole
    calls.clear()
    _files(sample, True, monkeypatch)
    assert calls == []                                               # ...and rewritten


def test_line_counts_cached_in_a_bare_repository(sample, tmp_path, monkeypatch):
    bare = tmp_path / "bare.git"
    _git(tmp_path, "clone", "-q", "--bare", str(sample), str(bare))
    _same(bare, monkeypatch)
    calls = _diffs(monkeypatch)
    for change in ({"core/fx.py": "rate = 3\n"}, {".gitattributes": "*.py -diff\n"}):
        for name, text in change.items():
            (sample / name).write_text(text)
        _git(sample, "add", "-A")
        _git(sample, "commit", "-qm", "change")
        _git(bare, "fetch", "-q", str(sample), "+main:main")
        calls.clear()
        _same(bare, monkeypatch)
        if ".gitattributes" in change:      # (recent gits read HEAD's attributes in a bare repository)
            assert len(calls) == 2 and calls[0][-1] == "--"
        else:
            assert len(calls) == 2 and calls[0][calls[0].index("--") + 1:] == [":(literal)core/fx.py"]


# ----------------------------------------------------------------------------- blame
def _blame(repo, monkeypatch, speculate=False):
    """Blame at HEAD, with the per-file cache lookups and the blames counted (a file added once and never
    changed, whose blame comes from the history, counts as blamed: computed, not taken from a cache)."""
    info = gitutil.open_repo(repo)
    files = tree.list_files(info.path, info.commit, load_rules(None), load_company(None))
    h = history_mod.collect_history(info.path, info.commit)
    n = {"files": 0, "blamed": 0}
    real_get, real_blame = blame_mod.BlameCache.get, blame_mod.BlameJob._blame
    real_hist = blame_mod.BlameJob._from_history

    def from_history(self, *a):
        got = real_hist(self, *a)
        if got is not None:
            n["blamed"] += 1
        return got
    with monkeypatch.context() as m:
        m.setattr(blame_mod.BlameJob, "_from_history", from_history)
        m.setattr(blame_mod.BlameCache, "get", lambda self, *a: n.__setitem__("files", n["files"] + 1)
                  or real_get(self, *a))
        m.setattr(blame_mod.BlameJob, "_blame", lambda self, *a: n.__setitem__("blamed", n["blamed"] + 1)
                  or real_blame(self, *a))
        job = blame_mod.BlameJob(info.path, info.commit, files, jobs=2, speculate=speculate)
        job.know(h.changes, h.commits["sha"])
        df, warnings, stats = job.result()
    return df, n, h


def _entry(tmp_path):
    found = list((tmp_path / "c" / "incremental").rglob("blame/*.pkl"))
    assert len(found) == 1
    return found[0]


def _reseal(entry, edit):
    kind, body = cache.inspect(entry)
    payload = pickle.loads(body)
    edit(payload)
    cache.save(entry, cache.pickle_codec(kind), payload)


@pytest.mark.parametrize("speculate", [False, True])
def test_blame_rescan_reads_one_entry_and_equals_cold(sample, tmp_path, monkeypatch, speculate):
    cold, n, _ = _blame(sample, monkeypatch, speculate)
    assert n["blamed"] > 0
    entry = _entry(tmp_path)
    saves = []
    real_save = incremental.Store.save
    monkeypatch.setattr(incremental.Store, "save", lambda self, *a: saves.append(self.stage) or real_save(self, *a))
    again, n, _ = _blame(sample, monkeypatch)
    pd.testing.assert_frame_equal(again, cold)
    assert n == {"files": 0, "blamed": 0}             # no per-file cache file read, nothing blamed
    assert "blame" not in saves                       # unchanged: not rewritten
    # One new commit: only its file is looked up (and blamed); the entry is rewritten with this scan's keys.
    (sample / "core" / "fx.py").write_text("rate = 2\n")
    _git(sample, "commit", "-qam", "one file")
    after, n, _ = _blame(sample, monkeypatch)
    assert n == {"files": 1, "blamed": 1} and "blame" in saves
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "cold"))
    plain, _, _ = _blame(sample, monkeypatch)
    pd.testing.assert_frame_equal(after, plain)
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    keys = pickle.loads(cache.inspect(entry)[1])
    assert len(keys) == plain["path"].nunique()       # this scan's files only


@pytest.mark.parametrize("damage", ["garbage", "wrong-shape", "unknown-commit"])
def test_damaged_or_untrusted_blame_entry_is_not_used(sample, tmp_path, monkeypatch, damage):
    good, _, h = _blame(sample, monkeypatch)
    entry = _entry(tmp_path)
    fake = "f" * 40

    def spoil():
        if damage == "garbage":
            raw = entry.read_bytes()
            entry.write_bytes(raw[:-30] + b"x" * 30)
        elif damage == "wrong-shape":
            _reseal(entry, lambda p: p.update({k: [1, 2] for k in p}))
        else:
            # Well sealed and well formed, but crediting a commit that is not in the scanned history.
            _reseal(entry, lambda p: p.update({k: {fake: 5} for k in p}))
    spoil()
    again, n, _ = _blame(sample, monkeypatch)
    pd.testing.assert_frame_equal(again, good)
    assert fake not in set(again["sha"]) and n["files"] == again["path"].nunique() and n["blamed"] == 0
    # Also without the per-file cache: blamed again, never taken from the entry.
    spoil()
    for f in (tmp_path / "c" / "blame").rglob("*.json"):
        f.unlink()
    again, n, _ = _blame(sample, monkeypatch)
    pd.testing.assert_frame_equal(again, good)
    assert n["blamed"] == again["path"].nunique()
    # ...and the entry was rewritten whole: the next run reads nothing else.
    _, n, _ = _blame(sample, monkeypatch)
    assert n == {"files": 0, "blamed": 0}
