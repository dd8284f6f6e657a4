"""The public tables a pandas user gets (issue #25): every column of every public table has the dtype
ddkit.schema.DTYPES declares, on the three samples and on an empty repository, whatever the column holds
(a column of missing values, an empty table); severity compares as people read it; the portfolio's
tables too; and the JSON of a scan and of a portfolio matches the schema."""

import datetime as dt
import json
import subprocess

import pandas as pd
import pytest
from sample_repos.generate import HERE, SAMPLES, build

import ddkit
from conftest import report_schema_errors
from ddkit.schema import DTYPES, KIND_DTYPES, LIST, OBJECT, PUBLIC_TABLES, column_kind


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    out = {}
    for name in SAMPLES:
        repo = build(name, root)
        ans = json.loads((HERE / name / "answers.json").read_text(encoding="utf-8"))
        out[name] = (repo, ans, ddkit.scan(repo, roster=HERE / name / "roster.csv",
                                           company=HERE / name / "company.yaml", as_of=ans.get("as_of"),
                                           licenses=name == "initech", jobs=1))
    empty = root / "empty"
    subprocess.run(["git", "init", "-q", str(empty)], check=True)
    out["empty"] = (empty, None, ddkit.scan(empty, as_of="2024-06-30", licenses=False, jobs=1))
    return out


def _roster_columns(name):
    """The roster's own columns (kept in people as the roster gave them: text)."""
    if name == "empty":
        return set()
    return {c.strip().lower() for c in (HERE / name / "roster.csv").read_text(encoding="utf-8").splitlines()[0].split(",")}


def check_table(df: pd.DataFrame, table: str, extra_ok=frozenset()):
    """Every column declared and of its declared dtype; missing values pd.NA / NaT / NaN (never None)."""
    for c in df.columns:
        kind = column_kind(table, c)
        if kind is None:
            assert c in extra_ok, f"{table}.{c}: no dtype declared in ddkit.schema.DTYPES"
            assert df[c].dtype == "string", (table, c, df[c].dtype)
            continue
        want = KIND_DTYPES[kind]
        assert df[c].dtype == want, f"{table}.{c}: {df[c].dtype}, declared {want}"
        if kind == LIST:
            assert all(isinstance(v, list) or v is pd.NA for v in df[c]), (table, c)
        elif kind == OBJECT:
            assert all(v is not None and not (isinstance(v, float) and v != v) for v in df[c]), (table, c)


@pytest.mark.parametrize("name", [*SAMPLES, "empty"])
def test_every_public_table_has_its_declared_dtypes(scans, name):
    _, _, s = scans[name]
    for table in PUBLIC_TABLES:
        df = getattr(s, table)
        if df is None:      # security: None only when secrets were not scanned
            continue
        check_table(df, table, extra_ok=_roster_columns(name) if table == "people" else frozenset())
        # a column's dtype never depends on emptiness: the empty table has every declared column, typed
        if df.empty:
            assert set(DTYPES[table]) <= set(df.columns), table
    if len(s.people):
        check_table(s.simulate_departure([s.people["person"].iloc[0]]), "simulate_departure")


def test_the_same_column_has_the_same_dtype_in_every_scan(scans):
    seen: dict = {}
    for _, _, s in scans.values():
        for table in PUBLIC_TABLES:
            df = getattr(s, table)
            for c in (df.columns if df is not None else []):
                if column_kind(table, c):
                    seen.setdefault((table, c), set()).add(str(df[c].dtype))
    assert {k: v for k, v in seen.items() if len(v) > 1} == {}


def test_dtypes_by_kind(scans):
    """The issue's list, checked on named columns (truth: the kinds the issue asks for)."""
    s = scans["acme"][2]
    assert str(s.people["first_commit"].dtype) == "datetime64[ns]"               # a calendar day: naive
    assert str(s.commits["author_date"].dtype) == "datetime64[ns, UTC]"          # an instant: UTC
    assert str(s.commits["author_day"].dtype) == "datetime64[ns]"
    for t, c in [("findings", "commits"), ("findings", "line"), ("findings", "end_line"), ("people", "row"),
                 ("people", "surviving_lines"), ("findings", "lines_at_stake")]:
        assert str(getattr(s, t)[c].dtype) == "Int64", (t, c)
    assert str(s.ownership["share_of_file"].dtype) == "float64"
    assert str(s.people["is_bot"].dtype) == "boolean"
    assert str(s.people["type"].dtype) == "category"
    assert str(s.people["person"].dtype) == "string"
    assert isinstance(s.findings["files"].dropna().iloc[0], list)
    assert isinstance(s.bus_factor["top_authors"].iloc[0], list)
    # missing: pd.NA in text and counts, NaT in dates
    assert s.people["end_date"].isna().any() and s.people["end_date"].dtype.kind == "M"
    assert any(v is pd.NA for v in s.findings["line"])
    assert any(v is pd.NA for v in s.findings["path"])


