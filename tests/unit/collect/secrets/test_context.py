"""Context decisions on single lines, with the shipped rules (no git, no engine)."""

import pytest

from ddkit.collect.secrets.context import DOWNGRADE, REPORT, SUPPRESS, Context

CTX = Context.from_rules()


@pytest.mark.parametrize("line, value", [
    # git/git .github/workflows/l10n.yml: a login name, not a token
    (b"          repo-token-user-login: 'github-actions[bot]'", b"github-actions[bot]"),
    # MediaWiki LocalSettings.php: the address passwords are mailed from
    (b'$wgPasswordSender   = "apache@localhost";', b"apache@localhost"),
    (b'AUTH_TOKEN_URL = "https://sso.acme.io/oauth"', b"https://sso.acme.io/oauth"),
    (b'secret_file: "/etc/acme/keys/app.pem"', b"/etc/acme/keys/app.pem"),
])
def test_key_naming_something_about_a_secret_is_not_a_secret(line, value):
    assert CTX.decide("generic", "ddkit.password-assignment", "src/app.yml", line, value) == (
        SUPPRESS, "key names no secret")


@pytest.mark.parametrize("line, value", [
    (b'$wgSecretKey = "1c912bfe3519fb70f5dc523ecc6981";', b"1c912bfe3519fb70f5dc523ecc6981"),
    (b'db.password: s3cr3tV4lue9', b"s3cr3tV4lue9"),
    (b'"client_secret": "Zq8vW2mN7rT4kP1x"', b"Zq8vW2mN7rT4kP1x"),
    (b'userPassword: "Zq8vW2mN7rT4kP1x"', b"Zq8vW2mN7rT4kP1x"),   # "user" first, the secret last
])
def test_keys_that_hold_a_secret_are_reported(line, value):
    assert CTX.decide("generic", "ddkit.password-assignment", "src/app.yml", line, value) == (REPORT, "")


def test_provider_format_is_never_suppressed_by_its_key():
    line = b'aws_key_id = "AKIAQWERTYUIOPASDFGH"'
    assert CTX.decide("provider", "ddkit.aws-access-key-id", "src/app.py", line, b"AKIAQWERTYUIOPASDFGH")[0] == REPORT


def test_a_urls_user_part_is_not_a_key():
    line = b"proxies = {'http': 'http://user:Zq8vW2mN7r@10.10.1.10:3128'}"
    assert CTX.decide("generic", "ddkit.basic-auth-url", "src/app.py", line, b"Zq8vW2mN7r") == (REPORT, "")


