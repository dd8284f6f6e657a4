"""A re-scan that reads only OLD..NEW gives exactly what a cold scan gives (issue: fast and incremental)."""

from __future__ import annotations

import pickle
import shutil

import pandas as pd
import pytest

import ddkit
from ddkit import cache
from ddkit.collect import history as history_mod
from ddkit.collect import incremental
from ddkit.collect import secrets as secrets_mod

AS_OF = "2024-06-30"
TOKEN = "ghp_" + "R7mQ2xK9pL4vN8wT3zY6bC1dF5gH0jS2aE7u"   # GitHub token format (fake)
PASSWORD = 'db_password = "Zq8!vLm2Rt7wXp"\n'


def _json(repo, cache, monkeypatch, tmp_path, label):
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(cache))
    s = ddkit.scan(str(repo.path), as_of=AS_OF, licenses=False)
    out = tmp_path / f"{label}.json"
    s.to_json(out)
    return s, out.read_text()


def _cold(repo, tmp_path, monkeypatch, label):
    """A scan with no incremental entry at all (the rest of the cache kept: it is not under test here)."""
    cold = tmp_path / f"cache-{label}"
    kf = tmp_path / "warm" / "kingfisher"        # compiled provider rules: no result lives there
    if kf.is_dir():
        cold.mkdir(mode=0o700)
        (cold / "kingfisher").symlink_to(kf)
        # (sealed with the warm cache's key: the same user's cache, only without its results)
        shutil.copy(tmp_path / "warm" / cache.KEY_FILE, cold / cache.KEY_FILE)
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(cold))
    return _json(repo, cold, monkeypatch, tmp_path, label)


def _history_repo(make_repo):
    r = make_repo()
    r.commit({"app.py": "print(1)\n", "README.md": "# app\n"}, name="Ann", email="ann@acme.com",
             date="2021-01-01T10:00:00+00:00")
    r.commit({"config.py": PASSWORD}, name="Bob", email="bob@acme.com", date="2021-02-01T10:00:00+00:00")
    r.commit({"ci.yml": f"token: {TOKEN}\n"}, name="Ann", email="ann@acme.com", date="2021-03-01T10:00:00+00:00")
    return r


@pytest.mark.slow
def test_rescan_equals_cold_after_new_commits(make_repo, tmp_path, monkeypatch):
    r = _history_repo(make_repo)
    warm = tmp_path / "warm"
    _json(r, warm, monkeypatch, tmp_path, "first")
    # New commits: a rename, an edit, a side branch with OLDER dates merged in (date order interleaves).
    r.git("checkout", "-q", "-b", "side", "HEAD~1")
    r.commit({"lib/old.py": "x = 1\n"}, name="Cy", email="cy@vendor.io", date="2021-02-15T10:00:00+00:00")
    r.git("checkout", "-q", "main")
    r.git("mv", "app.py", "main.py")
    r.commit({"main.py": "print(2)\n"}, name="Ann", email="ann@acme.com", date="2021-04-01T10:00:00+00:00")
    r.git("merge", "-q", "--no-ff", "-m", "merge side", "side",
          env=r.env("Ann", "ann@acme.com", "2021-05-01T10:00:00+00:00"))
    r.commit({"deploy.sh": f"export GH={TOKEN[:-1]}Q\n"}, name="Bob", email="bob@acme.com",
             date="2021-06-01T10:00:00+00:00")

    reads = []
    real = history_mod._read
    monkeypatch.setattr(history_mod, "_read", lambda repo, c, excl, ren, *a: reads.append(excl) or real(repo, c, excl, ren, *a))
    s_warm, j_warm = _json(r, warm, monkeypatch, tmp_path, "warm")
    assert reads and all(x is not None for x in reads)          # only OLD..NEW was read
    s_cold, j_cold = _cold(r, tmp_path, monkeypatch, "cold")
    assert j_warm == j_cold
    pd.testing.assert_frame_equal(s_warm.commits, s_cold.commits)
    pd.testing.assert_frame_equal(s_warm.changes, s_cold.changes)
    pd.testing.assert_frame_equal(s_warm.security, s_cold.security)
    assert len(s_warm.commits) == 7
    assert (s_warm.findings["rule"] == "sec.secret-in-tree").sum() >= 2


