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

ROOT = Path(__file__).resolve().parents[1]


def ddkit_cli(*args, env=None, cwd=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "ddkit", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)


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
    w = [x for x in s.warnings if ".git-blame-ignore-revs" in x]
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
    assert "identity not resolved: Mallory [/bold][link=x] \\x1b]0;pwned\\x07\\x1b[2J\\u202eevil" in p.stdout, p.stdout
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
