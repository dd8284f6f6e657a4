"""Third-party dependencies: inventory, license sources, who added each, dep.* findings, SBOM in and out.

The truth comes from the sample generator's own bookkeeping (sample_repos/initech), from files written here,
and for psf/requests from its history as read by hand (skipped where that clone is absent)."""

import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from sample_repos.generate import HERE, build

import ddkit
from gitrepo import ddkit_cli as run

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ["purl", "name", "version", "ecosystem", "scope", "direct", "license_spdx", "license_source", "manifest",
          "line", "added_by", "added_by_type", "added_sha", "added_date"]
REQUESTS = Path("/work/.mirror/psf+requests/repo")


def write_environment(root: Path, spec: dict) -> Path:
    """A fake virtualenv: lib/python3.X/site-packages/<name>-<version>.dist-info/METADATA."""
    sp = root / "lib" / "python3.11" / "site-packages"
    for name, p in spec.get("pypi", {}).items():
        d = sp / f"{name}-{p['version']}.dist-info"
        d.mkdir(parents=True)
        (d / "METADATA").write_text(f"Metadata-Version: 2.4\nName: {name}\nVersion: {p['version']}\n"
                                    f"License-Expression: {p['license_expression']}\n\nA package.\n")
    return root


def write_cyclonedx(path: Path, spec: dict) -> Path:
    comps = [{"type": "library", "name": c["purl"].split("/")[-1].split("@")[0], "purl": c["purl"],
              "version": c["purl"].split("@")[-1], "licenses": [{"license": {"id": c["license"]}}]}
             for c in spec["components"]]
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": comps}))
    return path




@pytest.fixture(scope="module")
def initech(tmp_path_factory):
    root = tmp_path_factory.mktemp("initech")
    repo = build("initech", root)
    ans = json.loads((HERE / "initech" / "answers.json").read_text(encoding="utf-8"))
    env = write_environment(root / "venv", ans["environment"])
    sbom = write_cyclonedx(root / "sbom.cdx.json", ans["sbom"])
    out = root / "out"
    p = run("scan", repo, "--roster", HERE / "initech" / "roster.csv", "--company", HERE / "initech" / "company.yaml",
            "--as-of", ans["as_of"], "--no-secrets", "--jobs", "1", "--environment", env, "--sbom", sbom,
            "--json", out / "r.json", "--out", out / "r.xlsx", "--sbom-out", out / "r.cdx.json", "--quiet")
    assert p.returncode == 0, p.stderr
    return repo, ans, out, env, sbom


def _key(r):
    return (r["ecosystem"], r["name"], r["manifest"])


def test_dependency_rows_equal_the_truth(initech):
    _, ans, out, _, _ = initech
    data = json.loads((out / "r.json").read_text())
    got = sorted(data["dependencies"], key=_key)
    want = sorted(({k: r[k] for k in FIELDS} for r in ans["dependencies"]), key=_key)
    assert [list(r) for r in got] == [FIELDS] * len(got)        # exactly the contract's fields, in order
    assert got == want
    jsonschema.validate(data, json.loads((ROOT / "schemas" / "report.schema.json").read_text()))


def test_dependency_findings_equal_the_truth(initech):
    _, ans, out, _, _ = initech
    data = json.loads((out / "r.json").read_text())
    dep = [f for f in data["findings"] if f["rule"].startswith("dep.")]
    assert sorted((f["rule"], f["subject"], f["severity"]) for f in dep) == \
        sorted((x["rule"], x["subject"], x["severity"]) for x in ans["dependency_findings"])
    by = {f["subject"]: f for f in dep}
    for x in ans["dependency_findings"]:
        f = by[x["subject"]]
        assert f["person"] == x["added_by"] and f["area"] == "dependencies"
        assert x["added_by"] in f["evidence"]
        for v in x.get("vendored_files", []):
            assert v in f["files"] and v in f["evidence"]
    # A vendor's staff without an assignment added the AGPL package: one finding says both.
    agpl = by["chart-agpl (npm)"]
    assert "Vendorly GmbH" in agpl["evidence"] and "IP assignment: missing" in agpl["evidence"]
    assert "no signed assignment" in agpl["evidence"]
    # The vendored GPL copy is the same component as the declared Go module: no second (lic.*) finding; and
    # the license names recorded in package.json / the lockfile are not file-level findings either.
    lic = {(f["rule"], f["path"] if f["rule"] != "lic.third-party-copyright" else f["subject"])
           for f in data["findings"] if f["area"] == "license"}
    assert lic == {(x["rule"], x.get("path") or x.get("subject")) for x in ans["license_findings"]}


