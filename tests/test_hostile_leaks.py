"""Nothing leaks, nothing is overwritten (issue #23, part 4), end to end through the command line.

Each case carries its positive control: the bytes we grep for are shown present without the protection
(the reports written without --pseudonymize hold every name, address and handle; git's own message holds
the token; a plain pickle.loads of the planted entry runs its payload; the library writer, which has no
path check, overwrites the input).
"""

from __future__ import annotations

import json
import os
import pickle
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

import ddkit
from test_hostile import child_env, ddkit_cli, one_line_error

ROSTER = (
    "person,emails,type,vendor,start_date,end_date,ip_assignment,ip_assignment_date,ip_document,github,phone\n"
    "Alice Founder,alice@acme.example; alice.f@gmail.com,founder,,2019-01-01,,signed,2019-01-01,"
    "Alice_Founder_TA.pdf,alicegh99,+1 555 0100\n"
    "Zoe Quux,zoe@localhost,contractor,,2020-01-01,2020-06-30,,,,zq-handle,\n"   # a roster gap: on the console
)
# What must never appear in a pseudonymised output (bytes, in every file and every xlsx part).
SECRETS = ["Alice Founder", "alice@acme.example", "alice.f@gmail.com", "Zoe Quux", "zoe@localhost", "alicegh99",
           "zq-handle", "555 0100", "Alice_Founder_TA.pdf", "unknown@localhost", "ip@corp",
           "12345+high@users.noreply.github.com", "contributor@x.example", "Mallory Raw", "mallory@evil.example"]
# Contributors whose names are words ddkit itself writes: they must not rewrite the report's words.
WORDY = [("unknown", "unknown@localhost"), ("ip", "ip@corp"), ("high", "12345+high@users.noreply.github.com"),
         ("Contributor", "contributor@x.example")]


def _repo(make_repo):
    r = make_repo()
    r.commit({"core/a.py": "".join(f"a{i} = {i}\n" for i in range(40))}, name="Alice Founder",
             email="alice@acme.example", date="2019-03-01T12:00:00+00:00")
    r.commit({"core/b.py": "".join(f"b{i} = {i}\n" for i in range(30))}, name="Alice",
             email="alice.f@gmail.com", date="2019-04-01T12:00:00+00:00")
    r.commit({"api/z.py": "".join(f"z{i} = {i}\n" for i in range(25))}, name="Zoe Quux", email="zoe@localhost",
             date="2020-03-01T12:00:00+00:00")
    for i, (name, email) in enumerate(WORDY):
        r.commit({f"tools/w{i}.py": "".join(f"w{j} = {j}\n" for j in range(10 + i))}, name=name, email=email,
                 date=f"2021-0{i + 1}-01T12:00:00+00:00")
    r.commit({"tools/m.py": "m = 1\n"}, name="Mallory Raw", email="mallory@evil.example",
             date="2021-06-01T12:00:00+00:00")
    return r


def _outputs(out: Path) -> dict[str, bytes]:
    """Every output's bytes: the JSON, the SARIF and every part of the workbook (sharedStrings included)."""
    parts = {"json": (out / "r.json").read_bytes(), "sarif": (out / "r.sarif").read_bytes()}
    with zipfile.ZipFile(out / "r.xlsx") as z:
        parts.update({f"xlsx:{n}": z.read(n) for n in z.namelist()})
    return parts


def _scan(r, tmp_path, name, *extra):
    out = tmp_path / name
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    p = ddkit_cli("scan", r.path, "--roster", roster, "--as-of", "2024-06-30", "--no-licenses", "--no-secrets",
                  "--out", out / "r.xlsx", "--json", out / "r.json", "--sarif", out / "r.sarif", *extra)
    assert p.returncode == 0, p.stderr
    return out, p


