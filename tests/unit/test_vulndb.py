"""The offline OSV database reader and the version matching (no git): answers worked out by hand from the
fixture advisories in tests/data/osv (real OSV schema) and from the ecosystems' version rules."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from ddkit.analyze import vuln_versions as vv
from ddkit.analyze.vulnerabilities import Matcher, alias_groups, is_exact
from ddkit.collect import vulndb
from ddkit.errors import InputError

OSV = Path(__file__).resolve().parents[1] / "data" / "osv"


def test_reads_a_folder_skips_malformed_and_withdrawn():
    db = vulndb.load([OSV])
    assert db is not None
    assert sorted(db.advisories) == sorted([
        "GHSA-v845-jxx5-vc9f", "PYSEC-2023-192", "GHSA-j8r2-6x86-q33q", "GHSA-8q59-q68h-6hv4",
        "GHSA-35jh-r3h4-6jhm", "GHSA-xvch-5gv4-984h", "GO-2021-0113", "GHSA-h395-qcrw-5vmq", "GHSA-jfh8-c2jp-5v3q"])
    assert db.malformed == 3 and db.withdrawn == 1          # bad/*.json; the withdrawn urllib3 advisory
    assert any("3 malformed advisories" in w and "not-json.json" in w for w in db.warnings)
    assert db.snapshot == dt.datetime(2024, 2, 16, 8, 12, tzinfo=dt.timezone.utc)   # GHSA-v845's modified
    assert db.ecosystems == ["Go", "Maven", "PyPI", "npm"]
    # PEP 503 names: "PyYAML" in the advisory, "py_yaml"/"pyyaml" in manifests are one package.
    assert [a.id for a, _ in db.lookup("PyPI", "pyyaml")] == ["GHSA-8q59-q68h-6hv4"]
    assert db.lookup("PyPI", "PyYaml") == db.lookup("PyPI", "pyyaml")


def test_severity_from_cvss_then_database():
    db = vulndb.load(OSV)
    assert db is not None
    a = db.advisories
    assert (a["GHSA-8q59-q68h-6hv4"].severity, a["GHSA-8q59-q68h-6hv4"].cvss_score) == ("critical", 9.8)
    assert (a["GHSA-v845-jxx5-vc9f"].severity, a["GHSA-v845-jxx5-vc9f"].cvss_score) == ("medium", 5.9)
    assert (a["GHSA-35jh-r3h4-6jhm"].severity, a["GHSA-35jh-r3h4-6jhm"].cvss_score) == ("high", 7.2)
    assert (a["GHSA-jfh8-c2jp-5v3q"].severity, a["GHSA-jfh8-c2jp-5v3q"].cvss_score) == ("critical", 10.0)
    assert a["GHSA-h395-qcrw-5vmq"].severity == "medium"       # no CVSS: database_specific MODERATE
    assert a["GO-2021-0113"].severity is None                  # the Go database gives none
    assert a["PYSEC-2023-192"].severity is None


def _zip(tmp_path: Path, members: dict[str, bytes], name: str = "all.zip") -> Path:
    p = tmp_path / name
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in members.items():
            z.writestr(n, data)
    return p


def test_reads_an_all_zip_like_the_folder(tmp_path):
    members = {f.name: f.read_bytes() for f in (OSV / "PyPI").glob("*.json")}
    db = vulndb.load(_zip(tmp_path, members))
    assert db is not None
    assert sorted(db.advisories) == ["GHSA-8q59-q68h-6hv4", "GHSA-j8r2-6x86-q33q", "GHSA-v845-jxx5-vc9f",
                                     "PYSEC-2023-192"]
    assert db.withdrawn == 1 and db.malformed == 0


def test_zip_bomb_member_is_not_inflated(tmp_path, monkeypatch):
    bomb = b"0" * (vulndb.MAX_MEMBER_BYTES + 1024)
    good = (OSV / "npm" / "GHSA-35jh-r3h4-6jhm.json").read_bytes()
    p = _zip(tmp_path, {"bomb.json": bomb, "good.json": good})
    # Positive control: the member's header says it inflates beyond the bound from a few kilobytes.
    info = zipfile.ZipFile(p).getinfo("bomb.json")
    assert info.file_size > vulndb.MAX_MEMBER_BYTES and info.compress_size < 100_000
    read = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *a, **k):
        read.append(getattr(name, "filename", name))
        return real_open(self, name, *a, **k)
    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    db = vulndb.load(p)
    assert db is not None
    assert list(db.advisories) == ["GHSA-35jh-r3h4-6jhm"] and db.malformed == 1
    assert read == ["good.json"]                        # the bomb was judged on its header, never opened
    # The whole archive's inflated size is checked before anything is read.
    monkeypatch.setattr(vulndb, "MAX_TOTAL_BYTES", 1000)
    read.clear()
    with pytest.raises(InputError, match="once inflated"):
        vulndb.load(p)
    assert read == []


def test_lying_header_is_cut_at_the_bound(tmp_path, monkeypatch):
    """A member whose header under-states its size is read at most MAX_MEMBER_BYTES + 1 bytes."""
    monkeypatch.setattr(vulndb, "MAX_MEMBER_BYTES", 1000)
    big = json.dumps({"id": "X-1", "modified": "2024-01-01T00:00:00Z", "details": "a" * 5000}).encode()
    p = _zip(tmp_path, {"x.json": big})
    data = bytearray(p.read_bytes())
    # Rewrite the central directory's uncompressed size (offset 24 in its entry) to 10 bytes.
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    lh = data.find(b"PK\x03\x04")
    data[lh + 22:lh + 26] = (10).to_bytes(4, "little")
    p.write_bytes(bytes(data))
    db = vulndb.load(p)
    assert db is not None and not db.advisories and db.malformed == 1


def test_bad_paths_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        vulndb.load(tmp_path / "missing.zip")
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable zip"):
        vulndb.load(tmp_path / "x.zip")
    assert vulndb.load(None) is None and vulndb.load([]) is None


def test_symlinks_in_a_folder_are_not_followed(tmp_path):
    d = tmp_path / "db"
    d.mkdir()
    shutil.copy(OSV / "npm" / "GHSA-35jh-r3h4-6jhm.json", d / "a.json")
    (d / "link.json").symlink_to(OSV / "Maven" / "GHSA-jfh8-c2jp-5v3q.json")
    db = vulndb.load(d)
    assert db is not None and list(db.advisories) == ["GHSA-35jh-r3h4-6jhm"]


# ----------------------------------------------------------------------------- matching, worked by hand
@pytest.fixture(scope="module")
def matcher():
    db = vulndb.load(OSV)
    assert db is not None
    return Matcher(db)


@pytest.mark.parametrize("purl_type,name,version,exact,expected", [
    # urllib3: affected <1.26.17 and [2.0.0, 2.0.6) (GHSA-v845 and PYSEC-2023-192, one vulnerability)
    ("pypi", "urllib3", "1.26.5", True, {"GHSA-v845-jxx5-vc9f", "PYSEC-2023-192"}),
    ("pypi", "urllib3", "1.26.17", True, set()),
    ("pypi", "urllib3", "2.0.5", True, {"GHSA-v845-jxx5-vc9f", "PYSEC-2023-192"}),
    ("pypi", "urllib3", "2.0.6", True, set()),
    ("pypi", "URLLib3", "2.0.0", True, {"GHSA-v845-jxx5-vc9f", "PYSEC-2023-192"}),
    # requests: [2.3.0, 2.31.0)
    ("pypi", "requests", "2.2.1", True, set()),
    ("pypi", "requests", ">=2.20", False, {"GHSA-j8r2-6x86-q33q"}),       # the range allows 2.20 ... 2.30
    ("pypi", "requests", ">=2.31", False, set()),
    ("pypi", "requests", "~=2.31.0", False, set()),
    ("pypi", "requests", "~=2.30.0", False, {"GHSA-j8r2-6x86-q33q"}),
    ("pypi", "requests", "==2.30.*", False, {"GHSA-j8r2-6x86-q33q"}),
    ("pypi", "requests", "<2.3", False, set()),
    ("pypi", "requests", None, False, {"GHSA-j8r2-6x86-q33q"}),            # no requirement: every version
    ("pypi", "py_yaml", "5.3.1", True, set()),                              # another name (PEP 503: py-yaml)
    ("pypi", "PyYAML", "5.3.1", True, {"GHSA-8q59-q68h-6hv4"}),
    ("pypi", "pyyaml", "5.4", True, set()),
    ("pypi", "pyyaml", "5.4b1", True, {"GHSA-8q59-q68h-6hv4"}),              # a pre-release of 5.4 is before it
    # npm, SEMVER ranges; minimist has two entries
    ("npm", "lodash", "4.17.20", True, {"GHSA-35jh-r3h4-6jhm"}),
    ("npm", "lodash", "4.17.21", True, set()),
    ("npm", "lodash", "^4.17.0", False, {"GHSA-35jh-r3h4-6jhm"}),
    ("npm", "lodash", "^4.17.21", False, set()),
    ("npm", "minimist", "0.2.3", True, {"GHSA-xvch-5gv4-984h"}),
    ("npm", "minimist", "0.2.4", True, set()),
    ("npm", "minimist", "1.2.5", True, {"GHSA-xvch-5gv4-984h"}),
    ("npm", "minimist", "^1.2.6", False, set()),
    ("npm", "minimist", "~1.2.0", False, {"GHSA-xvch-5gv4-984h"}),
    # Go: SEMVER ranges without the "v" the go.mod writes
    ("golang", "golang.org/x/text", "v0.3.6", True, {"GO-2021-0113"}),
    ("golang", "golang.org/x/text", "v0.3.7", True, set()),
    ("golang", "github.com/gin-gonic/gin", "v1.7.6", True, {"GHSA-h395-qcrw-5vmq"}),
    ("golang", "github.com/gin-gonic/gin", "v1.7.7", True, set()),
    # Maven: three ECOSYSTEM ranges [2.0-beta9, 2.3.1), [2.4, 2.12.2), [2.13.0, 2.15.0)
    ("maven", "org.apache.logging.log4j:log4j-core", "2.14.1", True, {"GHSA-jfh8-c2jp-5v3q"}),
    ("maven", "org.apache.logging.log4j:log4j-core", "2.12.2", True, set()),
    ("maven", "org.apache.logging.log4j:log4j-core", "2.12.1", True, {"GHSA-jfh8-c2jp-5v3q"}),
    ("maven", "org.apache.logging.log4j:log4j-core", "2.3.1", True, set()),
    ("maven", "org.apache.logging.log4j:log4j-core", "2.0-beta8", True, set()),
    ("maven", "org.apache.logging.log4j:log4j-core", "2.0-beta9", True, {"GHSA-jfh8-c2jp-5v3q"}),
    ("maven", "org.apache.logging.log4j:log4j-core", "2.15.0", True, set()),
    ("maven", "org.apache.logging.log4j:log4j-api", "2.14.1", True, set()),     # another artifact
    ("npm", "urllib3", "1.0.0", True, set()),                                   # another ecosystem
])
def test_matching_by_hand(matcher, purl_type, name, version, exact, expected):
    assert {h.advisory.id for h in matcher.match(purl_type, name, version, exact)} == expected


def test_fixed_version_and_how(matcher):
    (h,) = [h for h in matcher.match("maven", "org.apache.logging.log4j:log4j-core", "2.14.1", True)]
    assert h.fixed == ["2.15.0"] and h.how == "version"
    hits = {h.advisory.id: h for h in matcher.match("pypi", "urllib3", "2.0.5", True)}
    assert hits["GHSA-v845-jxx5-vc9f"].fixed == ["2.0.6"]
    (r,) = matcher.match("pypi", "requests", ">=2.20", False)
    assert r.how == "range" and r.fixed == ["2.31.0"]


def test_aliases_collapse():
    db = vulndb.load(OSV)
    assert db is not None
    g = alias_groups([db.advisories["PYSEC-2023-192"], db.advisories["GHSA-v845-jxx5-vc9f"]])
    assert g["PYSEC-2023-192"][0] == g["GHSA-v845-jxx5-vc9f"][0] == "GHSA-v845-jxx5-vc9f"
    assert g["PYSEC-2023-192"][1] == ["CVE-2023-43804", "PYSEC-2023-192"]


@pytest.mark.parametrize("purl_type,version,kind,exact", [
    ("pypi", "==1.2", "manifest", True), ("pypi", ">=1.2", "manifest", False), ("pypi", "1.2", "lockfile", True),
    ("npm", "1.2.3", "manifest", True), ("npm", "^1.2.3", "manifest", False), ("cargo", "1.2", "manifest", False),
    ("cargo", "=1.2.3", "manifest", True), ("golang", "v1.2.3", "manifest", True), ("pypi", None, "manifest", False),
    ("pypi", "==1.*", "manifest", False),
])
def test_is_exact(purl_type, version, kind, exact):
    assert is_exact(purl_type, version, kind) is exact


def test_range_semantics():
    # last_affected includes its version; fixed excludes it; a range that re-opens.
    iv = vv.range_intervals("SemverVersion", [("introduced", "0"), ("last_affected", "1.2.3")])
    assert iv is not None and vv.contains(iv, vv.parse("SemverVersion", "1.2.3"))
    assert not vv.contains(iv, vv.parse("SemverVersion", "1.2.4"))
    iv = vv.range_intervals("PypiVersion", [("introduced", "1.0"), ("fixed", "1.5"), ("introduced", "2.0")])
    assert iv is not None
    assert [vv.contains(iv, vv.parse("PypiVersion", v)) for v in ("0.9", "1.0", "1.4.9", "1.5", "1.9", "2.0", "9")] == \
        [False, True, True, False, False, True, True]
    assert vv.range_intervals("PypiVersion", [("introduced", "not a version!")]) is None


def test_cvss_vectors_read_by_the_cvss_package():
    assert vulndb.cvss_severity("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == ("critical", 9.8)
    # By hand (CVSS 3.1 specification): exploitability 8.22 x 0.55 x 0.44 x 0.27 x 0.62 = 0.333; impact
    # 6.42 x (1 - 0.78) = 1.412; base = roundup(1.745) = 1.8, "low".
    assert vulndb.cvss_severity("CVSS_V3", "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N") == ("low", 1.8)
    assert vulndb.cvss_severity("CVSS_V3", "garbage") is None


def test_a_list_document(tmp_path):
    docs = [json.loads((OSV / "npm" / "GHSA-35jh-r3h4-6jhm.json").read_text()), {"id": "broken"}]
    p = tmp_path / "export.json"
    p.write_text(json.dumps(docs))
    db = vulndb.load(p)
    assert db is not None and list(db.advisories) == ["GHSA-35jh-r3h4-6jhm"] and db.malformed == 1


def test_requirement_tails_are_cut():
    assert vv.clean("==75.8.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb") == "==75.8.0"
    assert vv.clean('>=2.0; python_version < "3.8"') == ">=2.0"
    assert vv.clean(">=1.0  # pinned below") == ">=1.0"
    assert vv.clean(None) is None and vv.clean("   ") is None


def test_vendor_lists():
    from ddkit.collect.dep_history import is_vendor_list, parse_vendor_list
    assert is_vendor_list("src/pip/_vendor/vendor.txt") and is_vendor_list("setuptools/_vendor/vendored.txt")
    assert not is_vendor_list("vendor.txt") and not is_vendor_list("docs/vendor.txt")
    rows = parse_vendor_list("src/pip/_vendor/vendor.txt",
                             b"CacheControl==0.14.4\nrequests==2.34.2\n    urllib3==2.7.0\n# comment\nrich>=1\n")
    assert [(r["name"], r["version"], r["line"], r["kind"]) for r in rows] == [
        ("CacheControl", "0.14.4", 1, "vendored"), ("requests", "2.34.2", 2, "vendored"),
        ("urllib3", "2.7.0", 3, "vendored")]
    assert rows[0]["purl"] == "pkg:pypi/cachecontrol@0.14.4"


def test_a_fifo_in_the_folder_is_skipped(tmp_path):
    import os
    import threading
    d = tmp_path / "db"
    d.mkdir()
    shutil.copy(OSV / "npm" / "GHSA-35jh-r3h4-6jhm.json", d / "a.json")
    os.mkfifo(d / "b.json")
    # Positive control: opening the FIFO for reading blocks until a writer comes.
    opened = threading.Event()
    t = threading.Thread(target=lambda: (open(d / "b.json", "rb").close(), opened.set()), daemon=True)
    t.start()
    assert not opened.wait(0.3)
    with open(d / "b.json", "wb"):
        pass                                  # release the control thread
    db = vulndb.load(d)
    assert db is not None and list(db.advisories) == ["GHSA-35jh-r3h4-6jhm"] and db.malformed == 0
