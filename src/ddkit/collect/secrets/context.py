"""Context: is a match a leak, or a hash, a test fixture, a documentation example or a placeholder?

Every decision is one of ``report``, ``downgrade`` (reported at low severity) or ``suppress`` (*set aside*:
not reported as a finding, but counted per reason and detector and listed, path and line, in the reports),
with its reason. The lists come from ``rules/security.yaml`` (``secrets:``), so ``--rules`` can change
them. A provider-format credential is never suppressed by its path: a live key in a test file is still a
leak; only private keys and certificates that sit in test fixtures (or next to a README saying they are
for tests) are downgraded.

A match of a credential-file class (``secrets.credential_files``: .netrc, .pgpass, Docker config.json, ...)
is never set aside: the file was committed, whatever its value looks like. A placeholder-looking or
known-weak value, or a test, documentation, vendored or lockfile path, downgrades it with the reason.

Placeholders are judged on the whole value (``changeme``, ``<token>``, ``${VAR}``, ``xxxx``, an
identifier, an environment variable's name), never on a word inside it (``pass2019`` is a password).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...globs import first_match

_QUOTES = b"\"'`"

REPORT, DOWNGRADE, SUPPRESS = "report", "downgrade", "suppress"
# The key an assignment's value is given to: the last name before `=`, `:`, `=>` (quotes and `$` allowed).
_KEY_BEFORE = re.compile(rb"([A-Za-z0-9_.\-]+)[\"'\]]?\s*(?::=|=>|==|:|=)\s*[\"']?$")
# The detectors that match `key = value` assignments (a URL's `user:password@` is not one).
_ASSIGNMENT_DETECTORS = ("ddkit.password-assignment", "ddkit.config-password")
# Words of a key: camelCase humps, runs of capitals, digits-free lower runs.
_WORDS = re.compile(rb"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
TEST_KEY = "test key: confirm it is not used in production"
PLACEHOLDER = "placeholder value"
WEAK = "weak or default password: confirm it is not used in production"

DEFAULTS: dict[str, Any] = {
    "max_line_bytes": 1 << 20,
    "placeholders": [],
    "placeholder_patterns": [],
    "call_pattern": "",
    "weak_passwords": [],
    "credential_files": [],
    "hash_context": [],
    "non_secret_key_words": [],
    "lockfiles": [],
    "tests": [],
    "docs": [],
    "vendored": [],
    "test_key_detectors": ["private-key", "putty", "certificate", "pkcs12", "pem"],
    "test_readme_pattern": r"\b(test(ing)?|dummy|fake)\s+(certificates?|certs?|keys?|ca|pki)\b|for test(s|ing)?\b"
                           r"|do not use in production",
    "engine_rules_off": [],
    "local_hosts": ["@localhost", "@127.0.0.1", "@0.0.0.0", "@[::1]", "@host.docker.internal"],
    "local_url_detectors": ["ddkit.database-url", "ddkit.basic-auth-url"],
    "severities": {"provider": {"tree": "critical", "history": "high"},
                   "generic": {"tree": "high", "history": "medium"},
                   "entropy": {"tree": "low", "history": "low"},
                   "info": {"tree": "info", "history": "info"},
                   "downgraded": "low"},
}
KNOWN_KEYS = set(DEFAULTS)


@dataclass
class Context:
    cfg: dict[str, Any]
    readme_says_test: Callable[[str], bool] | None = None
    _ph: list[bytes] = field(default_factory=list)
    _php: list[re.Pattern[bytes]] = field(default_factory=list)
    _hash: list[re.Pattern[bytes]] = field(default_factory=list)
    _local: list[bytes] = field(default_factory=list)
    _keywords: frozenset[bytes] = frozenset()
    _weak: frozenset[bytes] = frozenset()
    _call: re.Pattern[bytes] | None = None
    _ph_digits: re.Pattern[bytes] | None = None
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._keywords = frozenset(w.lower().encode() for w in self.cfg["non_secret_key_words"])
        self._ph = [str(p).lower().encode() for p in self.cfg["placeholders"]]
        # A placeholder word of six letters or more followed by digits only (changeme123, secret2): `pass2019`
        # (a four-letter word) stays a password.
        long_words = [re.escape(p) for p in self._ph if len(p) >= 6 and p.isalpha()]
        self._ph_digits = re.compile(b"(?:" + b"|".join(long_words) + b")[0-9]+") if long_words else None
        self._weak = frozenset(str(w).lower().encode() for w in self.cfg["weak_passwords"])
        self._call = re.compile(self.cfg["call_pattern"].encode()) if self.cfg["call_pattern"] else None
        self.classes = {"ddkit." + str(c["id"]): c for c in self.cfg["credential_files"] or []}
        self._php = [re.compile(p.encode()) for p in self.cfg["placeholder_patterns"]]
        self._hash = [re.compile(p.encode(), re.I) for p in self.cfg["hash_context"]]
        self._local = [h.lower().encode() for h in self.cfg["local_hosts"]]

    @classmethod
    def from_rules(cls, rules: Any = None, readme_says_test=None) -> Context:
        return cls(settings(rules), readme_says_test)

    def placeholder(self, value: bytes, line: bytes | None = None) -> bool:
        """Whether the whole *value* is a placeholder: one of the placeholder words (or a long one followed
        by digits), or a value a placeholder pattern matches; with *line*, also code call syntax around an
        identifier when the value is not a quoted literal there (``get_secret('api')``)."""
        low = value.lower()
        if low in self._ph or (self._ph_digits is not None and self._ph_digits.fullmatch(low)):
            return True
        if any(r.search(value) for r in self._php):
            return True
        return bool(line is not None and self._call is not None and self._call.match(value)
                    and not _quoted(line, value))

    def weak(self, value: bytes) -> bool:
        """Whether *value* is a known weak or default password (the whole value)."""
        return value.lower() in self._weak

    def _trivial(self, value: bytes) -> bool:
        """A provider-shaped value that is visibly a placeholder (xxxx…, 0000…, <…>, ${…})."""
        body = value[4:] if len(value) > 8 else value
        return (len(set(body.lower())) <= 2 or b"xxxxxxxx" in value.lower() or b"${" in value
                or value.startswith(b"<") or b"{{" in value)

    def key_names_no_secret(self, line: bytes, value: bytes) -> bool:
        """Whether the key assigned *value* on *line* ends in a word that names something about a credential
        (``repo-token-user-login``, ``PasswordSender``, ``auth_token_url``) rather than the credential."""
        if not self._keywords:
            return False
        at = line.find(value)
        m = _KEY_BEFORE.search(line[:at]) if at > 0 else None
        if m is None:
            return False
        words = _WORDS.findall(m.group(1))
        return bool(words) and words[-1].lower() in self._keywords

    def decide(self, tier: str, detector_id: str, path: str, line: bytes, value: bytes) -> tuple[str, str]:
        """(action, reason) for one occurrence."""
        cfg = self.cfg
        cls = self.classes.get(detector_id)
        if cls is not None:
            return self._credential_file(cls, path, line, value)
        if detector_id in cfg["local_url_detectors"] and any(h in line.lower() for h in self._local):
            return SUPPRESS, "local development address"
        if tier == "provider":
            if self._trivial(value) or (detector_id in cfg["local_url_detectors"] and self.placeholder(value)):
                return SUPPRESS, PLACEHOLDER
            if any(k in detector_id for k in cfg["test_key_detectors"]):
                if first_match(path, cfg["tests"]) or (self.readme_says_test and self.readme_says_test(path)):
                    return DOWNGRADE, TEST_KEY
            return REPORT, ""
        if self.placeholder(value, line):
            return SUPPRESS, PLACEHOLDER
        if any(r.search(line) for r in self._hash):
            return SUPPRESS, "hash or checksum"
        if detector_id in _ASSIGNMENT_DETECTORS and self.key_names_no_secret(line, value):
            return SUPPRESS, "key names no secret"
        if first_match(path, cfg["lockfiles"]):
            return SUPPRESS, "lockfile or checksum file"
        if first_match(path, cfg["vendored"]):
            return SUPPRESS, "vendored third-party code"
        if first_match(path, cfg["tests"]):
            return SUPPRESS, "test fixture"
        if first_match(path, cfg["docs"]):
            return SUPPRESS, "documentation or example"
        if self.weak(value):
            return DOWNGRADE, WEAK
        if tier == "entropy":
            return DOWNGRADE, "possible secret, review"
        return REPORT, ""

    def _credential_file(self, cls: dict[str, Any], path: str, line: bytes, value: bytes) -> tuple[str, str]:
        """A credential file's match: reported, or downgraded with the reason; never set aside."""
        cfg = self.cfg
        name = str(cls.get("name") or cls["id"])
        for key, why in (("lockfiles", "lockfile or checksum file"), ("vendored", "vendored third-party code"),
                         ("tests", "test fixture"), ("docs", "documentation or example")):
            if first_match(path, cfg[key]):
                return DOWNGRADE, f"{why}: a committed {name}"
        judged = _decoded(value) if cls.get("decode") == "base64-userpass" else value
        if not judged.strip() or self.weak(judged) or self.placeholder(judged):
            return DOWNGRADE, f"weak or placeholder password in a committed {name}"
        return REPORT, ""


