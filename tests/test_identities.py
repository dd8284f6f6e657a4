"""Identity resolution: .mailmap, roster e-mails, case, forge no-reply addresses, bots, classification."""

import ddkit

MAILMAP = """# people
Bob Engineer <bob@acme.example> Bob E <bob.engineer@gmail.com>
Carol Lead <carol@acme.example>
"""


def _repo(make_repo):
    r = make_repo()
    r.commit({".mailmap": MAILMAP, "a.txt": "1\n"}, name="Bob Engineer", email="bob@acme.example", date="2020-01-01T12:00:00+00:00")
    r.commit({"a.txt": "1\n2\n"}, name="Bob E", email="bob.engineer@gmail.com", date="2020-02-01T12:00:00+00:00")
    r.commit({"a.txt": "1\n2\n3\n"}, name="robert", email="Robert@ACME.example", date="2020-03-01T12:00:00+00:00")
    r.commit({"b.txt": "1\n"}, name="carol", email="CAROL@ACME.EXAMPLE", date="2023-09-01T12:00:00+00:00")
    r.commit({"b.txt": "1\n2\n"}, name="Carol L", email="12345+carol-gh@users.noreply.github.com", date="2023-10-01T12:00:00+00:00")
    r.commit({"c.txt": "1\n"}, name="dependabot[bot]", email="49699333+dependabot[bot]@users.noreply.github.com", date="2023-11-01T12:00:00+00:00")
    r.commit({"d.txt": "1\n"}, name="Eve Agency", email="eve@codeforge.example", date="2023-12-01T12:00:00+00:00")
    r.commit({"e.txt": "1\n"}, name="Zed", email="zed1984@yahoo.com", date="2021-01-01T12:00:00+00:00")
    r.commit({"f.txt": "1\n"}, name="Ivan Outsider", email="ivan@outsider.example", date="2021-02-01T12:00:00+00:00")
    r.commit({"f.txt": "1\n2\n"}, name="ivan  outsider", email="ivan@home.example", date="2021-03-01T12:00:00+00:00")
    return r


def _company(tmp_path):
    p = tmp_path / "company.yaml"
    p.write_text("name: Acme\ndomains: [acme.example]\nvendors: {CodeForge Ltd: [codeforge.example]}\n")
    return p


def test_with_roster(make_repo, tmp_path):
    r = _repo(make_repo)
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type,vendor,end_date,ip_assignment\n"
                      "Bob Engineer,bob@acme.example;robert@acme.example,employee,,,signed\n"
                      "Carol Lead,carol@acme.example;carol-gh@users.noreply.github.com,employee,,2023-12-31,signed\n"
                      "Eve Agency,eve@codeforge.example,vendor,CodeForge Ltd,,\n")
    s = ddkit.scan(r.path, roster=roster, company=_company(tmp_path), licenses=False, as_of="2024-06-30")
    p = s.people.set_index("person")
    assert p.loc["Bob Engineer", "commits"] == 3      # .mailmap + roster alias merged
    assert p.loc["Bob Engineer", "type"] == "employee"
    assert p.loc["Carol Lead", "commits"] == 2        # case-insensitive + GitHub no-reply with id prefix
    assert bool(p.loc["Carol Lead", "departed"])      # end_date on or before as_of
    # On the roster with no end date and no commit within the inactivity window: departed, unconfirmed
    # (issue 23: a blank end date is not an answer).
    assert bool(p.loc["Bob Engineer", "departed"]) and p.loc["Bob Engineer", "departed_status"] == "unconfirmed"
    assert p.loc["Carol Lead", "departed_status"] == "confirmed"
    assert p.loc["Eve Agency", "vendor"] == "CodeForge Ltd"
    bot = p.loc["dependabot[bot]"]
    assert bool(bot["is_bot"]) and not bool(bot["departed"]) and bot["type"] == "bot"
    # Not on the roster: listed, unresolved, typed unknown even on a company-looking domain.
    assert p.loc["Zed", "type"] == "unknown" and not bool(p.loc["Zed", "resolved"])
    assert p.loc["Ivan Outsider", "commits"] == 2     # same name, two addresses: one person
    assert bool(p.loc["Ivan Outsider", "departed"])   # no commit in the inactivity window
    assert set(p.loc["Ivan Outsider", "emails"]) == {"ivan@outsider.example", "ivan@home.example"}
    unresolved = [w for w in s.warnings if "not resolved" in w]
    assert len(unresolved) == 1 and unresolved[0].startswith("2 identities not resolved")
    assert int((~s.people["resolved"]).sum()) == 2
    assert len(s.people) == 6
    assert s.people["commits"].sum() == len(s.commits) == 10


