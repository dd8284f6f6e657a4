"""Hostile and odd repositories: each test builds one and checks ddkit stays safe and right.

Issue "Safe on hostile repositories, right on odd ones". Every test here failed before its fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ddkit
import gitrepo

ROOT = Path(__file__).resolve().parents[1]


def child_env(**extra) -> dict:
    """The environment for a child Python: the ddkit under test wherever the child's cwd is."""
    src = str(Path(ddkit.__file__).resolve().parents[1])
    pp = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([src] + ([pp] if pp else [])), **extra}


def ddkit_cli(*args, env=None, cwd=None, timeout=120):
    return gitrepo.ddkit_cli(*args, env=env or child_env(), cwd=cwd, timeout=timeout)


def one_line_error(p, *needles, code=2):
    assert p.returncode == code, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def lines_by_author(s) -> dict[str, int]:
    return {r.person: int(r.surviving_lines) for r in s.people.itertuples() if r.surviving_lines}


# --------------------------------------------------------------------------- 3. .git-blame-ignore-revs
@pytest.mark.parametrize("nul", [False, True])
def test_blame_ignore_revs_abbreviated_head_and_nul(make_repo, nul):
    r = make_repo()
    r.commit({"a.py": "".join(f"x{i} = {i}\n" for i in range(6))}, name="Alice", email="alice@example.com")
    reformat = r.commit({"a.py": "".join(f"x{i} = ({i})\n" for i in range(6))}, name="Bob", email="bob@example.com",
                        date="2020-02-01T12:00:00+00:00")
    # An abbreviated sha (git itself refuses it and with it the whole file), HEAD, garbage and a NUL byte.
    junk = "abc\x00def\n" if nul else ""
    r.commit({".git-blame-ignore-revs": f"# formatting\n{reformat[:10]}\nHEAD\nnot-a-sha\n{junk}".encode()},
             name="Carol", email="carol@example.com", date="2020-03-01T12:00:00+00:00")
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-01-01")
    # The reformat is ignored: Alice keeps her six lines, Bob owns none.
    # (with a NUL byte the ignore file is binary, so not owned; else Carol owns its 4 lines)
    assert lines_by_author(s) == ({"Alice": 6} if nul else {"Alice": 6, "Carol": 4})
    w = [x for x in s.warnings if ".git-blame-ignore-revs" in x and "not commits" in x]
    assert len(w) == 1 and "HEAD" in w[0] and "not-a-sha" in w[0], s.warnings
    assert ("abc\\x00def" in w[0]) == nul
    assert reformat[:10] not in w[0]
    assert not [x for x in s.warnings if "blame failed" in x], s.warnings


# --------------------------------------------------------------------------- 4. any path bytes in every report
WEIRD = b"caf\xe9\tdir/na\xefve \x1b[31m%41.py"   # Latin-1 bytes, a tab, ESC, a literal '%41'


def _weird_repo(make_repo):
    r = make_repo()
    r.write(os.fsdecode(WEIRD), "".join(f"v{i} = {i}\n" for i in range(30)))
    r.git("add", "--", os.fsdecode(WEIRD))
    r.commit({"ok.py": "a = 1\n"}, name="Dave Departed", email="dave@example.com", date="2019-01-01T12:00:00+00:00")
    r.commit({"b.py": "b = 1\n"}, name="Erin", email="erin@example.com", date="2023-12-01T12:00:00+00:00")
    return r


def test_reports_any_path_bytes(make_repo, tmp_path):
    r = _weird_repo(make_repo)
    out = tmp_path / "out"
    p = ddkit_cli("scan", r.path, "--as-of", "2024-01-01", "--no-licenses", "--no-secrets", "--quiet",
                  "--sarif", out / "r.sarif", "--json", out / "r.json", "--out", out / "r.xlsx")
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in out.iterdir()) == ["r.json", "r.sarif", "r.xlsx"]   # no .tmp left behind
    sarif = json.loads((out / "r.sarif").read_text(encoding="utf-8"))
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for res in sarif["runs"][0]["results"] for loc in res.get("locations", [])}
    # RFC 3986 percent-encoding of the path's own bytes; '/' stays a separator; '%' itself is encoded.
    assert "caf%E9%09dir/na%EFve%20%1B%5B31m%2541.py" in uris, uris
    from urllib.parse import unquote_to_bytes
    assert {unquote_to_bytes(u) for u in uris} >= {WEIRD}
    data = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert data["findings"] and data["people"]
    import openpyxl
    assert "Ownership" in openpyxl.load_workbook(out / "r.xlsx").sheetnames


