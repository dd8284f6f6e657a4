"""prov.bulk-import end to end: which commits are bulk imports, with which severity and surviving lines.

The expected answers are the scenario's own bookkeeping (what each commit wrote and what later commits
replaced), not ddkit's blame.
"""

from __future__ import annotations

import ddkit


def _code(n: int, tag: str, header: str = "") -> str:
    return header + "".join(f"x_{tag}_{i} = {i}\n" for i in range(n))


def _roster(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text("person,emails,type,start_date,ip_assignment,ip_assignment_date\n"
                 "Fay Founder,fay@acme.example,founder,2020-01-01,signed,2020-03-01\n"
                 "Carl Contractor,carl@contract.example,contractor,2021-01-01,signed,2021-06-01\n"
                 "Eve Employee,eve@acme.example,employee,2020-01-01,signed,2020-01-01\n")
    c = tmp_path / "company.yaml"
    c.write_text("name: Acme\ndomains: [acme.example]\nincorporation_date: 2020-03-01\n")
    return p, c


def test_bulk_imports(make_repo, tmp_path):
    r = make_repo()
    fay = dict(name="Fay Founder", email="fay@acme.example")
    eve = dict(name="Eve Employee", email="eve@acme.example")
    carl = dict(name="Carl Contractor", email="carl@contract.example")
    # 1. Fay, before incorporation: 12 files x 100 lines, one with a source URL in a comment -> high
    pre = r.commit({f"old/m{i}.py": _code(100, f"o{i}", "# Taken from https://github.com/other/proj\n" if i == 0 else "")
                    for i in range(12)}, date="2020-02-01T10:00:00+00:00", msg="import old code", **fay)
    # 2. Carl, after his start but before his assignment: 10 files x 120 lines -> high
    drop = r.commit({f"drop/d{i}.py": _code(120, f"d{i}") for i in range(10)},
                    date="2021-03-01T10:00:00+00:00", msg="add module", **carl)
    # 3. Eve, assigned: 10 files x 110 lines -> medium
    ok = r.commit({f"eve/e{i}.py": _code(110, f"e{i}") for i in range(10)},
                  date="2021-04-01T10:00:00+00:00", msg="new service", **eve)
    # Not imports: 4. a move of Eve's files (renames); 5. vendored code; 6. a big edit of existing files;
    # 7. 9 files only (below the file threshold); 8. an import Eve replaced entirely later (nothing survives)
    r.git("mv", "eve", "svc")
    r.commit(None, date="2021-05-01T10:00:00+00:00", msg="move", **eve)
    r.commit({f"vendor/v{i}.py": _code(200, f"v{i}") for i in range(12)}, date="2021-05-02T10:00:00+00:00", **eve)
    r.commit({f"svc/e{i}.py": _code(220, f"e{i}") for i in range(10)}, date="2021-05-03T10:00:00+00:00", **eve)
    r.commit({f"few/f{i}.py": _code(200, f"f{i}") for i in range(9)}, date="2021-05-04T10:00:00+00:00", **eve)
    r.commit({f"gone/g{i}.py": _code(100, f"g{i}") for i in range(10)}, date="2021-05-05T10:00:00+00:00", **eve)
    r.commit({f"gone/g{i}.py": _code(100, f"h{i}") for i in range(10)}, date="2021-05-06T10:00:00+00:00", **eve)
    roster, company = _roster(tmp_path)
    s = ddkit.scan(r.path, roster=roster, company=company, licenses=False, secrets=False, as_of="2024-06-30")
    f = s.findings[s.findings["rule"] == "prov.bulk-import"]
    got = {row.first_sha: (str(row.severity), row.person, row.lines_at_stake) for row in f.itertuples()}
    # Eve's later edit keeps each file's first 110 lines as they were (line i is "x_e{k}_{i} = {i}" in both
    # versions) and appends 110: blame keeps the 110 on the import. Fay's import: 1,200 lines and the URL line.
    assert got == {pre: ("high", "Fay Founder", 12 * 100 + 1),
                   drop: ("high", "Carl Contractor", 10 * 120),
                   ok: ("medium", "Eve Employee", 10 * 110)}
    ev = f.set_index("first_sha")
    assert "before incorporation" in ev.loc[pre, "evidence"]
    assert "https://github.com/other/proj" in ev.loc[pre, "evidence"]
    assert "no IP assignment in force" in ev.loc[drop, "evidence"]
    assert "What makes it suspicious" not in ev.loc[ok, "evidence"]


def test_bulk_import_foreign_holders_high(make_repo, tmp_path):
    """The license stage's holders make an import high on their own: Eve is on the roster, started and
    signed before both commits, which come after incorporation; only the copyright notices differ. The
    commit without them is the positive control (medium)."""
    r = make_repo()
    eve = dict(name="Eve Employee", email="eve@acme.example")
    notice = "# Copyright (c) 2015 Initech Corporation. All rights reserved.\n"
    foreign = r.commit({f"billing/b{i}.py": _code(110, f"b{i}", notice) for i in range(10)},
                       date="2021-04-01T10:00:00+00:00", msg="billing engine", **eve)
    plain = r.commit({f"ledger/l{i}.py": _code(110, f"l{i}") for i in range(10)},
                     date="2021-04-02T10:00:00+00:00", msg="ledger", **eve)
    roster, company = _roster(tmp_path)
    s = ddkit.scan(r.path, roster=roster, company=company, licenses=True, secrets=False, as_of="2024-06-30", jobs=1)
    # The license stage saw the holder in every imported file (what the scenario wrote).
    lic = s.licenses.set_index("path")
    assert all(any("Initech" in h for h in lic.loc[f"billing/b{i}.py", "holders"]) for i in range(10))
    f = s.findings[s.findings["rule"] == "prov.bulk-import"].set_index("first_sha")
    assert set(f.index) == {foreign, plain}
    assert str(f.loc[foreign, "severity"]) == "high" and str(f.loc[plain, "severity"]) == "medium"
    ev = f.loc[foreign, "evidence"]
    assert "copyright holders that are not the company in those files: Initech Corporation" in ev
    for other in ("before incorporation", "start date", "no IP assignment in force", "not on the roster"):
        assert other not in ev
    assert f.loc[foreign, "lines_at_stake"] == f.loc[plain, "lines_at_stake"] + 10 == 10 * 111
    assert "What makes it suspicious" not in f.loc[plain, "evidence"]
