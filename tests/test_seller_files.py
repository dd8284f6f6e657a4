"""Files the seller commits that decide who wrote what: the repository's ``.mailmap`` and
``.git-blame-ignore-revs``. Both are honoured (that is what they are for), but the roster outranks the
``.mailmap``, and every attribution resting on either file alone is named in the scan's warnings."""

import ddkit

ROSTER = ("person,emails,type,vendor,start_date,end_date,ip_assignment,ip_assignment_date\n"
          "Alice Founder,alice@acme.example,founder,,2019-01-01,2030-01-01,signed,2019-01-01\n"
          "Fred Freelance,fred@freelance.example,contractor,,2019-01-01,2030-01-01,missing,\n")
COMPANY = "name: Acme\nincorporation_date: 2019-01-01\ndomains: [acme.example]\n"


def _repo(make_repo, mailmap: str):
    r = make_repo()
    r.commit({".mailmap": mailmap, "a.py": "a = 1\n"}, name="Alice Founder", email="alice@acme.example",
             date="2020-01-01T12:00:00+00:00")
    for i in range(3):
        r.commit({f"f{i}.py": "".join(f"v{j} = {j}\n" for j in range(10))}, name="Fred", email="fred@freelance.example",
                 date=f"2020-0{i + 2}-01T12:00:00+00:00")
    return r


def _scan(r, tmp_path, roster=True):
    (tmp_path / "company.yaml").write_text(COMPANY)
    kw = {}
    if roster:
        (tmp_path / "roster.csv").write_text(ROSTER)
        kw["roster"] = tmp_path / "roster.csv"
    return ddkit.scan(r.path, company=tmp_path / "company.yaml", licenses=False, secrets=False,
                      as_of="2024-06-30", **kw)


HOSTILE = "Alice Founder <alice@acme.example> <fred@freelance.example>\n"


def test_roster_outranks_the_mailmap(make_repo, tmp_path):
    """A .mailmap line moving the contractor's address onto the founder does not hide the contractor:
    the roster lists the address as Fred's, so his commits stay his and his missing assignment is found."""
    s = _scan(_repo(make_repo, HOSTILE), tmp_path)
    p = s.people.set_index("person")
    assert p.loc["Fred Freelance", "commits"] == 3 and p.loc["Alice Founder", "commits"] == 1
    assert ((s.findings["rule"] == "ip.contractor-no-assignment")
            & (s.findings["subject"] == "Fred Freelance")).any()


def test_mailmap_attribution_to_a_roster_person_is_applied_and_named(make_repo, tmp_path):
    """Positive control of the .mailmap's power: with the address absent from the roster, the .mailmap's
    attribution is applied (a known person's other address is what a .mailmap is for) but named."""
    roster = ROSTER.replace("Fred Freelance,fred@freelance.example", "Fred Freelance,fred@elsewhere.example")
    r = _repo(make_repo, HOSTILE)
    (tmp_path / "roster.csv").write_text(roster)
    (tmp_path / "company.yaml").write_text(COMPANY)
    s = ddkit.scan(r.path, roster=tmp_path / "roster.csv", company=tmp_path / "company.yaml", licenses=False,
                   secrets=False, as_of="2024-06-30")
    assert s.people.set_index("person").loc["Alice Founder", "commits"] == 4
    w = [x for x in s.warnings if ".mailmap attributes" in x]
    assert len(w) == 1 and "fred@freelance.example → alice@acme.example (3 commits)" in w[0], s.warnings
    assert "roster" in w[0]


def test_mailmap_onto_the_company_domain_is_named_without_roster(make_repo, tmp_path):
    s = _scan(_repo(make_repo, HOSTILE), tmp_path, roster=False)
    p = s.people.set_index("person")
    assert p.loc["Alice Founder", "commits"] == 4 and p.loc["Alice Founder", "type"] == "employee"
    w = [x for x in s.warnings if ".mailmap attributes" in x]
    assert len(w) == 1 and "fred@freelance.example → alice@acme.example" in w[0] and "employees" in w[0]


def test_a_mailmap_that_only_renames_says_nothing(make_repo, tmp_path):
    s = _scan(_repo(make_repo, "Fred Freelance <fred@freelance.example>\n"), tmp_path)
    assert not [x for x in s.warnings if ".mailmap attributes" in x], s.warnings
    assert s.people.set_index("person").loc["Fred Freelance", "commits"] == 3


def test_blame_ignore_revs_names_whose_lines_it_moves(make_repo, tmp_path, monkeypatch):
    """Fred's commit that rewrote Alice's file is listed in .git-blame-ignore-revs: his lines go to Alice,
    and the warning names Fred; the same on a re-scan from the cache."""
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "cache"))
    r = make_repo()
    r.commit({"a.py": "".join(f"x{i} = {i}\n" for i in range(6))}, name="Alice", email="alice@acme.example",
             date="2020-01-01T12:00:00+00:00")
    fred = r.commit({"a.py": "".join(f"x{i} = ({i} + 1)\n" for i in range(6))}, name="Fred",
                    email="fred@freelance.example", date="2020-02-01T12:00:00+00:00")
    r.commit({".git-blame-ignore-revs": f"{fred}\n"}, name="Alice", email="alice@acme.example",
             date="2020-03-01T12:00:00+00:00")
    for _ in range(2):
        s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-01-01")
        lines = {p.person: int(p.surviving_lines) for p in s.people.itertuples() if p.surviving_lines}
        assert lines.get("Fred", 0) == 0 and lines["Alice"] >= 6
        w = [x for x in s.warnings if "makes blame skip" in x]
        assert len(w) == 1 and "skip 1 commit," in w[0] and "Fred <fred@freelance.example> (1)" in w[0], s.warnings
