"""Nothing leaks, nothing is overwritten (issue #23, part 4), without git: pseudonymisation of every kind of
cell, credentials in any text, output paths, file modes, the cache's private root and its sealed entries.

Each hostile case has its positive control: the bad behaviour is shown possible without the fix (a naive
substring replacement garbles rule ids; a plain ``pickle.loads`` runs the planted payload; a plain write
overwrites the input)."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pandas as pd
import pytest

from ddkit.errors import InputError
from ddkit.report import pseudonym
from ddkit.report.paths import check_paths

# ----------------------------------------------------------------------------------------- pseudonymisation
PEOPLE = pd.DataFrame({
    "person": ["Alice Founder", "unknown", "ip", "high", "Contributor", "dependabot[bot]"],
    "is_bot": [False, False, False, False, False, True],
    "surviving_lines": [50, 40, 30, 20, 10, 5], "commits": [5, 4, 3, 2, 1, 9],
    "names": [["Alice Founder", "Alice"], ["unknown"], ["ip"], ["high"], ["Contributor"], ["dependabot[bot]"]],
    "emails": [["alice@acme.example", "ALICE.F@gmail.com"], ["unknown@localhost", "unknown"], ["ip@corp"],
               ["12345+high@users.noreply.github.com"], ["c@x.example"], ["bot@users.noreply.github.com"]],
    "person_id": ["roster:Alice Founder", "id:unknown@localhost", "id:ip@corp", "id:12345+high@users.noreply.github.com",
                  "id:c@x.example", "bot:bot@users.noreply.github.com"],
    "ip_document": ["Alice_Founder_TA.pdf", None, None, None, None, None],
    "github": ["alicegh99", None, None, None, None, None],
    "possible_roster_match": [None, "Alice Founder", None, None, None, None],
    "type": ["founder", "unknown", "unknown", "unknown", "unknown", "unknown"],
})
VOCAB = ["ip.unknown-contributor", "high", "unknown", "Contributor not on the roster", "core"]
EXPECTED = {"Alice Founder": "Contributor 1", "unknown": "Contributor 2"}


def _ps():
    return pseudonym.Pseudonymizer(PEOPLE, VOCAB)


def test_mapping_is_by_lines_and_leaves_bots():
    names = pseudonym.mapping(PEOPLE)
    assert names == {"Alice Founder": "Contributor 01", "unknown": "Contributor 02", "ip": "Contributor 03",
                     "high": "Contributor 04", "Contributor": "Contributor 05"}


def test_names_that_are_words_are_replaced_by_field_only():
    ps = _ps()
    findings = pd.DataFrame({
        "rule": ["ip.unknown-contributor"] * 3 + ["kn.low-truck-factor"],
        "severity": pd.Categorical(["high", "high", "medium", "low"], categories=["low", "medium", "high"], ordered=True),
        "subject": ["unknown", "high", "Contributor", "core"],
        "person": ["unknown", "high", "Contributor", None],
        "evidence": ["unknown <unknown@localhost> matches no roster entry (type unknown)",
                     "high <12345+high@users.noreply.github.com> is high risk",
                     "Contributor <c@x.example>: Contributor not on the roster",
                     "Top authors: Alice Founder (3 files); Alice (1 files); core/Alice.py"],
    })
    out = ps.frame(findings, "findings")
    # Positive control: a substring replacement (what the issue saw) rewrites the rule id and the severity.
    assert "ip.unknown-contributor".replace("unknown", "Contributor 02") != "ip.unknown-contributor"
    assert out["rule"].tolist() == findings["rule"].tolist()
    assert out["severity"].tolist() == findings["severity"].tolist() and out["severity"].dtype == findings["severity"].dtype
    assert out["person"].tolist()[:3] == ["Contributor 02", "Contributor 04", "Contributor 05"]
    assert out["subject"].tolist() == ["Contributor 02", "Contributor 04", "Contributor 05", "core"]
    ev = out["evidence"].tolist()
    assert ev[0] == "unknown <[e-mail removed]> matches no roster entry (type unknown)"
    assert ev[2] == "Contributor <[e-mail removed]>: Contributor not on the roster"
    assert ev[3] == "Top authors: Contributor 01 (3 files); Contributor 01 (1 files); core/Alice.py"
    assert "12345" not in ev[1] and "noreply" not in ev[1]


@pytest.mark.parametrize("dtype", ["object", "str", "string", "category"])
def test_every_text_dtype(dtype):
    ps = _ps()
    df = pd.DataFrame({"person": ["Alice Founder", "ip"], "detail": ["by Alice Founder", "mailto:ip@corp"]})
    df = df.astype({"person": dtype, "detail": dtype})
    out = ps.frame(df, "security")
    assert [str(x) for x in out["person"]] == ["Contributor 01", "Contributor 03"]
    assert [str(x) for x in out["detail"]] == ["by Contributor 01", "[e-mail removed]"]


def test_lists_dicts_people_and_roster_columns():
    ps = _ps()
    people = ps.frame(PEOPLE, "people")
    assert "github" not in people.columns                     # a roster column the contract does not define
    assert set(people["emails"].map(len)) == {0} and set(people["names"].map(len)) == {0}
    assert people.loc[0, "ip_document"] == "[on file]"
    assert people.loc[1, "possible_roster_match"] == "Contributor 01"
    assert people.loc[0, "person_id"] == "pseudonym:Contributor 01"
    assert people.loc[5, "person"] == "dependabot[bot]"        # bots keep their names
    scope = pd.DataFrame({"subject": ["Alice Founder"], "subject_type": ["founder"],
                          "current_staff_who_know": [{"Alice Founder": 3, "ip": 1}],
                          "files": [[{"path": "a.py", "lines": 3}]], "modules": [["core"]]})
    out = ps.frame(scope, "rewrite_scope")
    assert out.loc[0, "current_staff_who_know"] == {"Contributor 01": 3, "Contributor 03": 1}
    assert out.loc[0, "subject"] == "Contributor 01" and out.loc[0, "modules"] == ["core"]
    doc = ps.text("signed the IP assignment (document Alice_Founder_TA.pdf) on 2020-01-01")
    assert doc == "signed the IP assignment (document [on file]) on 2020-01-01"


@pytest.mark.parametrize("text,kept", [
    ("write to root@localhost now", None), ("<ip@corp>", None), ("mailto:x.y@z.example", None),
    ('"john doe"@example.com', None), ("user@[10.0.0.1]", None), ("alice%40acme.example", None),
    ("user@10.0.0.1", None), ("ALICE.F@GMAIL.COM", None),
    ("lodash@4.17.21", "lodash@4.17.21"), ("pkg:npm/x@1.0.0", "pkg:npm/x@1.0.0"), ("x@v2.1", "x@v2.1"),
])
def test_every_address_form(text, kept):
    out = _ps().text(text)
    if kept is None:
        assert "@" not in out.replace("[e-mail removed]", "") and "%40" not in out, out
        assert "[e-mail removed]" in out
    else:
        assert out == kept


def test_key_csv_escaped_and_private(tmp_path):
    import csv
    people = pd.DataFrame({"person": ['=HYPERLINK("http://evil.example","x")', "+1 Alice", "\tBob"],
                           "is_bot": [False] * 3, "surviving_lines": [3, 2, 1], "commits": [1, 1, 1],
                           "emails": [["@evil.example"], ["a@x.example"], ["-b@x.example"]]})
    old = os.umask(0o022)
    try:
        path = pseudonym.write_key(people, tmp_path / "key.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    cells = [c for r in rows[1:] for c in r]
    assert cells and all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), cells
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in cells and "'\tBob" in cells


# ----------------------------------------------------------------------------------------- file modes
@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_reports_honour_the_umask(tmp_path, mask, mode):
    from ddkit.fsutil import atomic_write
    old = os.umask(mask)
    try:
        p = atomic_write(tmp_path / "r.json", b"{}")
        plain = tmp_path / "plain"
        plain.write_bytes(b"")        # control: what open() gives under this umask
        private = atomic_write(tmp_path / "k.csv", b"x", mode=0o600)
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == mode == stat.S_IMODE(plain.stat().st_mode)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


# ----------------------------------------------------------------------------------------- output paths
def test_output_paths(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type\n")
    sbom = tmp_path / "bom.json"
    sbom.write_text("{}")
    env = tmp_path / "venv"
    (env / "lib").mkdir(parents=True)
    ins = [("--roster", str(roster)), ("--sbom", str(sbom)), ("--environment", str(env))]
    ok = {"xlsx": str(tmp_path / "r.xlsx"), "json": str(tmp_path / "r.json"), "sarif": str(tmp_path / "r.sarif"),
          "cyclonedx": str(tmp_path / "r.cdx.json")}
    check_paths(ok, ins, key=str(tmp_path / "key.csv"))
    check_paths({"sarif": str(tmp_path / "r.sarif.json"), "xlsx": str(tmp_path / "R.XLSX")}, ins)
    link = tmp_path / "link.json"
    link.symlink_to(sbom)
    hard = tmp_path / "hard.csv"
    os.link(roster, hard)
    bad = [
        ({"json": str(sbom)}, None, "is the --sbom input"),
        ({"json": str(link)}, None, "is the --sbom input"),
        ({"xlsx": str(tmp_path / "r.json")}, None, "ending in .xlsx"),
        ({"json": str(tmp_path / "other.csv")}, None, "ending in .json"),
        ({"sarif": str(tmp_path / "company.yaml")}, None, "ending in .sarif or .json"),
        ({"json": str(tmp_path / "a.json"), "sarif": str(tmp_path / "a.json")}, None, "the same file as --json"),
        ({"xlsx": str(tmp_path / "r.xlsx")}, str(roster), "is the --roster input"),
        ({"xlsx": str(tmp_path / "r.xlsx")}, str(hard), "is the --roster input"),
        ({"xlsx": str(tmp_path / "r.xlsx")}, str(tmp_path / "r.xlsx"), "the same file as --out"),
        ({"xlsx": str(tmp_path / "r.xlsx")}, str(tmp_path / "k.txt"), "the pseudonym key, a CSV file, must"),
        ({"json": str(tmp_path / ".json")}, None, "ending in .json"),
        ({"json": str(env / "lib" / "r.json")}, None, "is inside the --environment input"),
    ]
    for outputs, key, msg in bad:
        with pytest.raises(InputError, match=msg.replace(".", r"\.")):
            check_paths(outputs, ins, key=key)
    # Positive control: without the check, a report written to the input's path replaces it.
    from ddkit.fsutil import atomic_write
    atomic_write(hard, b"{}")
    assert roster.read_text() == "person,emails,type\n"   # (a new file: the hard link's other name kept the roster)
    atomic_write(roster, b"{}")
    assert roster.read_text() == "{}"


# ----------------------------------------------------------------------------------------- credentials
@pytest.mark.parametrize("text,expected", [
    ("https://u:S3CRET@h.example/x.git?access_token=S3CRET&ref=main#top", "https://h.example/x.git?ref=main#top"),
    ("file:///srv/x.git?private_token=S3CRET", "file:///srv/x.git"),
    ("fatal: '/srv/x.git?private_token=S3CRET' does not appear to be a git repository",
     "fatal: '/srv/x.git' does not appear to be a git repository"),
    ("/srv/nothere?access_token=S3CRET: no such file or directory", "/srv/nothere: no such file or directory"),
    ("u:S3CRET@host.example:org/x.git", "host.example:org/x.git"),
    ("https://u:p@S3CRET@host/x", "https://host/x"),
    ("x?a=1&secret=S3CRET&b=2", "x?a=1&b=2"),
    ("password=S3CRET, api_key=S3CRET", "password=[removed], api_key=[removed]"),
    ("Authorization: Bearer S3CRET", "Authorization: [removed]"),
])
def test_credentials_stripped_from_any_text(text, expected):
    from ddkit.gitutil import strip_credentials
    assert strip_credentials(text) == expected


@pytest.mark.parametrize("text", ["git@github.com:org/x.git", "alice@acme.example", "is it signed, pending?",
                                  "rules: unknown key: foo", "author=Alice design=1", "ip.unknown-contributor"])
def test_ordinary_text_kept(text):
    from ddkit.gitutil import strip_credentials
    assert strip_credentials(text) == text


# ----------------------------------------------------------------------------------------- the cache
class _Payload:
    """Unpickling this runs code: it writes a marker file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path(self.marker).write_text, ("ran",))