def test_pseudonymised_reports_hold_no_identity(make_repo, tmp_path):
    r = _repo(make_repo)
    plain, p0 = _scan(r, tmp_path, "plain")
    key = tmp_path / "key.csv"
    pseud, p1 = _scan(r, tmp_path, "pseud", "--pseudonymize", "--pseudonym-key", key)
    # Positive control: without --pseudonymize each of these is in some output (the grep can see them).
    seen = b"\n".join(_outputs(plain).values()) + (p0.stdout + p0.stderr).encode()
    assert [s for s in SECRETS if s.encode() not in seen] == []
    assert "row 3: Zoe Quux" in p0.stdout and "Mallory Raw" in p0.stdout    # the roster gaps, a warning
    for part, data in [*_outputs(pseud).items(), ("console", (p1.stdout + p1.stderr).encode())]:
        for s in SECRETS:
            assert s.encode() not in data, (s, part)
    a, b = json.loads((plain / "r.json").read_bytes()), json.loads((pseud / "r.json").read_bytes())
    # Rule ids, severities and subjects that are not people are intact; every human is a pseudonym.
    assert [(f["id"], f["rule"], f["severity"]) for f in a["findings"]] == \
        [(f["id"], f["rule"], f["severity"]) for f in b["findings"]]
    assert {f["rule"] for f in a["findings"]} >= {"ip.unknown-contributor"}
    assert all(p["person"].startswith("Contributor ") for p in b["people"] if not p["is_bot"])
    assert len(b["people"]) == len(a["people"])
    for f_a, f_b in zip(a["findings"], b["findings"]):
        if f_a.get("person") is None and f_a["subject"] in ("core", "api", "tools"):
            assert f_b["subject"] == f_a["subject"]
    sarif = json.loads((pseud / "r.sarif").read_bytes())
    assert {res["ruleId"] for run in sarif["runs"] for res in run["results"]} == {f["rule"] for f in a["findings"]}
    # The key: private, and the real names are there.
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "Alice Founder" in key.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_reports_honour_the_umask(make_repo, tmp_path, mask):
    r = make_repo()
    r.commit({"a.py": "a = 1\n"})
    out = tmp_path / "o"
    args = [r.path, "--no-licenses", "--no-secrets", "--out", out / "r.xlsx", "--json", out / "r.json",
            "--sarif", out / "r.sarif", "--pseudonymize", "--pseudonym-key", out / "key.csv", "--quiet"]
    p = subprocess.run([os.sys.executable, "-m", "ddkit", "scan", *map(str, args)], capture_output=True, text=True,
                       env=child_env(), preexec_fn=lambda: os.umask(mask))
    assert p.returncode == 0, p.stderr
    for name in ("r.xlsx", "r.json", "r.sarif"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o666 & ~mask, name
    assert stat.S_IMODE((out / "key.csv").stat().st_mode) == 0o600


def test_output_paths_checked_before_the_scan(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.py": "a = 1\n"})
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type\nA,a@x.example,employee\n")
    company = tmp_path / "company.yaml"
    company.write_text("name: Acme\n")
    sbom = tmp_path / "bom.json"
    sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}')
    before = {p: p.read_bytes() for p in (roster, company, sbom)}
    cache = tmp_path / "cache"
    env = child_env(DDKIT_CACHE_DIR=str(cache))
    base = ["scan", r.path, "--roster", roster, "--company", company, "--sbom", sbom, "--no-licenses", "--no-secrets"]
    cases = [
        (["--json", roster], "is the --roster input"),
        (["--sarif", company], "is the --company input"),
        (["--sarif", tmp_path / "r.yaml"], "ending in .sarif or .json"),
        (["--json", sbom], "is the --sbom input"),
        (["--out", tmp_path / "r.json"], "ending in .xlsx"),
        (["--json", tmp_path / "x.json", "--sarif", tmp_path / "x.json"], "the same file as --json"),
        (["--out", tmp_path / "r.xlsx", "--pseudonymize", "--pseudonym-key", tmp_path / "r.xlsx"],
         "the same file as --out"),
        (["--out", tmp_path / "r.xlsx", "--pseudonymize", "--pseudonym-key", tmp_path / "key.txt"],
         "a CSV file, must be written to a file ending in .csv"),
        (["--out", tmp_path / "r.xlsx", "--pseudonymize", "--pseudonym-key", roster], "is the --roster input"),
    ]
    for extra, msg in cases:
        p = ddkit_cli(*base, *extra, env=env)
        one_line_error(p, msg)
    assert {p: p.read_bytes() for p in before} == before
    assert not cache.exists()          # refused before the scan started
    lst = tmp_path / "list.txt"
    lst.write_text(f"{r.path}\n")
    one_line_error(ddkit_cli("scan-many", lst, "--json", lst, "--no-licenses", env=env), "is the REPO_LIST input")
    lst_json = tmp_path / "list.json"
    lst_json.write_text(f"{r.path}\n")
    one_line_error(ddkit_cli("scan-many", lst_json, "--json", lst_json, "--no-licenses", env=env),
                   "is the REPO_LIST input")
    good = tmp_path / "good.json"
    assert ddkit_cli("scan", r.path, "--no-licenses", "--no-secrets", "--json", good, env=env).returncode == 0
    one_line_error(ddkit_cli("diff", good, good, "--out", good, env=env), "is the BEFORE input")
    one_line_error(ddkit_cli("diff", good, good, "--out", tmp_path / "d.json", env=env), "ending in .xlsx")
    assert json.loads(good.read_text())["schema_version"] == 1
    # Positive control: the writer itself has no such check; the command line's check is what protects.
    s = ddkit.scan(r.path, licenses=False, secrets=False)
    s.to_json(sbom)
    assert sbom.read_bytes() != before[sbom]


def test_planted_cache_pickles_never_run(make_repo, tmp_path):
    """Every pickle the cache holds (incremental stores, the kept result and reports, parsed YAML, portfolio
    results) replaced by a payload that writes a marker, in the old SHA-256 seal anyone can compute and
    under a guessed MAC: the re-scan runs none of them and gives the same answer."""
    import hashlib
    r = make_repo()
    r.commit({"a.py": "a = 1\nb = 2\n"}, name="Ann", email="ann@x.example")
    cache = tmp_path / "cache"
    env = child_env(DDKIT_CACHE_DIR=str(cache))
    lst = tmp_path / "list.txt"
    lst.write_text(f"{r.path}\n")
    first = ddkit_cli("scan", r.path, "--no-licenses", "--json", tmp_path / "a.json", env=env)
    assert first.returncode == 0, first.stderr
    assert ddkit_cli("scan-many", lst, "--no-licenses", "--json", tmp_path / "pa.json", env=env).returncode == 0
    marker = tmp_path / "marker"
    evil = pickle.dumps(_payload(str(marker)))
    pickle.loads(evil)                 # positive control: unpickled, the payload runs
    assert marker.exists()
    marker.unlink()
    planted = 0
    for f in [*cache.rglob("*.pkl"), *cache.rglob("*.pickle")]:
        head = f.read_bytes()[:64].split(b"\n", 1)[0] + b"\n"
        magic = head if head.startswith(b"ddkit-") else b""
        f.write_bytes(magic + hashlib.sha256(evil).hexdigest().encode() + evil if planted % 2 else
                      magic + b"0" * 64 + evil if magic else evil)
        planted += 1
    assert planted >= 5
    again = ddkit_cli("scan", r.path, "--no-licenses", "--json", tmp_path / "b.json", env=env)
    assert again.returncode == 0, again.stderr
    assert ddkit_cli("scan-many", lst, "--no-licenses", "--json", tmp_path / "pb.json", env=env).returncode == 0
    assert not marker.exists()
    a, b = json.loads((tmp_path / "a.json").read_text()), json.loads((tmp_path / "b.json").read_text())
    assert a["findings"] == b["findings"] and a["people"] == b["people"]


def _payload(marker: str):
    class _P:
        def __reduce__(self):
            return (Path(marker).write_text, ("ran",))
    return _P()


def test_shared_cache_folder_refused(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.py": "a = 1\n"})
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    p = ddkit_cli("scan", r.path, "--no-licenses", "--no-secrets", env=child_env(DDKIT_CACHE_DIR=str(shared)))
    one_line_error(p, f"cache folder {shared}", "writable by others")
    assert list(shared.iterdir()) == []


def test_portfolio_credentials_never_shown(make_repo, tmp_path):
    r = make_repo("src")
    r.commit({"a.py": "a = 1\n"})
    srv = tmp_path / "srv.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(r.path), str(srv)], check=True, capture_output=True)
    url = f"file://{srv}?private_token=S3CRET"
    # Positive control: git's own message quotes the token.
    g = subprocess.run(["git", "ls-remote", url], capture_output=True, text=True)
    assert "S3CRET" in g.stderr
    lst = tmp_path / "list.txt"
    lst.write_text(f"{url}\n{tmp_path}/nothere?access_token=S3CRET\nhttps://user:S3CRET@127.0.0.1:9/x.git\n")
    p = ddkit_cli("scan-many", lst, "--no-licenses", "--no-secrets", "--json", tmp_path / "p.json",
                  "--out", tmp_path / "p.xlsx")
    text = (tmp_path / "p.json").read_text()
    with zipfile.ZipFile(tmp_path / "p.xlsx") as z:
        text += " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    assert "S3CRET" not in text + p.stdout + p.stderr
    assert "nothere" in text and "127.0.0.1" in text       # the repositories are still named


def test_repository_credentials_not_copied_into_reports(make_repo, tmp_path):
    """A token the seller's files carry (a dependency pinned to a URL with user information or a token
    parameter) is evidence of a finding, never copied into a report."""
    r = make_repo()
    r.commit({"requirements.txt": "pkg @ git+https://user:S3CRET@github.com/o/p.git\n"
                                  "other @ https://h.example/x.whl?token=S3CRET\n"})
    s = ddkit.scan(r.path, licenses=False, secrets=False)
    # Positive control: the scan's own tables hold the token (it is in the input).
    assert "S3CRET" in s.dependencies.to_string() + s.findings.to_string()
    out = tmp_path / "o"
    p = ddkit_cli("scan", r.path, "--no-licenses", "--no-secrets", "--json", out / "r.json", "--sarif",
                  out / "r.sarif", "--out", out / "r.xlsx", "--sbom-out", out / "r.cdx.json")
    assert p.returncode == 0, p.stderr
    data = b"".join(_outputs(out).values()) + (out / "r.cdx.json").read_bytes() + (p.stdout + p.stderr).encode()
    assert b"S3CRET" not in data
    assert b"github.com/o/p.git" in data          # the dependency is still shown


def test_pseudonymised_portfolio_holds_no_identity(make_repo, tmp_path):
    r = _repo(make_repo)
    (tmp_path / "roster.csv").write_text(ROSTER)
    lst = tmp_path / "list.txt"
    lst.write_text(f"{r.path}\n")

    def run(name, *extra):
        out = tmp_path / name
        p = ddkit_cli("scan-many", lst, "--roster", tmp_path / "roster.csv", "--as-of", "2024-06-30", "--no-licenses",
                      "--no-secrets", "--out", out / "r.xlsx", "--json", out / "r.json", "--sarif", out / "r.sarif",
                      *extra)
        assert p.returncode == 0, p.stderr
        return out, p
    plain, _ = run("plain")
    pseud, p = run("pseud", "--pseudonymize")
    seen = b"\n".join(_outputs(plain).values())
    assert b"Alice Founder" in seen and b"Mallory Raw" in seen and b"zoe@localhost" in seen    # control
    for part, data in [*_outputs(pseud).items(), ("console", (p.stdout + p.stderr).encode())]:
        for s in SECRETS:
            assert s.encode() not in data, (s, part)
    a, b = json.loads((plain / "r.json").read_bytes()), json.loads((pseud / "r.json").read_bytes())
    assert [(f["rule"], f["severity"]) for f in a["findings"]] == [(f["rule"], f["severity"]) for f in b["findings"]]
    assert all(x["person"].startswith("Contributor ") for x in b["people"] if not x["is_bot"])
