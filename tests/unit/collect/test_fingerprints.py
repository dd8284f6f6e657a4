"""Winnowing fingerprints (collect/fingerprints.py): what survives normalisation, and reading references
without following links or extracting archives."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile

import numpy as np

from ddkit.collect import fingerprints as fp

CODE = """def area(width, height, scale=2):
    # the area, scaled
    result = width * height
    if result > 100:
        result = result // scale
    for i in range(3):
        result += i * 7
    return [result, "done"]
"""
RENAMED = """def surface(w,h,k=5):  # renamed, reindented, comments changed
  r=w*h
  if r>999:
    r=r//k
  for j in range(9): r+=j*1
  return [r,'fin']
"""
OTHER = """class Node:
    def __init__(self):
        self.children = {}
    def add(self, key):
        return self.children.setdefault(key, Node())
"""


def test_renaming_and_reformatting_keep_the_fingerprints():
    a, _, _ = fp.fingerprints(CODE, "a.py")
    b, _, _ = fp.fingerprints(RENAMED, "b.py")
    c, _, _ = fp.fingerprints(OTHER, "c.py")
    assert len(a) and set(a.tolist()) == set(b.tolist())     # same shape: same fingerprints
    assert not set(a.tolist()) & set(c.tolist())            # other code: none shared


def test_tokens_drop_comments_and_normalise():
    toks, lines = fp.tokens('x = "a # not a comment"  # a comment\ny = 2\n', "t.py")
    assert toks == ["V", "=", "S", "V", "=", "N"] and lines == [1, 1, 1, 2, 2, 2]
    toks, _ = fp.tokens("#include <a.h>\nint x = a // b;\n", "t.c")   # C: '#' is code, '//' a comment
    assert toks == ["#", "include", "<", "V", ".", "V", ">", "int", "V", "=", "V"]


def test_fingerprints_are_the_same_in_every_process():
    code = "from ddkit.collect import fingerprints as fp; import sys; print(fp.fingerprints(sys.argv[1], 'a.py')[0].tolist())"
    outs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.add(subprocess.run([sys.executable, "-c", code, CODE], capture_output=True, text=True, env=env,
                                check=True).stdout)
    assert len(outs) == 1
    assert outs.pop().strip() == str(fp.fingerprints(CODE, "a.py")[0].tolist())


def test_directory_reference_does_not_follow_links(tmp_path, monkeypatch):
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "cache"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(OTHER)
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "own.py").write_text(CODE)
    (ref / "link.py").symlink_to(outside / "secret.py")
    (ref / "linkdir").symlink_to(outside, target_is_directory=True)
    c = fp.load_corpus(str(ref))
    assert c.paths == ["own.py"]
    # Positive control: the same file, copied in rather than linked, is read.
    (ref / "copy.py").write_text(OTHER)
    assert sorted(fp.load_corpus(str(ref)).paths) == ["copy.py", "own.py"]


def test_archive_members_are_read_never_extracted(tmp_path, monkeypatch):
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "cache"))
    arc = tmp_path / "ref.tar"
    with tarfile.open(arc, "w") as t:
        for name, text in (("../../escaped.py", CODE), ("pkg/ok.py", OTHER)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        c = fp.load_corpus(str(arc))
    finally:
        os.chdir(cwd)
    assert sorted(c.paths) == ["../../escaped.py", "pkg/ok.py"]     # read, under the names the archive gives
    assert not (tmp_path.parent.parent / "escaped.py").exists() and not (tmp_path / "pkg").exists()
    assert np.all(np.diff(c.hashes.astype(np.float64)) >= 0) or len(c.hashes) < 2   # kept sorted by hash


def test_worker_processes_give_the_same_corpus(tmp_path, monkeypatch):
    ref = tmp_path / "ref"
    ref.mkdir()
    for i in range(600):       # more than two batches of 256
        (ref / f"m{i:03d}.py").write_text(CODE.replace("7", str(i)) + OTHER * (i % 3))
    got = []
    for jobs in (1, 2):
        monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / f"cache{jobs}"))
        c = fp.load_corpus(str(ref), jobs)
        assert not c.cached
        got.append(c)
    a, b = got
    assert a.paths == b.paths and a.paths == sorted(a.paths)
    for k in ("hashes", "file", "start", "end", "lines"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
