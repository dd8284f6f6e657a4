"""Adapter for kingfisher (MongoDB's Rust secret scanner, `kingfisher-secret-scanner` on PyPI):
hundreds of provider rules compiled into one Vectorscan database, scanned in-process and offline.

Everything kingfisher-specific lives here. ddkit gives it whole blocks of text (never a path to open
and never a repository: ddkit reads git itself), keeps its visible findings, and maps each rule to a
tier: rules named ``generic-…`` are generic credentials, every other rule is a provider format.
Validation and revocation (which would contact providers) are never used.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from ... import cache
from ...errors import InputError

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
            _RULES.append(_load_rules(Rules))
        return _RULES[0]


def _valid_files(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and _NAME.fullmatch(k) and isinstance(x, bytes)
                                       for k, x in v.items())


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_CODEC = cache.pickle_codec("kingfisher-rules", _valid_files)


def _load_rules(rules_class: Any) -> Any:
    """The SDK's rules, its compiled database kept in ddkit's one sealed entry format: the database is read
    by native code, so (threat model) only what this user's ddkit sealed is handed to it. The SDK reads and
    writes its cache in a private folder made for this one load inside ddkit's cache (nowhere else is
    written), which holds the sealed copy; a database it compiled is sealed from there."""
    try:
        entry = cache.cache_dir("kingfisher") / f"rules-{cache.entry_key('medium', tools=('kingfisher-secret-scanner',))}.pkl"
        staging = Path(tempfile.mkdtemp(prefix=".load-", dir=entry.parent))
    except (InputError, OSError):    # no usable cache: the SDK compiles without one
        return rules_class(confidence="medium", cache=False)
    try:
        try:
            for name, data in (cache.load(entry, _CODEC) or {}).items():
                (staging / name).write_bytes(data)
        except OSError as e:             # a full disk: compiled again, only the time
            cache.write_failed(e)
        rules = rules_class(confidence="medium", cache_dir=str(staging))
        if getattr(rules, "cache_status", None) == "stored":
            cache.save(entry, _CODEC, {p.name: p.read_bytes() for p in staging.iterdir()
                                       if p.is_file() and _NAME.fullmatch(p.name)})
        return rules
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
