"""History collection against repositories whose every commit is known."""

import subprocess

import pytest

import ddkit
from ddkit import gitutil
from ddkit.collect.history import collect_history
from ddkit.errors import InputError


def _history(repo):
    info = gitutil.open_repo(repo.path)
    return info, collect_history(info.path, info.commit)


def _rev_count(path, ref="HEAD"):
    return int(subprocess.run(["git", "-C", str(path), "rev-list", "--count", ref], capture_output=True,
                              text=True, check=True).stdout)


def test_merges_renames_binary_and_counts(make_repo):
    r = make_repo()
    c1 = r.commit({"a.py": "one\ntwo\nthree\n", "logo.png": b"\x89PNG\x00\x01\x02"}, name="Ann", email="ann@x.example",
                  date="2020-01-01T12:00:00+00:00")
    r.git("checkout", "-q", "-b", "feature")
    c2 = r.commit({"b.py": "b1\nb2\n"}, name="Ben", email="ben@x.example", date="2020-02-01T12:00:00+00:00")
    r.git("checkout", "-q", "main")
    c3 = r.commit({"a.py": "one\ntwo\nthree\nfour\n"}, name="Ann", email="ann@x.example", date="2020-03-01T12:00:00+00:00")
    r.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature",
          env=r.env("Cat", "cat@x.example", "2020-04-01T12:00:00+00:00"))
    merge = r.head()
    r.git("mv", "a.py", "core.py")
    c5 = r.commit(name="Ann", email="ann@x.example", date="2020-05-01T12:00:00+00:00")

    info, h = _history(r)
    assert len(h.commits) == _rev_count(r.path) == 5
    c = h.commits.set_index("sha")
    assert c.loc[merge, "parents"] == 2 and c.loc[merge, "files_changed"] == 0
    assert c.loc[merge, "author_name_raw"] == "Cat"
    assert c.loc[c1, "parents"] == 0 and c.loc[c1, "files_changed"] == 2 and c.loc[c1, "added"] == 3
    assert c.loc[c3, "added"] == 1 and c.loc[c3, "deleted"] == 0
    assert str(c.loc[c2, "author_date"].date()) == "2020-02-01"

    ch = h.changes
    logo = ch[(ch.sha == c1) & (ch.path == "logo.png")].iloc[0]
    assert bool(logo.binary) and logo.added == 0 and logo.status == "A"
    ren = ch[ch.sha == c5].iloc[0]
    assert (ren.status, ren.path, ren.old_path, ren.added, ren.deleted) == ("R", "core.py", "a.py", 0, 0)
    assert set(ch.sha) == {c1, c2, c3, c5}  # the merge has no file rows


def test_non_utf8_author_name_and_path(make_repo):
    r = make_repo()
    r.write("x.txt", "x\n")
    r.git("add", "x.txt")
    r.git("commit", "-q", "-m", "latin-1 name", env=r.env(b"Jos\xe9 N\xfa\xf1ez", "jose@x.example"))
    # A file name that is not UTF-8.
    import os
    bad = os.fsdecode(b"caf\xe9.txt")
    (r.path / bad).write_text("y\n")
    r.git("add", "-A")
    sha = r.commit(name="Ann", email="ann@x.example")
    info, h = _history(r)
    names = set(h.commits["author_name_raw"])
    assert "José Núñez" in names
    paths = set(h.changes["path"])
    assert bad in paths  # surrogate-escaped, so it can be handed back to git unchanged
    assert gitutil.read_blob(info.path, f"{sha}:{bad}") == b"y\n"


def test_empty_repository_is_scanned_with_a_warning(make_repo):
    r = make_repo()
    s = ddkit.scan(r.path, licenses=False, as_of="2024-01-01")
    assert len(s.commits) == 0 and len(s.people) == 0 and len(s.files) == 0
    assert any("empty" in w for w in s.warnings)