def test_dependencies_sheet(initech):
    import openpyxl
    _, ans, out, _, _ = initech
    wb = openpyxl.load_workbook(out / "r.xlsx")
    names = wb.sheetnames
    assert names.index("Dependencies") == names.index("Licenses") + 1
    ws = wb["Dependencies"]
    assert len(ws.tables) == 1
    t = next(iter(ws.tables.values()))
    first = int(t.ref.split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    header = [c.value for c in ws[first]]
    for col in ("Package", "Version", "Ecosystem", "Scope", "Direct", "License (SPDX)", "License source", "Manifest",
                "Added by", "Their type", "Their IP assignment", "Added on"):
        assert col in header
    rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=first + 1, values_only=True) if any(v is not None for v in r)]
    rows = [r for r in rows if r["Package"]]
    assert len(rows) == len(ans["dependencies"])
    vera = [r for r in rows if r["Package"] == "chart-agpl"]
    assert {r["Their IP assignment"] for r in vera} == {"missing"} and {r["Their type"] for r in vera} == {"vendor"}


def test_cyclonedx_out_validates(initech):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    _, ans, out, _, _ = initech
    text = (out / "r.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6" and bom["metadata"]["component"]["name"] == "Initech Software Inc."
    purls = {c.get("purl") for c in bom["components"]}
    for r in ans["dependencies"]:
        if r["manifest"].endswith(("package-lock.json", "go.sum")):      # resolved versions
            assert r["purl"] in purls
    gpl = next(c for c in bom["components"] if c.get("purl") == "pkg:golang/github.com/gplmath/gplmath@v1.2.0")
    assert gpl["licenses"][0]["license"]["id"] == "GPL-2.0-or-later"
    locs = {o["location"] for o in gpl["evidence"]["occurrences"]}
    assert "vendor/github.com/gplmath/gplmath/math.go" in locs and "go.mod" in locs
    root = next(d for d in bom["dependencies"] if d["ref"] == "project")
    assert len(root["dependsOn"]) == len({(r["ecosystem"], r["name"]) for r in ans["dependencies"] if r["direct"]})
    # Deterministic: the same scan writes the same document.
    assert bom["serialNumber"].startswith("urn:uuid:")


def test_spdx_sbom_fills_licenses(initech, tmp_path):
    """An SPDX 2.3 document (written here) gives requests and nolicense-pkg their licenses; no license scan."""
    repo, ans, _, _, _ = initech
    spdx = {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "x",
            "packages": [
                {"SPDXID": "SPDXRef-1", "name": "requests", "versionInfo": "2.32.0", "licenseConcluded": "Apache-2.0",
                 "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                   "referenceLocator": "pkg:pypi/requests@2.32.0"}]},
                {"SPDXID": "SPDXRef-2", "name": "nolicense-pkg", "licenseConcluded": "NOASSERTION",
                 "licenseDeclared": "BSD-2-Clause"}]}
    f = tmp_path / "x.spdx.json"
    f.write_text(json.dumps(spdx))
    s = ddkit.scan(repo, company=HERE / "initech" / "company.yaml", as_of=ans["as_of"], licenses=False,
                   secrets=False, sbom=[f])
    d = s.dependencies.set_index("name")
    assert (d.loc["requests", "license_spdx"], d.loc["requests", "license_source"]) == ("Apache-2.0", "sbom")
    assert (d.loc["nolicense-pkg", "license_spdx"], d.loc["nolicense-pkg", "license_source"]) == ("BSD-2-Clause", "sbom")
    # Without the license scan the vendored GPL copy is not known: the Go module has no license.
    assert d.loc["github.com/gplmath/gplmath", "license_source"].tolist() == ["none", "none"]
    assert not (s.findings.rule == "dep.unknown-license").any() or \
        "nolicense-pkg (pypi)" not in set(s.findings.loc[s.findings.rule == "dep.unknown-license", "subject"])


def test_cyclonedx_sbom_in(tmp_path):
    from ddkit.collect.dep_licenses import read_sbom
    f = tmp_path / "b.json"
    f.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
        {"type": "library", "name": "left-pad", "purl": "pkg:npm/left-pad@1.3.0",
         "licenses": [{"expression": "MIT OR Apache-2.0"}]},
        {"type": "library", "name": "outer", "purl": "pkg:pypi/Outer_Pkg@1",
         "components": [{"type": "library", "name": "inner", "licenses": [{"license": {"name": "Apache 2.0"}}]}]}]}))
    df = read_sbom(f).set_index("name")
    assert df.loc["left-pad", "license_spdx"] == "MIT OR Apache-2.0" and df.loc["left-pad", "ecosystem"] == "npm"
    assert df.loc["inner", "license_spdx"] == "Apache-2.0"
    assert "outer-pkg" in set(df["key"])


