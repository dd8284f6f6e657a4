"""Context decisions on single lines, with the shipped rules (no git, no engine)."""

import pytest

from ddkit.collect.secrets.context import REPORT, SUPPRESS, Context

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