def test_failed_report_leaves_no_temp_file(make_repo, tmp_path, monkeypatch):
    r = make_repo()
    r.commit({"a.py": "a = 1\n"})
    s = ddkit.scan(r.path, licenses=False, secrets=False)

    def boom(*a, **k):       # the last step of every writer fails (a full disk, a vanished folder)
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    monkeypatch.setattr(Path, "replace", boom)
    out = tmp_path / "out"
    for name, write in (("x.sarif", s.to_sarif), ("x.json", s.to_json), ("x.xlsx", s.to_excel)):
        with pytest.raises(OSError):
            write(out / name)
    assert list(out.iterdir()) == []


def test_scan_many_any_path_bytes(make_repo, tmp_path):
    r = _weird_repo(make_repo)
    lst = tmp_path / "repos.txt"
    lst.write_text(f"{r.path}\n")
    out = tmp_path / "out"
    p = ddkit_cli("scan-many", lst, "--as-of", "2024-01-01", "--no-licenses", "--no-secrets", "--quiet",
                  "--sarif", out / "p.sarif", "--json", out / "p.json", "--out", out / "p.xlsx")
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in out.iterdir()) == ["p.json", "p.sarif", "p.xlsx"]
    sarif = json.loads((out / "p.sarif").read_text(encoding="utf-8"))
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for run in sarif["runs"] for res in run["results"] for loc in res.get("locations", [])}
    assert "caf%E9%09dir/na%EFve%20%1B%5B31m%2541.py" in uris


# --------------------------------------------------------------------------- 5a. markup and control characters
def test_console_prints_names_as_written(make_repo, tmp_path):
    r = make_repo()
    evil = "Mallory [/bold][link=x] \x1b]0;pwned\x07\x1b[2J\u202eevil"
    r.commit({"a.py": "a = 1\n"}, name=evil, email="m@example.com")
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type\nAlice,alice@example.com,employee\n")
    p = ddkit_cli("scan", r.path, "--roster", roster, "--no-licenses", "--no-secrets", "--json", tmp_path / "r.json")
    assert p.returncode == 0, p.stderr
    # (the name is in the unresolved-identity warning of the summary)
    assert "Mallory [/bold][link=x] \\x1b]0;pwned\\x07\\x1b[2J\\u202eevil" in p.stdout, p.stdout
    assert not any(c in p.stdout + p.stderr for c in "\x1b\x07\u202e")


def test_error_line_escapes_control_characters(make_repo):
    r = make_repo()
    r.commit({"a.py": "a = 1\n"})
    p = ddkit_cli("scan", r.path, "--ref", "nope\x1b[2J\nsecond line", "--no-licenses")
    one_line_error(p, "nope\\x1b[2J\\x0asecond line")


# --------------------------------------------------------------------------- 5b. tokens in query strings
def _xlsx_text(path: Path) -> str:
    import zipfile
    with zipfile.ZipFile(path) as z:
        return " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_query_string_tokens_never_shown(make_repo, tmp_path):
    from ddkit.gitutil import strip_credentials
    assert strip_credentials("https://u:S3CRET@h.example/x.git?access_token=S3CRET&ref=main#top") == \
        "https://h.example/x.git?ref=main#top"
    assert strip_credentials("https://h.example/x.git?private_token=S3CRET") == "https://h.example/x.git"
    assert strip_credentials("fatal: unable to access 'https://h.example/x/?token=S3CRET': 403") == \
        "fatal: unable to access 'https://h.example/x/': 403"
    r = make_repo()
    r.commit({"a.py": "a = 1\n"})
    r.git("remote", "add", "origin", "https://h.example/acme/x.git?private_token=S3CRET&token=S3CRET")
    out = tmp_path / "out"
    p = ddkit_cli("scan", r.path, "--no-licenses", "--no-secrets", "--json", out / "r.json", "--out", out / "r.xlsx",
                  "--sarif", out / "r.sarif")
    assert p.returncode == 0, p.stderr
    data = json.loads((out / "r.json").read_text())
    assert data["repo"]["remote"] == "https://h.example/acme/x.git"
    assert "acme/x.git" in _xlsx_text(out / "r.xlsx")    # the remote is shown, without the token
    for text in (p.stdout, p.stderr, (out / "r.json").read_text(), (out / "r.sarif").read_text(),
                 _xlsx_text(out / "r.xlsx")):
        assert "S3CRET" not in text


