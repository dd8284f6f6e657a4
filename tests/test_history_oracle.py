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
