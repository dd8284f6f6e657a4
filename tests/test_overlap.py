"""What runs beside what in a scan (docs/performance.md: Beside one another) gives the same result as running it in turn."""

from __future__ import annotations

import pandas as pd

import ddkit
from ddkit import gitutil
from ddkit.collect import blame as blame_mod
from ddkit.collect import history as history_mod
from ddkit.collect.tree import list_files
from ddkit.config import load_company, load_rules
from ddkit.stages import overlap as overlap_mod

_RECORDS = history_mod.records
TOKEN = "ghp_" + "R7mQ2xK9pL4vN8wT3zY6bC1dF5gH0jS2aE7u"   # GitHub token format (fake)


def _repo(make_repo):
    r = make_repo()
    r.commit({"app.py": "".join(f"print({i})\n" for i in range(20)), "README.md": "# app\n"}, name="Ann",
             email="ann@acme.com", date="2021-01-01T10:00:00+00:00")
    r.commit({"ci.yml": f"token: {TOKEN}\n", "app.py": "print(0)\n"}, name="Bob", email="bob@acme.com",
             date="2021-02-01T10:00:00+00:00")
    r.git("mv", "app.py", "main.py")
    r.commit({"lib.py": "x = 1\n"}, name="Cy", email="cy@vendor.io", date="2021-03-01T10:00:00+00:00")
    return r


def _scan(r, cache, monkeypatch, overlap: bool):
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(cache))
    monkeypatch.setattr(overlap_mod, "ENABLED", overlap)
    reads = []
    monkeypatch.setattr(history_mod, "records", lambda *a, **k: reads.append(a[2]) or _RECORDS(*a, **k))
    s = ddkit.scan(str(r.path), as_of="2024-06-30", licenses=False)
    return s, reads


def test_one_history_read_feeds_history_and_secrets(make_repo, tmp_path, monkeypatch):
    r = _repo(make_repo)
    shared, reads_shared = _scan(r, tmp_path / "a", monkeypatch, overlap=True)
    apart, reads_apart = _scan(r, tmp_path / "b", monkeypatch, overlap=False)
    assert len(reads_shared) == 1 and len(reads_apart) == 2          # one git log -p instead of two
    (tmp_path / "shared.json").unlink(missing_ok=True)
    shared.to_json(tmp_path / "shared.json")
    apart.to_json(tmp_path / "apart.json")
    assert (tmp_path / "shared.json").read_text() == (tmp_path / "apart.json").read_text()
    for name in ("commits", "changes", "security", "blame", "findings"):
        pd.testing.assert_frame_equal(getattr(shared, name), getattr(apart, name))
    assert shared.security["detector"].fillna("").str.contains("github").any()   # found in history
    # After a new commit, both read only OLD..NEW, again in one read.
    r.commit({"deploy.sh": f"export GH={TOKEN[:-1]}Q\n"}, name="Bob", email="bob@acme.com",
             date="2021-04-01T10:00:00+00:00")
    again, reads_again = _scan(r, tmp_path / "a", monkeypatch, overlap=True)
    assert len(reads_again) == 1 and reads_again[0] == shared.repo.commit
    cold, _ = _scan(r, tmp_path / "c", monkeypatch, overlap=False)
    for name in ("commits", "changes", "security", "blame", "findings"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(cold, name))


def test_speculative_blame_equals_blame_after_history_and_fills_the_cache(make_repo, tmp_path, monkeypatch):
    r = _repo(make_repo)
    info = gitutil.open_repo(r.path)
    h = history_mod.collect_history(info.path, info.commit, cache=False)
    files = list_files(info.path, info.commit, load_rules(None), load_company(None))
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "spec"))
    job = blame_mod.BlameJob(info.path, info.commit, files, jobs=2, speculate=True)
    job.know(h.changes, h.commits["sha"])
    spec, w1, st1 = job.result()
    assert st1["blamed"] + st1["from_history"] == st1["files"] > 0
    # The speculative results were cached under the keys the history gives: the next run blames nothing.
    again, _, st2 = blame_mod.blame_files(info.path, info.commit, files, h.changes, commits=h.commits["sha"])
    assert st2["cached"] == st2["files"] == st1["files"]
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "plain"))
    plain, w3, _ = blame_mod.blame_files(info.path, info.commit, files, h.changes, commits=h.commits["sha"])
    pd.testing.assert_frame_equal(spec, plain)
    pd.testing.assert_frame_equal(again, plain)
    assert w1 == w3
    assert plain["lines"].sum() == files.loc[files["category"] == "text", "lines"].sum()


