"""Secrets quality: recall on planted credentials, false alarms on look-alikes, per engine.

Usage: python benchmarks/bench_secrets_quality.py [--keep DIR] [--engines]

Builds a corpus repository (no real secrets: every token is assembled at run time from a seeded random
generator in the provider's format) with KINDS planted across history (some still present, some deleted,
some renamed) and LOOKALIKES (hashes in lockfiles and RECORD files, test fixtures, documentation
examples, placeholders, public keys, UUIDs, git SHAs, ...) all present at the ref, then runs
``ddkit.scan`` on it and prints, per kind, whether it was found (and at which severity), and every
look-alike reported at high or critical. With ``--engines`` it also measures each engine alone, before
ddkit's context filter (kingfisher, ddkit's detectors, detect-secrets when installed, whispers with
``--whispers BIN``).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

R = random.Random(20261125)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"


def rnd(n: int, alphabet: str = ALNUM) -> str:
    return "".join(R.choice(alphabet) for _ in range(n))


def b64(nbytes: int) -> str:
    return base64.b64encode(R.randbytes(nbytes)).decode()


def pem(kind: str, nbytes: int = 600) -> str:
    body = b64(nbytes)
    return f"-----BEGIN {kind}-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + f"\n-----END {kind}-----\n"


def uuid() -> str:
    return f"{rnd(8, HEX)}-{rnd(4, HEX)}-4{rnd(3, HEX)}-a{rnd(3, HEX)}-{rnd(12, HEX)}"


def jwt() -> str:
    enc = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
    claims = '{"sub":"' + rnd(10) + '","name":"svc","iat":1700000000}'
    return (enc(b'{"alg":"HS256","typ":"JWT"}') + "." + enc(claims.encode())
            + "." + enc(R.randbytes(32)))


# (kind, path, file content). Values are built when this module is imported, from the seeded generator.
def kinds() -> list[tuple[str, str, str]]:
    aws_id = "AKIA" + rnd(16, B32)
    return [
        ("AWS access key pair", "app/aws.py", f'AWS_ACCESS_KEY_ID = "{aws_id}"\nAWS_SECRET_ACCESS_KEY = "{rnd(40)}"\n'),
        ("AWS credentials file", ".aws/credentials",
         f"[default]\naws_access_key_id = {'AKIA' + rnd(16, B32)}\naws_secret_access_key = {rnd(40)}\n"),
        ("GitHub classic PAT", "scripts/release.py", f"GITHUB = 'ghp_{rnd(36)}'\n"),
        ("GitHub fine-grained PAT", "ci/gh.yml", f"token: github_pat_{rnd(22)}_{rnd(59)}\n"),
        ("GitHub OAuth token", "app/oauth.js", f"const t = 'gho_{rnd(36)}';\n"),
        ("GitLab PAT", "ci/gitlab.sh", f"curl -H 'PRIVATE-TOKEN: glpat-{rnd(20)}' https://gitlab.acme.example\n"),
        ("Slack bot token", "bots/slack.py", f"SLACK = 'xoxb-{rnd(12, string.digits)}-{rnd(13, string.digits)}-{rnd(24)}'\n"),
        ("Slack webhook", "bots/notify.py",
         f"HOOK = 'https://hooks.slack.com/services/T{rnd(8, B32)}/B{rnd(10, B32)}/{rnd(24)}'\n"),
        ("Stripe live secret key", "billing/stripe.rb", f"Stripe.api_key = 'sk_live_{rnd(24)}'\n"),
        ("Twilio API key", "sms/twilio.py", f"TWILIO_KEY = 'SK{rnd(32, HEX)}'\n"),
        ("SendGrid API key", "mail/send.py", f"SENDGRID = 'SG.{rnd(22)}.{rnd(43)}'\n"),
        ("Mailgun API key", "mail/mg.py", f"MAILGUN_API_KEY = 'key-{rnd(32, HEX)}'\n"),
        ("Google API key", "web/maps.js", f"const key = 'AIza{rnd(35)}';\n"),
        ("GCP service account", "deploy/gcp-sa.json",
         '{"type": "service_account", "project_id": "acme-prod", "private_key_id": "' + rnd(40, HEX)
         + '", "private_key": "' + pem("PRIVATE KEY").replace("\n", "\\n")
         + '", "client_email": "svc@acme-prod.iam.gserviceaccount.com"}\n'),
        ("npm access token", "tools/publish.sh", f"NPM_TOKEN=npm_{rnd(36)} npm publish\n"),
        ("PyPI upload token", "tools/upload.py", f"TOKEN = 'pypi-AgEIcHlwaS5vcmc{rnd(70)}'\n"),
        ("Shopify access token", "shop/api.py", f"SHOPIFY = 'shpat_{rnd(32, HEX)}'\n"),
        ("Telegram bot token", "bots/tg.py", f"TG = '{rnd(9, string.digits)}:AA{rnd(33)}'\n"),
        ("OpenAI API key", "ml/openai.py", f"OPENAI_API_KEY = 'sk-proj-{rnd(58)}T3BlbkFJ{rnd(58)}'\n"),
        ("Anthropic API key", "ml/claude.py", f"KEY = 'sk-ant-api03-{rnd(93)}AA'\n"),
        ("Hugging Face token", "ml/hf.py", f"HF_TOKEN = 'hf_{rnd(34, string.ascii_letters)}'\n"),
        ("DigitalOcean token", "infra/do.tf", f'token = "dop_v1_{rnd(64, HEX)}"\n'),
        ("Heroku API key", "infra/heroku.sh", f"HEROKU_API_KEY={uuid()}\n"),
        ("Azure storage connection string", "infra/azure.cfg",
         f"conn = DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={b64(64)};EndpointSuffix=core.windows.net\n"),
        ("Vault token", "infra/vault.sh", f"VAULT_TOKEN=hvs.{rnd(90)}\n"),
        ("Databricks token", "data/dbx.py", f"DATABRICKS_TOKEN = 'dapi{rnd(32, HEX)}'\n"),
        ("RSA private key", "keys/deploy.pem", pem("RSA PRIVATE KEY")),
        ("OpenSSH private key", "keys/id_ed25519", pem("OPENSSH PRIVATE KEY", 300)),
        ("PuTTY private key", "keys/server.ppk",
         f"PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: deploy\nPublic-Lines: 1\n{b64(200)}\n"
         f"Private-Lines: 1\n{b64(300)}\nPrivate-MAC: {rnd(40, HEX)}\n"),
        ("JWT", "app/client.py", f"AUTH = 'Bearer {jwt()}'\n"),
        ("PostgreSQL URL with password", "app/db.py", f"DATABASE_URL = 'postgres://app:{rnd(18)}@db.acme.example:5432/app'\n"),
        ("MongoDB URL with password", "app/mongo.js", f"const uri = 'mongodb+srv://svc:{rnd(16)}@cluster0.acme.example/app';\n"),
        ("Basic-auth URL", "deploy/mirror.sh",
         f"pip install --index-url https://deploy:{rnd(16)}@pypi.acme.example/simple app\n"),
        ("Password in code", "app/ldap.py", f"LDAP_PASSWORD = '{rnd(14)}!7'\n"),
        ("dotenv file", ".env", f"STRIPE_SECRET={rnd(30)}\nDB_PASSWORD={rnd(16)}\n"),
        (".netrc", ".netrc", f"machine api.acme.example login deploy password {rnd(18)}\n"),
        (".pgpass", ".pgpass", f"db.acme.example:5432:app:deploy:{rnd(18)}\n"),
        (".git-credentials", ".git-credentials", f"https://deploy:{rnd(24)}@git.acme.example\n"),
        (".npmrc auth token", ".npmrc", f"//npm.acme.example/:_authToken={uuid()}\n"),
        ("Docker config auths", ".docker/config.json", '{"auths": {"registry.acme.example": {"auth": "' + b64(24) + '"}}}\n'),
        (".s3cfg", ".s3cfg", f"[default]\naccess_key = {'AKIA' + rnd(16, B32)}\nsecret_key = {rnd(40)}\n"),
        ("FileZilla site manager", "ftp/sitemanager.xml",
         f'<Server><Host>ftp.acme.example</Host><User>web</User><Pass encoding="base64">{b64(15)}</Pass></Server>\n'),
        ("sftp-config.json", "sftp-config.json", '{"host": "ftp.acme.example", "user": "web", "password": "' + rnd(14) + '"}\n'),
        ("htpasswd", "web/.htpasswd", f"admin:$apr1${rnd(8)}${rnd(22, ALNUM + './')}\n"),
        ("shadow file", "backup/etc/shadow", f"root:$6${rnd(16)}${rnd(86, ALNUM + './')}:19000:0:99999:7:::\n"),
        ("Django SECRET_KEY", "site/settings.py", f"SECRET_KEY = '{rnd(50, ALNUM + '!@#%^&*-_=+')}'\n"),
        ("Rails master.key", "config/master.key", rnd(32, HEX) + "\n"),
        ("Rails secrets.yml", "config/secrets.yml", f"production:\n  secret_key_base: {rnd(128, HEX)}\n"),
        ("wp-config.php", "wp-config.php", f"<?php\ndefine('DB_PASSWORD', '{rnd(16)}');\n"),
        ("Database dump with password hashes", "db/prod-dump.sql",
         f"INSERT INTO users (id, email, pw) VALUES (1, 'a@acme.example', '$2b$12${rnd(53, ALNUM + './')}');\n"),
        ("Shell profile exporting a token", "home/.bashrc", f"export GITHUB_TOKEN={rnd(40)}\n"),
        ("IDE publish profile", "Properties/PublishProfiles/Prod.pubxml",
         f"<Project><UserName>$acme</UserName><UserPWD>{rnd(20)}</UserPWD></Project>\n"),
    ]


def lookalikes() -> list[tuple[str, str, str]]:
    sha = lambda: rnd(40, HEX)
    return [
        ("sha256 in pylock.toml", "pylock.toml", f'[[packages]]\nname = "x"\nhashes = {{sha256 = "{rnd(64, HEX)}"}}\n'),
        ("--hash in requirements", "requirements.txt", f"pkg==1.0 --hash=sha256:{rnd(64, HEX)}\n"),
        ("wheel RECORD", "tests/data/pkg-1.0.dist-info/RECORD", f"pkg/__init__.py,sha256={b64(32).rstrip('=')},120\n"),
        ("go.sum", "go.sum", f"github.com/x/y v1.2.3 h1:{b64(32)}\n"),
        ("npm integrity", "package-lock.json", f'  "integrity": "sha512-{b64(64)}"\n'),
        ("yarn.lock", "yarn.lock", f'  integrity sha512-{b64(64)}\n'),
        ("Cargo.lock checksum", "Cargo.lock", f'checksum = "{rnd(64, HEX)}"\n'),
        ("poetry.lock hash", "poetry.lock", f'{{file = "x.whl", hash = "sha256:{rnd(64, HEX)}"}}\n'),
        ("Terraform lock", ".terraform.lock.hcl", f'  hashes = [\n    "h1:{b64(32)}",\n    "zh:{rnd(64, HEX)}",\n  ]\n'),
        ("git SHA in code", "app/version.py", f'COMMIT = "{sha()}"\n'),
        ("git SHAs in changelog", "CHANGELOG.md", f"* fix ({sha()})\n* feat ({sha()})\n"),
        ("UUID in code", "app/ids.py", f'TENANT_ID = "{uuid()}"\n'),
        ("docker image digest", "deploy/Dockerfile", f"FROM python@sha256:{rnd(64, HEX)}\n"),
        ("SRI integrity attribute", "web/index.html", f'<script src="x.js" integrity="sha384-{b64(48)}"></script>\n'),
        ("md5 checksum", "data/files.md5", f"{rnd(32, HEX)}  data.csv\n"),
        ("docs proxy example", "docs/proxies.md", f"proxies = {{'http': 'http://user:{rnd(8)}@10.10.1.10:3128/'}}\n"),
        ("docs password example", "docs/config.rst", f"   password = '{rnd(12)}'\n"),
        ("README basic-auth", "README.md", "git clone https://user:pass@git.acme.example/repo.git\n"),
        ("placeholder YOUR_", "app/settings_example.py", "API_SECRET = 'YOUR_APP_SECRET'\n"),
        ("placeholder changeme", "app/defaults.py", "ADMIN_PASSWORD = 'changeme'\n"),
        ("placeholder env reference", "docker-compose.yml", "  environment:\n    POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n"),
        ("placeholder angle brackets", "app/cli.py", "token = '<your-token-here>'\n"),
        ("placeholder xxx token", "app/gh.py", "GITHUB_TOKEN = 'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n"),
        ("template variable", "deploy/vars.yml", "db_password: \"{{ vault_db_password }}\"\n"),
        ("password from environment", "app/env.py", "password = os.environ['DB_PASSWORD']\n"),
        ("password from a call", "app/auth.py", "secret = get_secret('api')\n"),
        (".env.example", ".env.example", "DB_PASSWORD=changeme\nAPI_KEY=your-api-key\n"),
        ("public key", "keys/deploy.pub.pem", pem("PUBLIC KEY", 270)),
        ("SSH public key", "keys/id_rsa.pub", f"ssh-rsa {b64(270)} deploy@acme\n"),
        ("certificate", "certs/server.crt", pem("CERTIFICATE", 800)),
        ("test fixture password", "tests/test_login.py", f"password = '{rnd(12)}'\n"),
        ("test private key", "tests/fixtures/key.pem", pem("RSA PRIVATE KEY")),
        ("test CA key next to README", "pki/testing/ca.key", pem("EC PRIVATE KEY", 120)),
        ("HTTP etag", "tests/test_cache.py", f"headers = {{'ETag': '\"{rnd(32, HEX)}\"'}}\n"),
        ("digest nonce", "app/digest.py", f'nonce = "{rnd(32, HEX)}"\n'),
        ("analytics id", "docs/conf.py", "html_theme_options = {'analytics_id': 'UA-12345678-1'}\n"),
        ("base64 image", "web/style.css", f".logo {{ background: url(data:image/png;base64,{b64(300)}); }}\n"),
        ("local database URL", "app/dev_settings.py", f"DATABASE_URL = 'postgres://dev:{rnd(10)}@localhost:5432/dev'\n"),
        ("placeholder database URL", "app/db_example.py", "DATABASE_URL = 'postgres://user:password@db.example.com/app'\n"),
        ("hex constant", "app/crypto_consts.py", f"ROUND_CONSTANT = 0x{rnd(64, HEX)}\n"),
        ("vendored RFC example", "app/_vendor/oauthlib/params.py", f'    oauth_token="{rnd(16)}",\n'),
        ("docs curl example", "docs/api.md", "curl -H 'Authorization: Bearer <token>' https://api.acme.example\n"),
        ("semver and IPs", "app/net.py", "VERSION = '1.2.3'\nHOST = '203.0.113.77'\n"),
        ("sha1 in code comment", "app/legacy.py", f"# sha1: {rnd(40, HEX)}\n"),
    ]


class Git:
    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self.env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_AUTHOR_NAME="Dev",
                        GIT_AUTHOR_EMAIL="dev@acme.example", GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@acme.example")
        self.n = 0
        self("init", "-q", "-b", "main")

    def __call__(self, *args: str) -> str:
        return subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=self.path, env=self.env,
                              check=True, capture_output=True, text=True).stdout.strip()

    def commit(self, files: dict[str, str | None], msg: str = "") -> str:
        for rel, content in files.items():
            if content is None:
                self("rm", "-q", "--", rel)
                continue
            p = self.path / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(content)
            self("add", "--", rel)
        self.n += 1
        d = f"2022-{1 + self.n // 28 % 12:02d}-{1 + self.n % 28:02d}T12:00:00+00:00"
        self.env.update(GIT_AUTHOR_DATE=d, GIT_COMMITTER_DATE=d)
        self("commit", "-q", "--allow-empty", "-m", msg or f"commit {self.n}")
        return self("rev-parse", "HEAD")


def build(path: Path) -> tuple[list[dict], list[dict]]:
    """The corpus repository; returns what was planted (with fate and final path) and the look-alikes."""
    g = Git(path)
    g.commit({"app/__init__.py": "", "pki/testing/README.md": "Testing certificates for the local stack; not for production.\n"})
    planted = []
    for i, (kind, rel, content) in enumerate(kinds()):
        fate = ("present", "deleted", "renamed")[i % 3]
        sha = g.commit({rel: content}, f"add {kind}")
        final = rel
        if fate == "deleted":
            g.commit({rel: None}, f"remove {kind}")
        elif fate == "renamed":
            final = str(Path("moved") / rel)   # a new folder, the same file name
            (path / final).parent.mkdir(parents=True, exist_ok=True)
            g("mv", "--", rel, final)
            g.commit({}, f"rename {kind}")
        planted.append(dict(kind=kind, path=rel, final=final, fate=fate, commit=sha))
    looks = []
    for kind, rel, content in lookalikes():
        g.commit({rel: content}, f"add {kind}")
        looks.append(dict(kind=kind, path=rel))
    return planted, looks


def evaluate(repo: Path, planted: list[dict], looks: list[dict]) -> dict:
    import ddkit
    t0 = time.perf_counter()
    s = ddkit.scan(str(repo), licenses=False, as_of="2026-11-25")
    took = time.perf_counter() - t0
    f = s.findings[s.findings.rule.str.startswith("sec.secret")]
    def hits(path, df=None):
        df = f if df is None else df
        return df[df["paths"].fillna("").map(lambda ps: path in ps.split("; ")).astype(bool)]
    rows, found = [], 0
    for p in planted:
        h = hits(p["path"])
        if p["fate"] != "deleted":
            h = h[h.rule == "sec.secret-in-tree"]
            h = hits(p["final"], h)
        else:
            h = h[h.rule == "sec.secret-in-history"]
        ok = len(h) > 0 and (h["first_sha"] == p["commit"]).any()
        found += ok
        rows.append((p["kind"], p["fate"], ok, ", ".join(sorted(set(h["severity"]))), ", ".join(sorted(set(h["detector"])))))
    bad = []
    for lk in looks:
        h = hits(lk["path"])
        loud = h[h.severity.isin(["critical", "high"])]
        if len(loud):
            bad.append((lk["kind"], lk["path"], ", ".join(sorted(set(loud["detector"])))))
    return dict(rows=rows, found=found, bad=bad, stats=s.stats.secrets, took=took,
                look_reported=[(lk["kind"], ", ".join(sorted(set(hits(lk["path"])["severity"]))))
                               for lk in looks if len(hits(lk["path"]))])


def raw_engines(planted: list[dict], looks: list[dict], whispers_bin: str | None = None) -> None:
    """Each engine alone, before ddkit's context filter: recall and look-alikes it flags at all."""
    from ddkit.collect.secrets import kingfisher_engine
    from ddkit.collect.secrets.detectors import DetectorSet
    from ddkit.globs import first_match
    contents = {k: (rel, c) for k, rel, c in kinds()}
    lcontents = {k: (rel, c) for k, rel, c in lookalikes()}
    dets = DetectorSet()

    def ddkit_raw(rel, text):
        out = []
        for d, rx in zip(dets.detectors, dets.compiled):
            if d.paths and not first_match(rel, d.paths):
                continue
            out += [d.id for line in text.encode().split(b"\n") for _ in rx.finditer(line)]
        return out

    def kf_raw(rel, text):
        return [r[1] for r in kingfisher_engine.scan(text.encode())]

    engines = {"kingfisher": kf_raw, "ddkit detectors": ddkit_raw}
    try:
        engines["detect-secrets"] = _detect_secrets_raw()
    except ImportError:
        print("detect-secrets: not installed")
    if whispers_bin:
        engines["whispers"] = _whispers_raw(whispers_bin, list(contents.values()) + list(lcontents.values()))
    print("\nEngines alone (before ddkit's context filter):")
    print(f"{'engine':18} {'kinds found':>12} {'look-alikes flagged':>20} {'seconds':>8}")
    per_kind: dict[str, dict[str, bool]] = {}
    for name, fn in engines.items():
        t0 = time.perf_counter()
        k = 0
        for kind, (rel, c) in contents.items():
            hit = bool(fn(rel, c))
            per_kind.setdefault(kind, {})[name] = hit
            k += hit
        lk = sum(bool(fn(rel, c)) for rel, c in lcontents.values())
        print(f"{name:18} {k:>5}/{len(contents):<6} {lk:>12}/{len(lcontents):<7} {time.perf_counter() - t0:8.2f}")
    only = {n: [k for k, v in per_kind.items() if v.get(n) and sum(v.values()) == 1] for n in engines}
    for n, ks in only.items():
        if ks:
            print(f"  only {n}: {', '.join(ks)}")


