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
        *credential_files(),
        *gitleaks_families(),
    ]


def credential_files() -> list[tuple]:
    """One committed file of each credential-file class (rules/security.yaml credential_files), with the
    values issue 24 gives where it gives them: each must be reported at its class's tier."""
    dj = rnd(7, ALNUM) + "(#v!x" + rnd(20, ALNUM + "!@#%^&*(-_=+)") + "=)(&^" + rnd(15, ALNUM)
    return [
        (".netrc with a weak-looking password", "home/deploy/.netrc", "machine ci.acme.example login deploy password pass2019\n"),
        (".git-credentials with 'password' in it", "home/deploy/.git-credentials",
         f"https://deploy:mypassword{rnd(6, string.digits)}x@git.acme.example\n"),
        ("Docker auth decoding to a 'token'", "home/deploy/.docker/config.json",
         '{"auths": {"r.acme.example": {"auth": "' + base64.b64encode(f"ci:token-{rnd(12)}".encode()).decode() + '"}}}\n'),
        ("AWS credentials, non-canonical lengths", "home/deploy/.aws/credentials",
         f"[prod]\naws_access_key_id = AKIA{rnd(12, B32)}\naws_secret_access_key = {rnd(32)}\n"),
        (".s3cfg with a real password", "home/deploy/.s3cfg", "[default]\nsecret_key = Passw0rd-Summer!\n"),
        (".esmtprc", "home/deploy/.esmtprc", f"hostname = smtp.acme.example:587\npassword = \"{rnd(14)}\"\n"),
        (".ftpconfig", "web/.ftpconfig", '{"protocol": "sftp", "host": "web.acme.example", "pass": "' + rnd(14) + '"}\n'),
        (".remote-sync.json", "web/.remote-sync.json", '{"transport": "ftp", "password": "' + rnd(14) + '"}\n'),
        ("DBeaver data-sources.json", "tools/.dbeaver/data-sources.json",
         '{"connections": {"pg": {"configuration": {"user": "app", "password": "' + rnd(14) + '"}}}}\n'),
        ("Robomongo connections", "tools/robomongo/robomongo.json",
         '{"connections": [{"credentials": [{"userName": "admin", "userPassword": "' + rnd(14) + '"}]}]}\n'),
        ("Ventrilo server config", "games/ventrilo_srv.ini", f"[Server]\nName=Acme\nAdminPassword={rnd(12)}\n"),
        ("PHP config.php database password", "www/config.php", f"<?php\n$dbpass = '{rnd(14)}';\n"),
        ("SSH config with a password", "home/deploy/.ssh/config",
         f"Host build\n  HostName build.acme.example\n  Password {rnd(14)}\n"),
        ("Salesforce credentials in JavaScript", "crm/sync.js",
         f"conn.login('ops@acme.example', '{rnd(12)}' + '{rnd(25)}', done);\n"),
        ("Django SECRET_KEY with parentheses", "web/settings.py", f"SECRET_KEY = '{dj}'\n"),
        ("NuGet.Config clear-text password", "NuGet.Config",
         f'<packageSourceCredentials><acme><add key="ClearTextPassword" value="{rnd(16)}" /></acme>'
         '</packageSourceCredentials>\n'),
        ("PKCS#12 key store (binary)", "certs/client.p12", b"0\x82\x0a\x1f\x02\x01\x03" + R.randbytes(600)),
        ("SSH public key (informative)", "home/deploy/.ssh/id_ed25519.pub",
         f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{rnd(43)} deploy@ci\n", "info"),
    ]


def gitleaks_families() -> list[tuple]:
    """A real-format sample of each gitleaks default rule family neither of ddkit's engines reported before
    issue 24 (docs/secrets.md lists every family and the engine that covers it)."""
    low = string.ascii_lowercase + string.digits
    return [
        ("Alibaba AccessKey ID", "cloud/oss.py", f"ALIBABA_ACCESS_KEY_ID = 'LTAI{rnd(20, low)}'\n"),
        ("Alibaba secret", "cloud/oss2.py", f"alibaba_secret_key = '{rnd(30, low)}'\n"),
        ("Algolia API key", "web/search.js", f"const algoliaApiKey = '{rnd(32, low)}';\n"),
        ("Artifactory API key", "ci/artifactory.sh", f"ARTIFACTORY_API_KEY=AKCp{rnd(69)}\n"),
        ("Artifactory reference token", "ci/artifactory2.sh", f"ARTIFACTORY_TOKEN=cmVmd{rnd(59)}\n"),
        ("Atlassian API token", "ci/jira.py", f"atlassian_api_token = '{rnd(24, low)}'\n"),
        ("Azure AD client secret", "infra/aad.py", f"client_secret = '{rnd(3)}8Q~{rnd(34)}'\n"),
        ("ClickHouse Cloud secret", "data/ch.py", f"CH_SECRET = '4b1d{rnd(38)}'\n"),
        ("Codecov token", "ci/codecov.yml", f"codecov_token: {rnd(32, low)}\n"),
        ("Etsy API key", "shop/etsy.py", f"etsy_api_key = '{rnd(24, low)}'\n"),
        ("Fly.io token", "deploy/fly.sh", f"FLY_API_TOKEN=fo1_{rnd(43)}\n"),
        ("Harness PAT", "ci/harness.sh", f"HARNESS_API_KEY=pat.{rnd(22)}.{rnd(24)}.{rnd(20)}\n"),
        ("HashiCorp Terraform password", "infra/db.tf", f'  administrator_login_password = "{rnd(16)}"\n'),
        ("JFrog API key", "ci/jfrog.sh", f'JFROG_API_KEY="{rnd(73)}"\n'),
        ("Kubernetes Secret manifest", "k8s/db-secret.yaml",
         "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: "
         + base64.b64encode(rnd(18).encode()).decode() + "\n"),
        ("PlanetScale token", "db/ps.ts", f"const token = 'pscale_tkn_{rnd(43)}';\n"),
        ("Stripe test-mode key", "billing/stripe_test_mode.py", f"stripe.api_key = 'sk_test_{rnd(24)}'\n"),
        # detect-secrets' provider plugins that neither engine reported before issue 24
        ("Square OAuth secret", "pay/square.py", f"SQUARE = 'sq0csp-{rnd(43, ALNUM + '-_')}'\n"),
        ("Discord bot token", "bots/discord.py", f"client.run('M{rnd(23)}.{rnd(6)}.{rnd(27)}')\n"),
        ("Mailchimp API key", "mail/chimp.py", f"MC = '{rnd(32, HEX)}-us12'\n"),
        ("Azure storage account key", "infra/storage.txt", f"AccountKey={b64(64)}\n"),
    ]


def placeholder_variants() -> list[tuple]:
    """Credential files whose value looks like a placeholder or is a known weak password: still committed
    credentials, reported at the downgraded (low) severity with that reason."""
    return [
        (".netrc placeholder", "ops/.netrc", "machine h.acme.example login ci password change_me\n", "low"),
        (".pgpass placeholder", "ops/.pgpass", "db.acme.example:5432:app:ci:<password>\n", "low"),
        (".s3cfg env reference", "ops/.s3cfg", "[default]\nsecret_key = ${S3_SECRET}\n", "low"),
        ("Docker auth of a weak password", "ops/.docker/config.json",
         '{"auths": {"r": {"auth": "' + base64.b64encode(b"ci:password").decode() + '"}}}\n', "low"),
        ("Ventrilo weak admin password", "ops/ventrilo_srv.ini", "[Server]\nAdminPassword=admin\n", "low"),
        ("sftp-config placeholder", "ops/sftp-config.json", '{"password": "your-password-here"}\n', "low"),
        ("NuGet env reference", "ops/NuGet.Config", '<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />\n', "low"),
        ("PHP config weak password", "ops/config.php", "<?php\n$db_password = 'root';\n", "low"),
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
        # Look-alikes of the credential-file classes and gitleaks families added for issue 24.
        ("ssh config without a password", "ops/ssh/config", "Host *\n  PasswordAuthentication no\n  User deploy\n"),
        ("empty passwords in tool configs", "tools/.remote-sync.json", '{"password": "", "passphrase": ""}\n'),
        ("Robomongo without a password", "tools/robo3t.json", '{"connections": [{"userName": "admin", "userPassword": ""}]}\n'),
        ("PHP config reading the environment", "site/config.php", "<?php\n$db_pass = getenv('DB_PASS');\n"),
        ("PHP login form", "site/login.php", "<?php\n$password = $_POST['password'];\n"),
        ("Salesforce login with variables", "crm/login.js", "conn.login(username, password + token, done);\n"),
        ("Ventrilo empty password", "games/dev/ventrilo_srv.ini", "[Server]\nPassword=\n"),
        ("docs credential file example", "docs/netrc.md", "    machine example.com login me password Zq8vW2mN7rT4\n"),
        ("test fixture .pgpass", "tests/fixtures/.pgpass", f"localhost:5432:app:u:{rnd(12)}\n"),
        ("test fixture key store", "tests/fixtures/client.pfx", b"0\x82\x01\x00" + R.randbytes(64)),
        ("Alibaba placeholder", "cloud/oss_example.py", "ALIBABA_ACCESS_KEY_ID = 'LTAIxxxxxxxxxxxxxxxxxxxx'\n"),
        ("Azure AD secret placeholder in docs", "docs/azure.md", "client_secret = 'abc8Q~" + "x" * 34 + "'\n"),
        ("Stripe test key in a test", "tests/test_billing.py", f"stripe.api_key = 'sk_test_{rnd(24)}'\n"),
        ("fo1_ in an identifier", "app/names.py", "def fo1_handler(): return 'fo1_short'\n"),
        ("harness-like dotted name", "app/paths.py", "PAT = 'pat.config.value'\n"),
        ("4b1d hex constant", "app/consts.py", f"MAGIC = 0x4b1d{rnd(12, HEX)}\n"),
        ("Django key from environment", "site2/settings.py", "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']\n"),
        ("public key in docs", "docs/deploy.md", f"    ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{rnd(43)} you@example\n"),
        ("config.json auth that is not base64", "web/config.json", '{"auth": "oauth2", "mode": "basic"}\n'),
        ("git-credentials without a password", "ops2/.git-credentials", "https://git.acme.example/org/repo.git\n"),
        ("AWS credentials file with empty or env values", "ops2/.aws/credentials",
         "[default]\naws_access_key_id =\naws_secret_access_key =\n"),
        (".s3cfg with an empty secret", "ops2/.s3cfg", "[default]\nsecret_key =\naccess_key =\n"),
        (".ftpconfig with an empty password", "ops2/.ftpconfig", '{"host": "h", "user": "u", "pass": ""}\n'),
        ("DBeaver data-sources without a password", "ops2/.dbeaver/data-sources.json",
         '{"connections": {"pg": {"configuration": {"host": "db", "user": "app", "save-password": false}}}}\n'),
        ("NuGet.Config without credentials", "ops2/NuGet.Config",
         '<packageSources><add key="nuget.org" value="https://api.nuget.org/v3/index.json" /></packageSources>\n'),
        ("short token-like prefixes", "app/prefixes.py",
         "PREFIXES = ['AKCp', 'pscale_tkn_', 'LTAI', 'sk_test_', 'fo1_', 'cmVmd', '4b1d']\n"),
        ("dotted names of token-like lengths", "app/Names.cs",
         "using Microsoft.Extensions.DependencyInjection.Abstractions.Internal;\n"
         "var x = NormalizeWhitespaceHelperClass.tokens.AbcdefghijklmnopqrstuvwxyzAbc;\n"),
        ("Square placeholder", "docs/square.md", "SQUARE_SECRET = 'sq0csp-" + "x" * 43 + "'\n"),
        ("k8s Secret with a template", "k8s/templates/secret.yaml",
         "kind: Secret\ndata:\n  password: {{ .Values.dbPassword | b64enc }}\n"),
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

    def commit(self, files: dict[str, str | bytes | None], msg: str = "") -> str:
        for rel, content in files.items():
            if content is None:
                self("rm", "-q", "--", rel)
                continue
            p = self.path / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
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
    for i, (kind, rel, content, *expect) in enumerate(kinds() + placeholder_variants()):
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
        planted.append(dict(kind=kind, path=rel, final=final, fate=fate, commit=sha,
                            expect=expect[0] if expect else None))
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
        if ok and p["expect"]:   # a placeholder variant at its lower tier, a public key informative
            ok = p["expect"] in set(h["severity"]) and not h["severity"].isin(["critical", "high"]).any()
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
    # (binary files have no lines for an engine to read: left out here)
    contents = {k: (rel, c) for k, rel, c, *_ in kinds() + placeholder_variants() if isinstance(c, str)}
    lcontents = {k: (rel, c) for k, rel, c in lookalikes() if isinstance(c, str)}
    from ddkit.collect.secrets.detectors import all_detectors
    dets = DetectorSet(all_detectors())

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