def test_ignore_revs_list_leaves_no_temporary_file_even_when_a_scan_stops(make_repo, tmp_path, monkeypatch):
    """blame reads the checked .git-blame-ignore-revs list from the cache (keyed by its content): a scan that
    stops while workers still blame leaves nothing in the temporary folder."""
    import tempfile
    r = make_repo()
    r.commit({"a.py": "def f():\n    return 1\n"}, name="Ann", email="ann@acme.com", date="2021-01-01T10:00:00+00:00")
    fmt = r.commit({"a.py": "def f():\n    return  1\n"}, name="Bob", email="bob@acme.com",
                   date="2021-02-01T10:00:00+00:00", msg="reformat")
    r.commit({".git-blame-ignore-revs": f"{fmt}\nnot-a-commit\n"}, name="Ann", email="ann@acme.com",
             date="2021-03-01T10:00:00+00:00")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "cache"))
    info = gitutil.open_repo(r.path)
    h = history_mod.collect_history(info.path, info.commit, cache=False)
    files = list_files(info.path, info.commit, load_rules(None), load_company(None))
    job = blame_mod.BlameJob(info.path, info.commit, files, jobs=1, speculate=True)
    job.cancel()                      # a scan that failed elsewhere: no result() is ever asked for
    for t in job._threads:
        t.join()
    blame, warnings, _ = blame_mod.blame_files(info.path, info.commit, files, h.changes, commits=h.commits["sha"])
    a = blame[blame["path"] == "a.py"]
    ann = h.commits.loc[h.commits["author_name_raw"] == "Ann", "sha"].tolist()
    assert set(a["sha"]) <= set(ann) and a["lines"].sum() == 2      # the reformat is ignored
    assert any("not-a-commit" in w for w in warnings)
    assert list(tmp.iterdir()) == []
    assert [p.read_text() for p in (tmp_path / "cache" / "blame-ignore-revs").iterdir()] == [f"{fmt}\n"]


def test_command_line_scan_overlapped_equals_one_run_in_turn(make_repo, tmp_path):
    """The whole command, twice (a new commit between): the workbook and JSON of an overlapped scan are
    the ones written one thing at a time (DDKIT_OVERLAP=0), byte for byte, and the result and the
    history are in the cache afterwards."""
    import os
    import subprocess
    import sys
    import zipfile
    r = _repo(make_repo)

    def run(cache, out, overlap):
        env = {**os.environ, "DDKIT_CACHE_DIR": str(tmp_path / cache), "DDKIT_OVERLAP": overlap}
        p = subprocess.run([sys.executable, "-m", "ddkit", "scan", str(r.path), "--quiet", "--no-licenses",
                            "--as-of", "2024-06-30", "--out", str(tmp_path / f"{out}.xlsx"), "--json",
                            str(tmp_path / f"{out}.json")], env=env, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        with zipfile.ZipFile(tmp_path / f"{out}.xlsx") as z:   # the parts (a zip member's time is the clock's)
            parts = {n: z.read(n) for n in z.namelist()}
        return parts, (tmp_path / f"{out}.json").read_bytes()

    for i in range(2):
        overlapped, in_turn = run("a", "overlapped", "1"), run("b", "in-turn", "0")
        assert overlapped[0].keys() == in_turn[0].keys() and overlapped[1] == in_turn[1]
        for name in overlapped[0]:
            if name != "docProps/core.xml":   # its modification time is the clock's (openpyxl's save)
                assert overlapped[0][name] == in_turn[0][name], name
        r.commit({"more.py": f"y = {i}\n"}, name="Ann", email="ann@acme.com", date=f"2021-05-0{i + 1}T10:00:00+00:00")
    head = r.git("rev-parse", "HEAD").strip()
    run("a", "overlapped", "1")
    for stage in ("scan", "history"):    # the result and the history kept for the next scan
        assert len(list((tmp_path / "a" / "incremental").glob(f"*/{stage}/*-{head}.pkl"))) == 1, stage


def _history_blame_repo(make_repo):
    """Files with every kind of history: added once (and never changed), added then changed, renamed,
    added in a commit that also deleted a file, added by a commit blame is told to ignore, empty."""
    r = make_repo()
    r.commit({"once.py": "a\nb\nc\n", "changed.py": "1\n2\n", "old.txt": "".join(f"l{i}\n" for i in range(30)),
              "empty.txt": ""}, name="Ann", email="ann@x.example", date="2021-01-01T10:00:00+00:00")
    r.commit({"changed.py": "1\n2\n3\n", "also_once.md": "x\n"}, name="Bob", email="bob@x.example",
             date="2021-02-01T10:00:00+00:00")
    r.git("mv", "old.txt", "moved.txt")
    r.commit(name="Cy", email="cy@x.example", date="2021-03-01T10:00:00+00:00")
    # one commit deletes a file and adds another from most of its lines: blame may take it as a rename
    r.commit({"moved.txt": None, "rewritten.txt": "".join(f"l{i}\n" for i in range(22)) + "new\n"},
             name="Dee", email="dee@x.example", date="2021-04-01T10:00:00+00:00")
    ign = r.commit({"ignored_add.py": "z\n"}, name="Eve", email="eve@x.example", date="2021-05-01T10:00:00+00:00")
    r.commit({".git-blame-ignore-revs": ign + "\n"}, name="Eve", email="eve@x.example",
             date="2021-06-01T10:00:00+00:00")
    return r


def test_files_added_once_take_their_blame_from_the_history(make_repo, tmp_path, monkeypatch):
    """A file the history shows added once and never changed gets what git blame gives it, without
    running blame; every other file is blamed; the table equals blaming every file."""
    r = _history_blame_repo(make_repo)
    info = gitutil.open_repo(r.path)
    h = history_mod.collect_history(info.path, info.commit, cache=False)
    files = list_files(info.path, info.commit, load_rules(None), load_company(None))
    blamed: list[str] = []
    real = blame_mod.BlameJob._blame
    monkeypatch.setattr(blame_mod.BlameJob, "_blame", lambda self, p: blamed.append(p) or real(self, p))

    def run(cache, shortcut):
        monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / cache))
        if not shortcut:
            monkeypatch.setattr(blame_mod.BlameJob, "_from_history", lambda self, *a: None)
        job = blame_mod.BlameJob(info.path, info.commit, files, jobs=2, speculate=False)
        job.know(h.changes, h.commits["sha"])
        return job.result()
    blamed.clear()
    fast, _, st = run("a", True)
    assert sorted(set(files.loc[files["category"] == "text", "path"]) - set(blamed)) == \
        [".git-blame-ignore-revs", "also_once.md", "empty.txt", "once.py"] and st["from_history"] == 4
    assert {"rewritten.txt", "ignored_add.py", "changed.py"} <= set(blamed)
    blamed.clear()
    slow, _, st2 = run("b", False)
    assert st2["from_history"] == 0 and "once.py" in blamed
    pd.testing.assert_frame_equal(fast, slow)