# --------------------------------------------------------------------------- 5c. credentials of cached mirrors
def test_mirror_keeps_no_credentials_and_uses_the_current_one(make_repo, tmp_path):
    from ddkit import remote
    r = make_repo("origin")
    r.commit({"a.py": "a = 1\n"})
    # A file:// URL whose "token" is part of the path: the clean URL names nothing, so a clone or fetch
    # only works when git is given the credential URL, and only the clean one may be recorded.
    served = tmp_path / "srv" / "x.git?private_token=OLD"
    served.parent.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(r.path), str(served)], check=True, capture_output=True)
    url = f"file://{served}"
    clean = f"file://{served.parent}/x.git"
    mirror = Path(remote.materialize(url))
    assert ddkit.scan(mirror, licenses=False, secrets=False).repo.commit == r.head()
    cfg = (mirror / "config").read_text()
    assert "OLD" not in cfg and clean in cfg
    for d in (mirror.parent, mirror):
        assert (d.stat().st_mode & 0o077) == 0, oct(d.stat().st_mode)
    # The token changes (the old one no longer works) and the repository moves on.
    new = served.with_name("x.git?private_token=NEW")
    served.rename(new)
    second = r.commit({"b.py": "b = 1\n"})
    subprocess.run(["git", "-C", str(r.path), "push", "-q", str(new), "HEAD:main"], check=True, capture_output=True)
    assert Path(remote.materialize(f"file://{new}")) == mirror
    assert ddkit.scan(mirror, licenses=False, secrets=False).repo.commit == second
    assert "NEW" not in (mirror / "config").read_text()


# --------------------------------------------------------------------------- 7. any Python entry point
def _license_repo(make_repo):
    """Small, but with enough license files that the scan starts its worker processes."""
    r = make_repo("licensed")
    files = {f"LICENSE-{k}": f"Copyright (c) 2020 {k} Authors\nPermission is hereby granted, free of charge, "
                             f"to any person obtaining a copy of this software ({k})\n" for k in "ABCDE"}
    files["a.py"] = "# SPDX-License-Identifier: MIT\nprint(1)\n"
    r.commit(files, name="Alice", email="alice@example.com")
    return r


_SCRIPT = """
import json, ddkit
s = ddkit.scan({repo!r}, secrets=False, jobs=2)
print(json.dumps({{"workers": s.stats.licenses.get("workers"), "scanned": s.stats.licenses["scanned"],
                  "errors": s.stats.licenses["errors"], "licensed": sorted(s.licenses["path"])}}))
"""


def _fresh_cache_with_license_db(d: Path) -> str:
    """An empty cache but for ScanCode's license table (seconds to build; no part of what is tested)."""
    import shutil

    from ddkit.cache import KEY_FILE, cache_dir, cache_root, entry_key
    from ddkit.collect.licenses import license_db_summary
    license_db_summary()
    name = f"db-{entry_key(tools=('scancode-toolkit',))}.json"
    (d / "licenses").mkdir(parents=True)
    shutil.copy(cache_dir("licenses") / name, d / "licenses" / name)
    shutil.copy(cache_root() / KEY_FILE, d / KEY_FILE)     # the entry is sealed with that cache's key
    return str(d)


_SCRIPT_MANY = """
import json, ddkit, pandas as pd
p = ddkit.scan_many([{repo!r}], licenses=False, secrets=False, jobs=1, cache=False)
# (missing is pd.NA in the typed tables: None for JSON)
print(json.dumps({{"status": list(p.repositories["status"]),
                  "error": [None if pd.isna(e) else e for e in p.repositories["error"]]}}))
"""


