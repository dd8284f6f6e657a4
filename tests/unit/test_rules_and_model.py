"""Unit layer: no git, no ScanCode. Rules catalogue and validation, score, license policy, globs,
pseudonymisation, the model's schemas and the reporter registry, each against values worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from ddkit import report
from ddkit.analyze.findings import finding, findings_frame
from ddkit.analyze.licenses import classify, policy_for
from ddkit.config import load_rules
from ddkit.errors import InputError
from ddkit.globs import match
from ddkit.model import SEVERITIES, count_at_or_above
from ddkit.report.pseudonym import mapping
from ddkit.score import readiness

RULES = load_rules()
CONTRACT_RULE_IDS = {
    "ip.pre-incorporation-work", "ip.pre-assignment-work", "ip.contractor-no-assignment", "ip.unknown-contributor",
    "ip.unverified-identity", "ip.work-after-end-date", "ip.missing-assignment", "own.departed-author",
    "own.orphaned-module", "lic.network-copyleft", "lic.strong-copyleft", "lic.weak-copyleft",
    "lic.proprietary-or-commercial", "lic.unknown-license", "lic.third-party-copyright",
    "lic.missing-project-license", "kn.low-truck-factor", "kn.vendor-concentration", "kn.departed-concentration",
    "dep.network-copyleft", "dep.strong-copyleft", "dep.weak-copyleft", "dep.proprietary-or-commercial",
    "dep.unknown-license", "sec.secret-in-history", "sec.secret-in-tree", "sec.missing-security-policy",
    "sec.missing-license", "sec.missing-codeowners", "sec.missing-ci", "sec.missing-dependency-updates",
    "sec.missing-lockfile"}


def test_bundled_rules_validate_against_their_schemas():
    """ddkit's own rules files are not validated at scan time (only overlays are): this is their check."""
    import jsonschema

    from ddkit.config import _load_yaml, _schema, data_dir
    files = sorted(data_dir("rules").glob("*.yaml"))
    assert len(files) >= 5
    for p in files:
        schema = _schema(p.stem)
        assert schema is not None, p
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(_load_yaml(p) or {}))
        assert errors == [], (p.name, [e.message for e in errors[:3]])


def test_catalogue_covers_every_contract_rule_with_words():
    assert CONTRACT_RULE_IDS <= set(RULES.catalogue)
    for rid, entry in RULES.catalogue.items():
        assert entry["severity"] in SEVERITIES
        assert len(entry["title"]) > 5 and len(entry["meaning"]) > 20 and len(entry["remediation"]) > 5, rid
    assert RULES.area("kn.low-truck-factor") == "knowledge" and RULES.area("lic.weak-copyleft") == "license"
    assert RULES.areas()[:4] == ["ip", "ownership", "license", "knowledge"]


def _overlay(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text)
    return d


def test_overlay_changes_one_severity_both_spellings(tmp_path):
    r = load_rules(_overlay(tmp_path, "findings.yaml", "severities: {own.departed-author: medium}\n"))
    assert r.severity("own.departed-author") == "medium" and r.severity("own.orphaned-module") == "medium"
    r = load_rules(_overlay(tmp_path, "findings.yaml", "rules: {own.departed-author: {severity: high}}\n"))
    assert r.severity("own.departed-author") == "high"
    assert r.rule("own.departed-author")["title"] == RULES.rule("own.departed-author")["title"]


@pytest.mark.parametrize("name,text,message", [
    ("findings.yaml", "thresholds:\n  orphaned_module_share: 0.5\nseverites: {x: high}\n",
     r"findings.yaml, line 3: unknown key 'severites'"),
    ("identities.yaml", "inactivity_days: a year\n", r"identities.yaml, line 1: inactivity_days: 'a year' is not of type 'integer'"),
    ("score.yaml", "weights: {critical: 40}\ncaps: {severe: 10}\n", r"score.yaml, line 2: .*severe"),
    ("findings.yaml", "severities: {own.departed-author: urgent}\n", r"line 1: .*urgent"),
    ("colours.yaml", "a: 1\n", r"unknown rules file 'colours.yaml'"),
    ("findings.yaml", "severities: {own.no-such-rule: high}\n", r"not in the rule catalogue"),
    ("findings.yaml", "materiality: {subject_rules: [lic.third-party-copyrite]}\n",
     r"materiality.subject_rules names rule 'lic.third-party-copyrite'"),
])
def test_rules_typos_are_input_errors_naming_file_key_and_line(tmp_path, name, text, message):
    with pytest.raises(InputError, match=message):
        load_rules(_overlay(tmp_path, name, text))