def test_cache_root_must_be_private(tmp_path, monkeypatch):
    from ddkit import cache
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(shared))
    with pytest.raises(InputError, match=f"cache folder {shared} is writable by others"):
        cache.cache_dir("x")
    os.chmod(shared, 0o770)
    with pytest.raises(InputError, match="writable by its group"):
        cache.cache_dir("x")
    os.chmod(shared, 0o755)
    assert cache.cache_dir("x").is_dir()
    if os.geteuid() == 0:             # only root can give a folder to another user
        other = tmp_path / "other"
        other.mkdir(mode=0o700)
        os.chown(other, 12345, 12345)
        monkeypatch.setenv("DDKIT_CACHE_DIR", str(other))
        with pytest.raises(InputError, match="belongs to another user"):
            cache.cache_dir("x")


def test_sealed_entries_need_this_caches_key(tmp_path, monkeypatch):
    import hashlib

    from ddkit import cache
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    marker = tmp_path / "marker"
    evil = pickle.dumps(_Payload(str(marker)))
    # Positive control: unpickling the planted bytes runs the payload.
    pickle.loads(evil)
    assert marker.read_text() == "ran"
    marker.unlink()
    entry = cache.cache_dir("yaml") / "k.pkl"
    cache.write_sealed(entry, pickle.dumps({"a": 1}), b"m\n")
    assert pickle.loads(cache.read_sealed(entry, b"m\n")) == {"a": 1}
    key = cache.cache_dir() / cache.KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(entry.stat().st_mode) == 0o600
    # Planted: the old seal (a SHA-256 anyone can compute), a guessed MAC, a MAC under another key.
    for planted in (b"m\n" + hashlib.sha256(evil).hexdigest().encode() + evil, b"m\n" + b"0" * 64 + evil):
        entry.write_bytes(planted)
        assert cache.read_sealed(entry, b"m\n") is None
    other = tmp_path / "c2"
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(other))
    cache.write_sealed(other / "x.pkl", evil, b"m\n")
    entry.write_bytes((other / "x.pkl").read_bytes())
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    assert cache.read_sealed(entry, b"m\n") is None
    # A key file others can read is replaced (what it sealed is no longer read).
    cache.write_sealed(entry, b"fine", b"m\n")
    assert cache.read_sealed(entry, b"m\n") == b"fine"
    os.chmod(key, 0o644)
    assert cache.read_sealed(entry, b"m\n") is None
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not marker.exists()