def test_scan_many_from_a_script_without_guard(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.py": "a = 1\n"})
    script = tmp_path / "plain_many.py"
    script.write_text(_SCRIPT_MANY.format(repo=str(r.path)))
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=child_env(), cwd=tmp_path,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads(p.stdout.strip().splitlines()[-1]) == {"status": ["ok"], "error": [None]}


def test_library_from_any_entry_point(make_repo, tmp_path):
    r = _license_repo(make_repo)
    code = _SCRIPT.format(repo=str(r.path))   # no `if __name__ == "__main__":` guard
    script = tmp_path / "plain_script.py"
    script.write_text(code)
    runs = {"script": ([sys.executable, str(script)], None), "-c": ([sys.executable, "-c", code], None),
            "stdin": ([sys.executable, "-"], code)}
    procs = {}
    for name, (cmd, stdin) in runs.items():   # concurrently: each loads ScanCode's index in its worker
        env = child_env(DDKIT_CACHE_DIR=_fresh_cache_with_license_db(tmp_path / f"cache-{name}"))
        procs[name] = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       env=env, cwd=tmp_path, text=True)
        if stdin is not None:
            procs[name].stdin.write(stdin)
        procs[name].stdin.close()
        procs[name].stdin = None
    for name, p in procs.items():
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, (name, err[-2000:])
        res = json.loads(out.strip().splitlines()[-1])
        assert res["workers"] == 1 and res["scanned"] == 6 and res["errors"] == 0, (name, res)
        assert res["licensed"] == ["LICENSE-A", "LICENSE-B", "LICENSE-C", "LICENSE-D", "LICENSE-E", "a.py"], name


