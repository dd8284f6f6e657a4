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
