"""ddkit's own detectors: generic credentials, credential files and the provider formats an engine may
deliberately skip (e.g. AWS's documented example key, which sample repositories plant).

Each detector is one regular expression with a ``secret`` group (what is fingerprinted), written in the
subset that both Python's ``re`` and Hyperscan understand, so the Hyperscan screen (one pass over a
whole block) flags exactly the lines where ``re`` can match: it changes the time, never the result
(tested against scanning every line). ``paths`` restricts a detector to files whose name matches one
of its globs (credential files recognised by name *and* content).

The detectors written here are the ones that look at code (assignments, URLs, provider formats). The
credential-file detectors are data: ``secrets.credential_files`` in ``rules/security.yaml`` (one class
per file format, with the file names, what each key holds and the patterns), turned into detectors by
:func:`credential_detectors`; their matches are judged by the file's format (see :mod:`.context`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROVIDER, GENERIC, ENTROPY, INFO = "provider", "generic", "entropy", "info"

# Names of config-like files where unquoted `key = value` assignments are data, not code.
CONFIG_FILES = ["*.env", ".env", ".env.*", "*.ini", "*.cfg", "*.conf", "*.config", "*.properties", "*.yaml",
                "*.yml", "*.toml", "*.sh", "*.bash", "*.zsh", ".bashrc", ".bash_profile", ".zshrc", ".profile",
                ".zprofile", ".bash_login", "*.envrc", ".envrc", "Dockerfile", "*.dockerfile", "docker-compose*",
                "*.tfvars", "*.service"]
_KEYWORD = (rb"(?:passw(?:or)?d|passwd|pwd|secret|api[_.-]?key|apikey|access[_.-]?key|auth[_.-]?token|access[_.-]?token"
            rb"|client[_.-]?secret|private[_.-]?key|token)")


@dataclass(frozen=True)
class Detector:
    id: str
    name: str
    tier: str
    pattern: bytes
    paths: tuple[str, ...] = ()
    ignorecase: bool = False
    cls: str = ""             # the credential-file class (rules/security.yaml) this detector belongs to
    decode: str = ""          # how the value is read before it is judged (base64-userpass)
    next_line: bool = False   # the fingerprint covers the next line too (a PEM header is the same everywhere)

    def compile(self) -> re.Pattern[bytes]:
        return re.compile(self.pattern, re.I if self.ignorecase else 0)


def _d(id_, name, tier, pattern, paths=(), i=False):
    return Detector(id_, name, tier, pattern, tuple(paths), i)


DETECTORS: list[Detector] = [
    # Provider formats an engine may filter as "documented examples": a planted key is still a leak.
    _d("aws-access-key-id", "AWS Access Key", PROVIDER,
       rb"(?:^|[^A-Za-z0-9+/])(?P<secret>(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})(?:[^A-Za-z0-9+/]|$)"),
    _d("aws-secret-access-key", "AWS Secret Access Key", PROVIDER,
       rb"aws_?secret_?(?:access_?)?key[\"']?\s*(?::|=>|=)\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)", i=True),
    _d("database-url", "Database URL with password", PROVIDER,
       rb"(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|oracle|jdbc:[a-z]+)://"
       rb"[^:/\s@\"'<>]{1,64}:(?P<secret>[^@/\s\"'<>]{3,128})@[A-Za-z0-9.\-_]+", i=True),
    _d("telegram-bot-token", "Telegram bot token", PROVIDER,
       rb"(?:^|[^0-9A-Za-z_:])(?P<secret>[0-9]{8,10}:AA[0-9A-Za-z_\-]{33})(?:[^0-9A-Za-z_\-]|$)"),
    # Generic credentials.
    _d("basic-auth-url", "Basic Auth Credentials in URL", GENERIC,
       rb"[a-z][a-z0-9+.\-]{1,15}://[^:/\s@\"'<>]{1,64}:(?P<secret>[^@/\s\"'<>]{3,128})@[A-Za-z0-9.\-_]+", i=True),
    _d("password-assignment", "Password or secret assignment", GENERIC,
       _KEYWORD + rb"[A-Za-z0-9_.\-]{0,20}[\"']?\s*(?::=|=>|==|:|=)\s*[\"'](?P<secret>[^\"'\s]{8,200})[\"']", i=True),
    _d("config-password", "Password or secret in a configuration file", GENERIC,
       _KEYWORD + rb"[A-Za-z0-9_.\-]{0,20}[\"']?\s*(?::|=)\s*(?P<secret>[^\s\"'#;,]{8,200})(?:\s|$)", CONFIG_FILES, i=True),
    _d("rails-secret-key-base", "Rails secret_key_base", GENERIC,
       rb"secret_key_base:\s*[\"']?(?P<secret>[0-9a-f]{64,})"),
    _d("heroku-api-key", "Heroku API key", GENERIC,
       rb"HEROKU_API_KEY[\"']?\s*[:=]\s*[\"']?(?P<secret>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"),
    _d("putty-private-key", "PuTTY private key", PROVIDER, rb"Private-MAC:\s*(?P<secret>[0-9a-f]{40,64})"),
    # Provider formats of gitleaks' default rules that kingfisher (at the confidence ddkit asks of it) does
    # not report (docs/secrets.md lists every family and the engine that covers it).
    _d("alibaba-access-key-id", "Alibaba Cloud AccessKey ID", PROVIDER,
       rb"(?:^|[^A-Za-z0-9])(?P<secret>LTAI[A-Za-z0-9]{12,20})(?:[^A-Za-z0-9]|$)"),
    _d("artifactory-api-key", "JFrog Artifactory API key", PROVIDER,
       rb"(?:^|[^A-Za-z0-9])(?P<secret>AKCp[A-Za-z0-9]{69})(?:[^A-Za-z0-9]|$)"),
    _d("artifactory-reference-token", "JFrog Artifactory reference token", PROVIDER,
       rb"(?:^|[^A-Za-z0-9])(?P<secret>cmVmd[A-Za-z0-9]{59})(?:[^A-Za-z0-9]|$)"),
    _d("azure-ad-client-secret", "Azure AD client secret", PROVIDER,
       rb"(?:^|[\\'\"`\s>=:(,)])(?P<secret>[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34})(?:[\\'\"`\s<),]|$)"),
    _d("clickhouse-cloud-api-secret-key", "ClickHouse Cloud API secret key", PROVIDER,
       rb"(?:^|[^A-Za-z0-9])(?P<secret>4b1d[A-Za-z0-9]{38})(?:[^A-Za-z0-9]|$)"),
    _d("flyio-access-token", "Fly.io access token", PROVIDER,
       rb"(?:^|[^A-Za-z0-9_])(?P<secret>fo1_[A-Za-z0-9_\-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3})"),
    _d("harness-api-key", "Harness API key", PROVIDER,
       rb"(?:^|[^A-Za-z0-9_])(?P<secret>(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})(?:[^A-Za-z0-9]|$)"),
    _d("planetscale-token", "PlanetScale token or password", PROVIDER,
       rb"(?:^|[^A-Za-z0-9_])(?P<secret>pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.\-]{32,64})(?:[^A-Za-z0-9_=.\-]|$)"),
    # detect-secrets' provider plugins that neither engine reported (docs/secrets.md).
    _d("square-oauth-secret", "Square OAuth secret or access token", PROVIDER,
       rb"(?:^|[^A-Za-z0-9_])(?P<secret>sq0csp-[0-9A-Za-z_\-]{43}|sq0atp-[0-9A-Za-z_\-]{22}|EAAA[A-Za-z0-9_\-+=]{60})(?:[^A-Za-z0-9_\-+=]|$)"),
    _d("discord-bot-token", "Discord bot token", PROVIDER,
       rb"(?:^|[^A-Za-z0-9_\-.])(?P<secret>[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})(?:[^A-Za-z0-9_\-.]|$)"),
    _d("mailchimp-api-key", "Mailchimp API key", PROVIDER,
       rb"(?:^|[^A-Za-z0-9])(?P<secret>[0-9a-f]{32}-us[0-9]{1,2})(?:[^A-Za-z0-9]|$)"),
    _d("azure-storage-account-key", "Azure storage account key", PROVIDER,
       rb"AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)"),
    # A Stripe test-mode key opens the account's test data only: generic, so test and docs paths set it aside.
    _d("stripe-test-key", "Stripe test-mode secret key", GENERIC,
       rb"(?:^|[^A-Za-z0-9_])(?P<secret>(?:sk|rk)_test_[A-Za-z0-9]{10,99})(?:[^A-Za-z0-9]|$)"),
]



def credential_detectors(classes: list[dict]) -> list[Detector]:
    """One detector per pattern of each credential-file class (``secrets.credential_files``)."""
    out = []
    for c in classes or []:
        for pat in c.get("patterns") or []:
            out.append(Detector(str(c["id"]), str(c.get("name") or c["id"]), str(c.get("tier") or GENERIC),
                                pat.encode(), tuple(c.get("files") or ()), bool(c.get("ignorecase")),
                                cls=str(c["id"]), decode=str(c.get("decode") or ""),
                                next_line=bool(c.get("next_line"))))
    return out


def all_detectors(cfg: dict | None = None) -> list[Detector]:
    """ddkit's code detectors and the credential-file detectors of *cfg* (the secrets settings; by default
    the shipped rules')."""
    if cfg is None:
        from .context import settings
        cfg = settings(None)
    return DETECTORS + credential_detectors(cfg.get("credential_files") or [])


