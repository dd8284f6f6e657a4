"""Secrets in history and the security checklist, on repositories whose secrets are known."""

import os
import subprocess
import sys
import time

import openpyxl
import pytest

import ddkit
from ddkit.collect.secrets import fingerprint, scan_history, scan_tree
from ddkit.collect.secrets.detectors import all_detectors
from ddkit.config import load_rules

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


def _rand(n, alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", seed=7):
    import random
    r = random.Random(seed * 1000 + n)
    return "".join(r.choice(alphabet) for _ in range(n))


# One line (and the file it must be in) per ddkit detector, values assembled at run time.
DETECTOR_SAMPLES = {
    "aws-access-key-id": ("cfg/aws.py", f'key = "{AWS_ID}"'),
    "aws-secret-access-key": ("cfg/aws2.py", f'aws_secret_access_key = "{_rand(40)}"'),
    "database-url": ("cfg/db.py", f'DB = "postgres://app:{_rand(14)}@db.internal:5432/app"'),
    "basic-auth-url": ("cfg/url.py", f'U = "https://deploy:{_rand(12)}@ci.acme.example/x"'),
    "password-assignment": ("cfg/pw.py", f'db_password = "{_rand(12)}Q1"'),
    "config-password": ("cfg/app.ini", f"api_token = {_rand(24)}"),
    "django-secret-key": ("cfg/settings.py", f"SECRET_KEY = '{_rand(50)}'"),
    "rails-master-key": ("config/master.key", _rand(32, "0123456789abcdef")),
    "rails-secret-key-base": ("config/secrets.yml", f"  secret_key_base: {_rand(128, '0123456789abcdef')}"),
    "wordpress-config": ("wp-config.php", f"define('DB_PASSWORD', '{_rand(16)}');"),
    "netrc": (".netrc", f"machine api.acme.example login bob password {_rand(16)}"),
    "pgpass": (".pgpass", f"db.acme.example:5432:app:bob:{_rand(16)}"),
    "git-credentials": (".git-credentials", f"https://bob:{_rand(20)}@git.acme.example"),
    "npmrc-auth": (".npmrc", f"//registry.npmjs.org/:_authToken={_rand(36)}"),
    "docker-auth": (".docker/config.json", f'{{"auths": {{"r.acme.example": {{"auth": "{_rand(32)}"}}}}}}'),
    "s3cfg": (".s3cfg", f"secret_key = {_rand(40)}"),
    "heroku-api-key": ("deploy/heroku.sh", f"HEROKU_API_KEY={_rand(8, '0123456789abcdef')}-{_rand(4, '0123456789abcdef')}-"
                                          f"{_rand(4, '0123456789abcdef', 2)}-{_rand(4, '0123456789abcdef', 3)}-"
                                          f"{_rand(12, '0123456789abcdef')}"),
    "doctl-token": ("doctl/config.yaml", f"access-token: {_rand(64, '0123456789abcdef')}"),
    "filezilla": ("sitemanager.xml", f'<Pass encoding="base64">{_rand(20)}</Pass>'),
    "sftp-config": ("sftp-config.json", f'"password": "{_rand(14)}",'),
    "publish-profile": ("Site.pubxml", f"<UserPWD>{_rand(14)}</UserPWD>"),
    "htpasswd": (".htpasswd", f"admin:$apr1${_rand(8)}${_rand(22)}"),
    "shadow": ("etc/shadow", f"root:$6${_rand(16)}${_rand(86)}:19000:0:99999:7:::"),
    "dump-password-hash": ("db/dump.sql", f"INSERT INTO users VALUES (1, '$2b$12${_rand(53)}');"),
    "shell-export": (".bashrc", f"export GITHUB_TOKEN={_rand(40)}"),
    "dotenv": (".env", f"STRIPE_KEY={_rand(30)}"),
    "telegram-bot-token": ("bots/tg.py", f"TG = '{_rand(9, '0123456789')}:AA{_rand(33)}'"),
    "putty-private-key": ("keys/me.ppk", f"Private-MAC: {_rand(40, '0123456789abcdef')}"),
    "aws-credentials": (".aws/credentials", f"aws_secret_access_key = {_rand(36)}"),
    "esmtprc": (".esmtprc", f"password = {_rand(14)}"),
    "ftpconfig": (".ftpconfig", f'"pass": "{_rand(14)}",'),
    "remote-sync": (".remote-sync.json", f'"password": "{_rand(14)}",'),
    "dbeaver": (".dbeaver/data-sources.json", f'"password": "{_rand(14)}",'),
    "robomongo": ("robomongo.json", f'"userPassword" : "{_rand(14)}",'),
    "ventrilo": ("ventrilo_srv.ini", f"AdminPassword={_rand(14)}"),
    "php-config": ("app/config.php", f"$db_pass = '{_rand(14)}';"),
    "ssh-config": (".ssh/config", f"  Password {_rand(14)}"),
    "public-key": ("keys/deploy.pub", f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{_rand(43)} deploy@ci"),
    "salesforce-js": ("sf/login.js", f"conn.login('ops@acme.example', '{_rand(14)}{_rand(25)}', cb);"),
    "nuget-config": ("NuGet.Config", f'<add key="ClearTextPassword" value="{_rand(14)}" />'),
    "alibaba-access-key-id": ("cfg/oss.py", f"KEY_ID = 'LTAI{_rand(20)}'"),
    "artifactory-api-key": ("ci/a.sh", f"ART=AKCp{_rand(69)}"),
    "artifactory-reference-token": ("ci/b.sh", f"ART=cmVmd{_rand(59)}"),
    "azure-ad-client-secret": ("cfg/az.py", f"cs = '{_rand(3)}8Q~{_rand(34)}'"),
    "clickhouse-cloud-api-secret-key": ("cfg/ch.py", f"CH = '4b1d{_rand(38)}'"),
    "flyio-access-token": ("deploy/fly.sh", f"FLY=fo1_{_rand(43)}"),
    "harness-api-key": ("ci/h.sh", f"H=pat.{_rand(22)}.{_rand(24)}.{_rand(20)}"),
    "planetscale-token": ("cfg/ps.ts", f"const t = 'pscale_tkn_{_rand(43)}';"),
    "stripe-test-key": ("billing/s.py", f"stripe.api_key = 'sk_test_{_rand(24)}'"),
    "square-oauth-secret": ("pay/sq.py", f"SQ = 'sq0csp-{_rand(43)}'"),
    "discord-bot-token": ("bots/d.py", f"TOKEN = 'M{_rand(23)}.{_rand(6)}.{_rand(27)}'"),
    "mailchimp-api-key": ("mail/mc.py", f"MC = '{_rand(32, '0123456789abcdef')}-us12'"),
    "azure-storage-account-key": ("cfg/az.cfg", f"conn = AccountKey={_rand(86)}=="),
}


def test_every_detector_has_a_sample():
    # (a class known by its name alone has no pattern: tests/test_secrets_credential_files.py)
    assert set(DETECTOR_SAMPLES) == {d.id for d in all_detectors()}


def test_screen_changes_time_not_result(make_repo):
    """The Hyperscan screen must find exactly what the detectors find on every line, and they find each sample."""
    r = make_repo()
    for k, (path, line) in enumerate(DETECTOR_SAMPLES.values()):
        r.commit({path: f"# unrelated line\n{line}\nplain = 1\n"}, date=f"2020-01-{k % 28 + 1:02d}T12:00:00+00:00")
    r.commit({"notes.py": "nothing to see here\nversion = '1.2.3.4'\n"})
    kw = dict(engines=("ddkit",))
    fast, st = scan_history(str(r.path), r.head(), screen=True, **kw)
    slow, st2 = scan_history(str(r.path), r.head(), screen=False, **kw)
    key = ["sha", "path", "line", "detector_id", "fingerprint"]
    assert fast.sort_values(key).reset_index(drop=True).equals(slow.sort_values(key).reset_index(drop=True))
    assert st["checked"] < st2["checked"]
    par, _ = scan_history(str(r.path), r.head(), screen=True, jobs=2, **kw)
    assert par.sort_values(key).reset_index(drop=True).equals(slow.sort_values(key).reset_index(drop=True))
    # Every detector finds its own sample, on line 2 of its file, and nothing fires on the plain lines.
    found = {(p, d) for p, d, ln in zip(fast["path"], fast["detector_id"], fast["line"]) if ln == 2}
    for det, (path, _) in DETECTOR_SAMPLES.items():
        assert (path, "ddkit." + det) in found, det
    assert set(fast["line"]) == {2}
    assert not (fast["path"] == "notes.py").any()


def test_paths_are_byte_exact(make_repo):
    """Names with a space, a quote, a backslash, non-UTF-8 bytes, and a rename: reported where they are."""
    r = make_repo()
    names = ["my config.py", 'say "hi".py', "back\\slash.py", os.fsdecode(b"caf\xe9 latin1.py"), "d\u00e9j\u00e0.py",
             "new\nline.py"]
    for i, n in enumerate(names):
        r.commit({n: f"x = 1\ntoken = '{GH_TOKEN[:-2]}{i:02d}'\n"}, date=f"2021-01-{i + 1:02d}T12:00:00+00:00")
    r.commit({"to move.py": f"t = '{GH_TOKEN[:-2]}99'\n"}, date="2021-02-01T12:00:00+00:00")
    r.git("mv", "to move.py", "moved here.py")
    r.commit(date="2021-02-02T12:00:00+00:00")
    # An added line whose text starts with "++ " is content, not a file header.
    r.commit({"plus.txt": f"++ {GH_TOKEN[:-2]}77\n"}, date="2021-02-03T12:00:00+00:00")
    hist, _ = scan_history(str(r.path), r.head())
    got = {(p, ln) for p, ln in zip(hist["path"], hist["line"])}
    assert got == {(n, 2) for n in names} | {("to move.py", 1), ("plus.txt", 1)}
    s = ddkit.scan(r.path, licenses=False, as_of="2024-06-30")
    f = s.findings[s.findings.rule.str.startswith("sec.secret")]
    assert set(f["rule"]) == {"sec.secret-in-tree"}
    assert set(f["path"]) == set(names) | {"moved here.py", "plus.txt"}


def test_one_finding_per_secret_names_every_path(make_repo):
    r = make_repo()
    r.commit({"a/one.py": f"k = '{GH_TOKEN}'\n", "b/two.py": f"k = '{GH_TOKEN}'\n", "c/three.yml": f"k: {GH_TOKEN}\n"},
             date="2021-01-01T12:00:00+00:00")
    r.commit({"c/three.yml": None}, date="2021-01-02T12:00:00+00:00")
    s = ddkit.scan(r.path, licenses=False, as_of="2024-06-30")
    f = s.findings[s.findings.rule.str.startswith("sec.secret")]
    assert len(f) == 1
    row = f.iloc[0]
    assert row["rule"] == "sec.secret-in-tree" and row["fingerprint"] == fingerprint(GH_TOKEN)
    assert row["paths"].split("; ") == ["a/one.py", "b/two.py", "c/three.yml"]
    for p in ("a/one.py", "b/two.py", "c/three.yml"):
        assert p in row["evidence"]
    assert "still present at the ref in a/one.py; b/two.py" in row["evidence"]


def test_long_line_is_bounded_and_warned(make_repo):
    r = make_repo()
    big = "password=" + "a1" * (5 << 20) + "\n"
    r.commit({"data/blob.txt": big, "app.py": f"x = '{GH_TOKEN}'\n"})
    t0 = time.perf_counter()
    hist, st = scan_history(str(r.path), r.head())
    assert time.perf_counter() - t0 < 10
    assert st["long_lines"] == 1 and "longer than" in st["warnings"][0]
    assert set(hist.loc[hist.action == "report", "path"]) == {"app.py"}


def test_context_tiers_and_reasons(make_repo):
    """Placeholders, hashes, lockfiles, test fixtures and docs are suppressed with their reason; a provider
    token in a test file is still reported; a test key is downgraded; severities follow the tier."""
    r = make_repo()
    body = "\n".join(_rand(64, seed=s) for s in range(8))
    key = "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----\n"
    real_pw = _rand(14) + "Zq9"
    r.commit({
        "app/settings.py": "password = 'changeme123'\nAPI_KEY = '${API_KEY}'\nsecret = 'YOUR_APP_SECRET'\n"
                           f"db_password = '{real_pw}'\n",
        "tests/test_api.py": f"password = '{_rand(12)}Zq1'\ngh = '{GH_TOKEN}'\n",
        "docs/usage.md": f"proxies = {{'http': 'http://user:{_rand(10)}@10.10.1.10:3128'}}\n",
        "tests/certs/server.key": key,
        "requirements.txt": f"pkg==1.0 --hash=sha256:{_rand(64, '0123456789abcdef')}\n",
        "deploy/ci.env": f"token: {_rand(20, seed=3)}\n",
    })
    hist, _ = scan_history(str(r.path), r.head())
    by = {(p, a, why) for p, a, why in zip(hist["path"], hist["action"], hist["reason"])}
    assert ("app/settings.py", "suppress", "placeholder value") in by
    assert ("tests/test_api.py", "suppress", "test fixture") in by
    assert ("tests/test_api.py", "report", "") in by                       # the GitHub token
    assert ("docs/usage.md", "suppress", "documentation or example") in by
    assert ("tests/certs/server.key", "downgrade", "test key: confirm it is not used in production") in by
    reported = hist[hist.action == "report"]
    assert set(reported["fingerprint"]) == {fingerprint(GH_TOKEN), fingerprint(real_pw), fingerprint(_rand(20, seed=3))}
    s = ddkit.scan(r.path, licenses=False, as_of="2024-06-30")
    f = s.findings[s.findings.rule.str.startswith("sec.secret")]
    sev = dict(zip(f["path"], f["severity"]))
    assert sev == {"app/settings.py": "high", "tests/test_api.py": "critical", "tests/certs/server.key": "low",
                   "deploy/ci.env": "high"}
    tiers = dict(zip(f["path"], f["tier"]))
    assert tiers["tests/test_api.py"] == "provider" and tiers["app/settings.py"] == "generic"
    st = s.stats.secrets
    assert st["suppressed"]["placeholder value"] >= 3 and st["suppressed_secrets"]["test fixture"] == 1
    assert st["downgraded_secrets"] == {"test key: confirm it is not used in production": 1}
    # Deleted from the tree: the provider token is high, the generic password medium.
    r.commit({"tests/test_api.py": None, "app/settings.py": "x = 1\n"})
    s2 = ddkit.scan(r.path, licenses=False, as_of="2024-06-30")
    f2 = s2.findings[s2.findings.rule == "sec.secret-in-history"]
    assert dict(zip(f2["path"], f2["severity"])) == {"tests/test_api.py": "high", "app/settings.py": "medium"}


def test_readme_says_test_key(make_repo):
    r = make_repo()
    key = "-----BEGIN EC PRIVATE KEY-----\n" + "\n".join(_rand(64, seed=s) for s in range(3)) + "\n-----END EC PRIVATE KEY-----\n"
    r.commit({"pki/dev.key": key, "pki/README.md": "Testing certificates for the local stack.\n",
              "prod/site.key": key.replace(_rand(64, seed=0), _rand(64, seed=99))})
    tree, _ = scan_tree(str(r.path), r.head(), ["pki/dev.key", "prod/site.key"])
    assert dict(zip(tree["path"], tree["action"])) == {"pki/dev.key": "downgrade", "prod/site.key": "report"}


def test_rules_change_the_lists(make_repo, tmp_path):
    """--rules can change the context lists; an unknown key under secrets is an input error naming it
    and its line (the rules schema)."""
    r = make_repo()
    r.commit({"qa/login.py": f"password = '{_rand(12, seed=5)}Zq1'\n"})
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "security.yaml").write_text("secrets:\n  tests: ['qa/**']\n  colour: blue\n")
    from ddkit.errors import InputError
    with pytest.raises(InputError, match=r"security.yaml, line 3: unknown key 'secrets.colour'"):
        load_rules(rules_dir)
    (rules_dir / "security.yaml").write_text("secrets:\n  tests: ['qa/**']\n")
    rules = load_rules(rules_dir)
    default, _ = scan_history(str(r.path), r.head())
    custom, st = scan_history(str(r.path), r.head(), rules=rules)
    assert list(default["action"]) == ["report"]
    assert list(zip(custom["action"], custom["reason"])) == [("suppress", "test fixture")]
    assert st["warnings"] == []


def test_blocks_find_what_kingfisher_finds_per_file(make_repo):
    """Joining many files' added lines into one block changes the time, never kingfisher's result:
    compared with kingfisher run on each file on its own (every commit here only adds files)."""
    from ddkit import gitutil
    from ddkit.collect.secrets import kingfisher_engine
    r = make_repo()
    tokens = [f"ghp_{_rand(36, seed=s)}" for s in range(4)]
    tokens += [f"xoxb-{_rand(12, '0123456789')}-{_rand(13, '0123456789')}-{_rand(24)}", f"sk_live_{_rand(24, seed=9)}",
               f"glpat-{_rand(20, seed=8)}"]
    for c in range(3):
        r.commit({f"c{c}/f{i}.py": "\n" * (i + c) + f"t = '{tok}'\nx = 1\n" for i, tok in enumerate(tokens)},
                 date=f"2021-01-0{c + 1}T12:00:00+00:00")
    hist, _ = scan_history(str(r.path), r.head(), engines=("kingfisher",))
    got = set(zip(hist["path"], hist["line"], hist["detector_id"], hist["fingerprint"]))
    want = set()
    for c in range(3):
        for i in range(len(tokens)):
            path = f"c{c}/f{i}.py"
            blob = gitutil.read_blob(str(r.path), f"HEAD:{path}")
            want |= {(path, ln + 1, rid, fingerprint(v)) for ln, rid, _n, _t, v in kingfisher_engine.scan(blob)}
    assert len(want) == 3 * len(tokens)
    assert got == want


@pytest.mark.parametrize("path", ["t/t5550-http.sh", "contrib/wiki/t/LocalSettings.php"])
def test_t_folders_are_test_fixtures(make_repo, path):
    """git's and Perl's test folder is t/ (top level or nested): a generic password there is a fixture; in a
    credential file (a PHP configuration file) it is reported at the downgraded severity, with that reason."""
    r = make_repo()
    r.commit({path: f"password = '{_rand(12, seed=7)}Zq1'\n"})
    rows, _ = scan_history(str(r.path), r.head())
    got = set(zip(rows["detector_id"], rows["action"], rows["reason"]))
    want = {("ddkit.password-assignment", "suppress", "test fixture")}
    if path.endswith(".php"):
        want.add(("ddkit.php-config", "downgrade", "test fixture: a committed PHP configuration file"))
    assert got == want
