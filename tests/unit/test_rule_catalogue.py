"""The rule catalogue (rules/findings.yaml) is the single home of a rule: every rule an analysis can emit is
in it, every rule in it has an emitter and a test, and its words are the only copy (issue 26).

Emitters are collected from the code and the policy files themselves, not from a list kept by hand: a rule id
written as a string in an analysis module, or named by a policy file (rules/licenses.yaml maps license
categories to rules, rules/security.yaml's checklist names its rules)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from ddkit.config import InputError, load_rules

ROOT = Path(__file__).resolve().parents[2]
ANALYZE = ROOT / "src" / "ddkit" / "analyze"
RULE_ID = re.compile(r"^(ip|own|lic|kn|dep|sec|prov|ai)\.(?!(?:py|yaml|yml|json|md|txt|csv|toml|xml)$)[a-z][a-z0-9-]*$")

# Analysis modules that only refer to other modules' rules (they emit none of their own), with the reason.
CONSUMERS = {
    "materiality.py": "rolls up the findings other modules emitted, under the same rule",
    "remediation.py": "lists the findings of the rules that name a document_needed",
    "retention.py": "reads the Remediation rows",
}
# Catalogue rules no test exercises, each with the reason (none today: keep it that way).
UNTESTED: dict[str, str] = {}


def _catalogue() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "rules" / "findings.yaml").read_text(encoding="utf-8"))["rules"]


def rule_ids_in_python(text: str) -> set[str]:
    """Every string constant of the source that is shaped like a rule id."""
    return {n.value for n in ast.walk(ast.parse(text))
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and RULE_ID.match(n.value)}


def rule_ids_in_data(node) -> set[str]:
    """Every string (key or value) of a YAML document that is shaped like a rule id."""
    if isinstance(node, dict):
        return set().union(*(rule_ids_in_data(k) | rule_ids_in_data(v) for k, v in node.items())) if node else set()
    if isinstance(node, list):
        return set().union(*(rule_ids_in_data(v) for v in node)) if node else set()
    return {node} if isinstance(node, str) and RULE_ID.match(node) else set()


def emitters() -> dict[str, set[str]]:
    """Rule id -> the analysis modules and policy files that can produce it."""
    out: dict[str, set[str]] = {}
    for p in sorted(ANALYZE.glob("*.py")):
        if p.name in CONSUMERS:
            continue
        for r in rule_ids_in_python(p.read_text(encoding="utf-8")):
            out.setdefault(r, set()).add(p.name)
    for p in sorted((ROOT / "rules").glob("*.yaml")):
        if p.name == "findings.yaml":
            continue
        for r in rule_ids_in_data(yaml.safe_load(p.read_text(encoding="utf-8"))):
            out.setdefault(r, set()).add(f"rules/{p.name}")
    return out


def test_the_collectors_find_rule_ids_and_nothing_else():
    # Positive control: an uncatalogued id in a module would be found, a look-alike that is not one would not.
    src = 'x = finding(rules, "ip.brand-new-rule", s)\ny = "ip.py"\nz = f"lic.{cat}"\nw = "sec.secret"\n'
    assert rule_ids_in_python(src) == {"ip.brand-new-rule", "sec.secret"}
    assert rule_ids_in_data({"checklist": [{"rule": "sec.missing-x", "title": "lic.y"}], "a": {"kn.z": None}}) \
        == {"sec.missing-x", "lic.y", "kn.z"}
    found = emitters()
    assert "ip.py" in found["ip.pre-incorporation-work"]
    assert "rules/security.yaml" in found["sec.missing-ci"]
    assert "rules/licenses.yaml" in found["dep.weak-copyleft"]


def test_every_rule_an_analysis_can_emit_is_in_the_catalogue():
    cat = _catalogue()
    missing = {r: sorted(w) for r, w in emitters().items() if r not in cat}
    assert not missing, f"rules emitted but not in rules/findings.yaml: {missing}"


def test_every_catalogue_rule_has_an_emitter():
    found = emitters()
    assert [r for r in _catalogue() if r not in found] == []


def test_every_catalogue_rule_is_exercised_by_a_test():
    """A test file names the rule (other than the catalogue's own listings), or a sample's answers.json
    expects a finding of it (tests/test_scan_samples.py compares the scan with them)."""
    here = Path(__file__).name
    listing = {here, "test_rules_and_model.py"}     # that one lists every rule id, so it proves nothing here
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py") if p.name not in listing]
    texts += [p.read_text(encoding="utf-8") for p in (ROOT / "sample_repos").glob("*/answers.json")]
    untested = [r for r in _catalogue() if r not in UNTESTED and not any(r in t for t in texts)]
    assert untested == []
    assert set(UNTESTED) <= set(_catalogue())


# -- the words: one copy, in the catalogue ------------------------------------------------------------------

def test_the_gap_rules_have_every_word_the_reports_need():
    """A rule that names a document_needed is listed on the Remediation sheet: it has its gap and says
    whether it covers the subject's whole work; an IP gap has a Summary sentence (contractor's is built in:
    it names the vendor's MSA/SOW when the subject is a vendor)."""
    cat = _catalogue()
    gaps = [r for r, e in cat.items() if "document_needed" in e]
    assert gaps and all(r.startswith("ip.") for r in gaps)
    for r in gaps:
        assert cat[r]["gap"] and isinstance(cat[r]["whole_work"], bool), r
        assert "summary" in cat[r] or r == "ip.contractor-no-assignment", r
    rolled = load_rules()["findings"]["materiality"]["rules"]
    assert all(cat[r].get("rollup_noun") for r in rolled)


def test_the_words_live_only_in_the_catalogue():
    """The constants that held a rule's words outside the catalogue are gone, and no module spells one of
    the catalogue's remediation documents, gaps, roll-up nouns or Summary sentences again."""
    from ddkit.analyze import materiality, remediation
    from ddkit.report import xlsx_text
    for mod, names in ((remediation, ("DOCUMENTS", "GAPS", "WHOLE_WORK")), (materiality, ("_NOUN",)),
                       (xlsx_text, ("_IP_SENTENCES",))):
        assert not [n for n in names if hasattr(mod, n)], mod.__name__
    words = []
    for e in _catalogue().values():
        words += [e.get("document_needed"), e.get("gap"), e.get("rollup_noun"),
                  *(e.get("summary") or {}).values()]
    words = [w for w in words if w]
    assert len(words) > 20
    for p in (ROOT / "src" / "ddkit").rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        assert not [w for w in words if w in text], p


def _overlay(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / "findings.yaml").write_text(text, encoding="utf-8")
    return d


def test_an_overlay_may_change_the_words(tmp_path):
    d = _overlay(tmp_path, "rules:\n  ip.work-after-end-date:\n    gap: Work after leaving\n"
                           "    summary: {fix: 'assignment from {subject} for {lines} lines'}\n")
    r = load_rules(d)
    e = r.catalogue["ip.work-after-end-date"]
    assert e["gap"] == "Work after leaving" and e["summary"]["fix"].startswith("assignment from")
    assert e["summary"]["problem"] == _catalogue()["ip.work-after-end-date"]["summary"]["problem"]   # merged


@pytest.mark.parametrize("text, message", [
    ("rules:\n  ip.work-after-end-date:\n    gap_text: x\n", "unknown key 'rules.ip.work-after-end-date.gap_text'"),
    ("rules:\n  ip.work-after-end-date:\n    whole_work: maybe\n", "whole_work"),
    ("rules:\n  ip.work-after-end-date:\n    summary: {fix: 'from {owner}'}\n", "placeholder"),
    ("rules:\n  ip.work-after-end-date:\n    summary: {fix: 'from {subject.x}'}\n", "placeholder"),
    ("rules:\n  ip.new-gap:\n    {area: ip, severity: low, title: t, meaning: m, remediation: r, document_needed: d}\n",
     "no gap"),
    ("rules:\n  ip.new-gap:\n    {area: ip, severity: low, title: t, meaning: m, remediation: r, summary: {fix: f}}\n",
     "lacks problem"),
])
def test_a_bad_overlay_is_a_one_line_input_error(tmp_path, text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        load_rules(_overlay(tmp_path, text))


# -- the reports follow the catalogue ------------------------------------------------------------------------

def _gap_findings():
    import pandas as pd
    rec = dict(person="Ann Smith", vendor=None, subject="Ann Smith", files=["a.py"], severity="medium",
               first_commit="2023-01-02", last_commit="2023-03-04")
    return pd.DataFrame([dict(rec, id="f1", rule="ip.work-after-end-date", lines_at_stake=7),
                         dict(rec, id="f2", rule="own.departed-author", lines_at_stake=30)])


def _people():
    import pandas as pd
    return pd.DataFrame([dict(person="Ann Smith", type="employee", vendor=None, in_roster=True,
                              roster_emails=["ann@example.com"], emails=["ann@example.com"])])


def test_the_remediation_sheet_lists_the_rules_that_name_a_document(tmp_path):
    from ddkit.analyze.remediation import remediation_table
    rem = remediation_table(_gap_findings(), _people(), catalogue=load_rules().catalogue)
    assert rem[["gap", "document", "rules", "lines_at_stake"]].values.tolist() == [
        ["Work after the engagement ended",
         "Confirmatory IP assignment covering work after the end date — from Ann Smith", "ip.work-after-end-date", 7]]
    # An overlay that gives own.departed-author a document makes it a gap of its own (another document).
    d = _overlay(tmp_path, "rules:\n  own.departed-author:\n    document_needed: Exit certificate\n"
                           "    gap: Left the company\n    whole_work: true\n")
    rem = remediation_table(_gap_findings(), _people(), catalogue=load_rules(d).catalogue)
    assert sorted(rem[["gap", "lines_at_stake"]].values.tolist()) == [
        ["Left the company", 30], ["Work after the engagement ended", 7]]


def test_the_summary_sentence_is_the_catalogues(tmp_path):
    from ddkit.report.xlsx_text import top_findings
    f = _gap_findings().iloc[:1].assign(path=None)
    [(_, text)] = top_findings(f, _people(), load_rules().catalogue)
    assert text == ("Ann Smith (employee) wrote 7 surviving lines after the engagement ended (2023-01-02 to "
                    "2023-03-04) → confirmatory assignment covering that work")
    d = _overlay(tmp_path, "rules:\n  ip.work-after-end-date:\n    summary: {fix: 'a new deed from {subject}'}\n")
    [(_, text)] = top_findings(f, _people(), load_rules(d).catalogue)
    assert text.endswith("after the engagement ended (2023-01-02 to 2023-03-04) → a new deed from Ann Smith")