def hyperscan_available() -> bool:
    try:
        import hyperscan  # noqa: F401
        return True
    except ImportError:
        return False


def _screen_database(exprs: list[bytes], flags: list[int]):
    """The Hyperscan database of the screen. Compiling it takes about 0.2 s (holding the GIL, beside the
    pipeline's main thread), so the compiled database is kept in the cache folder (ddkit.cache's sealed
    format), keyed by the expressions, flags, Hyperscan version and machine: a file that is not what this
    user's ddkit wrote, or that Hyperscan refuses, is compiled again and rewritten."""
    import platform

    import hyperscan

    from ... import cache
    path = None
    try:
        key = cache.entry_key(repr(exprs), flags, platform.machine(), platform.python_implementation(),
                              tools=("hyperscan",), length=24)
        path = cache.cache_dir("hyperscan") / f"{key}.hsdb"
    except Exception:       # no cache folder: compiled below
        pass
    codec = cache.Codec("hyperscan", hyperscan.dumpb, lambda body: hyperscan.loadb(body, hyperscan.HS_MODE_BLOCK))
    found = cache.load(path, codec)
    if found is not None:
        return found
    db = hyperscan.Database()
    try:
        db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=flags)
    except hyperscan.error as e:
        # A pattern Python accepts and Hyperscan does not (a look-behind, a back-reference): a user's
        # --rules class, named so that it can be rewritten (ddkit's own are tested against both).
        from ...errors import InputError
        bad = []
        for i, x in enumerate(exprs):
            try:
                hyperscan.Database().compile(expressions=[x], ids=[0], elements=1, flags=[flags[i]])
            except hyperscan.error:
                bad.append(x.decode("utf-8", "replace"))
        raise InputError("rules: security.yaml secrets: a detector pattern the Hyperscan screen cannot compile "
                         f"(use the subset Python's re and Hyperscan share): {'; '.join(bad) or e}") from None
    cache.save(path, codec, db)       # a database that cannot be serialised only costs time
    return db