def test_ref_detached_head_and_bare(make_repo, tmp_path):
    r = make_repo()
    first = r.commit({"a.txt": "1\n"}, date="2020-01-01T12:00:00+00:00")
    r.commit({"a.txt": "1\n2\n"}, date="2020-02-01T12:00:00+00:00")
    r.git("tag", "v1", first)
    r.commit({"a.txt": "1\n2\n3\n"}, date="2020-03-01T12:00:00+00:00")
    assert len(ddkit.scan(r.path, ref="v1", licenses=False, as_of="2024-01-01").commits) == 1
    assert len(ddkit.scan(r.path, ref="HEAD~1", licenses=False, as_of="2024-01-01").commits) == 2
    r.git("checkout", "-q", "--detach", "HEAD~1")
    s = ddkit.scan(r.path, licenses=False, as_of="2024-01-01")
    assert len(s.commits) == 2 and s.repo.commit == r.head()
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(r.path), str(bare)], check=True)
    sb = ddkit.scan(bare, ref="main", licenses=False, as_of="2024-01-01")
    assert sb.repo.is_bare and len(sb.commits) == 3 and len(sb.files) == 1


def test_shallow_clone_is_scanned_with_a_warning(make_repo, tmp_path):
    r = make_repo()
    for i in range(5):
        r.commit({"a.txt": "".join(f"{j}\n" for j in range(i + 1))}, date=f"2020-0{i + 1}-01T12:00:00+00:00")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{r.path}", str(shallow)], check=True)
    s = ddkit.scan(shallow, licenses=False, as_of="2024-01-01")
    assert s.repo.is_shallow
    assert len(s.commits) == 2 == _rev_count(shallow)
    assert any("shallow" in w and "truncated" in w for w in s.warnings)


def test_bad_repository_inputs(make_repo, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        ddkit.scan(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="not a git repository"):
        ddkit.scan(tmp_path / "plain")
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        ddkit.scan(f)
    r = make_repo()
    r.commit({"sub/a.txt": "1\n"})
    with pytest.raises(InputError, match="top directory"):
        ddkit.scan(r.path / "sub")
    # The .git folder itself (git answers there, with no top folder): opened as before, its HEAD resolved.
    from ddkit import gitutil
    info = gitutil.open_repo(r.path / ".git")
    assert not info.is_bare and not info.is_shallow and info.commit == r.head()
    with pytest.raises(InputError, match="does not name a commit"):
        ddkit.scan(r.path, ref="no-such-branch")
    with pytest.raises(InputError, match="ISO date"):
        ddkit.scan(r.path, as_of="yesterday")


def test_follow_renames_kept_for_the_same_tables_equals_computing_it_again(make_repo):
    """follow_renames answers the same two tables from its last answer: equal, whatever columns are asked
    and in whatever order, to computing it afresh (and a changed table is computed afresh)."""
    import pandas as pd

    from ddkit.collect import history as h
    r = make_repo()
    r.commit({"a.py": "x\n", "b.py": "y\n"}, name="Ann", email="ann@x.example", date="2021-01-01T10:00:00+00:00")
    r.git("mv", "a.py", "c.py")
    r.commit({"b.py": "y2\n"}, name="Bob", email="bob@x.example", date="2021-02-01T10:00:00+00:00")
    r.commit({"b.py": None, "d.py": "z\n"}, name="Ann", email="ann@x.example", date="2021-03-01T10:00:00+00:00")
    hist = h.collect_history(str(r.path), "HEAD", cache=False)
    commits = hist.commits.assign(person_id=hist.commits["author_email_raw"])
    asks = [["person_id", "author_date"], [], ["author_date"], [], ["person_id", "author_date"]]
    for order in (asks, asks[::-1]):
        h._RENAMES.clear()
        for keep in order:
            got = h.follow_renames(hist.changes, commits, keep)
            pd.testing.assert_frame_equal(got, h._follow_renames(hist.changes, commits, keep))
            got["file_id"] = -1                       # a caller changing its copy changes nothing kept
    other = commits.copy()
    other.loc[other.index[0], "person_id"] = "someone@else"
    pd.testing.assert_frame_equal(h.follow_renames(hist.changes, other, ["person_id"]),
                                  h._follow_renames(hist.changes, other, ["person_id"]))
