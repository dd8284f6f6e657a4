"""Secrets in history and the security checklist, on repositories whose secrets are known."""

import json
import subprocess
import sys

import openpyxl
import pytest

import ddkit
from ddkit.collect.secrets import scan_history

AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GH_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PRIVATE = "-----BEGIN RSA PRIVATE KEY-----"


@pytest.fixture
def secret_repo(make_repo):
    r = make_repo()
    r.commit({"app.py": "print('hello')\n", "package.json": '{"name": "x"}\n'}, name="Ann", email="ann@acme.example",
             date="2021-01-04T12:00:00+00:00")
    leak = r.commit({"config/settings.py": f'AWS_ACCESS_KEY_ID = "{AWS_ID}"\nAWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n'},
                    name="Bob", email="bob@acme.example", date="2021-02-01T12:00:00+00:00")
    r.commit({"config/settings.py": "import os\nAWS_SECRET_ACCESS_KEY = os.environ['AWS_SECRET_ACCESS_KEY']\n"},
             name="Bob", email="bob@acme.example", date="2021-02-02T12:00:00+00:00")
    # Look-alikes: a release checksum and a placeholder.
    r.commit({"docs/hashes.md": "sha256 of release 1.0: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
                                "API_KEY=<your-key-here>\n"}, name="Ann", email="ann@acme.example",
             date="2021-03-01T12:00:00+00:00")
    still = r.commit({"deploy/token.txt": f"token: {GH_TOKEN}\n"}, name="Ann", email="ann@acme.example",
                     date="2021-04-01T12:00:00+00:00")
    r.git("mv", "deploy/token.txt", "deploy/gh.txt")
    r.commit(name="Ann", email="ann@acme.example", date="2021-05-01T12:00:00+00:00")
    return r, leak, still


def test_secrets_found_with_commit_and_never_reported(secret_repo, tmp_path):
    r, leak, still = secret_repo
    s = ddkit.scan(r.path, licenses=False, as_of="2024-06-30")
    f = s.findings
    hist = f[f.rule == "sec.secret-in-history"]
    assert set(hist["path"]) == {"config/settings.py"}
    assert set(hist["first_sha"]) == {leak}
    assert {"AWS Access Key"} <= {x.split(" in ")[0] for x in hist["subject"]}
    tree = f[f.rule == "sec.secret-in-tree"]
    assert list(tree["path"]) == ["deploy/gh.txt"]          # followed through the rename
    assert list(tree["first_sha"]) == [still] and list(tree["severity"]) == ["critical"]
    # The look-alikes are not secrets.
    assert not f["path"].fillna("").str.startswith("docs/").any()
    # Nothing anywhere contains a secret's text.
    out = tmp_path / "r.xlsx"
    js = tmp_path / "r.json"
    p = subprocess.run([sys.executable, "-m", "ddkit", "scan", str(r.path), "--no-licenses", "--as-of", "2024-06-30",
                        "--out", str(out), "--json", str(js)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    wb = openpyxl.load_workbook(out)
    cells = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)
    everything = [p.stdout, p.stderr, js.read_text(), cells, s.findings.to_csv(), s.security.to_csv(),
                  " ".join(s.warnings)]
    assert "Security" in wb.sheetnames
    for secret in (AWS_ID, AWS_SECRET, GH_TOKEN, GH_TOKEN[4:20], AWS_SECRET[:16]):
        for text in everything:
            assert secret not in text
    assert "sha256:" in js.read_text()


def test_checklist(secret_repo):
    r, _, _ = secret_repo
    s = ddkit.scan(r.path, licenses=False, as_of="2024-06-30")
    rules = set(s.findings["rule"])
    for missing in ("sec.missing-security-policy", "sec.missing-license", "sec.missing-codeowners",
                    "sec.missing-ci", "sec.missing-dependency-updates", "sec.missing-lockfile"):
        assert missing in rules
    lock = s.findings[s.findings.rule == "sec.missing-lockfile"]
    assert list(lock["subject"]) == ["Dependency lock file (JavaScript)"]
    r.commit({"SECURITY.md": "Report to security@acme.example\n", ".github/CODEOWNERS": "* @acme/core\n",
              ".github/workflows/ci.yml": "on: push\n", ".github/dependabot.yml": "version: 2\n",
              "LICENSE": "Copyright (c) 2021 Acme. All rights reserved.\n", "package-lock.json": "{}\n"},
             date="2021-06-01T12:00:00+00:00")
    s2 = ddkit.scan(r.path, licenses=False, as_of="2024-06-30")
    assert not any(x.startswith("sec.missing") for x in s2.findings["rule"])
    sec = s2.security
    assert (sec.loc[sec.rule.str.startswith("sec.missing"), "status"] == "present").all()


def test_screen_changes_time_not_result(make_repo):
    """The fast screen must find exactly what detect-secrets finds on every line."""
    r = make_repo()
    lines = [
        f'aws = "{AWS_ID}"', f"secret_key = '{AWS_SECRET}'", f"token = {GH_TOKEN}", PRIVATE,
        "url = 'https://user:hunter2pass@example.com/x'", "password = 'correct-horse-battery'",
        'x = "8f14e45fceea167a5a36dedd4bea2543"', 'y = "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ=="',
        "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "jwt = eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "ip = 203.0.113.77",
        "db_pass: 'Sup3rS3cret!'", "nothing to see here", "version = '1.2.3.4'",
    ] + [f"def plain_function_{k}(): return {k}" for k in range(9)]
    for i in range(0, len(lines), 3):
        r.commit({f"f{i}.py": "\n".join(lines[i:i + 3]) + "\n"}, date=f"2020-01-{i + 1:02d}T12:00:00+00:00")
    fast, st = scan_history(str(r.path), r.head(), screen=True)
    slow, st2 = scan_history(str(r.path), r.head(), screen=False)
    key = ["sha", "path", "line", "detector", "fingerprint"]
    assert len(slow) >= 8
    assert fast.sort_values(key).reset_index(drop=True).equals(slow.sort_values(key).reset_index(drop=True))
    assert st["checked"] < st2["checked"]
    par, _ = scan_history(str(r.path), r.head(), screen=True, jobs=2)
    assert par.sort_values(key).reset_index(drop=True).equals(slow.sort_values(key).reset_index(drop=True))
    # The line-by-line `re` screen (used when Hyperscan is not installed) gives the same answer too.
    plain, _ = scan_history(str(r.path), r.head(), screen=True, fast=False, jobs=2)
    assert plain.sort_values(key).reset_index(drop=True).equals(slow.sort_values(key).reset_index(drop=True))