def test_fake_site_packages_and_node_modules(tmp_path):
    from ddkit.collect.dep_licenses import read_environment
    sp = tmp_path / "venv" / "lib" / "python3.12" / "site-packages"
    for name, meta in {"a_pkg-1.0": "License-Expression: MIT", "b-2.0": "License: BSD",
                       "c-3.0": "Classifier: License :: OSI Approved :: GNU General Public License v3 (GPLv3)",
                       "d-4.0": ""}.items():
        (sp / f"{name}.dist-info").mkdir(parents=True)
        n, v = name.split("-")
        (sp / f"{name}.dist-info" / "METADATA").write_text(f"Name: {n}\nVersion: {v}\n{meta}\n")
    df = read_environment(tmp_path / "venv").set_index("name")
    got = {k: (v if isinstance(v, str) else None) for k, v in df["license_spdx"].items()}
    assert got == {"a_pkg": "MIT", "b": "BSD-3-Clause", "c": "GPL-3.0-only", "d": None}
    assert df.loc["a_pkg", "key"] == "a-pkg"
    nm = tmp_path / "proj" / "node_modules"
    (nm / "x").mkdir(parents=True)
    (nm / "x" / "package.json").write_text(json.dumps({"name": "x", "version": "1.0.0", "license": "ISC"}))
    (nm / "@s" / "y").mkdir(parents=True)
    (nm / "@s" / "y" / "package.json").write_text(json.dumps({"name": "@s/y", "version": "2.0.0",
                                                              "license": {"type": "MIT"}}))
    (nm / "x" / "node_modules" / "z").mkdir(parents=True)
    (nm / "x" / "node_modules" / "z" / "package.json").write_text(json.dumps({"name": "z", "licenses": [{"type": "MPL-2.0"}]}))
    (nm / "x" / "lib").mkdir()
    (nm / "x" / "lib" / "package.json").write_text(json.dumps({"name": "not-a-package", "license": "GPL-3.0"}))
    df = read_environment(tmp_path / "proj").set_index("name")
    assert df["license_spdx"].to_dict() == {"x": "ISC", "@s/y": "MIT", "z": "MPL-2.0"}


