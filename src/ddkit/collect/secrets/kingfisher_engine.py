"""Adapter for kingfisher (MongoDB's Rust secret scanner, `kingfisher-secret-scanner` on PyPI):
hundreds of provider rules compiled into one Vectorscan database, scanned in-process and offline.

Everything kingfisher-specific lives here. ddkit gives it whole blocks of text (never a path to open
and never a repository: ddkit reads git itself), keeps its visible findings, and maps each rule to a
tier: rules named ``generic-…`` are generic credentials, every other rule is a provider format.
Validation and revocation (which would contact providers) are never used.
"""

from __future__ import annotations

import threading

from ...cache import cache_dir

_LOCAL = threading.local()


def available() -> bool:
    try:
        import kingfisher_sdk  # noqa: F401
        return True
    except ImportError:
        return False


def version() -> str | None:
    try:
        import kingfisher_sdk
        return kingfisher_sdk.__version__
    except ImportError:
        return None


_RULES_LOCK = threading.Lock()
_RULES: list = []


def _rules():
    """The compiled rules, built once per process: compiling the database costs about 2.6 s of CPU when its
    cache is cold, and threads that each built their own compiled it once per thread, at the same time."""
    with _RULES_LOCK:
        if not _RULES:
            from kingfisher_sdk import Rules
            # The compiled-rule cache goes to ddkit's cache folder (nowhere else is written).
            _RULES.append(Rules(confidence="medium", cache_dir=str(cache_dir("kingfisher"))))
        return _RULES[0]


def preload() -> None:
    """Start loading the compiled rules in a background thread, for a scan that will need them: the load
    is native code that does not hold the GIL (about 0.2 s from the cache, 2.6 s compiling), and whoever
    asks for the rules meanwhile waits for it. A failure is left to the first real use to raise."""
    if available() and not _RULES:
        threading.Thread(target=_load_quietly, name="ddkit-kingfisher-rules", daemon=True).start()


def _load_quietly() -> None:
    try:
        _rules()
    except Exception:  # raised again, where it can be reported, by the scan's own call
        pass


def _scanner():
    """One scanner per thread (scans release the GIL; a scanner is not shared between threads), all on
    the one compiled rule set."""
    sc = getattr(_LOCAL, "scanner", None)
    if sc is None:
        from kingfisher_sdk import Scanner
        sc = _LOCAL.scanner = Scanner(_rules(), base64=False, dedup=False, redact=False)
    return sc


_WORDS = {"aws": "AWS", "api": "API", "pat": "PAT", "github": "GitHub", "gitlab": "GitLab", "jwt": "JWT",
          "npm": "npm", "uri": "URI", "url": "URL", "id": "ID", "oauth": "OAuth", "ssh": "SSH", "gcp": "GCP",
          "openai": "OpenAI", "pypi": "PyPI", "sendgrid": "SendGrid", "mongodb": "MongoDB", "digitalocean": "DigitalOcean",
          "hubspot": "HubSpot", "paypal": "PayPal", "huggingface": "Hugging Face", "sql": "SQL", "ci": "CI",
          "dockerhub": "Docker Hub", "mailgun": "Mailgun", "mailchimp": "Mailchimp", "pem": "PEM", "rsa": "RSA"}


def display_name(rule_id: str) -> str:
    """A short name from a rule id ('betterleaks.github-pat' -> 'GitHub PAT'); kingfisher's own rule
    names are sentences."""
    name = rule_id.split(".", 1)[-1].rsplit("/", 1)[-1]
    name = name.rstrip(".0123456789") or name
    return " ".join(_WORDS.get(w, w.capitalize()) for w in name.replace("_", "-").split("-") if w)


def tier(rule_id: str) -> str:
    name = rule_id.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    return "generic" if name.startswith("generic") else "provider"


def scan(text: bytes, skip: frozenset[str] = frozenset()) -> list[tuple[int, str, str, str, bytes]]:
    """(0-based line, rule id, short name, tier, secret bytes) for every visible finding in *text*."""
    out = []
    for f in _scanner().scan(text):
        if not f.visible or f.rule_id in skip:
            continue
        secret = f.secret
        secret_b = secret.encode("utf-8", "surrogateescape") if isinstance(secret, str) else bytes(secret)
        out.append((int(f.location["line"]) - 1, f.rule_id, display_name(f.rule_id), tier(f.rule_id), secret_b))
    return out