@pytest.mark.slow
def test_rescan_after_branch_switch_and_force_push(make_repo, tmp_path, monkeypatch):
    r = _history_repo(make_repo)
    warm = tmp_path / "warm"
    _json(r, warm, monkeypatch, tmp_path, "main")
    # A branch that forked before the secret commits: not a descendant of the cached commit.
    r.git("checkout", "-q", "-b", "other", "HEAD~2")
    r.commit({"other.py": f"key = '{TOKEN}'\n"}, name="Dee", email="dee@acme.com", date="2021-07-01T10:00:00+00:00")
    checked = []
    real = incremental.is_ancestor
    monkeypatch.setattr(incremental, "is_ancestor", lambda *a: checked.append(a) or real(*a))
    assert _json(r, warm, monkeypatch, tmp_path, "w-other")[1] == _cold(r, tmp_path, monkeypatch, "c-other")[1]
    assert checked and not any(real(*a) for a in checked)           # detected: no ancestor, so a cold read
    # Back to main: the cached entry of main's commit is taken as it is.
    r.git("checkout", "-q", "main")
    assert _json(r, warm, monkeypatch, tmp_path, "w-main")[1] == _cold(r, tmp_path, monkeypatch, "c-main")[1]
    # Force-push: main rewritten (the secret commit amended away, a new one on top).
    r.git("reset", "-q", "--hard", "HEAD~2")
    r.commit({"config.py": "db_password = os.environ['DB']\n"}, name="Bob", email="bob@acme.com",
             date="2021-02-02T10:00:00+00:00")
    s_w, j_w = _json(r, warm, monkeypatch, tmp_path, "w-rewrite")
    s_c, j_c = _cold(r, tmp_path, monkeypatch, "c-rewrite")
    assert j_w == j_c
    assert len(s_w.commits) == 2 and not s_w.security["fingerprint"].notna().any() if s_w.security is not None \
        and "fingerprint" in s_w.security else True
    pd.testing.assert_frame_equal(s_w.commits, s_c.commits)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong-shape", "other-commit"])