def _quoted(line: bytes, value: bytes) -> bool:
    """Whether *value* stands in *line* as a quoted string literal (a quote right before it)."""
    at = line.find(value)
    return at > 0 and line[at - 1] in _QUOTES


def _decoded(value: bytes) -> bytes:
    """The password in base64 of ``user:password`` (Docker's and npm's ``auth``); the value itself when it
    is not such base64 (a token)."""
    import base64
    import binascii
    try:
        text = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value
    if b":" not in text:
        return value
    return text.split(b":", 1)[1]


def settings(rules: Any = None) -> dict[str, Any]:
    """The ``secrets:`` settings of ``rules/security.yaml`` over ddkit's defaults."""
    if rules is None:
        from ...config import load_rules
        rules = load_rules(None)
    sec = (rules.get("security", {}) or {}).get("secrets", {}) or {}
    out = {**DEFAULTS, **sec}
    out["severities"] = {**DEFAULTS["severities"], **(sec.get("severities") or {})}
    # The project's vendored-path globs (rules/paths.yaml) count as vendored here too.
    extra = [v["glob"] for v in ((rules.get("paths", {}) or {}).get("vendored") or []) if isinstance(v, dict)]
    out["vendored"] = list(dict.fromkeys([*out["vendored"], *extra]))
    return out


def unknown_keys(rules: Any) -> list[str]:
    if rules is None or not hasattr(rules, "get"):
        return []
    sec = (rules.get("security", {}) or {}).get("secrets", {}) or {}
    return sorted(k for k in sec if k not in KNOWN_KEYS)
