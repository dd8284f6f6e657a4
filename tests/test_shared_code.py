"""scan-many: code shared between repositories of different companies is reported as prov.copied-code.

The copies are written here (one renamed and reformatted), so which lines of which repository came from
where is known independently of the fingerprinting.
"""

from __future__ import annotations

import pandas as pd
import pytest

import ddkit
from ddkit.errors import InputError
from ddkit.portfolio import read_list
from test_reference_corpus import ORIGINAL, UNRELATED, _renamed

OWN = "import math\n\nPI = math.pi\n"
OTHER = "".join(f"def other_{i}(a, b):\n    while a < b:\n        a += {i + 1}\n    return [a] * {i}\n\n\n"
                for i in range(20))


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    from gitrepo import Repo
    root = tmp_path_factory.mktemp("shared")
    a = Repo(root / "acme-billing")
    a.commit({"billing/invoice.py": ORIGINAL, "billing/util.py": UNRELATED},
             name="Alice Acme", email="alice@acme.example", date="2020-03-01T10:00:00+00:00")
    b = Repo(root / "beta-shop")
    copy = _renamed(ORIGINAL)
    b.commit({"shop/pricing.py": OWN + copy, "shop/other.py": OTHER},
             name="Bob Beta", email="bob@beta.example", date="2022-05-01T10:00:00+00:00")
    c = Repo(root / "acme-tools")      # Acme's second repository: its copy of Acme's own code is no finding
    c.commit({"tools/invoice_copy.py": ORIGINAL},
             name="Alice Acme", email="alice@acme.example", date="2021-01-01T10:00:00+00:00")
    (root / "acme.yaml").write_text("name: Acme Inc.\ndomains: [acme.example]\n")
    (root / "acme-again.yaml").write_text("name: '  acme   INC.'\n")        # the same company, spelt otherwise
    (root / "beta.yaml").write_text("name: Beta Corp\ndomains: [beta.example]\n")
    return root, a, b, c, copy


def _scan(specs, company, **kw):
    return ddkit.scan_many(specs, company=company, as_of="2024-06-30", licenses=False, secrets=False, jobs=2, **kw)


def test_shared_code_between_companies(portfolio):
    root, a, b, c, copy = portfolio
    lst = root / "list.txt"
    lst.write_text("acme-billing company=acme.yaml\nbeta-shop main company=beta.yaml\nacme-tools\n")
    specs = read_list(lst)
    assert specs[0][2] == str(root / "acme.yaml") and len(specs[2]) == 2
    p = _scan(specs, root / "acme-again.yaml")
    f = p.findings
    got = f[f["rule"] == "prov.copied-code"].set_index("repository")
    # Beta's renamed copy matches Acme's code (both of Acme's repositories); each Acme repository's file
    # matches Beta's copy; Acme's two repositories are never compared with each other.
    assert sorted(got.index) == sorted([str(a.path), str(b.path), str(c.path)])
    assert got.loc[str(b.path), "path"] == "shop/pricing.py"
    assert got.loc[str(a.path), "path"] == "billing/invoice.py" and got.loc[str(c.path), "path"] == "tools/invoice_copy.py"
    # Beta's copy: after OWN's three lines, the copy's comment (line 4, the original's docstring) and two blank
    # lines; the shared code starts at its class line and ends with the file.
    lines = copy.splitlines()
    first = len(OWN.splitlines()) + next(k for k, t in enumerate(lines, start=1) if t.startswith("class "))
    last = len(OWN.splitlines()) + len(lines)
    assert first == 7
    rb = got.loc[str(b.path)]
    assert (rb["line"], rb["end_line"]) == (first, last)      # exact (docs/decisions.md: Reference corpora)
    orig = ORIGINAL.splitlines()
    r_first = next(k for k, t in enumerate(orig, start=1) if t.startswith("class "))
    row = p.copied_code[(p.copied_code["repository"] == str(b.path)) & (p.copied_code["reference"].str.contains("acme-billing"))]
    assert row["reference_lines"].tolist() == [f"{r_first}-{len(orig)}"] and row["matched_lines"].tolist() == [f"{first}-{last}"]
    assert "another company's repository" in rb["evidence"] and "billing/invoice.py" in rb["evidence"]
    assert "committed there by Alice Acme" in rb["evidence"] and "Bob Beta" in rb["evidence"]
    assert rb["severity"] == "high" and rb["first_commit"] == pd.Timestamp("2022-05-01")   # a calendar day (naive Timestamp)
    table = p.copied_code
    assert set(zip(table["repository"], table["reference_company"])) == {
        (str(b.path), "Acme Inc."), (str(a.path), "Beta Corp"), (str(c.path), "Beta Corp")}
    assert not ((table["repository"] == str(a.path)) & table["reference"].str.contains("acme-tools")).any()
    # Unrelated files are not reported; the repositories table counts the new findings.
    assert set(got["path"]) == {"shop/pricing.py", "billing/invoice.py", "tools/invoice_copy.py"}
    repos = p.repositories.set_index("repo")
    single = ddkit.scan(b.path, company=root / "beta.yaml", as_of="2024-06-30", licenses=False, secrets=False)
    n_high = int((single.findings["severity"] == "high").sum())
    assert int(repos.loc[str(b.path), "high"]) == n_high + 1
    # The JSON carries the table; a pseudonymised report names nobody.
    j = p.to_json()
    assert len(j["copied_code"]) == len(table)
    pj = p.pseudonymized().to_json()
    assert "Alice Acme" not in str(pj) and "Bob Beta" not in str(pj)
    # Memory bound: the shared fingerprints found a few hashes at a time give the same answer.
    import ddkit.analyze.shared_code as sc
    old = sc._BUDGET
    try:
        sc._BUDGET = 64
        small = _scan(specs, root / "acme-again.yaml")
    finally:
        sc._BUDGET = old
    assert small.copied_code.equals(table)


def test_one_company_no_comparison(portfolio):
    """Positive control: the same repositories as one company's (no company= on any line) give no finding."""
    root, a, b, c, _ = portfolio
    p = _scan([str(a.path), str(b.path), str(c.path)], root / "acme.yaml")
    assert "prov.copied-code" not in set(p.findings["rule"]) and p.copied_code is None
    # Every line naming the same company (by name) is still one company.
    p2 = _scan([(str(a.path), "HEAD", str(root / "acme.yaml")), (str(b.path), "HEAD", str(root / "acme-again.yaml"))],
               None)
    assert "prov.copied-code" not in set(p2.findings["rule"])


def test_list_company_errors(portfolio, tmp_path):
    root, a, *_ = portfolio
    lst = tmp_path / "l.txt"
    lst.write_text(f"{a.path} company=\n")
    with pytest.raises(InputError, match="company= needs"):
        read_list(lst)
    lst.write_text(f"{a.path} HEAD extra company=x.yaml\n")
    with pytest.raises(InputError, match="expected 'REPO"):
        read_list(lst)
    lst.write_text(f"{a.path} company=missing.yaml\n{root / 'beta-shop'}\n")
    with pytest.raises(InputError, match="missing.yaml"):
        _scan(read_list(lst), None)