def test_cache_subfolders_made_private(tmp_path, monkeypatch):
    from ddkit import cache
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    cache.cache_dir()
    loose = tmp_path / "c" / "blame"
    loose.mkdir()
    os.chmod(loose, 0o777)           # made by an older ddkit under umask 000: anyone could plant entries
    assert cache.cache_dir("blame") == loose
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700
    if os.geteuid() == 0:
        os.chown(loose, 12345, 12345)
        with pytest.raises(InputError, match="not a folder of your own"):
            cache.cache_dir("blame")


def test_hostile_names_do_not_break_the_matcher():
    """Names built to nest the matcher thousands deep ("a", "aa", …) or thousands of characters long: still
    a clean answer (control: the plain trie of such names is too deep for Python's regular expressions)."""
    import re
    names = ["a" * i for i in range(2, 1500)] + ["Long " + "x" * 6000]
    people = pd.DataFrame({"person": names, "is_bot": False, "surviving_lines": range(len(names)),
                           "commits": 1, "names": [[n] for n in names], "emails": [[] for _ in names]})
    with pytest.raises((RecursionError, re.error, OverflowError)):
        re.compile(pseudonym._trie_pattern(names[:-1]))
    ps = pseudonym.Pseudonymizer(people, ["ip.unknown-contributor"])
    assert ps.text("by " + "x" * 3 + " and " + names[-1] + ".") == f"by xxx and {ps.names[names[-1]]}."
    assert ps.value("aaaa") == ps.names["aaaa"] and ps.text("aaaa b") == f"{ps.names['aaaa']} b"


@pytest.mark.parametrize("text", ["https://" + "a" * 200_000, "a" * 200_000 + " @", "a." * 100_000 + "@x",
                                  "?a=b&" * 40_000, "u:p@" * 50_000, "a:" * 100_000 + "@", "a," * 100_000 + "@",
                                  "!" * 50_000 + ":" + "!" * 50_000 + "@"])
def test_long_hostile_text_is_linear(text):
    """A repository's text (evidence quoting a file) of 200,000 characters: well under a second each, where
    a scheme, local part or user:password tried at every position took 39 s to minutes (quadratic)."""
    import time

    from ddkit.gitutil import strip_credentials
    t = time.perf_counter()
    strip_credentials(text)
    _ps().text(text)
    assert time.perf_counter() - t < 2.0