def _detect_secrets_raw():
    from detect_secrets.core.scan import _process_line_based_plugins
    from detect_secrets.settings import default_settings

    def run(rel, text):
        with default_settings():
            return [s.type for s in _process_line_based_plugins(list(enumerate(text.splitlines(), 1)), filename=rel)]
    return run


def _whispers_raw(binary: str, files: list[tuple[str, str]]):
    """whispers (its command line, installed in its own virtualenv) run once over every file."""
    import json
    d = Path(tempfile.mkdtemp(prefix="ddkit-whispers-"))
    where = {}
    for i, (rel, text) in enumerate(files):
        f = d / str(i) / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
        where[str(f)] = (rel, text)
    out = d.parent / (d.name + ".json")
    subprocess.run([binary, "-o", str(out), str(d)], capture_output=True, check=False)
    text = out.read_text() if out.exists() else "[]"
    hits: dict[tuple[str, str], list[str]] = {}
    for rec in json.loads(text.strip().splitlines()[-1] if text.strip() else "[]"):
        hits.setdefault(where.get(rec["file"], ("?", "")), []).append(rec["rule_id"])

    def run(rel, text):
        return hits.get((rel, text), [])
    return run


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", help="build the corpus here (kept) instead of a temporary folder")
    ap.add_argument("--engines", action="store_true", help="also measure each engine alone")
    ap.add_argument("--whispers", help="with --engines: the whispers command (e.g. from its own virtualenv)")
    a = ap.parse_args()
    os.environ.setdefault("DDKIT_CACHE_DIR", tempfile.mkdtemp(prefix="ddkit-bench-q-"))
    repo = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="ddkit-corpus-")) / "corpus"
    planted, looks = build(repo)
    res = evaluate(repo, planted, looks)
    print(f"corpus: {repo} ({len(planted)} kinds planted, {len(looks)} look-alikes); scan {res['took']:.1f} s")
    print(f"\n{'kind':38} {'fate':8} {'found':6} {'severity':10} detector")
    for kind, fate, ok, sev, det in res["rows"]:
        print(f"{kind:38} {fate:8} {'yes' if ok else 'NO':6} {sev:10} {det}")
    n = len(planted)
    print(f"\nrecall: {res['found']}/{n} kinds = {res['found'] / n:.1%} (target >= 95%)")
    print(f"look-alikes reported at high/critical: {len(res['bad'])} of {len(looks)} (target 0)")
    for kind, path, det in res["bad"]:
        print(f"  {kind}: {path} ({det})")
    if res["look_reported"]:
        print("look-alikes reported below high: " + "; ".join(f"{k} ({s})" for k, s in res["look_reported"]))
    st = res["stats"]
    print("suppressed (occurrences per reason):", st.get("suppressed"))
    print("downgraded (occurrences per reason):", st.get("downgraded"))
    if a.engines:
        raw_engines(planted, looks, a.whispers)
    return 0 if res["found"] >= 0.95 * n and not res["bad"] else 1


if __name__ == "__main__":
    sys.exit(main())