def test_corrupt_cache_entry_is_recomputed(make_repo, tmp_path, monkeypatch, damage):
    r = _history_repo(make_repo)
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    head = r.git("rev-parse", "HEAD")
    good = history_mod.collect_history(str(r.path), head)
    good_sec, _ = secrets_mod.scan_history(str(r.path), head)
    entries = sorted((tmp_path / "c" / "incremental").rglob("*.pkl"))
    assert len(entries) == 2                                      # history and secrets
    for p in entries:
        raw = p.read_bytes()
        if damage == "truncate":
            p.write_bytes(raw[: len(raw) // 2])
        elif damage == "garbage":
            p.write_bytes(raw[:-10] + b"0123456789")
        else:
            # A well-formed entry (sealed with this cache's key) whose content cannot be right: a payload of
            # another shape, or one sealed for another commit and copied over this one's name.
            kind, body = cache.inspect(p)
            codec = cache.pickle_codec(kind)
            if damage == "wrong-shape":
                cache.save(p, codec, {"commits": "not a table", "rows": [1, 2]})
            else:
                other = p.with_name(p.name.replace(head, "0" * 40))
                cache.save(other, codec, pickle.loads(body))
                assert cache.load(other, codec) is not None          # positive control: sealed right there
                p.write_bytes(other.read_bytes())
                other.unlink()
    reads = []
    real = history_mod._read
    monkeypatch.setattr(history_mod, "_read", lambda repo, c, excl, ren, *a: reads.append(excl) or real(repo, c, excl, ren, *a))
    again = history_mod.collect_history(str(r.path), head)
    again_sec, _ = secrets_mod.scan_history(str(r.path), head)
    assert reads == [None]                                        # recomputed from scratch
    pd.testing.assert_frame_equal(again.commits, good.commits)
    pd.testing.assert_frame_equal(again.changes, good.changes)
    pd.testing.assert_frame_equal(again_sec, good_sec)
    # ...and rewritten whole: the next read takes the entry.
    reads.clear()
    history_mod.collect_history(str(r.path), head)
    assert reads == []


def test_incremental_history_unit(make_repo, tmp_path, monkeypatch):
    """collect_history with and without the cache, at every commit of a growing history."""
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    r = make_repo()
    dates = ["2021-01-05", "2021-01-01", "2021-01-09", "2021-01-03"]   # committer dates out of order
    for i, d in enumerate(dates):
        r.commit({f"f{i}.txt": f"{i}\n"}, date=f"{d}T10:00:00+00:00")
        head = r.git("rev-parse", "HEAD")
        inc = history_mod.collect_history(str(r.path), head)
        cold = history_mod.collect_history(str(r.path), head, cache=False)
        pd.testing.assert_frame_equal(inc.commits, cold.commits)
        pd.testing.assert_frame_equal(inc.changes, cold.changes)
    # Parts with and without renames on top of each other (old_path holds only None in a part without):
    # a rename on a history without, then commits without on a history with, then a deletion.
    for step in ("rename", "plain", "plain", "delete"):
        if step == "rename":
            r.git("mv", "f0.txt", "g0.txt")
            r.commit(date="2021-02-01T10:00:00+00:00")
        elif step == "delete":
            r.commit({"f1.txt": None}, date="2021-02-03T10:00:00+00:00")
        else:
            r.commit({"h.txt": f"{step} {r.git('rev-parse', 'HEAD')}\n"}, date="2021-02-02T10:00:00+00:00")
        head = r.git("rev-parse", "HEAD")
        inc = history_mod.collect_history(str(r.path), head)
        cold = history_mod.collect_history(str(r.path), head, cache=False)
        pd.testing.assert_frame_equal(inc.commits, cold.commits)
        pd.testing.assert_frame_equal(inc.changes, cold.changes)
    assert "g0.txt" in set(inc.changes["path"]) and inc.changes["old_path"].notna().any()
    shutil.rmtree(tmp_path / "c")


def test_incremental_secrets_unit(make_repo, tmp_path, monkeypatch):
    """Secrets in added lines with and without the cache: a line of commits, then a merge."""
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    r = make_repo()
    r.commit({"a.py": PASSWORD}, date="2021-01-05T10:00:00+00:00")
    steps = [({"b.py": f"t = '{TOKEN}'\n"}, "2021-01-02"), ({"c.txt": "nothing\n"}, "2021-01-09"),
             ({"d.py": 'api_secret = "Kp2!xW9qLz7vRm"\n'}, "2021-01-03")]
    for files, d in steps:
        r.commit(files, date=f"{d}T10:00:00+00:00")
        head = r.git("rev-parse", "HEAD")
        inc, st = secrets_mod.scan_history(str(r.path), head)
        cold, st0 = secrets_mod.scan_history(str(r.path), head, cache=False)
        pd.testing.assert_frame_equal(inc, cold)
        assert {k: st[k] for k in ("lines", "checked", "long_lines")} == {k: st0[k] for k in ("lines", "checked", "long_lines")}
    r.git("checkout", "-q", "-b", "side", "HEAD~2")
    r.commit({"e.py": f"k = '{TOKEN[:-2]}zz'\n"}, date="2021-01-01T10:00:00+00:00")
    r.git("checkout", "-q", "main")
    r.git("merge", "-q", "--no-ff", "-m", "m", "side", env=r.env(date="2021-01-10T10:00:00+00:00"))
    head = r.git("rev-parse", "HEAD")
    inc, _ = secrets_mod.scan_history(str(r.path), head)
    pd.testing.assert_frame_equal(inc, secrets_mod.scan_history(str(r.path), head, cache=False)[0])
    assert len(inc) >= 3


def test_library_reports_reflect_the_tables_not_cached_bytes(make_repo, tmp_path):
    """A notebook may change a (cached) result's tables before writing: the library writes what it holds,
    and to_json returns the document (the report-bytes cache is for the command line only)."""
    import json

    import ddkit
    r = make_repo()
    r.commit({"a.py": "x = 1\n"}, name="Ann Other", email="ann@else.example")
    js = tmp_path / "a.json"
    s1 = ddkit.scan(r.path, as_of="2024-06-30", licenses=False, secrets=False)
    s1.to_json(js)
    s2 = ddkit.scan(r.path, as_of="2024-06-30", licenses=False, secrets=False)   # the cached result
    assert len(s2.findings) > 0
    s2.findings = s2.findings.iloc[0:0]
    doc = s2.to_json(js)
    assert isinstance(doc, dict) and doc["findings"] == []
    assert json.loads(js.read_text())["findings"] == []


def test_the_scan_writes_the_entries_the_next_scan_reads(make_repo, tmp_path, monkeypatch):
    """A scan writes the history's and the result's entries, and they are what it computed: the next scan
    of the same commit reads them (no git log) and equals a cold scan."""
    import ddkit
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    r = make_repo()
    r.commit({"a.py": "x = 1\n"}, name="Ann", email="ann@x.example", date="2021-01-01T10:00:00+00:00")
    r.git("mv", "a.py", "b.py")
    r.commit({"c.py": "y = 2\n"}, name="Bob", email="bob@x.example", date="2021-02-01T10:00:00+00:00")
    head = r.git("rev-parse", "HEAD")
    entries = lambda stage: list((tmp_path / "c" / "incremental").glob(f"*/{stage}/*-{head}.pkl"))
    assert entries("history") == [] and entries("scan") == []
    s = ddkit.scan(str(r.path), as_of="2024-06-30", licenses=False)
    assert len(entries("history")) == 1 and len(entries("scan")) == 1
    cold = history_mod.collect_history(str(r.path), head, cache=False)
    reads = []
    monkeypatch.setattr(history_mod, "records", lambda *a, **k: reads.append(a) or iter(()))
    inc = history_mod.collect_history(str(r.path), head)
    assert reads == []                                    # read from the entry the scan wrote
    pd.testing.assert_frame_equal(inc.commits, cold.commits)
    pd.testing.assert_frame_equal(inc.changes, cold.changes)
    again = ddkit.scan(str(r.path), as_of="2024-06-30", licenses=False)
    assert "cached result" in again.timings
    pd.testing.assert_frame_equal(again.findings, s.findings)


def test_merged_part_without_renames_on_a_history_with_them_equals_cold(make_repo, tmp_path, monkeypatch):
    """A merge on top of the cached commit (not a line: the parts are combined in date order) whose new
    part has no rename while the cached part has one: old_path typed as a cold read types it."""
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    r = make_repo()
    r.commit({"a.txt": "a\n"}, date="2021-01-01T10:00:00+00:00")
    r.git("mv", "a.txt", "b.txt")
    r.commit(date="2021-01-02T10:00:00+00:00")
    r.git("checkout", "-q", "-b", "side", "HEAD~1")
    r.commit({"c.txt": "c\n"}, date="2021-01-03T10:00:00+00:00")
    r.git("checkout", "-q", "main")
    history_mod.collect_history(str(r.path), r.git("rev-parse", "HEAD"))      # cached: the renaming part
    r.git("merge", "-q", "--no-edit", "side")
    head = r.git("rev-parse", "HEAD")
    combined = []
    real = history_mod._combine
    monkeypatch.setattr(history_mod, "_combine", lambda *a: combined.append(1) or real(*a))
    inc = history_mod.collect_history(str(r.path), head)
    cold = history_mod.collect_history(str(r.path), head, cache=False)
    assert combined == [1]
    pd.testing.assert_frame_equal(inc.commits, cold.commits)
    pd.testing.assert_frame_equal(inc.changes, cold.changes)
