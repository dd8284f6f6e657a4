"""An independent oracle: pydriller's per-commit view of the same history must agree with ddkit's
single streamed pass (pydriller is ~20x slower, so it is used here, not on the hot path)."""

import pydriller

from ddkit import gitutil
from ddkit.collect.history import collect_history

_TYPES = {"ADD": "A", "MODIFY": "M", "DELETE": "D", "RENAME": "R", "COPY": "C"}


def test_history_matches_pydriller(make_repo):
    r = make_repo()
    body = "".join(f"line {i} of the module\n" for i in range(40))
    r.commit({"src/a.py": body, "img.bin": b"\x00\x01\x02binary"}, name="Ann", email="ann@x.example",
             date="2020-01-01T12:00:00+00:00")
    r.commit({"src/a.py": body.replace("line 3 ", "LINE 3 ") + "tail\n", "b.py": "b\n"}, name="Ben",
             email="ben@x.example", date="2020-02-01T12:00:00+02:00")
    r.git("checkout", "-q", "-b", "topic")
    r.commit({"c.py": "c\nc2\n"}, name="Cid", email="cid@x.example", date="2020-03-01T12:00:00-05:00")
    r.git("checkout", "-q", "main")
    r.commit({"b.py": None}, name="Ann", email="ann@x.example", date="2020-04-01T12:00:00+00:00")
    r.git("merge", "-q", "--no-ff", "-m", "merge", "topic", env=r.env("Ann", "ann@x.example", "2020-05-01T12:00:00+00:00"))
    r.git("mv", "src/a.py", "src/core.py")
    r.commit({"img.bin": b"\x00\x01\x02binary\x03"}, name="Ben", email="ben@x.example", date="2020-06-01T12:00:00+00:00")

    info = gitutil.open_repo(r.path)
    h = collect_history(info.path, info.commit)
    ours = {(row.sha, row.path): row for row in h.changes.itertuples()}
    commits = h.commits.set_index("sha")
    n = 0
    for c in pydriller.Repository(str(r.path)).traverse_commits():
        n += 1
        mine = commits.loc[c.hash]
        assert mine["author_name_raw"] == c.author.name and mine["author_email_raw"] == c.author.email
        assert mine["author_date"].timestamp() == c.author_date.timestamp()
        assert mine["parents"] == len(c.parents)
        if c.merge:
            assert mine["files_changed"] == 0
            continue
        assert mine["files_changed"] == len(c.modified_files)
        for m in c.modified_files:
            path = m.new_path or m.old_path
            row = ours[(c.hash, path)]
            assert row.status == _TYPES[m.change_type.name]
            if row.status == "R":
                assert row.old_path == m.old_path
            if not row.binary:
                assert (row.added, row.deleted) == (m.added_lines, m.deleted_lines)
    assert n == len(h.commits) == 6


def _numstat_u0(path) -> dict:
    """git's own counts, with no context lines (what a -U0 patch shows): {(sha, path bytes): (a, d) or None}."""
    import subprocess
    out = subprocess.run(["git", "-C", str(path), "-c", "diff.context=0", "-c", "core.quotepath=off", "log", "-z",
                          "--numstat", "-M", "--no-ext-diff", "--no-textconv", "--format=%x01%x02%H",
                          # ddkit never counts a submodule's pointer as code (docs/threat-model.md)
                          "--ignore-submodules=all"],
                         capture_output=True, check=True).stdout
    got = {}
    for rec in out.split(b"\x01\x02")[1:]:
        sha, _, body = rec.partition(b"\0")
        toks, i = body.split(b"\0"), 0
        while i < len(toks):
            t = toks[i].lstrip(b"\n")
            i += 1
            if not t:
                continue
            a, d, p = t.split(b"\t", 2)
            if not p:          # a rename: "a\td\t\0old\0new"
                p, i = toks[i + 1], i + 2
            got[(sha.decode(), p)] = None if a == b"-" else (int(a), int(d))
    return got


def test_counts_from_the_patch_equal_gits_numstat(make_repo):
    """History reads one `git log --raw -p -U0` and sums each file's hunk headers: the counts must be
    git's own `--numstat` for the same diff, file by file, in every shape git writes a patch in."""
    import os

    from ddkit.text import encode_path
    r = make_repo()
    big = "".join(f"row {i}\n" for i in range(30))
    nul_late = b"x" * 9000 + b"\0tail\n"        # a NUL after git's 8000-byte binary check: a text patch
    tricky = {"sp ace.py": "a\n", "tab\there.py": "b\n", "new\nline.py": "c\n", 'quo"te.py': "d\n",
              "back\\slash.py": "e\n", "diff --git a b.py": "f\n", ":colon.py": "g\n"}
    first = {"big.py": big, "bin.dat": b"\0\1\2", "mode.sh": "echo\n", "link": "target\n", "empty.txt": "",
             "noeol.txt": "one\ntwo", "late_nul.txt": nul_late, **tricky,
             "fake_headers.txt": "diff --git a/x b/x\n@@ -1 +1 @@\nBinary files a and b differ\n",
             "caf\xe9.py".encode("latin-1").decode("utf-8", "surrogateescape"): "h\n"}   # not UTF-8
    for name, content in first.items():
        r.write(name, content)
    r.git("add", "-A")
    r.commit(msg="first")
    # Edits: rename with changes, binary change, mode change only, file -> symlink (a type change),
    # a change at the end of a file without a newline, content lines that look like patch headers.
    r.git("mv", "big.py", "moved.py")
    r.write("moved.py", big.replace("row 3\n", "ROW 3\n") + "row 99\n")
    r.write("bin.dat", b"\0\1\3\4")
    os.chmod(r.path / "mode.sh", 0o755)
    (r.path / "link").unlink()
    os.symlink("moved.py", r.path / "link")
    r.write("noeol.txt", "one\ntwo\nthree")
    r.write("late_nul.txt", nul_late + b"more\n")
    r.write("fake_headers.txt", "diff --git a/y b/y\n@@ -2 +2 @@\nBinary files c and d differ\n")
    for name in tricky:
        r.write(name, "changed\n")
    r.git("add", "-A")
    r.commit(msg="edits")
    r.git("mv", "bin.dat", "renamed.dat")          # a binary file renamed without a content change
    sub = r.head()
    r.git("update-index", "--add", "--cacheinfo", f"160000,{sub},vendor/sub")   # a submodule (gitlink)
    r.commit(msg="rename binary, add submodule")

    info = gitutil.open_repo(r.path)
    h = collect_history(info.path, info.commit, cache=False)
    oracle = _numstat_u0(r.path)
    ours = {(row.sha, encode_path(row.path)): row for row in h.changes.itertuples()}
    assert set(ours) == set(oracle) and len(ours) == 16 + 14 + 1     # the submodule is not a change of code
    assert (info.commit, b"vendor/sub") not in ours
    for key, want in oracle.items():
        row = ours[key]
        if want is None:
            # git's numstat calls a binary file binary even when the change is a pure rename; the patch
            # shows no content change then: 0 and 0 either way.
            assert (row.added, row.deleted) == (0, 0)
            assert row.binary or (row.status == "R" and key[1] == b"renamed.dat"), key
        else:
            assert (row.added, row.deleted) == want and not row.binary, key
    link = ours[(h.commits["sha"].iloc[1], b"link")]
    assert link.status == "T" and (link.added, link.deleted) == (1, 1)