class DetectorSet:
    """The detectors, compiled for ``re`` and (when installed) as two Hyperscan screens: one for the
    detectors that apply to every file, one for those restricted to some file names (the credential-file
    classes), which is run only over the lines of files with such a name (most files have none: screening
    every line for them doubled the screen's time on pip)."""

    def __init__(self, detectors: list[Detector] | None = None, screen: bool = True):
        from ...globs import any_regex
        self.detectors = list(detectors if detectors is not None else all_detectors())
        self.compiled = [d.compile() for d in self.detectors]
        self.anywhere = [i for i, d in enumerate(self.detectors) if not d.paths]
        self.by_path = [i for i, d in enumerate(self.detectors) if d.paths]
        self.path_rx = any_regex(tuple(sorted({g for i in self.by_path for g in self.detectors[i].paths})))
        self._path_memo: dict[str, bool] = {}
        self.db = self.db_paths = None
        if screen and hyperscan_available():
            self.db = self._database(self.anywhere)
            self.db_paths = self._database(self.by_path)
        import threading
        self._local = threading.local()

    def _database(self, which: list[int]):
        import hyperscan
        if not which:
            return None
        # The secret group name is Python-only: Hyperscan sees a plain group.
        exprs = [self.detectors[i].pattern.replace(b"(?P<secret>", b"(") for i in which]
        flags = [hyperscan.HS_FLAG_MULTILINE | (hyperscan.HS_FLAG_CASELESS if self.detectors[i].ignorecase else 0)
                 | hyperscan.HS_FLAG_ALLOWEMPTY for i in which]
        return _screen_database(exprs, flags)

    def candidates(self, text: bytes, starts: list[int],
                   groups: list[tuple[int, str]] | None = None) -> dict[int, set[int]]:
        """{line index: detector indexes} where a detector may match (every line without a screen).

        *groups*: (index of the first line, path) of each file's lines in *text*, in order; the detectors
        restricted to some file names are screened only over the lines of files with such a name (without
        *groups*, over every line)."""
        import bisect
        out: dict[int, set[int]] = {}
        if self.db is None and self.db_paths is None:
            all_ = set(range(len(self.detectors)))
            return {i: all_ for i in range(len(starts) - 1)}

        def scan(db, ids: list[int], key: str, lo: int, hi: int) -> None:
            def on(idx, _from, to, _flags, _ctx):
                line = bisect.bisect_right(starts, max(lo + to - 1, 0)) - 1
                out.setdefault(line, set()).add(ids[idx])
            scratch = getattr(self._local, key, None)
            if scratch is None:
                import hyperscan
                scratch = hyperscan.Scratch(db)  # one per thread and database
                setattr(self._local, key, scratch)
            db.scan(text[lo:hi] if (lo, hi) != (0, len(text)) else text, match_event_handler=on, scratch=scratch)

        if self.db is not None:
            scan(self.db, self.anywhere, "scratch", 0, len(text))
        if self.db_paths is not None:
            for lo, hi in self._ranges(starts, groups, len(text)):
                scan(self.db_paths, self.by_path, "scratch_paths", lo, hi)
        return out

    def _ranges(self, starts: list[int], groups: list[tuple[int, str]] | None, end: int) -> list[tuple[int, int]]:
        """Byte ranges of the text holding the lines of files a path-restricted detector may apply to
        (consecutive files joined into one range)."""
        if groups is None:
            return [(0, end)]
        out: list[tuple[int, int]] = []
        memo = self._path_memo
        for k, (first, path) in enumerate(groups):
            hit = memo.get(path)
            if hit is None:     # the same paths come back commit after commit: one match per path
                hit = memo[path] = self.path_rx.match(path) is not None
            if not hit:
                continue
            lo = starts[first]
            last = groups[k + 1][0] if k + 1 < len(groups) else len(starts) - 1
            hi = min(starts[last], end)
            if out and out[-1][1] >= lo - 1:
                out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
        return out