def _findings(*sev_rule: tuple[str, str]) -> pd.DataFrame:
    recs = []
    for i, (sev, rule) in enumerate(sev_rule):
        rec = finding(RULES, rule, f"subject {i}", "evidence", "fix")
        rec["severity"] = sev
        recs.append(rec)
    return findings_frame(recs)


def test_findings_sort_worst_first_and_severity_is_ordered():
    df = _findings(("low", "own.departed-author"), ("critical", "sec.secret-in-tree"), ("medium", "ip.unknown-contributor"))
    assert list(df["severity"]) == ["critical", "medium", "low"]
    # The ordered categorical reads as people read it: info < low < medium < high < critical.
    shuffled = df.sample(frac=1, random_state=1).sort_values("severity", ascending=False)
    assert list(shuffled["severity"]) == ["critical", "medium", "low"]
    assert list(df[df["severity"] >= "medium"]["severity"]) == ["critical", "medium"]
    assert list(df[df["severity"] < "medium"]["severity"]) == ["low"]
    assert count_at_or_above(df, "medium") == 2 and count_at_or_above(df, "critical") == 1
    assert set(df["area"]) == {"security", "ip", "ownership"}


def test_score_by_hand():
    # weights critical 40, high 15, medium 5, low 1; per-rule cap 45; areas ip .35 ownership .15 license .25
    # knowledge .15 security .10; caps: critical -> 49, high -> 79.
    df = _findings(*[("medium", "ip.unknown-contributor")] * 10, ("low", "own.departed-author"))
    sc = readiness(df, RULES, ["ip", "ownership", "knowledge"])
    assert sc["areas"]["ip"]["score"] == 55          # 10 x 5 = 50, capped at 45 per rule
    assert sc["areas"]["ownership"]["score"] == 99
    assert sc["areas"]["knowledge"]["score"] == 100
    expected = (55 * .35 + 99 * .15 + 100 * .15) / (.35 + .15 + .15)
    assert sc["readiness_score"] == round(expected) and sc["capped_by"] is None
    sc = readiness(_findings(("critical", "sec.secret-in-tree")), RULES, ["security", "ip"])
    assert sc["readiness_score"] == 49 and sc["capped_by"] == "critical" and sc["rating"] == "red"


def test_license_policy_per_outbound():
    db = {"gpl-2.0": {"category": "Copyleft"}, "mit": {"category": "Permissive"},
          "lgpl-2.1": {"category": "Copyleft Limited"}, "agpl-3.0": {"category": "Copyleft"}}
    order = RULES["licenses"]["rule_order"]
    key, pol = policy_for(RULES, "proprietary")
    assert key == "proprietary"
    assert classify("mit", db, pol, order) == ("Permissive", None)
    assert classify("mit AND gpl-2.0", db, pol, order)[1] == "lic.strong-copyleft"
    assert classify("agpl-3.0", db, pol, order)[1] == "lic.network-copyleft"
    assert classify("lgpl-2.1", db, pol, order)[1] == "lic.weak-copyleft"
    assert classify("no-such-key", db, pol, order)[1] == "lic.unknown-license"
    key, pol = policy_for(RULES, "GPL-3.0-only")
    assert key == "copyleft"
    assert policy_for(RULES, "Apache-2.0")[0] == "permissive"


@pytest.mark.parametrize("path,glob,expected", [
    ("vendor/x.c", "vendor/**", True), ("a/vendor/x.c", "**/vendor/**", True), ("a/vendor/x.c", "vendor/**", False),
    ("src/a.min.js", "**/*.min.js", True), ("a.min.js", "**/*.min.js", True), ("src/a/b.py", "src/*.py", False),
    ("src/b.py", "src/*.py", True)])
def test_globs_wildmatch(path, glob, expected):
    assert match(path, glob) is expected


def test_pseudonymisation_rewrites_every_text_cell():
    people = pd.DataFrame({"person": ["Alice Smith", "Bob Jones", "ci-bot"], "is_bot": [False, False, True],
                           "surviving_lines": [10, 50, 0], "commits": [3, 4, 9],
                           "names": [["Alice Smith", "alice"], ["Bob Jones"], ["ci-bot"]]})
    names = mapping(people)
    assert names == {"Bob Jones": "Contributor 01", "Alice Smith": "Contributor 02"}
    from ddkit.report.pseudonym import Pseudonymizer
    ps = Pseudonymizer(people)
    df = pd.DataFrame({"evidence": ["Alice Smith <alice@x.example> wrote it with Bob Jones"], "n": [1]})
    out = ps.frame(df)
    assert out.loc[0, "evidence"] == "Contributor 02 <[e-mail removed]> wrote it with Contributor 01"


