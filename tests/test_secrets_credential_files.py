"""Committed credential files are judged by their format (issue 24): one file of each class is reported
whatever its value looks like; a placeholder-looking or weak value is reported at the lower tier with that
reason; what the context filter sets aside is listed (never the value), and --secrets-strict reports it.

The truth here is written by hand, file by file: which file holds which credential, and the severity a
reader must see for it (rules/security.yaml: generic tier = high at the ref; downgraded = low; public
keys are informative)."""

import base64
import json
import random
import string
import subprocess
import sys

import openpyxl
import pytest

import ddkit

R = random.Random(24)


def _r(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(R.choice(alphabet) for _ in range(n))


DJANGO_KEY = "k3(#v!x" + _r(20) + "=)(&^" + _r(18)        # Django's generated keys contain ( ) # ! & ^ =
DOCKER_AUTH = base64.b64encode(b"deploy:my-token-for-the-registry-" + _r(8).encode()).decode()
# (class, path, content, the value that must be reported) with the values of the issue where it gives them.
CLASSES = [
    ("netrc", ".netrc", "machine api.acme.example login deploy password pass2019\n", "pass2019"),
    ("git-credentials", ".git-credentials", "https://deploy:mypassword2019x@git.acme.example\n",
     "mypassword2019x"),
    ("docker-auth", ".docker/config.json",
     '{"auths": {"registry.acme.example": {"auth": "' + DOCKER_AUTH + '"}}}\n', DOCKER_AUTH),
    ("aws-credentials", ".aws/credentials",        # keys that are not the canonical 20 and 40 characters
     f"[default]\naws_access_key_id = AKIA{_r(12, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}\n"
     "aws_secret_access_key = Wx7Q9vB2kLmN4pR8sT1uY6zA3cD5fG0h\n", "Wx7Q9vB2kLmN4pR8sT1uY6zA3cD5fG0h"),
    ("s3cfg", ".s3cfg", "[default]\naccess_key = AKIAEXAMPLE\nsecret_key = Passw0rd-Summer!\n", "Passw0rd-Summer!"),
    ("pgpass", ".pgpass", "db.acme.example:5432:app:deploy:Passw0rd-Summer!\n", "Passw0rd-Summer!"),
    ("esmtprc", ".esmtprc", "hostname = smtp.acme.example:587\nusername = \"ops\"\npassword = \"Smtp-2019-ops\"\n",
     "Smtp-2019-ops"),
    ("ftpconfig", ".ftpconfig", '{\n  "host": "ftp.acme.example",\n  "user": "web",\n  "pass": "ftp2019web"\n}\n',
     "ftp2019web"),
    ("remote-sync", ".remote-sync.json",
     '{\n  "transport": "ftp",\n  "hostname": "ftp.acme.example",\n  "password": "sync-2019-pw"\n}\n', "sync-2019-pw"),
    ("sftp-config", "sftp-config.json",
     '{\n  "type": "sftp",\n  "host": "web.acme.example",\n  "password": "sftp_pw_2019",\n}\n', "sftp_pw_2019"),
    ("dbeaver", ".dbeaver/data-sources.json",
     '{"connections": {"pg": {"configuration": {"user": "app", "password": "Dbeaver#2019"}}}}\n', "Dbeaver#2019"),
    ("robomongo", ".config/robomongo/1.0/robomongo.json",
     '{"connections": [{"credentials": [{"userName": "admin", "userPassword": "mongo2019!"}]}]}\n', "mongo2019!"),
    ("ventrilo", "ventrilo_srv.ini", "[Server]\nName=Acme\nPassword=vent2019\nAdminPassword=ventAdmin2019\n",
     "ventAdmin2019"),
    ("php-config", "www/config.php", "<?php\n$db_host = 'localhost';\n$db_pass = 'php2019db';\n", "php2019db"),
    ("ssh-config", ".ssh/config", "Host build\n  HostName build.acme.example\n  User ci\n  Password ssh2019ci\n",
     "ssh2019ci"),
    ("salesforce-js", "src/sf.js",
     "conn.login('ops@acme.example', 'Sf2019pass' + 'Tok3nX9', function (err) {});\n", "Sf2019pass"),
    ("django-secret-key", "site/settings.py", f"SECRET_KEY = '{DJANGO_KEY}'\n", DJANGO_KEY),
    ("nuget-config", "NuGet.Config", '<configuration><packageSourceCredentials><acme>\n'
     '  <add key="Username" value="ci" />\n  <add key="ClearTextPassword" value="NuGet-2019-ci" />\n'
     '</acme></packageSourceCredentials></configuration>\n', "NuGet-2019-ci"),
]
PUBLIC_KEY = ("public-key", "deploy/id_ed25519.pub",
              "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + _r(43) + " deploy@ci\n")
# The same classes with a value that looks like a placeholder or is a known weak password.
PLACEHOLDERS = [
    ("netrc", ".netrc", "machine api.acme.example login deploy password changeme\n"),
    ("pgpass", ".pgpass", "db.acme.example:5432:app:deploy:<password>\n"),
    ("s3cfg", ".s3cfg", "[default]\nsecret_key = ${S3_SECRET}\n"),
    ("docker-auth", ".docker/config.json",
     '{"auths": {"r.acme.example": {"auth": "' + base64.b64encode(b"bob:password").decode() + '"}}}\n'),
    ("ventrilo", "ventrilo_srv.ini", "[Server]\nAdminPassword=admin\n"),
    ("sftp-config", "sftp-config.json", '{"password": "your-password-here"}\n'),
]


def _findings(s):
    return s.findings[s.findings.rule.str.startswith("sec.secret")]


def test_every_credential_file_class_is_reported(make_repo):
    r = make_repo()
    files = {path: content for _c, path, content, _v in CLASSES}
    files[PUBLIC_KEY[1]] = PUBLIC_KEY[2]
    files["certs/client.p12"] = b"0\x82\x0a\x1f\x02\x01\x03\x00" + bytes(range(256))
    r.commit(files)
    s = ddkit.scan(r.path, licenses=False, as_of="2026-11-25")
    f = _findings(s)
    from ddkit.collect.secrets import fingerprint
    for cls, path, _content, value in CLASSES:
        mine = f[f["paths"].fillna("").map(lambda ps, p=path: p in ps.split("; ")).astype(bool)]
        assert fingerprint(value) in set(mine["fingerprint"]), (cls, path)
        row = mine[mine["fingerprint"] == fingerprint(value)].iloc[0]
        assert row["severity"] in ("high", "critical"), (cls, row["severity"], row["context"])
    # A PKCS#12 key store is binary: known by its name, fingerprinted by its blob (its content).
    p12 = f[f["path"] == "certs/client.p12"]
    assert list(p12["detector_id"]) == ["ddkit.pkcs12-file"] and list(p12["severity"]) == ["high"]
    blob = r.git("rev-parse", "HEAD:certs/client.p12").strip()
    assert list(p12["fingerprint"]) == [fingerprint(blob)]
    pub = f[f["path"] == PUBLIC_KEY[1]]
    assert list(pub["severity"]) == ["info"] and list(pub["detector_id"]) == ["ddkit.public-key"]
    # None of these values was set aside.
    assert not [e for e in s.stats.secrets["set_aside"] if e["path"] in files]


def test_placeholder_values_in_credential_files_are_reported_lower_with_the_reason(make_repo):
    r = make_repo()
    r.commit({path: content for _c, path, content in PLACEHOLDERS})
    s = ddkit.scan(r.path, licenses=False, as_of="2026-11-25")
    f = _findings(s)
    for cls, path, _content in PLACEHOLDERS:
        mine = f[f["path"] == path]
        assert len(mine) == 1, (cls, path)
        assert mine.iloc[0]["severity"] == "low", cls
        assert mine.iloc[0]["context"].startswith("weak or placeholder password in a committed "), cls
    assert not s.stats.secrets["set_aside"]


def test_credential_file_in_tests_or_docs_is_downgraded_with_the_reason(make_repo):
    r = make_repo()
    r.commit({"tests/fixtures/.netrc": "machine h login u password Zq8vW2mN7rT4\n",
              "docs/examples/.pgpass": "db:5432:app:u:Zq8vW2mN7rT5\n"})
    s = ddkit.scan(r.path, licenses=False, as_of="2026-11-25")
    f = _findings(s)
    got = dict(zip(f["path"], zip(f["severity"], f["context"])))
    assert got == {"tests/fixtures/.netrc": ("low", "test fixture: a committed .netrc"),
                   "docs/examples/.pgpass": ("low", "documentation or example: a committed .pgpass")}


def test_substring_placeholders_no_longer_hide_real_values(make_repo):
    """Positive control for the whole-value rule: each value contains a word the old substring list held
    (pass, password, token, secret, admin, default, example), and each is reported."""
    r = make_repo()
    vals = {"app/a.py": "Passw0rd-Summer!", "app/b.py": "tokenizer-9Zq-2019", "app/c.py": "adminX7#qLw2",
            "app/d.py": "default9Q!zv", "app/e.py": "exampleQ9!z2w"}
    r.commit({p: f"db_password = '{v}'\n" for p, v in vals.items()})
    s = ddkit.scan(r.path, licenses=False, as_of="2026-11-25")
    f = _findings(s)
    from ddkit.collect.secrets import fingerprint
    assert set(f["fingerprint"]) == {fingerprint(v) for v in vals.values()}
    assert set(f["severity"]) == {"high"}
    # ... and the old rule would have set every one aside (the words are in the values).
    old = ["password", "pass", "token", "secret", "admin", "default", "example"]
    assert all(any(w in v.lower() for w in old) for v in vals.values())


def _set_aside_repo(make_repo):
    r = make_repo()
    r.commit({"app/settings.py": "API_KEY = '${API_KEY}'\nsecret = 'YOUR_APP_SECRET'\n",
              "tests/test_login.py": "password = 'Zq8vW2mN7rT4'\n",
              "docs/usage.md": "proxies = {'http': 'http://user:Zq8vW2mN7r@10.10.1.10:3128'}\n"})
    return r


WANT_SET_ASIDE = [
    {"path": "app/settings.py", "line": 1, "detector": "ddkit.password-assignment", "reason": "placeholder value"},
    {"path": "app/settings.py", "line": 2, "detector": "ddkit.password-assignment", "reason": "placeholder value"},
    {"path": "docs/usage.md", "line": 1, "detector": "ddkit.basic-auth-url", "reason": "documentation or example"},
    {"path": "tests/test_login.py", "line": 1, "detector": "ddkit.password-assignment", "reason": "test fixture"},
]


def test_set_aside_is_listed_in_json_and_workbook_never_the_value(make_repo, tmp_path):
    r = _set_aside_repo(make_repo)
    js, out = tmp_path / "r.json", tmp_path / "r.xlsx"
    p = subprocess.run([sys.executable, "-m", "ddkit", "scan", str(r.path), "--no-licenses", "--as-of", "2026-11-25",
                        "--json", str(js), "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    rep = json.loads(js.read_text())
    got = sorted(rep["secrets_set_aside"], key=lambda e: (e["path"], e["line"]))
    assert got == WANT_SET_ASIDE
    jsonschema = pytest.importorskip("jsonschema")
    from pathlib import Path
    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "report.schema.json").read_text())
    jsonschema.validate(rep, schema)
    ws = openpyxl.load_workbook(out)["Security"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    title = [i for i, row in enumerate(rows) if str(row[0] or "").startswith("Secret matches set aside")]
    assert title and "4" in rows[title[0]][0]
    assert rows[title[0] + 1][0] == "documentation or example: ddkit.basic-auth-url 1"     # the counts, per reason
    assert rows[title[0] + 2][0] == "placeholder value: ddkit.password-assignment 2"
    assert rows[title[0] + 3][0] == "test fixture: ddkit.password-assignment 1"
    header = title[0] + 5
    assert rows[header][:4] == ["File", "Line", "Detector", "Why set aside"]
    listed = sorted(tuple(x[:4]) for x in rows[header + 1:header + 5])
    assert listed == sorted((e["path"], e["line"], e["detector"], e["reason"]) for e in WANT_SET_ASIDE)
    text = js.read_text() + " ".join(str(c) for row in rows for c in row)
    for secret in ("Zq8vW2mN7rT4", "Zq8vW2mN7r"):
        assert secret not in text


def test_secrets_strict_reports_what_would_be_set_aside(make_repo):
    r = _set_aside_repo(make_repo)
    s = ddkit.scan(r.path, licenses=False, as_of="2026-11-25", secrets_strict=True)
    f = _findings(s)
    assert s.stats.secrets["set_aside"] == []
    assert set(f["severity"]) == {"low"}
    assert sorted(f["path"]) == ["app/settings.py", "app/settings.py", "docs/usage.md", "tests/test_login.py"]
    assert all(c.startswith("set aside (") and c.endswith("reported under --secrets-strict") for c in f["context"])
    normal = ddkit.scan(r.path, licenses=False, as_of="2026-11-25")
    assert _findings(normal).empty and len(normal.stats.secrets["set_aside"]) == 4
