"""A scanned repository is untrusted input: nothing in it may make ddkit run a program.

Each vector below is a way a repository's own configuration, attributes or hooks can make git start a
program. Every one plants a command that writes a marker file; a whole scan (history, blame, files,
licenses, secrets, mailmap) and a portfolio clone must leave no marker behind. Before the hardening of
``gitutil`` the textconv, fsmonitor and ext:: vectors fired.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import ddkit
from ddkit import gitutil

# git config keys that name a program (value: a shell command writing the marker named after the key).
CONFIG_VECTORS = [
    "diff.evil.textconv",
    "diff.evil.command",
    "diff.external",
    "filter.evil.clean",
    "filter.evil.smudge",
    "filter.evil.process",
    "core.fsmonitor",
    "core.pager",
    "pager.log",
    "pager.blame",
    "core.sshCommand",
    "core.askPass",
    "credential.helper",
    "core.alternateRefsCommand",
    "uploadpack.packObjectsHook",
    "core.gitProxy",
    "gpg.program",
    "gpg.ssh.program",
    "sequence.editor",
    "core.editor",
]
HOOKS = ["pre-commit", "post-checkout", "post-index-change", "reference-transaction", "pre-auto-gc",
         "post-rewrite", "fsmonitor-watchman", "post-merge", "push-to-checkout"]


def _marker_cmd(markers: Path, name: str) -> str:
    return f"touch {markers / name.replace('.', '_')}; cat"


def _hostile_repo(make_repo, markers: Path):
    r = make_repo("hostile")
    r.commit({".gitattributes": "* diff=evil filter=evil\n",
              "main.py": "print('hello')\nx = 1\n",
              "LICENSE": "MIT License\n\nCopyright (c) 2020 Someone Else\n",
              ".mailmap": "Real Name <real@example.com> <test@example.com>\n"},
             date="2020-01-01T12:00:00+00:00")
    r.commit({"main.py": "print('hello')\nx = 2\npassword = 'hunter2hunter2hunter2'\n"},
             date="2020-02-01T12:00:00+00:00", msg="change\n\nsigned")
    for key in CONFIG_VECTORS:
        r.git("config", key, _marker_cmd(markers, key))
    r.git("config", "core.hooksPath", str(r.path / "evilhooks"))
    r.git("config", "include.path", str(r.path / "evil.inc"))
    (r.path / "evil.inc").write_text(f"[diff \"inc\"]\n\ttextconv = {_marker_cmd(markers, 'include_textconv')}\n")
    (r.path / "evilhooks").mkdir()
    for hook in HOOKS:
        for d in (r.path / "evilhooks", r.path / ".git" / "hooks"):
            h = d / hook
            h.write_text(f"#!/bin/sh\ntouch {markers / ('hook_' + hook)}\n")
            h.chmod(h.stat().st_mode | stat.S_IXUSR)
    return r


def test_scan_runs_nothing_from_the_repository(make_repo, tmp_path, monkeypatch):
    markers = tmp_path / "markers"
    markers.mkdir()
    r = _hostile_repo(make_repo, markers)
    # Prove the planted commands are live: plain git, as a user would run it, does fire them.
    subprocess.run(["git", "-C", str(r.path), "log", "-p", "-1"], capture_output=True,
                   env={**os.environ, "GIT_PAGER": ""})
    assert (markers / "diff_evil_textconv").exists(), "the textconv vector is not live; the test proves nothing"
    for m in markers.iterdir():
        m.unlink()

    s = ddkit.scan(r.path, as_of="2024-06-30", licenses=True, secrets=True, jobs=1)
    assert len(s.commits) == 2
    # blame still works under the hardening: main.py's three lines are attributed
    assert s.ownership.loc[s.ownership["path"] == "main.py", "lines"].sum() == 3
    out = tmp_path / "out"
    s.to_excel(out / "r.xlsx")
    s.to_json(out / "r.json")
    assert sorted(p.name for p in markers.iterdir()) == []


def test_git_helper_neutralises_config_vectors(make_repo, tmp_path):
    """The commands a scan does not happen to make today (diff against the work tree, status, a pager)
    must not run either when issued through the helper: the helper closes the vectors, not the call sites."""
    markers = tmp_path / "markers"
    markers.mkdir()
    r = _hostile_repo(make_repo, markers)
    (r.path / "main.py").write_text("changed\n")
    for args in (["status"], ["diff"], ["diff", "HEAD~1", "HEAD"], ["log", "-p"], ["show", "HEAD"],
                 ["blame", "HEAD", "--", "main.py"], ["blame", "--", "main.py"], ["cat-file", "--batch-all-objects", "--batch-check"],
                 ["ls-files", "-m"], ["add", "-A", "--dry-run"], ["gc", "--auto"]):
        gitutil.run(r.path, *args, check=False)
    assert sorted(p.name for p in markers.iterdir()) == []


def test_ext_protocol_url_is_refused(tmp_path):
    marker = tmp_path / "ext_marker"
    url = f"ext::sh -c touch% {marker}"
    p = subprocess.run([sys.executable, "-m", "ddkit", "scan", url, "--no-licenses", "--no-secrets", "--quiet"],
                       capture_output=True, text=True)
    assert not marker.exists()
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr


def test_portfolio_clone_runs_nothing_from_the_source(make_repo, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    r = _hostile_repo(make_repo, markers)
    lst = tmp_path / "list.txt"
    lst.write_text(f"file://{r.path}\n")
    p = subprocess.run([sys.executable, "-m", "ddkit", "scan-many", str(lst), "--no-licenses", "--no-secrets",
                        "--quiet", "--as-of", "2024-06-30", "--json", str(tmp_path / "p.json")],
                       capture_output=True, text=True)
    assert p.returncode in (0, 1), p.stderr
    assert sorted(x.name for x in markers.iterdir()) == []


@pytest.mark.parametrize("var", ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_EXTERNAL_DIFF", "GIT_CONFIG_PARAMETERS"])
def test_inherited_git_environment_does_not_redirect_git(var, monkeypatch, tmp_path):
    """A stray GIT_* variable in the user's shell (a hook's environment, a wrapper) must not point git at
    another repository or another program."""
    monkeypatch.setenv(var, str(tmp_path / "elsewhere"))
    env = gitutil.git_env()
    assert var not in env


def test_one_object_reader_any_path_and_missing(make_repo):
    """gitutil.iter_objects: the one `cat-file --batch -z` reader (files, licenses, secrets use it)."""
    r = make_repo()
    r.write("a\nb.txt", "newline in the name\n")
    r.git("add", "--", "a\nb.txt")
    r.commit({"plain.txt": "x\n"})
    head = r.head()
    blob = r.git("rev-parse", f"{head}:plain.txt")
    got = list(gitutil.iter_objects(r.path, [f"{head}:a\nb.txt", blob, "0" * 40, f"{head}:nope"]))
    assert got == [("blob", b"newline in the name\n"), ("blob", b"x\n"), ("missing", None), ("missing", None)]
    assert list(gitutil.iter_objects(r.path, [])) == []