def test_report_registry():
    assert set(report.REGISTRY) >= {"xlsx", "json", "sarif"}
    for fmt in report.REGISTRY:
        r = report.reporter(fmt)
        assert r.format == fmt and callable(r.scan) and callable(r.portfolio)
    with pytest.raises(ValueError, match="unknown report format"):
        report.reporter("pdf")


def test_as_of_and_dates():
    from ddkit.pipeline import _as_of
    assert _as_of("2024-06-30") == dt.date(2024, 6, 30)
    with pytest.raises(InputError, match="not an ISO date"):
        _as_of("30/06/2024")


def _scan_row(path, *dets):
    return dict(path=path, detections=[dict(license_expression_spdx=e, start_line=a, end_line=b) for e, a, b in dets])


def test_project_license_from_the_root_license_file():
    """git's COPYING: GPL-2.0 text (lines 20-359) with GPL-1.0-or-later and GPL-3.0 mentioned around it."""
    from ddkit.analyze.licenses import project_license
    scan = pd.DataFrame([
        _scan_row("COPYING", ("GPL-1.0-or-later AND GPL-3.0-only", 1, 6), ("GPL-2.0-only", 20, 359)),
        _scan_row("src/x.c", ("MIT", 1, 20)),
        _scan_row("README.md", ("Apache-2.0", 1, 400))])          # a README mentions, it does not license
    assert project_license(scan, RULES) == ("GPL-2.0-only", "COPYING")
    # LICENSE wins over COPYING; of an expression's symbols the most restrictive policy is taken
    scan2 = pd.DataFrame([_scan_row("COPYING", ("GPL-2.0-only", 1, 300)),
                          _scan_row("LICENSE", ("MIT OR GPL-3.0-or-later", 1, 30))])
    assert project_license(scan2, RULES) == ("GPL-3.0-or-later", "LICENSE")
    assert project_license(pd.DataFrame([_scan_row("docs/LICENSE", ("MIT", 1, 20))]), RULES) is None
    assert project_license(pd.DataFrame([_scan_row("LICENSE", ("LicenseRef-scancode-proprietary", 1, 9))]), RULES) is None


def test_holder_and_file_findings_roll_up_when_de_minimis():
    """100,000 surviving lines: 1% is 1,000. Holders A (5,000 lines) and the GPL file stay individual
    (copyleft never rolls up); B, C (300 + 20) roll up into one finding conserving lines; the unknown-license
    file of 50 lines is alone in its group, so it stays itself."""
    from ddkit.analyze.materiality import roll_up_subjects
    recs = [finding(RULES, "lic.third-party-copyright", h, "e", "r", lines_at_stake=n, files=[f"{h}.c"],
                    severity_override=None) for h, n in (("A", 5000), ("B", 300), ("C", 20))]
    for r in recs:
        r.pop("severity_override")
    recs[2]["severity"] = "info"
    recs.append(finding(RULES, "lic.strong-copyleft", "gpl.c", "e", "r", path="gpl.c", lines_at_stake=12))
    recs.append(finding(RULES, "lic.unknown-license", "u.c", "e", "r", path="u.c", lines_at_stake=50))
    out = roll_up_subjects(RULES, recs, 100_000)
    subjects = sorted(r["subject"] for r in out)
    assert subjects == ["2 other third-party copyright holders", "A", "gpl.c", "u.c"]
    roll = next(r for r in out if r.get("rolled_up"))
    assert roll["subjects"] == ["B", "C"] and roll["lines_at_stake"] == 320 and roll["files"] == ["B.c", "C.c"]
    assert roll["severity"] == "low"      # rollup_severity, not above its worst member (B: the rule's own)
    assert sum(r["lines_at_stake"] for r in out if r["rule"] == "lic.third-party-copyright") == 5320


def test_truck_factor_zero_says_the_history_knows_no_author():
    """A module whose files have no author in this history (git/git's subtree-merged git-gui) has truck
    factor 0: the finding says so rather than "losing 0 people"."""
    from ddkit.analyze.bus_factor import knowledge_findings
    base = dict(files=10, vendor_top=None, vendor_share=0.0, contractor_share=0.0, departed_share=0.0)
    bus = pd.DataFrame([dict(scope="(repository)", truck_factor=5, top_authors="A (40 files)", **base),
                        dict(scope="git-gui", truck_factor=0, top_authors="", **base),
                        dict(scope="lib", truck_factor=1, top_authors="B (9 files)", **base)])
    f = {r["subject"]: r for r in knowledge_findings(RULES, bus) if r["rule"] == "kn.low-truck-factor"}
    assert set(f) == {"git-gui", "lib"}
    assert "no author who knows them in this history" in f["git-gui"]["evidence"]
    assert "Top authors: none." in f["git-gui"]["evidence"] and "losing 0" not in f["git-gui"]["evidence"]
    assert "losing 1 person leaves most files" in f["lib"]["evidence"]