def test_bad_user_inputs_exit_2(initech, tmp_path):
    repo = initech[0]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for args in (["--environment", tmp_path / "nope"], ["--sbom", bad], ["--sbom", tmp_path / "missing.json"],
                 ["--environment", tmp_path]):
        p = run("scan", repo, "--no-licenses", "--no-secrets", "--quiet", *args)
        assert p.returncode == 2, (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_malformed_manifest_is_a_warning(make_repo):
    r = make_repo()
    r.commit({"package.json": '{"name": "x", "dependencies": {"a": "1.0.0"',          # truncated JSON
              "package-lock.json": '{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1", '
                                   '"integrity": "sha512-x"}}}',                       # ScanCode raises on it
              "requirements.txt": "flask==2.0.1\n"})
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-06-30")
    assert any("package-lock.json" in w for w in s.warnings)
    assert "flask" in set(s.dependencies["name"])


@pytest.mark.skipif(not REQUESTS.exists(), reason="the psf/requests clone is not on this machine")
def test_requests_runtime_dependencies(tmp_path):
    """psf/requests at HEAD: the four runtime dependencies with purls and the commits that added them (read by
    hand with `git log -S NAME -- setup.py pyproject.toml`: idna entered an extra in 2016 and stayed)."""
    env = write_environment(tmp_path / "venv", {"pypi": {
        "certifi": {"version": "2024.2.2", "license_expression": "MPL-2.0"},
        "charset-normalizer": {"version": "3.3.2", "license_expression": "MIT"},
        "idna": {"version": "3.7", "license_expression": "BSD-3-Clause"},
        "urllib3": {"version": "2.2.1", "license_expression": "MIT"}}})
    s = ddkit.scan(REQUESTS, licenses=False, secrets=False, environment=env, as_of="2026-01-01")
    d = s.dependencies
    run_ = d[(d.scope == "runtime") & (d.manifest == "pyproject.toml")].set_index("name")
    assert set(run_.index) == {"certifi", "charset-normalizer", "idna", "urllib3"}
    want = {"certifi": "628633143d5b8590b1dbdf5371fe81fb8250dffd",      # "require certifi", 2017-05-26
            "urllib3": "1ea27b35649571abb796f7cffbab83938d882a8d",      # "add install_requires", 2017-05-26
            "idna": "9ec3478469744b475d0413e6400d4161e032e847",         # security extra, 2016-11-16
            "charset-normalizer": "2ed84f55b22f19a1e1e8eea2e50963dce62052d3"}   # replaces chardet, 2021-07-07
    for name, sha in want.items():
        assert run_.loc[name, "added_sha"] == sha, name
        assert run_.loc[name, "purl"] == f"pkg:pypi/{name}"
        assert run_.loc[name, "license_source"] == "environment"
    assert run_.loc["certifi", "license_spdx"] == "MPL-2.0"


def test_scan_many_merges_dependencies(initech, tmp_path):
    """Two repositories declaring the same packages: one merged row per package, version, license and scope."""
    from concurrent.futures import ThreadPoolExecutor
    repo, ans, _, env, sbom = initech
    other = build("initech", tmp_path)
    with ThreadPoolExecutor(2) as ex:
        p = ddkit.scan_many([str(repo), str(other)], as_of=ans["as_of"], licenses=False, secrets=False, cache=False,
                            executor=ex, environment=[env], sbom=[sbom])
    assert list(p.repositories["status"]) == ["ok", "ok"]
    m = p.dependencies
    per_repo = {(r["ecosystem"], r["name"], r["version"] or "", r["scope"]) for r in ans["dependencies"]}
    assert len(m) == len(per_repo)
    assert all(len(r) == 2 for r in m["repositories"])
    req = m[m["name"] == "requests"].iloc[0]
    assert (req["license_spdx"], req["license_source"]) == ("Apache-2.0", "environment")
    out = p.to_json()
    assert len(out["dependencies"]) == len(m)


def test_vendored_package_manifest_is_a_license_source(make_repo):
    """Without the license scan, a vendored package's own package.json gives its license (source: manifest)."""
    r = make_repo()
    r.commit({"package.json": json.dumps({"name": "app", "dependencies": {"foo": "^1.0.0", "bar": "2.0.0"}}, indent=2),
              "node_modules/foo/package.json": json.dumps({"name": "foo", "version": "1.0.4", "license": "GPL-3.0-only"}),
              "node_modules/foo/index.js": "module.exports = 1;\n"})
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-06-30")
    d = s.dependencies.set_index("name")
    assert set(d.index) == {"foo", "bar"}              # node_modules/foo/package.json declares nothing for the project
    assert (d.loc["foo", "license_spdx"], d.loc["foo", "license_source"]) == ("GPL-3.0-only", "manifest")
    assert d.loc["bar", "license_source"] == "none" and d.loc["bar", "purl"] == "pkg:npm/bar@2.0.0"
    f = s.findings.set_index("subject")
    assert f.loc["foo (npm)", "rule"] == "dep.strong-copyleft" and f.loc["bar (npm)", "rule"] == "dep.unknown-license"


def test_who_added_follows_bumps_removals_moves_and_renames(make_repo):
    """History written here, so the truth is known: a bump is not an addition, a removal and re-addition is,
    moving a dependency from requirements.txt to pyproject.toml in one commit is not, a rename is not."""
    r = make_repo()
    day = "2021-0{}-01T12:00:00+00:00"
    c1 = r.commit({"requirements.txt": "alpha==1.0\nbeta==1.0\n"}, name="Ann", email="ann@x.example", date=day.format(1))
    r.commit({"requirements.txt": "alpha==2.0\nbeta==1.0\n"}, name="Ben", email="ben@x.example", date=day.format(2))
    r.commit({"requirements.txt": "alpha==2.0\n"}, name="Cid", email="cid@x.example", date=day.format(3))
    c4 = r.commit({"requirements.txt": "alpha==2.0\nbeta==1.1\n"}, name="Dee", email="dee@x.example", date=day.format(4))
    r.commit({"requirements.txt": "beta==1.1\n",
              "pyproject.toml": '[project]\nname = "app"\nversion = "1"\ndependencies = ["alpha>=2"]\n'},
             name="Eve", email="eve@x.example", date=day.format(5))
    r.git("mv", "requirements.txt", "requirements-base.txt")
    r.commit(name="Fay", email="fay@x.example", date=day.format(6))
    c7 = r.commit({"requirements-base.txt": "beta==1.1\ngamma\n"}, name="Gus", email="gus@x.example", date=day.format(7))
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2022-01-01")
    d = s.dependencies.set_index("name")
    assert (d.loc["alpha", "manifest"], d.loc["alpha", "added_sha"], d.loc["alpha", "added_by"]) == ("pyproject.toml", c1, "Ann")
    assert (d.loc["beta", "manifest"], d.loc["beta", "added_sha"], d.loc["beta", "added_by"]) == ("requirements-base.txt", c4, "Dee")
    assert (d.loc["gamma", "added_sha"], d.loc["gamma", "added_date"]) == (c7, pd.Timestamp("2021-07-01"))
    assert pd.isna(d.loc["gamma", "version"])


def test_pseudonymized_report_keeps_purls(initech, tmp_path):
    repo, ans, _, env, sbom = initech
    p = run("scan", repo, "--roster", HERE / "initech" / "roster.csv", "--no-licenses", "--no-secrets", "--quiet",
            "--as-of", ans["as_of"], "--pseudonymize", "--json", tmp_path / "p.json")
    assert p.returncode == 0, p.stderr
    deps = json.loads((tmp_path / "p.json").read_text())["dependencies"]
    assert {d["purl"] for d in deps} == {r["purl"] for r in ans["dependencies"]}
    people = {r["added_by"] for r in ans["dependencies"] if r["added_by"]}
    assert not people & {d["added_by"] for d in deps}
    assert all(d["added_by"] is None or d["added_by"].startswith("Contributor ") for d in deps)


def test_workspace_member_is_first_party(make_repo):
    """A Cargo workspace: libgit depends on libgit-sys by path (both in this repository) and on autocfg from
    crates.io. libgit-sys is the product's own code: listed as first-party with its own manifest's license,
    never a dep.* finding; autocfg, with no license anywhere, is still dep.unknown-license."""
    r = make_repo()
    r.commit({"libgit-rs/Cargo.toml": '[package]\nname = "libgit"\nversion = "0.1.0"\n\n[dependencies]\n'
                                      'libgit-sys = { version = "0.1.0", path = "../libgit-sys" }\nautocfg = "1.4.0"\n',
              "libgit-sys/Cargo.toml": '[package]\nname = "libgit-sys"\nversion = "0.1.0"\nlicense = "GPL-2.0-only"\n\n'
                                       '[dependencies]\n',
              "libgit-rs/src/lib.rs": "pub fn f() {}\n"})
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of="2024-06-30")
    d = s.dependencies.set_index("name")
    assert {"libgit-sys", "autocfg"} <= set(d.index)
    assert (d.loc["libgit-sys", "license_source"], d.loc["libgit-sys", "license_spdx"]) == ("first-party", "GPL-2.0-only")
    assert d.loc["autocfg", "license_source"] == "none"
    dep_findings = s.findings[s.findings["rule"].str.startswith("dep.")]
    assert list(dep_findings["subject"]) == ["autocfg (cargo)"]


