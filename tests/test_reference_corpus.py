"""--reference: code copied from a reference corpus is found after renaming and reformatting.

The scenario writes the copies itself, so which target lines came from which reference lines is known
here, independently of the fingerprinting.
"""

from __future__ import annotations

import re
import subprocess
import zipfile

import pytest

import ddkit
from ddkit.errors import InputError

ORIGINAL = '''"""Billing engine of Previous Employer Corp."""


class InvoiceCalculator:
    def __init__(self, rates, currency="USD"):
        self.rates = rates
        self.currency = currency
        self.history = []

    def total(self, items):
        amount = 0
        for item in items:
            rate = self.rates.get(item.kind, 0)
            amount += rate * item.quantity
            if item.discount:
                amount -= item.discount * rate
        self.history.append(amount)
        return round(amount, 2)

    def average(self):
        if not self.history:
            return 0
        return sum(self.history) / len(self.history)

    def reset(self):
        self.history = []
        return len(self.history)
'''


def _renamed(text: str) -> str:
    """The copy a careful copier makes: identifiers renamed, layout changed, comments added."""
    for a, b in (("InvoiceCalculator", "PriceEngine"), ("rates", "tariffs"), ("amount", "acc"), ("item", "it"),
                 ("history", "log"), ("currency", "ccy")):
        text = re.sub(rf"\b{a}\b", b, text)
    text = text.replace('"""Billing engine of Previous Employer Corp."""', "# Acme pricing (our own, honest)")
    return text.replace("    ", "  ")      # two-space indentation


UNRELATED = "".join(f"def helper_{i}(x):\n    return x * {i} + {i * 3}\n\n\n" for i in range(30))


def test_copied_code_found_after_renaming(make_repo, tmp_path):
    ref = tmp_path / "previous-employer"
    (ref / "billing").mkdir(parents=True)
    (ref / "billing" / "invoice.py").write_text(ORIGINAL)
    (ref / "billing" / "other.py").write_text("import os\n\nprint(os.getcwd())\n")
    copy = _renamed(ORIGINAL)
    # The target: 3 lines of its own, then the copy (so the copied lines are 4 .. 3 + len(copy lines)).
    own = "import math\n\nPI = math.pi\n"
    r = make_repo()
    r.commit({"acme/pricing.py": own + copy, "acme/util.py": UNRELATED},
             name="Carl Contractor", email="carl@contract.example", date="2022-01-10T10:00:00+00:00")
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-06-30", reference=[str(ref)])
    f = s.findings[s.findings["rule"] == "prov.copied-code"]
    assert f["path"].tolist() == ["acme/pricing.py"]
    row = f.iloc[0]
    # The copy's code starts at its class line (line 4 is its new comment, the original's docstring, then two
    # blank lines) and ends with the file; the match is exactly that (docs/decisions.md: Reference corpora), on both sides.
    lines, orig = copy.splitlines(), ORIGINAL.splitlines()
    first_copied = 3 + next(k for k, t in enumerate(lines, start=1) if t.startswith("class "))
    last_copied = 3 + len(lines)
    assert (row["line"], row["end_line"]) == (first_copied, last_copied) == (7, 30)
    m = s.copied_code.set_index("reference_path").loc["billing/invoice.py"]
    r_first = next(k for k, t in enumerate(orig, start=1) if t.startswith("class "))
    assert (m["matched_lines"], m["reference_lines"]) == (f"{first_copied}-{last_copied}", f"{r_first}-{len(orig)}")
    assert "previous-employer:billing/invoice.py" in row["evidence"] and "Carl Contractor" in row["evidence"]
    table = s.copied_code
    assert table["reference_path"].tolist() == ["billing/invoice.py"] and table["similarity"].iloc[0] >= 0.8
    # The same corpus as a zip archive and as a git repository gives the same finding.
    z = tmp_path / "corpus.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(ref / "billing" / "invoice.py", "billing/invoice.py")
    g = tmp_path / "corpus-git"
    subprocess.run(["git", "init", "-q", str(g)], check=True)
    (g / "invoice.py").write_text(ORIGINAL)
    subprocess.run(["git", "-C", str(g), "-c", "user.name=x", "-c", "user.email=x@x", "add", "."], check=True)
    subprocess.run(["git", "-C", str(g), "-c", "user.name=x", "-c", "user.email=x@x", "-c", "commit.gpgsign=false",
                    "commit", "-qm", "x"], check=True)
    for corpus in (z, g):
        s2 = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-06-30", reference=[str(corpus)])
        f2 = s2.findings[s2.findings["rule"] == "prov.copied-code"]
        assert f2["path"].tolist() == ["acme/pricing.py"]
        assert (int(f2.iloc[0]["line"]), int(f2.iloc[0]["end_line"])) == (int(row["line"]), int(row["end_line"]))


def test_no_reference_no_finding_and_bad_reference_is_an_input_error(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.py": UNRELATED})
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-06-30")
    assert "prov.copied-code" not in set(s.findings["rule"]) and s.copied_code is None
    # No reference is no gap in the score (docs/decisions.md: Reference corpora): nothing about copied code or references
    # in not_assessed (which does list the missing vulnerability database), and the Methodology says it.
    na = s.summary.get("not_assessed") or []
    assert any("vuln" in x for x in na)         # positive control: not_assessed is filled for what is a gap
    assert not [x for x in na if "copied" in x.lower() or "reference" in x.lower()]
    out = tmp_path / "r.xlsx"
    s.to_excel(out)
    import openpyxl
    cells = [str(c) for row in openpyxl.load_workbook(out)["Methodology"].iter_rows(values_only=True) for c in row if c]
    assert any("copied code was not compared" in c and "not a gap in the score" in c for c in cells)
    with pytest.raises(InputError, match="--reference"):
        ddkit.scan(r.path, licenses=False, secrets=False, reference=[str(tmp_path / "nope")])
    (tmp_path / "plain.txt").write_text("x")
    with pytest.raises(InputError, match="--reference"):
        ddkit.scan(r.path, licenses=False, secrets=False, reference=[str(tmp_path / "plain.txt")])