# --------------------------------------------------------------------------- 5d, 6. workers die with ddkit
def _workers_of(pid: int) -> list[int]:
    """Live ddkit worker processes whose parent is *pid* (Linux /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            state = stat.rsplit(")", 1)[1].split()[0]
            cmd = (d / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and b"ddkit.workerpool" in cmd and state != "Z":
            out.append(int(d.name))
    return out


def _alive(pids) -> list[int]:
    live = []
    for p in pids:
        try:
            if (Path("/proc") / str(p) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                live.append(p)
        except OSError:
            pass
    return live


def _wait_for(cond, timeout: float, step: float = 0.05):
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def _start_license_scan(r, tmp_path, **popen):
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env = child_env(TMPDIR=str(tmp), DDKIT_CACHE_DIR=_fresh_cache_with_license_db(tmp_path / "cache"))
    return subprocess.Popen([sys.executable, "-m", "ddkit", "scan", str(r.path), "--no-secrets", "--quiet",
                             "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, **popen), tmp


def test_sigkill_of_ddkit_takes_its_workers_and_stale_temp_dirs_go(make_repo, tmp_path):
    import signal
    r = _license_repo(make_repo)
    (tmp_path / "tmp").mkdir()
    stale = tmp_path / "tmp" / f"ddkit-lic-{_dead_pid()}-x1"     # left by a worker killed in an earlier run
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "LICENSE").write_text("copy of a scanned file")
    other = tmp_path / "tmp" / f"ddkit-lic-{os.getpid()}-x2"    # a running process's: kept
    other.mkdir()
    p, tmp = _start_license_scan(r, tmp_path)
    try:
        workers = _wait_for(lambda: _workers_of(p.pid), 60)
        assert workers, "no worker started"
        assert not stale.exists() and other.exists()
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        _wait_for(lambda: not _alive(workers), 5)
        assert _alive(workers) == [], "workers outlived ddkit"
    finally:
        p.kill()
        p.wait()
        for w in _alive(_workers_of(p.pid)):
            os.kill(w, signal.SIGKILL)


def test_ctrl_c_stops_promptly_with_one_line(make_repo, tmp_path):
    import signal
    import time
    r = _license_repo(make_repo)
    # SIGINT as a terminal leaves it: a test run started in the background by a shell without job control
    # (nohup … &) ignores SIGINT, and a child inherits that, so Ctrl-C would mean nothing to it.
    p, tmp = _start_license_scan(r, tmp_path, start_new_session=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        workers = _wait_for(lambda: _workers_of(p.pid), 60)
        assert workers, "no worker started"
        t0 = time.monotonic()
        os.killpg(p.pid, signal.SIGINT)          # what Ctrl-C does: the whole foreground process group
        out, err = p.communicate(timeout=30)
        took = time.monotonic() - t0
        assert p.returncode == 130, (p.returncode, err)
        assert err.decode().strip().splitlines() == ["ddkit: error: interrupted"], err.decode()
        assert took < 5, took   # (the issue measured 14 s: pools finishing their queues first)
        assert _alive(workers) == []
        assert list(tmp.glob("ddkit-lic-*")) == []
    finally:
        p.kill()
        p.wait()


# --------------------------------------------------------------------------- 5e. SHA-256 repositories
def test_sha256_repository(tmp_path):
    from gitrepo import Repo
    r = Repo.__new__(Repo)
    r.path, r.home, r._n = tmp_path / "s256", tmp_path / "s256.home", 0
    r.path.mkdir()
    r.home.mkdir()
    r.git("init", "-q", "-b", "main", "--object-format=sha256")
    r.commit({"a.py": "a = 1\nb = 2\n"}, name="Alice", email="alice@example.com")
    r.commit({"b.py": "c = 3\n"}, name="Bob", email="bob@example.com")
    assert len(r.head()) == 64
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-01-01")
    assert s.repo.commit == r.head()
    assert lines_by_author(s) == {"Alice": 2, "Bob": 1}
    assert set(s.files["path"]) == {"a.py", "b.py"} and set(s.files["lines"]) == {2, 1}
    assert all("not resolved" in w for w in s.warnings), s.warnings   # nothing failed


# --------------------------------------------------------------------------- 6. exit 2 or a warning, never 3
def test_as_of_out_of_range(make_repo):
    r = make_repo()
    r.commit({"a.py": "a = 1\n"})
    for bad in ("0001-01-01", "9999-12-31"):
        one_line_error(ddkit_cli("scan", r.path, "--as-of", bad, "--no-licenses", "--no-secrets"), "out of range")


def _craft_commit(r, edit) -> str:
    """A copy of HEAD's commit object, edited byte for byte (git itself refuses to write such headers)."""
    raw = subprocess.run(["git", "-C", str(r.path), "cat-file", "commit", "HEAD"], capture_output=True,
                         check=True).stdout
    sha = subprocess.run(["git", "-C", str(r.path), "hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
                         input=edit(raw), capture_output=True, check=True).stdout.decode().strip()
    subprocess.run(["git", "-C", str(r.path), "update-ref", "refs/heads/main", sha], check=True)
    return sha


def test_nul_and_separators_in_commit_headers(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.py": "a = 1\n"}, name="Alice", email="alice@example.com")
    r.commit({"b.py": "b = 1\nb2 = 2\n"}, name="Mallory", email="m@example.com", date="2021-01-01T12:00:00+00:00")
    nul = _craft_commit(r, lambda raw: raw.replace(b"author Mallory <", b"author Mal\x00lory <"))
    r.git("reset", "-q", "--hard", nul)
    # Bytes the log parser once used as separators, in a name and in a path.
    r.commit({"c\x1ed\x1f.py": "c = 1\n"}, name="Eve\x1e\x1f Sep", email="eve@example.com",
             date="2022-01-01T12:00:00+00:00")
    p = ddkit_cli("scan", r.path, "--as-of", "2024-01-01", "--no-licenses", "--no-secrets", "--quiet",
                  "--json", tmp_path / "r.json")
    assert p.returncode == 0, p.stderr
    s = ddkit.scan(r.path, as_of="2024-01-01", licenses=False, secrets=False)
    c = s.commits.set_index("sha")
    assert c.loc[nul, "author_name_raw"] == "Mal\ufffdlory" and c.loc[nul, "author_email_raw"] == "m@example.com"
    assert str(c.loc[nul, "author_date"].date()) == "2021-01-01"
    assert sorted(s.changes["path"]) == ["a.py", "b.py", "c\x1ed\x1f.py"]
    assert lines_by_author(s) == {"Alice": 1, "Mal\ufffdlory": 2, "Eve\x1e\x1f Sep": 1}
    w = [x for x in s.warnings if "malformed" in x]
    assert len(w) == 1 and nul[:12] in w[0], s.warnings


def test_implausible_commit_dates_warned(make_repo):
    r = make_repo()
    r.commit({"a.py": "a = 1\n"}, date="1970-01-02T00:00:00+00:00")
    r.commit({"b.py": "b = 1\n"}, date="2020-06-01T00:00:00+00:00")
    future = r.commit({"c.py": "c = 1\n"}, date="2031-01-01T00:00:00+00:00")
    s = ddkit.scan(r.path, as_of="2024-01-01", licenses=False, secrets=False)
    w = [x for x in s.warnings if "dated before 1990" in x]
    assert len(w) == 1 and w[0].startswith("2 commits") and future[:12] in w[0], s.warnings
    s2 = ddkit.scan(r.path, as_of="2030-12-31", licenses=False, secrets=False)    # + 1 day is still fine
    assert [x for x in s2.warnings if "dated before 1990" in x][0].startswith("1 commits")


def test_unwritable_cache_or_output_refused_before_scanning(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.py": "a = 1\n"})
    afile = tmp_path / "afile"
    afile.write_text("x")
    cache = tmp_path / "cache"
    env = child_env(DDKIT_CACHE_DIR=str(cache))
    for opt in ("--out", "--json", "--sarif"):
        p = ddkit_cli("scan", r.path, opt, afile / "sub" / "r.out", "--no-secrets", env=env)
        one_line_error(p, str(afile / "sub" / "r.out"), "cannot write")
    assert not cache.exists()        # refused before the scan started
    p = ddkit_cli("scan", r.path, "--no-licenses", "--no-secrets", env=child_env(DDKIT_CACHE_DIR=str(afile / "c")))
    one_line_error(p, "cache folder", "not writable")
    if os.geteuid() != 0:            # (root writes into a read-only folder anyway)
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        one_line_error(ddkit_cli("scan", r.path, "--no-licenses", env=child_env(DDKIT_CACHE_DIR=str(ro))),
                       "not writable")


def test_cache_entries_validated(make_repo, tmp_path, monkeypatch):
    from ddkit.cache import cache_dir
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "cache"))
    r = make_repo()
    r.commit({"a.py": "a = 1\nb = 2\n"}, name="Alice", email="alice@example.com")
    r.commit({"LICENSE": "Copyright (c) 2020 Alice\nMIT License\n"}, name="Alice", email="alice@example.com")
    s = ddkit.scan(r.path, secrets=False, jobs=1)
    good = lines_by_author(s)
    assert good == {"Alice": 4} and len(s.licenses) == 1
    blame = sorted(cache_dir("blame").rglob("*.json"))
    lic = sorted(cache_dir("licenses", "files").rglob("*.json"))
    assert blame and lic
    fake = "f" * 40
    for poison in ({fake: 2}, [1, 2], {"x": "y"}, 7, {r.head(): -3}):   # wrong shape, or a sha from nowhere
        for f in blame:
            f.write_text(json.dumps(poison))
        for f in lic:
            f.write_text(json.dumps(poison if not isinstance(poison, dict) else {"detections": "no"}))
        (cache_dir("licenses") / next(cache_dir("licenses").glob("db-*.json")).name).write_text(json.dumps([1]))
        # Not the whole result kept from the last scan, nor the blame results it used (both checked in
        # tests/test_collect_cache.py and test_incremental.py): the per-file entries are under test here.
        for kept in [*cache_dir("incremental").rglob("scan/*.pkl"), *cache_dir("incremental").rglob("blame/*.pkl")]:
            kept.unlink()
        s = ddkit.scan(r.path, secrets=False, jobs=1)
        assert lines_by_author(s) == good and fake not in set(s.ownership.get("sha", []))
        assert s.stats.blame["cached"] == 0 and s.stats.licenses["cached"] == 0
        assert len(s.licenses) == 1


def test_lfs_pointers_not_owned_and_listed(make_repo):
    r = make_repo()
    pointer = ("version https://git-lfs.github.com/spec/v1\n"
               "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n")
    r.commit({"model.bin": pointer, "a.py": "a = 1\n"}, name="Alice", email="alice@example.com")
    s = ddkit.scan(r.path, secrets=False, jobs=1)
    f = s.files.set_index("path")
    assert f.loc["model.bin", "category"] == "lfs-pointer" and "LFS" in f.loc["model.bin", "reason"]
    assert f.loc["a.py", "category"] == "text"
    assert lines_by_author(s) == {"Alice": 1}
    ns = s.not_scanned_for_licenses
    assert list(ns.loc[ns["path"] == "model.bin", "reason"]) == [f.loc["model.bin", "reason"]]


# --------------------------------------------------------------------------- 8. co-authors
def test_coauthors_recorded_per_commit(make_repo):
    r = make_repo()
    one = r.commit({"a.py": "a = 1\n"}, name="Alice", email="alice@example.com",
                   msg="Pair work\n\nbody text\n\nCo-authored-by: Bob Builder <bob@example.com>\n"
                       "co-authored-by: Carol\n  Continued <carol@example.com>\nCo-authored-by: Bob Builder <bob@example.com>\n"
                       "Signed-off-by: Alice <alice@example.com>\n")
    two = r.commit({"b.py": "b = 1\n"}, name="Alice", email="alice@example.com",
                   msg="Mentions Co-authored-by: Eve <eve@example.com> in the subject only\n")
    s = ddkit.scan(r.path, licenses=False, secrets=False)
    c = s.commits.set_index("sha")["coauthors"]
    assert c[one] == [("Bob Builder", "bob@example.com"), ("Carol Continued", "carol@example.com")]
    assert c[two] == []