def test_yaml_parses_kept_per_text_and_damaged_entries_parsed_again(tmp_path, monkeypatch):
    """_parse_yaml keeps yaml.safe_load's result per text (issue 17): the kept parse is the parse, another
    text is parsed anew, and a damaged entry is parsed again, never trusted."""
    import yaml

    from ddkit import config
    from ddkit.config import data_dir
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "cache"))
    texts = [p.read_text(encoding="utf-8") for p in sorted(data_dir("rules").glob("*.yaml"))]
    texts += ["a: 1\nb: [x, 2024-06-30]\n", "a: 2\nb: [x, 2024-06-30]\n", "", "- 1.5\n- null\n- yes\n"]
    for text in texts:
        assert config._parse_yaml(text, Path("t.yaml")) == yaml.safe_load(text)
    entries = sorted((tmp_path / "cache" / "yaml").glob("*.pkl"))
    assert len(entries) == len(texts)
    real = config._safe_load
    with monkeypatch.context() as m:      # the second time every text comes from its entry
        m.setattr(config, "_safe_load", lambda text, path: pytest.fail("parsed again"))
        for text in texts:
            assert config._parse_yaml(text, Path("t.yaml")) == yaml.safe_load(text)
    calls = []
    monkeypatch.setattr(config, "_safe_load", lambda text, path: calls.append(text) or real(text, path))
    import pickle
    # the format's line and the entry's place, then the HMAC-SHA256 of the pickle (hex)
    head = entries[4].read_bytes().index(b".pkl\n") + len(b".pkl\n") + 64
    for i, damage in enumerate([lambda b: b[:-3], lambda b: b[:20], lambda b: b[:-1] + bytes([b[-1] ^ 1]),
                                lambda b: b"junk", lambda b: b[:head] + pickle.dumps({"another": "value"})]):
        e = entries[i]
        e.write_bytes(damage(e.read_bytes()))
    for text in texts:
        assert config._parse_yaml(text, Path("t.yaml")) == yaml.safe_load(text)
    assert len(calls) == 5
    with pytest.raises(InputError, match="line 2"):   # errors are not kept: reported every time
        config._parse_yaml("a: 1\n  b: [\n", Path("bad.yaml"))


def test_records_equal_to_dict_records_for_every_kind_of_column():
    """values.records (column by column) gives what DataFrame.to_dict(orient="records") gives, value and type."""
    import numpy as np
    import pandas as pd

    from ddkit.values import records
    df = pd.DataFrame({
        "i": [1, 2, 3], "f": [1.5, np.nan, 3.0], "b": [True, False, True],
        "s": pd.array(["a", None, "c"], dtype="str"),
        "o": pd.Series([[1, 2], np.int64(7), None], dtype=object),
        "t": pd.to_datetime(["2024-01-01", None, "2024-03-01"], utc=True),
        "c": pd.Categorical(["x", "y", None]),
        "n": pd.array([1, None, 3], dtype="Int64"),
        "d": pd.Series([pd.Timestamp("2024-01-01").date(), None, np.float64(2.5)], dtype=object)})
    want, got = df.to_dict(orient="records"), records(df)
    assert len(got) == len(want)
    for w, g in zip(want, got):
        assert list(w) == list(g)
        for k in w:
            assert type(w[k]) is type(g[k]), k
            assert w[k] is g[k] or w[k] == g[k] or (w[k] != w[k] and g[k] != g[k]), k
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert records(dup) == dup.to_dict(orient="records")


def test_any_glob_regex_matches_when_one_glob_does():
    """globs.any_regex (one alternation) answers as any(globs.match) does, on the shipped path rules."""
    import itertools

    from ddkit import globs
    from ddkit.config import load_rules
    pr = load_rules(None).get("paths", {})
    lists = [[g["glob"] for g in pr.get(k, [])] for k in ("vendored", "generated")]
    lists += [["*.py", "docs/", "a/**/b?.[ch]", "[!x]*.txt"], []]
    parts = ["vendor", "_vendor", "third_party", "node_modules", "src", "a", "b", "docs", "x"]
    names = ["m_pb2.py", "m_pb2_grpc.py", "b1.c", "bb.h", "x.txt", "y.txt", "README", "p.py"]
    paths = ["/".join(d) + "/" + n for k in range(3) for d in itertools.product(parts, repeat=k) for n in names]
    seen = set()
    for lst in lists:
        rx = globs.any_regex(tuple(lst))
        for p in paths:
            want = any(globs.match(p, g) for g in lst)
            assert (rx.match(p) is not None) == want, (lst, p)
            seen.add(want)
    assert seen == {True, False}