@pytest.mark.parametrize("name", [*SAMPLES])
def test_severity_compares_as_people_read_it(scans, name):
    """`>= "high"` is high or worse in every table with a severity; worst first is ascending=False."""
    _, _, s = scans[name]
    order = ["info", "low", "medium", "high", "critical"]
    for table in ("findings", "licenses", "dependencies", "remediation", "security"):
        df = getattr(s, table)
        if df is None or df.empty:
            continue
        sev = df["severity"].astype(object)
        truth = [x for x in sev if isinstance(x, str) and order.index(x) >= order.index("high")]
        assert list(df.loc[df["severity"] >= "high", "severity"].astype(object)) == truth, table
        worst = df.sort_values("severity", ascending=False, kind="stable")["severity"].dropna().astype(object).tolist()
        assert worst == sorted(worst, key=lambda x: -order.index(x)), table
    # the findings are already worst first
    sev = list(s.findings["severity"].astype(object))
    assert sev == sorted(sev, key=lambda x: -order.index(x))


def test_vocabulary_person_id_joins(scans):
    """person_id on every table about people: joins without string matching give the right person."""
    s = scans["acme"][2]
    ids = dict(zip(s.people["person_id"], s.people["person"]))
    for table, name_col in [("findings", "person"), ("ownership", "person"), ("retention", "person"),
                            ("ownership_by_module", "person"), ("commits", "person"), ("dependencies", "added_by"),
                            ("rewrite_scope", "subject")]:
        df = getattr(s, table)
        assert "person_id" in df.columns, table
        pairs = df[["person_id", name_col]].dropna()
        assert len(pairs), table
        assert all(ids[i] == n for i, n in zip(pairs["person_id"], pairs[name_col])), table
    # module beside the deprecated scope
    assert list(s.bus_factor["module"]) == list(s.bus_factor["scope"])
    assert list(s.simulations["module"]) == list(s.simulations["scope"])


def test_portfolio_tables_and_json(scans, tmp_path):
    repos = [str(scans[n][0]) for n in ("acme", "globex")]
    p = ddkit.scan_many(repos, roster=HERE / "acme" / "roster.csv", company=HERE / "acme" / "company.yaml",
                        as_of="2024-06-30", licenses=False, cache=False, jobs=1)
    for table, df in [("repositories", p.repositories), ("portfolio_findings", p.findings),
                      ("portfolio_people", p.people), ("portfolio_dependencies", p.dependencies),
                      ("portfolio_remediation", p.remediation)]:
        check_table(df, table)
    doc = p.to_json(tmp_path / "p.json")
    assert report_schema_errors(json.loads((tmp_path / "p.json").read_text())) == []
    assert report_schema_errors(json.loads(json.dumps(p.pseudonymized().to_json()))) == []
    # dates are ISO days, counts integers, as in a single scan's JSON
    person = doc["people"][0]
    assert dt.date.fromisoformat(person["first_commit"]) and isinstance(person["commits"], int)


@pytest.mark.parametrize("name", [*SAMPLES, "empty"])
def test_scan_json_matches_the_schema(scans, name, tmp_path):
    _, _, s = scans[name]
    for pseudo in (False, True):
        s.to_json(tmp_path / "r.json", pseudonymize=pseudo)
        doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
        assert report_schema_errors(doc) == []
        for f in doc["findings"]:     # integers are written as integers
            for k in ("commits", "line", "end_line", "lines_at_stake"):
                assert f.get(k) is None or type(f[k]) is int, (k, f[k])


@pytest.mark.parametrize("name", [*SAMPLES])
def test_every_sarif_result_has_a_location_and_github_accepts_the_file(scans, name, tmp_path):
    sarif_kit = pytest.importorskip("sarif_kit.validate")
    repo, _, s = scans[name]
    doc = s.to_sarif(tmp_path / "r.sarif")
    assert sarif_kit.validation_errors(doc) == []
    assert "informationUri" not in doc["runs"][0]["tool"]["driver"]       # no invented home page
    # GitHub's ingestion limits (docs.github.com: "SARIF results exceed limit")
    assert len(doc["runs"]) <= 20
    for run in doc["runs"]:
        assert len(run["results"]) <= 25_000 and len(run["tool"]["driver"]["rules"]) <= 25_000
        assert all(len(r["properties"]["tags"]) <= 20 for r in run["tool"]["driver"]["rules"])
    tracked = set(s.files["path"])
    results = doc["runs"][0]["results"]
    assert len(results) == len(s.findings)
    for r, f in zip(results, s.findings.itertuples()):
        assert 1 <= len(r["locations"]) <= 1000, r["ruleId"]
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        if isinstance(f.path, str):
            continue        # a finding about a file points at that file (its own test in test_reports)
        assert uri in tracked, (r["ruleId"], uri)
        if not (isinstance(f.files, list) and f.files):
            assert "-level finding" in r["message"]["text"], r["ruleId"]
    # the samples' roster and profile are outside the repositories: repository-level results are at the root
    # README, or the root LICENSE where there is no README (the files git lists at the root)
    root = subprocess.run(["git", "-C", str(repo), "ls-tree", "--name-only", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.split()
    readme = [p for p in root if p.upper().startswith("README")]
    expected = readme[0] if readme else [p for p in root if p.upper().startswith(("LICENSE", "COPYING"))][0]
    repo_level = [r for r in results if "Repository-level" in r["message"]["text"]]
    assert repo_level and {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in repo_level} \
        == {expected}