def test_without_roster_classifies_by_domain(make_repo, tmp_path):
    r = _repo(make_repo)
    s = ddkit.scan(r.path, company=_company(tmp_path), licenses=False, as_of="2024-06-30")
    p = s.people.set_index("person")
    assert p.loc["Bob Engineer", "type"] == "employee" and p.loc["Bob Engineer", "commits"] == 2
    # robert@acme.example is not in the .mailmap: a separate person, but on the company domain.
    assert p.loc["robert", "type"] == "employee"
    assert p.loc["Eve Agency", "type"] == "vendor" and p.loc["Eve Agency", "vendor"] == "CodeForge Ltd"
    assert p.loc["Zed", "type"] == "unknown"
    assert p.loc["Carol Lead", "commits"] == 1  # the .mailmap name-only line renames the company address
    assert s.people["commits"].sum() == 10


def test_unresolved_identities_are_never_dropped(make_repo):
    r = make_repo()
    r.commit({"a": "1\n"}, name="x", email="")
    r.commit({"b": "1\n"}, name="root", email="root@localhost")
    r.commit({"c": "1\n"}, name="root", email="root@other-host")
    s = ddkit.scan(r.path, licenses=False, as_of="2024-06-30")
    assert s.people["commits"].sum() == 3
    # "root" is a generic name: the two root identities are not merged.
    assert len(s.people) == 3


def test_mailmap_forms_git_accepts(make_repo):
    """git resolves the .mailmap (git check-mailmap): forms a hand-written parser got wrong count too,
    e.g. git/git's 'Proper Name <proper@email> Commit Name' without a commit e-mail, and the .mailmap of
    the scanned ref, never the work tree's."""
    r = make_repo()
    mm = ("Christopher Díaz Riveros <chrisadr@gentoo.org> Christopher Diaz Riveros\n"
          "Ann Real <ann@real.example> <ANN@OLD.example>\n")
    r.commit({".mailmap": mm, "a.txt": "1\n"}, name="Christopher Diaz Riveros", email="chrisadr@gentoo.org")
    r.commit({"b.txt": "2\n"}, name="ann", email="ann@old.example")
    r.write(".mailmap", "Someone Else <x@y.example> <ann@old.example>\n")   # uncommitted: must not count
    s = ddkit.scan(r.path, as_of="2024-06-30", licenses=False, secrets=False)
    assert set(s.people["person"]) == {"Christopher Díaz Riveros", "Ann Real"}
    assert not any(".mailmap" in w for w in s.warnings)


