"""The shipped license policies (rules/licenses.yaml) map each ScanCode category to its rule: the rules no
sample repository produces (weak copyleft and commercial code or dependencies in a proprietary product)."""

from __future__ import annotations

from ddkit.analyze import dependencies as D
from ddkit.analyze import licenses as L
from ddkit.config import load_rules


def test_license_policies_map_each_category_to_its_rule():
    """Exercises the license rules no sample produces: the proprietary product's policy, per category."""
    rules = load_rules()
    lic = rules["licenses"]
    pol = lic["outbound_policies"]["proprietary"]
    db = {"x-weak": {"category": "Copyleft Limited", "spdx": "LGPL-2.1-only"},
          "x-commercial": {"category": "Commercial", "spdx": "LicenseRef-x-commercial"}}
    assert L.classify("x-weak", db, pol, lic["rule_order"])[1] == "lic.weak-copyleft"
    assert L.classify("x-commercial", db, pol, lic["rule_order"])[1] == "lic.proprietary-or-commercial"
    dep = lic["dependencies"]
    dpol = dep["policies"]["proprietary"]["distributed"]
    spdx = {"lgpl-2.1-only": "Copyleft Limited", "licenseref-x-commercial": "Commercial"}
    assert D.classify("LGPL-2.1-only", spdx, dpol, dep["rule_order"])[1] == "dep.weak-copyleft"
    assert D.classify("LicenseRef-x-commercial", spdx, dpol, dep["rule_order"])[1] == "dep.proprietary-or-commercial"
