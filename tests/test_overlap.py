"""What runs beside what in a scan (docs/performance.md: Beside one another) gives the same result as running it in turn."""

from __future__ import annotations

import pandas as pd

import ddkit
from ddkit import gitutil, pipeline
from ddkit.collect import blame as blame_mod
from ddkit.collect import history as history_mod
from ddkit.collect.tree import list_files
from ddkit.config import load_company, load_rules

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
    monkeypatch.setattr(pipeline, "_OVERLAP", overlap)
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


def _forked_writes(tmp_path, monkeypatch, fail: bool):
    """_write_scan_reports as the command line runs it (its own process, on Linux): the workbook by a child."""
    import os
    import sys

    import pytest

    from ddkit import cli
    if not sys.platform.startswith("linux"):
        pytest.skip("the forked workbook writer runs on Linux only")
    monkeypatch.setattr(cli, "_ENTRY", True)
    monkeypatch.setattr(pipeline, "_OVERLAP", True)
    saved, written = [], []

    def writer(fmt, s, path, pseudonymize=False):
        if fmt == "xlsx" and fail:
            raise ValueError("disk says no")
        path.write_text(f"{fmt} {os.getpid()} {s}")
        written.append(fmt)

    o = cli.RunOptions(inputs={}, outputs={"xlsx": str(tmp_path / "r.xlsx"), "json": str(tmp_path / "r.json")},
                       quiet=True)
    return cli, o, writer, saved, written


def test_workbook_written_by_a_forked_child_while_the_result_is_saved(tmp_path, monkeypatch):
    import os

    import pytest
    cli, o, writer, saved, written = _forked_writes(tmp_path, monkeypatch, fail=False)
    child = cli._WorkbookChild.start(o, writer)        # forked before the scan
    assert child is not None and child.pid != os.getpid()
    child.ready()
    child.ready()                                      # (once)
    cli._write_scan_reports(o, writer, "the scan", [lambda: saved.append(os.getpid())], child)
    me = str(os.getpid())
    assert saved == [os.getpid()]                                       # the result is saved here
    assert (tmp_path / "r.json").read_text() == f"json {me} the scan"   # the other formats are written here
    xlsx = (tmp_path / "r.xlsx").read_text().split()
    assert xlsx[0] == "xlsx" and xlsx[1] == str(child.pid)              # the workbook by the child
    assert xlsx[2:] == ["the", "scan"]                                  # from the scan it was sent
    assert written == ["json"]
    with pytest.raises(ChildProcessError):                              # the child was waited for
        os.waitpid(child.pid, 0)


def test_workbook_child_not_made_ready_during_the_scan_still_writes(tmp_path, monkeypatch):
    """A scan whose last stage did not signal (a renamed stage, say) costs the imports at the end, nothing else."""
    import os
    cli, o, writer, saved, written = _forked_writes(tmp_path, monkeypatch, fail=False)
    child = cli._WorkbookChild.start(o, writer)
    cli._write_scan_reports(o, writer, "the scan", [lambda: saved.append(1)], child)
    assert (tmp_path / "r.xlsx").read_text() == f"xlsx {child.pid} the scan" and child.pid != os.getpid()


def test_forked_workbook_writer_failure_is_raised_by_the_command(tmp_path, monkeypatch):
    import pytest
    cli, o, writer, saved, written = _forked_writes(tmp_path, monkeypatch, fail=True)
    child = cli._WorkbookChild.start(o, writer)
    with pytest.raises(ValueError, match="disk says no"):
        cli._write_scan_reports(o, writer, "the scan", [lambda: saved.append(1)], child)
    assert saved == [1] and written == ["json"]                     # the rest is still done
    assert not (tmp_path / "r.xlsx").exists()


def test_workbook_child_killed_is_reported(tmp_path, monkeypatch):
    """A child that dies without an answer (killed, out of memory) is an error of the command, not a
    workbook silently missing."""
    import os
    import signal

    import pytest
    cli, o, writer, saved, written = _forked_writes(tmp_path, monkeypatch, fail=False)
    child = cli._WorkbookChild.start(o, writer)
    os.kill(child.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="signal 9"):
        cli._write_scan_reports(o, writer, "the scan", [lambda: saved.append(1)], child)
    assert saved == [1] and written == ["json"]


def test_no_fork_without_a_result_to_save_or_outside_the_command_line(tmp_path, monkeypatch):
    import os

    import pytest
    cli, o, writer, saved, written = _forked_writes(tmp_path, monkeypatch, fail=False)
    child = cli._WorkbookChild.start(o, writer)
    cli._write_scan_reports(o, writer, "the scan", [], child)      # a cached result: nothing to save
    assert (tmp_path / "r.xlsx").read_text() == f"xlsx {os.getpid()} the scan"
    with pytest.raises(ChildProcessError):                          # the unused child was ended
        os.waitpid(child.pid, 0)
    o_json = cli.RunOptions(inputs={}, outputs={"json": str(tmp_path / "r.json")}, quiet=True)
    assert cli._WorkbookChild.start(o_json, writer) is None         # no workbook asked for
    monkeypatch.setattr(cli, "_ENTRY", False)                       # a library caller or a test calling main()
    assert cli._WorkbookChild.start(o, writer) is None
    cli._write_scan_reports(o, writer, "the scan", [lambda: saved.append(1)], None)
    assert (tmp_path / "r.xlsx").read_text() == f"xlsx {os.getpid()} the scan" and saved == [1]


def test_on_stage_calls_once_when_the_stage_starts_and_keeps_the_timings():
    from ddkit import cli
    from ddkit.progress import Progress
    seen, calls = [], []

    class Inner(Progress):
        def start(self, name, total):
            seen.append(("start", name, len(calls)))

        def end(self, name):
            seen.append(("end", name))
    p = cli._OnStage(Inner(), "analyses", lambda: calls.append(1))
    for name in ("files", "analyses", "analyses"):
        with p.stage(name):
            pass
    assert calls == [1]
    assert seen[2] == ("start", "analyses", 1)          # called before the inner display hears of the stage
    assert set(p.timings) == {"files", "analyses"}


def test_command_line_scan_with_forked_workbook_equals_one_written_in_turn(make_repo, tmp_path):
    """The whole command, twice (a new commit between): the workbook the child writes is the one written
    without forking (DDKIT_OVERLAP=0), byte for byte, and the deferred result is in the cache afterwards."""
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
        forked, in_turn = run("a", "forked", "1"), run("b", "in-turn", "0")
        assert forked[0].keys() == in_turn[0].keys() and forked[1] == in_turn[1]
        for name in forked[0]:
            if name != "docProps/core.xml":   # its modification time is the clock's (openpyxl's save)
                assert forked[0][name] == in_turn[0][name], name
        r.commit({"more.py": f"y = {i}\n"}, name="Ann", email="ann@acme.com", date=f"2021-05-0{i + 1}T10:00:00+00:00")
    head = r.git("rev-parse", "HEAD").strip()
    run("a", "forked", "1")
    for stage in ("scan", "history"):    # the result and the history the parent saved while the child wrote
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


def test_command_line_bad_input_ends_the_workbook_child(make_repo, tmp_path):
    """An input refused once the scan has started (the child is forked before it) is one line and exit 2,
    and the child is gone: the command's output pipes close at once (a child left waiting would hold them)."""
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