def test_kingfisher_rules_are_compiled_once_for_all_threads(monkeypatch):
    """Each scanning thread has its own scanner, but the compiled rules are one: a cold rule cache costs
    seconds of CPU per compile, and two threads used to compile it twice, at the same time."""
    import threading

    kingfisher_sdk = pytest.importorskip("kingfisher_sdk")
    from ddkit.collect.secrets import kingfisher_engine

    built = []

    class CountingRules:
        def __init__(self, **kw):
            built.append(kw)
            self._native = None

    class FakeScanner:
        def __init__(self, rules, **kw):
            self.rules = rules

    monkeypatch.setattr(kingfisher_sdk, "Rules", CountingRules)
    monkeypatch.setattr(kingfisher_sdk, "Scanner", FakeScanner)
    monkeypatch.setattr(kingfisher_engine, "_RULES", [])
    monkeypatch.setattr(kingfisher_engine, "_LOCAL", threading.local())
    got = []
    threads = [threading.Thread(target=lambda: got.append(kingfisher_engine._scanner())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1
    assert len({id(s) for s in got}) == 4 and {id(s.rules) for s in got} == {id(got[0].rules)}


def test_kingfisher_rules_preloaded_in_the_background_are_the_ones_used(monkeypatch):
    """preload() loads the compiled rules in a thread; the scan's own call gets that very object (waiting
    for it), and a failure while preloading is raised by the scan's call, not lost."""
    import threading

    from ddkit.collect.secrets import kingfisher_engine as ke
    made = []
    gate = threading.Event()

    class FakeRules:
        def __init__(self, **kw):
            gate.wait(5)
            made.append(self)
            if kw.get("confidence") == "boom":
                raise RuntimeError("rules could not be compiled")
    import kingfisher_sdk
    monkeypatch.setattr(kingfisher_sdk, "Rules", FakeRules)
    monkeypatch.setattr(ke, "_RULES", [])
    ke.preload()
    threading.Timer(0.05, gate.set).start()
    got = ke._rules()                       # waits for the background load
    assert made == [got] and ke._rules() is got
    ke.preload()                            # loaded already: nothing more
    assert len(made) == 1
    monkeypatch.setattr(ke, "_RULES", [])
    orig = FakeRules.__init__
    monkeypatch.setattr(FakeRules, "__init__", lambda self, **kw: orig(self, confidence="boom"))
    ke.preload()
    import pytest
    with pytest.raises(RuntimeError, match="could not be compiled"):
        ke._rules()


# --- issue 24: placeholders judged on the whole value; credential files judged by their format ---------

@pytest.mark.parametrize("value", [
    b"pass2019", b"Passw0rd-Summer!", b"tokenizer-9Zq-2019", b"adminX7#qLw2", b"default9Q!zv",
    b"exampleQ9!z2w", b"mysecretQ7!x", b"s3cr3tV4lue9", b"hKqZtRwPmXvB",          # letters only, mixed case
    b"k3(#v!x&8^l2q)=(w",                                                        # Django's alphabet
])
def test_a_value_that_contains_a_word_is_not_a_placeholder(value):
    line = b"db_password = '" + value + b"'"
    assert CTX.decide("generic", "ddkit.password-assignment", "app/db.py", line, value) == (REPORT, "")


@pytest.mark.parametrize("value", [
    b"changeme", b"CHANGEME", b"changeme123", b"password", b"<token>", b"<your-token-here>", b"${VAR}",
    b"pre${VAR}post", b"xxxxxxxx", b"XXXX-XXXX-XXXX", b"********", b"your-api-key-here", b"YOUR_APP_SECRET",
    b"your_token", b"token-goes-here", b"db_password_field", b"passwordField", b"settings.SECRET_KEY",
    b"DB_PASSWORD", b"Characters", b"{{ vault_db_password }}", b"%(password)s", b"{password}", b"$DB_PASS",
    b"%NUGET_PASSWORD%", b"my-secret",
])
def test_a_value_that_is_a_placeholder_is_set_aside(value):
    line = b"db_password = '" + value + b"'"
    assert CTX.decide("generic", "ddkit.password-assignment", "app/db.py", line, value) == (SUPPRESS, "placeholder value")


def test_call_syntax_only_outside_a_quoted_literal():
    """get_secret('api') unquoted is code; the same characters inside quotes are a literal."""
    assert CTX.placeholder(b"get_secret('api')", b"password: get_secret('api')")
    assert CTX.placeholder(b"vault.read(path)", b"token: vault.read(path)")
    assert not CTX.placeholder(b"abc(def)", b"password = 'abc(def)'")
    assert not CTX.placeholder(b"abc(def)")                       # no line: the call rule is not applied


def test_weak_password_in_code_is_reported_low_with_the_reason():
    line = b"db_password = 'hunter2'"
    assert CTX.decide("generic", "ddkit.password-assignment", "app/db.py", line, b"hunter2") == (
        DOWNGRADE, "weak or default password: confirm it is not used in production")
    # ... and a test path still sets it aside as a fixture
    assert CTX.decide("generic", "ddkit.password-assignment", "tests/test_db.py", line, b"hunter2") == (
        SUPPRESS, "test fixture")


@pytest.mark.parametrize("det, path, line, value, want", [
    ("ddkit.netrc", ".netrc", b"machine h login u password pass2019", b"pass2019", (REPORT, "")),
    ("ddkit.netrc", ".netrc", b"machine h login u password changeme", b"changeme",
     (DOWNGRADE, "weak or placeholder password in a committed .netrc")),
    ("ddkit.netrc", "home/.netrc", b"machine h login u password hunter2", b"hunter2",
     (DOWNGRADE, "weak or placeholder password in a committed .netrc")),
    ("ddkit.pgpass", "tests/.pgpass", b"h:5432:db:u:Zq8vW2mN7rT4", b"Zq8vW2mN7rT4",
     (DOWNGRADE, "test fixture: a committed .pgpass")),
    ("ddkit.pgpass", "docs/.pgpass", b"h:5432:db:u:Zq8vW2mN7rT4", b"Zq8vW2mN7rT4",
     (DOWNGRADE, "documentation or example: a committed .pgpass")),
    ("ddkit.s3cfg", ".s3cfg", b"secret_key = ${S3}", b"${S3}",
     (DOWNGRADE, "weak or placeholder password in a committed .s3cfg (s3cmd)")),
])
def test_credential_file_matches_are_reported_or_downgraded_never_set_aside(det, path, line, value, want):
    assert CTX.decide("generic", det, path, line, value) == want


def test_docker_auth_is_judged_on_the_decoded_password():
    import base64
    real = base64.b64encode(b"ci:token-Zq8vW2mN7r")                 # "token" inside a real password
    weak = base64.b64encode(b"ci:password")
    line = b'"auth": "x"'
    assert CTX.decide("generic", "ddkit.docker-auth", ".docker/config.json", line, real) == (REPORT, "")
    assert CTX.decide("generic", "ddkit.docker-auth", ".docker/config.json", line, weak)[0] == DOWNGRADE
    empty = base64.b64encode(b"ci:")
    assert CTX.decide("generic", "ddkit.docker-auth", ".docker/config.json", line, empty)[0] == DOWNGRADE


def test_credential_classes_compile_for_re_and_name_a_secret_group():
    from ddkit.collect.secrets.detectors import all_detectors
    classes = CTX.cfg["credential_files"]
    assert {c["id"] for c in classes} >= {
        "netrc", "git-credentials", "docker-auth", "aws-credentials", "s3cfg", "pgpass", "esmtprc", "ftpconfig",
        "remote-sync", "sftp-config", "dbeaver", "robomongo", "ventrilo", "php-config", "ssh-config", "public-key",
        "salesforce-js", "django-secret-key", "nuget-config", "pkcs12-file"}
    for d in all_detectors():
        assert "secret" in d.compile().groupindex, d.id
    assert all(c.get("keys") for c in classes)               # every class says what its keys hold ...
    # ... in words (a comma in an unquoted YAML flow mapping would split one into a key without a value)
    assert all(isinstance(v, str) and len(v) >= 8 for c in classes for v in c["keys"].values())


def _occ(rows):
    import pandas as pd

    from ddkit.collect.secrets import SECRET_COLUMNS
    return pd.DataFrame([dict(zip(SECRET_COLUMNS, r)) for r in rows], columns=SECRET_COLUMNS)


def test_set_aside_lists_each_match_once_and_never_a_reported_value():
    from ddkit.analyze.security import set_aside
    hist = _occ([
        ("c2", "a.py", 3, "Pw", "sha256:1", "generic", "ddkit.password-assignment", "ddkit", "suppress", "placeholder value"),
        ("c1", "a.py", 9, "Pw", "sha256:1", "generic", "ddkit.password-assignment", "ddkit", "suppress", "placeholder value"),
        ("c1", "t/x.py", 1, "Pw", "sha256:2", "generic", "ddkit.password-assignment", "ddkit", "suppress", "test fixture"),
        ("c1", "docs/y.md", 1, "Pw", "sha256:3", "generic", "ddkit.password-assignment", "ddkit", "suppress",
         "documentation or example"),
        ("c1", "app.py", 1, "Pw", "sha256:3", "generic", "ddkit.password-assignment", "ddkit", "report", ""),
    ])
    tree = _occ([("c2", "a.py", 3, "URL", "sha256:4", "generic", "ddkit.basic-auth-url", "ddkit", "suppress",
                  "placeholder value")])
    rows, counts = set_aside(hist, tree)
    assert rows == [
        {"path": "a.py", "line": 3, "detector": "ddkit.password-assignment", "reason": "placeholder value"},
        {"path": "t/x.py", "line": 1, "detector": "ddkit.password-assignment", "reason": "test fixture"},
        {"path": "a.py", "line": 3, "detector": "ddkit.basic-auth-url", "reason": "placeholder value"},
    ]
    assert counts == {"placeholder value": {"ddkit.basic-auth-url": 1, "ddkit.password-assignment": 1},
                      "test fixture": {"ddkit.password-assignment": 1}}
    assert all(set(r) == {"path", "line", "detector", "reason"} for r in rows)


def test_strict_turns_every_set_aside_match_into_a_downgrade_with_its_reason():
    from ddkit.analyze.security import set_aside, strict
    hist = _occ([("c1", "a.py", 3, "Pw", "sha256:1", "generic", "ddkit.password-assignment", "ddkit", "suppress",
                  "placeholder value"),
                 ("c1", "b.py", 3, "Pw", "sha256:2", "generic", "ddkit.password-assignment", "ddkit", "report", "")])
    out = strict(hist)
    assert list(zip(out["action"], out["reason"])) == [
        ("downgrade", "set aside (placeholder value): reported under --secrets-strict"), ("report", "")]
    assert set_aside(out, None)[0] == []
    assert list(hist["action"]) == ["suppress", "report"]          # the input is not changed


def test_a_downgrade_never_raises_an_informative_finding():
    import pandas as pd

    from ddkit.analyze.security import secret_findings
    from ddkit.config import load_rules
    tree = _occ([("c1", "tests/k.pub", 1, "Public key", "sha256:9", "info", "ddkit.public-key", "ddkit", "downgrade",
                  "test fixture: a committed Public key (its private pair is somewhere)")])
    recs, _ = secret_findings(load_rules(None), tree.iloc[0:0], tree, pd.DataFrame(columns=["sha"]))
    assert [r["severity"] for r in recs] == ["info"]


@pytest.mark.parametrize("pattern, message", [
    ("'password (?P<secret>[a-z'", r"credential_files\[0\] \(mine\)\.patterns\[0\]: not a regular expression"),
    # the schema says it first, with the line
    ("'password (\\S+)'", r"security.yaml, line 6: secrets.credential_files.0.patterns.0: .* does not match"),
])
def test_a_bad_credential_file_pattern_is_an_input_error(tmp_path, pattern, message):
    from ddkit.config import load_rules
    from ddkit.errors import InputError
    (tmp_path / "security.yaml").write_text(
        "secrets:\n  credential_files:\n    - id: mine\n      name: my file\n      files: [my.cfg]\n"
        f"      patterns: [{pattern}]\n")
    with pytest.raises(InputError, match=message):
        load_rules(tmp_path)


def test_a_class_pattern_hyperscan_cannot_screen_is_an_input_error(tmp_path, monkeypatch):
    pytest.importorskip("hyperscan")
    from ddkit.collect.secrets.context import settings
    from ddkit.collect.secrets.detectors import DetectorSet, all_detectors
    from ddkit.config import load_rules
    from ddkit.errors import InputError
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "security.yaml").write_text(
        "secrets:\n  credential_files:\n    - id: mine\n      name: my file\n      files: [my.cfg]\n"
        "      patterns: ['(?<=pw=)(?P<secret>\\w+)']\n")
    rules = load_rules(tmp_path)            # Python's re accepts the look-behind ...
    with pytest.raises(InputError, match=r"Hyperscan screen cannot compile.*\(\?<=pw=\)"):
        DetectorSet(all_detectors(settings(rules)))      # ... Hyperscan does not: named, not a traceback
    assert DetectorSet(all_detectors(settings(rules)), screen=False).db is None