def test_added_once_needs_one_addition_in_a_commit_that_deleted_nothing():
    changes = pd.DataFrame({"sha": ["c3", "c3", "c2", "c2", "c1", "c1"],
                            "path": ["new.txt", "gone.txt", "a.py", "b.py", "a.py", "c.py"],
                            "old_path": [None] * 6, "status": ["A", "D", "M", "R", "A", "A"],
                            "blob": ["n", None, "a2", "b1", "a1", "c1"]})
    assert blame_mod._added_once(changes) == {"c.py": ("c1", "c1")}


def test_added_once_blames_of_pip_equal_git_blame():
    """On pypa/pip (when its mirror is here): every text file the history shows added once gets exactly
    git blame's answer."""
    import subprocess
    from pathlib import Path

    import pytest
    pip = Path("/work/.mirror/pypa+pip/repo")
    if not pip.exists():
        pytest.skip("the pypa/pip mirror is not on this machine")
    info = gitutil.open_repo(str(pip), "6d30920")
    h = history_mod.collect_history(info.path, info.commit, cache=False)
    files = list_files(info.path, info.commit, load_rules(None), load_company(None))
    once = blame_mod._added_once(h.changes)
    text = files[files["category"] == "text"]
    hits = [(p, b, n) for p, b, n in zip(text["path"], text["blob"], text["lines"]) if p in once and once[p][1] == b]
    assert len(hits) > 100
    for path, _blob, n in hits[::3]:
        out = subprocess.run(gitutil.git_cmd(info.path, "blame", "-w", "--incremental", info.commit or "", "--", path),
                             capture_output=True, env=gitutil.git_env(), check=True).stdout
        assert blame_mod._parse_incremental(out) == ({once[path][0]: int(n)} if n else {}), path


def test_command_line_bad_input_once_the_scan_started_is_one_line(make_repo, tmp_path):
    """An input refused once the scan has started (a ref that does not exist) is one line and exit 2, the
    command's output pipes closed at its end (nothing left holding them), and no workbook written."""
    import os
    import subprocess
    import sys
    r = _repo(make_repo)
    env = {**os.environ, "DDKIT_CACHE_DIR": str(tmp_path / "cache")}
    p = subprocess.run([sys.executable, "-m", "ddkit", "scan", str(r.path), "--quiet", "--no-licenses",
                        "--ref", "no-such-branch", "--out", str(tmp_path / "r.xlsx")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert not (tmp_path / "r.xlsx").exists()