def test_versions_that_name_no_wanted_dependency_are_not_parsed(make_repo, tmp_path, monkeypatch):
    """manifest_history with the keys wanted (the dependencies declared at the ref) gives every wanted
    addition exactly as parsing every version does, and parses only versions whose text names one: the
    root folder's manifests here declare nothing at the ref, so none of their versions is parsed."""
    from ddkit.analyze.dependencies import additions
    from ddkit.collect import dependencies as dep
    from ddkit.collect.history import collect_history
    r = make_repo()
    day = "2021-0{}-01T12:00:00+00:00"
    r.commit({"setup.py": 'from setuptools import setup\nsetup(name="app", install_requires=["old-lib"])\n',
              "svc/requirements.txt": "Foo_Bar==1.0\n"}, name="Ann", email="ann@x.example", date=day.format(1))
    r.commit({"svc/requirements.txt": "foo.bar==1.0\nzeta\n"}, name="Ben", email="ben@x.example", date=day.format(2))
    r.commit({"svc/requirements.txt": "other-lib\n"}, name="Cid", email="cid@x.example", date=day.format(3))  # removed
    c4 = r.commit({"svc/requirements.txt": "zeta\nFOO-bar>=2\n"}, name="Dee", email="dee@x.example",
                  date=day.format(4))                                                             # added again
    r.commit({"svc/pyproject.toml": '[project]\nname = "svc"\nversion = "1"\ndependencies = ["zeta"]\n',
              "svc/requirements.txt": "FOO-bar>=2\n"}, name="Eve", email="eve@x.example", date=day.format(5))
    r.commit({"setup.py": 'from setuptools import setup\nsetup(name="app")\n'}, name="Fay", email="fay@x.example",
             date=day.format(6))
    r.commit({"svc/requirements.txt": "FOO-bar>=2\n# \\x66 escaped text is always parsed\n"}, name="Gus",
             email="gus@x.example", date=day.format(7))
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    h = collect_history(str(r.path), "HEAD", cache=False)
    commits = h.commits.assign(person_id=h.commits["author_email_raw"], author_day=h.commits["author_date"].dt.date)
    wanted = {"svc": {"pypi:foo-bar", "pypi:zeta"}}
    parsed: list[str] = []
    real = dep.parse_manifest
    monkeypatch.setattr(dep, "parse_manifest", lambda p, d, s=None: parsed.append(p) or real(p, d, s))
    every, _ = dep.manifest_history(str(r.path), h.changes, h.commits, lambda p: False)
    n_every = len(parsed)
    parsed.clear()
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "d"))
    some, _ = dep.manifest_history(str(r.path), h.changes, h.commits, lambda p: False, wanted)
    a_every, a_some = additions(every, commits, pd.DataFrame()), additions(some, commits, pd.DataFrame())
    for key in [("svc", "pypi:foo-bar"), ("svc", "pypi:zeta")]:
        assert a_some[key] == a_every[key]
    assert a_some[("svc", "pypi:foo-bar")]["added_sha"] == c4
    assert n_every == 9 and "setup.py" not in parsed and len(parsed) == 6   # nor the version naming neither
    assert a_some[("svc", "pypi:zeta")]["added_sha"] == c4
    # A re-scan reads nothing: the parsed versions and the versions found to name nothing wanted are kept.
    parsed.clear()
    again, _ = dep.manifest_history(str(r.path), h.changes, h.commits, lambda p: False, wanted)
    assert parsed == [] and again["names"].tolist() == some["names"].tolist()


def test_may_declare_rules_out_only_texts_that_cannot_name_the_dependency():
    from ddkit.collect.dependencies import _may_declare
    assert _may_declare(b'install_requires=["Requires_Capitalized>=1"]', {"pypi:requires-capitalized"})
    assert _may_declare(b"<artifactId>commons-lang3</artifactId>", {"maven:org.apache:commons-lang3"})
    assert _may_declare(b"require github.com/pkg/errors v0.9.1", {"golang:github.com/pkg/errors"})
    assert not _may_declare(b"install_requires=[]", {"pypi:simple"})
    assert not _may_declare(b'{"dependencies": {"left-pad": "1"}}', {"npm:right-pad"})
    for text in (b'x = "\\x66oo"', b'x = "\\u0066oo"', b'{"name": "&#102;oo"}', b"f\0o\0o\0",
                 "name = \u212aafka".encode()):        # escapes, UTF-16, a Kelvin sign lower-cased to k
        assert _may_declare(text, {"pypi:foo", "pypi:kafka"})