def test_roster_match_suggested_not_merged(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.txt": "1\n2\n"}, name="Kenneth Reitz", email="me@kennethreitz.org")
    r.commit({"b.txt": "3\n"}, name="Kenneth Reitz", email="_@kennethreitz.com")
    r.commit({"c.txt": "4\n"}, name="K R", email="kreitz@other.example")
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type\nKenneth Reitz,me@kennethreitz.org;kreitz@work.example,founder\n")
    s = ddkit.scan(r.path, roster=roster, as_of="2024-06-30", licenses=False, secrets=False)
    p = s.people.set_index("person")
    assert p.loc["Kenneth Reitz", "in_roster"] and p.loc["Kenneth Reitz", "commits"] == 1
    other = p.loc["Kenneth Reitz <_@kennethreitz.com>"]
    assert other["possible_roster_match"] == "Kenneth Reitz" and other["possible_roster_match_reason"].startswith("same name")
    assert p.loc["K R", "possible_roster_match"] == "Kenneth Reitz"            # same user name
    f = s.findings[s.findings["rule"] == "ip.unknown-contributor"].set_index("subject")
    ev = f.loc["Kenneth Reitz <_@kennethreitz.com>", "evidence"]
    assert "Possibly Kenneth Reitz on the roster (same name, different address)" in ev
    assert ev.count("_@kennethreitz.com") == 1


def test_coauthors_need_paperwork_too(make_repo, tmp_path):
    """A Co-authored-by trailer makes the co-author an author of the commit's surviving lines for the IP
    analysis (ownership still counts each line once, for the commit's author)."""
    r = make_repo()
    r.commit({"a.py": "".join(f"a{i}\n" for i in range(30))}, name="Alice Main", email="alice@acme.example",
             date="2020-01-01T10:00:00+00:00")
    r.commit({"b.py": "".join(f"b{i}\n" for i in range(20))}, name="Alice Main", email="alice@acme.example",
             date="2020-02-01T10:00:00+00:00",
             msg="pairing\n\nCo-authored-by: Mallory Pair <mallory@else.example>\nCo-authored-by: Alice Main <alice@acme.example>\n")
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type,ip_assignment\nAlice Main,alice@acme.example,employee,signed\n")
    s = ddkit.scan(r.path, roster=roster, as_of="2020-06-30", licenses=False, secrets=False)
    f = s.findings[s.findings["rule"] == "ip.unknown-contributor"].set_index("subject")
    assert list(f.index) == ["Mallory Pair"]
    assert f.loc["Mallory Pair", "lines_at_stake"] == 20 and f.loc["Mallory Pair", "commits"] == 1
    assert "(1 as co-author)" in f.loc["Mallory Pair", "evidence"]
    own = s.ownership.groupby("person")["lines"].sum()
    assert own.to_dict() == {"Alice Main": 50}                 # each line once, for the commit's author
    assert "Mallory Pair" in set(s.people["person"])
    assert not (s.findings["subject"] == "Alice Main").any()   # the author listed as co-author is not doubled


def test_mailmap_answers_kept_per_mailmap_blob(make_repo, tmp_path, monkeypatch):
    """git's answer for an identity depends only on the .mailmap's content: kept per blob, a re-read asks
    git only about identities it has not seen, and a changed .mailmap (another blob) is asked afresh."""
    from ddkit import gitutil
    from ddkit.resolve.mailmap import read_mailmap
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "cache"))
    r = make_repo()
    c1 = r.commit({".mailmap": "Ann Real <ann@real.example> <ann@old.example>\n", "a.txt": "1\n"},
                  name="ann", email="ann@old.example")
    asked: list[bytes] = []
    real = gitutil.run

    def spy(repo, *args, **kw):
        if "check-mailmap" in args:
            asked.append(kw.get("input", b""))
        return real(repo, *args, **kw)
    monkeypatch.setattr(gitutil, "run", spy)
    ids = [("ann", "ann@old.example"), ("Bob", "bob@x.example")]
    first = read_mailmap(str(r.path), c1, ids)
    assert first.mapped == {("ann", "ann@old.example"): ("Ann Real", "ann@real.example")} and len(asked) == 1
    again = read_mailmap(str(r.path), c1, ids + [("Cy", "cy@x.example")])
    assert again.mapped == first.mapped and asked[1:] == [b"Cy <cy@x.example>\n"]     # only the new one
    read_mailmap(str(r.path), c1, ids)
    assert len(asked) == 2                                                             # nothing new: no git
    c2 = r.commit({".mailmap": "Bobby <bob@real.example> <bob@x.example>\n"}, name="ann", email="ann@old.example")
    changed = read_mailmap(str(r.path), c2, ids)
    assert changed.mapped == {("Bob", "bob@x.example"): ("Bobby", "bob@real.example")} and len(asked) == 3
    assert read_mailmap(str(r.path), c1, ids).mapped == first.mapped and len(asked) == 3   # the old blob: kept
    # The tree as the files stage listed it: the same answers, and git is not asked where the .mailmap is.
    listed: list[tuple] = []
    monkeypatch.setattr(gitutil, "run", lambda repo, *a, **kw: listed.append(a) or spy(repo, *a, **kw))
    blob2 = r.git("rev-parse", f"{c2}:.mailmap").strip()
    assert read_mailmap(str(r.path), c2, ids, tree={".mailmap": ("blob", blob2)}).mapped == changed.mapped
    assert read_mailmap(str(r.path), c2, ids, tree={}).mapped == {}                 # no .mailmap listed
    assert read_mailmap(str(r.path), c2, ids, tree={".mailmap": ("commit", blob2)}).mapped == {}  # a submodule
    assert not any("ls-tree" in a for a in listed)
