"""An offline vulnerability database: OSV advisories as published, read without network (``--vuln-db``).

A database path is one of: an OSV ``all.zip`` (one per ecosystem, as https://osv-vulnerabilities.storage.googleapis.com
publishes them), a directory of OSV JSON files (searched recursively; ``*.zip`` files inside it are read as
``all.zip`` too), or one OSV JSON file (one advisory, or a list of them). Several paths may be given; an
advisory found twice (the same id) is kept once, the most recently modified.

The database is the user's input, but it is a download from the internet: every read is bounded. A zip's
members are checked against :data:`MAX_MEMBER_BYTES`, :data:`MAX_TOTAL_BYTES` and :data:`MAX_RATIO` from its
central directory *before* anything is inflated, and each member is then read with a hard cap (a header
may lie). A malformed advisory (not JSON, not an object, no ``id`` or ``modified``, ``affected`` not in the
OSV shape) is skipped and counted in one warning, never an error; a path that is not there, or a zip that
cannot be opened or breaks a bound, is an :class:`~ddkit.errors.InputError` (exit 2).

``load()`` returns a :class:`VulnDB`: the advisories, an index by (OSV ecosystem, normalised package name)
for matching (``analyze/vulnerabilities.py``), the snapshot date (the newest ``modified``) and warnings.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
import stat
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

# Bounds (README: Vulnerabilities). PyPI's all.zip is about 20 MB inflated, npm's about 700 MB (most of it
# malicious-package reports); the largest single advisory in OSV is well under 1 MB.
MAX_MEMBER_BYTES = 8 << 20
MAX_TOTAL_BYTES = 4 << 30
MAX_RATIO = 200            # inflated / compressed size of one member above which it is a zip bomb, not JSON
MAX_FILES = 2_000_000      # advisories in one database path
MAX_WARN_EXAMPLES = 5

# purl type (ddkit's dependency `ecosystem` column) -> OSV ecosystem name (https://ossf.github.io/osv-schema/).
OSV_ECOSYSTEM = {
    "pypi": "PyPI", "npm": "npm", "golang": "Go", "maven": "Maven", "cargo": "crates.io", "gem": "RubyGems",
    "composer": "Packagist", "nuget": "NuGet", "pub": "Pub", "hex": "Hex", "swift": "SwiftURL", "cran": "CRAN",
    "hackage": "Hackage", "conan": "ConanCenter", "github": "GitHub Actions", "cocoapods": "CocoaPods",
    "bitnami": "Bitnami", "julia": "Julia",
}
RANGE_TYPES = ("SEMVER", "ECOSYSTEM", "GIT")
EVENT_KEYS = ("introduced", "fixed", "last_affected", "limit")
_PEP503 = re.compile(r"[-_.]+")


def base_ecosystem(eco: str) -> str:
    """'Debian:11' -> 'Debian', 'Ubuntu:Pro:22.04:LTS' -> 'Ubuntu': OSV's ecosystem before its release suffix."""
    return eco.split(":", 1)[0].strip()


def norm_package(osv_ecosystem: str, name: str) -> str:
    """The name the ecosystem's registry considers the same package: PEP 503 for PyPI, ``-``/``_`` alike on
    crates.io, case-insensitive everywhere (npm, Go module paths and Maven coordinates are lower-cased too:
    two packages differing only in case are the same name to a reader, and registries refuse such pairs)."""
    n = (name or "").strip().lower()
    if osv_ecosystem == "PyPI":
        n = _PEP503.sub("-", n)
    elif osv_ecosystem == "crates.io":
        n = n.replace("_", "-")
    return n


@dataclass(slots=True)
class Affected:
    """One ``affected[]`` entry of an advisory: the package and its ranges/versions."""

    ecosystem: str                 # base OSV ecosystem (PyPI, npm, Go, ...)
    name: str                      # as written in the advisory
    ranges: list[tuple[str, list[tuple[str, str]]]]   # (type, [(event kind, version), ...])
    versions: list[str]
    severity: str | None = None    # ecosystem_specific / database_specific severity of this entry, if any


@dataclass(slots=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    modified: dt.datetime
    published: dt.datetime | None
    summary: str
    severity: str | None           # ddkit's severity (critical ... info) from the CVSS vector or the database's
    severity_source: str           # e.g. "CVSS:3.1 base score 9.8", "database_specific: MODERATE", "not given"
    cvss_vector: str | None
    cvss_score: float | None
    affected: list[Affected]
    source: str                    # file (and member) it was read from
    related: tuple[str, ...] = ()


@dataclass
class VulnDB:
    paths: list[str]
    advisories: dict[str, Advisory] = field(default_factory=dict)
    index: dict[tuple[str, str], list[tuple[Advisory, Affected]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    malformed: int = 0
    withdrawn: int = 0
    digest: str = ""

    @property
    def snapshot(self) -> dt.datetime | None:
        """The newest ``modified`` of any advisory read: how recent the database is."""
        return max((a.modified for a in self.advisories.values()), default=None)

    @property
    def ecosystems(self) -> list[str]:
        return sorted({e for e, _ in self.index})

    def lookup(self, osv_ecosystem: str, name: str) -> list[tuple[Advisory, Affected]]:
        return self.index.get((osv_ecosystem, norm_package(osv_ecosystem, name)), [])

    def describe(self) -> dict[str, Any]:
        snap = self.snapshot
        return {"paths": list(self.paths), "advisories": len(self.advisories),
                "ecosystems": self.ecosystems, "snapshot": snap.date().isoformat() if snap else None,
                "malformed": self.malformed, "withdrawn": self.withdrawn}


# ----------------------------------------------------------------------------- severity
_LEVELS = {"CRITICAL": "critical", "HIGH": "high", "MODERATE": "medium", "MEDIUM": "medium", "LOW": "low",
           "NONE": "info", "INFO": "info", "INFORMATIONAL": "info"}


@functools.lru_cache(maxsize=65536)
def cvss_severity(kind: str, vector: str) -> tuple[str, float] | None:
    """(ddkit severity, base score) of a CVSS vector, with the ``cvss`` package; None if it is not one.
    (Kept per vector: a database repeats a few thousand vectors over its advisories.)"""
    try:
        import cvss
        if kind == "CVSS_V4":
            c4 = cvss.CVSS4(vector)
            return _LEVELS.get(str(c4.severity).upper(), "medium"), float(c4.base_score)
        if kind == "CVSS_V3":
            c3 = cvss.CVSS3(vector)
            return _LEVELS.get(str(c3.severities()[0]).upper(), "medium"), float(c3.scores()[0])
        if kind == "CVSS_V2":
            c2 = cvss.CVSS2(vector)
            return _LEVELS.get(str(c2.severities()[0]).upper(), "medium"), float(c2.scores()[0])
    except Exception:   # a malformed vector: the caller falls back on the database's own severity
        return None
    return None


def _severity(doc: dict, affected: list[Affected]) -> tuple[str | None, str, str | None, float | None]:
    """(severity, where it came from, CVSS vector, CVSS base score): the newest CVSS version given wins; else
    ``database_specific.severity`` (GitHub's CRITICAL/HIGH/MODERATE/LOW), else an affected entry's."""
    sev = doc.get("severity")
    if isinstance(sev, list):
        for kind in ("CVSS_V4", "CVSS_V3", "CVSS_V2"):
            for s in sev:
                if isinstance(s, dict) and s.get("type") == kind and isinstance(s.get("score"), str):
                    got = cvss_severity(kind, s["score"])
                    if got is not None:
                        label = s["score"].split("/", 1)[0] if s["score"].startswith("CVSS:") else kind
                        return got[0], f"{label} base score {got[1]:g}", s["score"], got[1]
    ds = doc.get("database_specific")
    if isinstance(ds, dict) and isinstance(ds.get("severity"), str) and ds["severity"].upper() in _LEVELS:
        return _LEVELS[ds["severity"].upper()], f"database_specific severity {ds['severity']}", None, None
    for a in affected:
        if a.severity:
            return _LEVELS[a.severity.upper()], f"affected severity {a.severity}", None, None
    return None, "not given by the advisory", None, None


# ----------------------------------------------------------------------------- validation
def _time(v: Any) -> dt.datetime | None:
    if not isinstance(v, str) or not v:
        return None
    try:
        t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _str_list(v: Any) -> list[str] | None:
    if v is None:
        return []
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return v
    return None


def parse_advisory(doc: Any, source: str) -> Advisory | None | str:
    """An :class:`Advisory` from one OSV document; ``"withdrawn"``; or None when it is malformed."""
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not doc["id"].strip():
        return None
    modified = _time(doc.get("modified"))
    if modified is None:
        return None
    if doc.get("withdrawn"):
        return "withdrawn"
    aliases, related = _str_list(doc.get("aliases")), _str_list(doc.get("related"))
    if aliases is None or related is None:
        return None
    entries = doc.get("affected", [])
    if not isinstance(entries, list):
        return None
    affected: list[Affected] = []
    for e in entries:
        if not isinstance(e, dict):
            return None
        pkg = e.get("package")
        if pkg is None:        # an affected entry of a git repository only (no package): not ours to match
            continue
        if not isinstance(pkg, dict) or not isinstance(pkg.get("ecosystem"), str) or not isinstance(pkg.get("name"), str):
            return None
        versions = _str_list(e.get("versions"))
        raw_ranges = e.get("ranges", [])
        if versions is None or not isinstance(raw_ranges, list):
            return None
        ranges = []
        for r in raw_ranges:
            if not isinstance(r, dict) or r.get("type") not in RANGE_TYPES or not isinstance(r.get("events"), list):
                return None
            events = []
            for ev in r["events"]:
                if not isinstance(ev, dict) or len(ev) != 1:
                    return None
                (k, v), = ev.items()
                if k not in EVENT_KEYS or not isinstance(v, str) or not v:
                    return None
                events.append((k, v))
            ranges.append((r["type"], events))
        sev = None
        for spec in (e.get("ecosystem_specific"), e.get("database_specific")):
            if isinstance(spec, dict) and isinstance(spec.get("severity"), str) and spec["severity"].upper() in _LEVELS:
                sev = spec["severity"]
                break
        affected.append(Affected(base_ecosystem(pkg["ecosystem"]), pkg["name"], ranges, list(versions), sev))
    summary: str = doc["summary"] if isinstance(doc.get("summary"), str) else ""
    if not summary and isinstance(doc.get("details"), str):
        summary = doc["details"].strip().split("\n", 1)[0][:200]
    severity, sev_source, vector, score = _severity(doc, affected)
    return Advisory(id=doc["id"].strip(), aliases=tuple(a.strip() for a in aliases if a.strip()), modified=modified,
                    published=_time(doc.get("published")), summary=summary, severity=severity,
                    severity_source=sev_source, cvss_vector=vector, cvss_score=score, affected=affected,
                    source=source, related=tuple(related))


# ----------------------------------------------------------------------------- reading
def _zip_members(path: Path) -> Iterator[tuple[str, bytes | None]]:
    """(member name, bytes or None when the member breaks a bound) of every ``.json`` member, bounds checked
    on the central directory before any member is inflated."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise InputError(f"--vuln-db {path}: not a readable zip file ({e})") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and i.filename.lower().endswith(".json")]
        if len(infos) > MAX_FILES:
            raise InputError(f"--vuln-db {path}: {len(infos)} members, more than the {MAX_FILES} allowed")
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL_BYTES:
            raise InputError(f"--vuln-db {path}: {total >> 20} MB once inflated, more than the "
                             f"{MAX_TOTAL_BYTES >> 20} MB allowed")
        for i in infos:
            if i.file_size > MAX_MEMBER_BYTES or (i.compress_size and i.file_size / i.compress_size > MAX_RATIO
                                                  and i.file_size > (1 << 20)):
                yield i.filename, None
                continue
            try:
                with zf.open(i) as fh:
                    data = fh.read(MAX_MEMBER_BYTES + 1)   # a header that lies about the size stops here
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
                yield i.filename, b""
                continue
            yield i.filename, (data if len(data) <= MAX_MEMBER_BYTES else None)


def _dir_files(root: Path) -> Iterator[Path]:
    """Every regular ``*.json`` and ``*.zip`` file under *root*, symbolic links not followed, in a stable order."""
    for d, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for f in sorted(files):
            if f.lower().endswith((".json", ".zip")):
                p = Path(d) / f
                try:
                    st = p.lstat()
                except OSError:   # vanished while listed: no data to read
                    continue
                if stat.S_ISREG(st.st_mode):     # not a link, a FIFO (reading one would wait forever) or a device
                    yield p


def _documents(path: Path) -> Iterator[tuple[str, Any]]:
    """(source, parsed JSON or an ``_Bad`` marker) of every advisory document under *path*."""
    if path.is_dir():
        n = 0
        for p in _dir_files(path):
            n += 1
            if n > MAX_FILES:
                raise InputError(f"--vuln-db {path}: more than {MAX_FILES} files")
            yield from _documents(p)
        return
    if path.suffix.lower() == ".zip":
        for name, data in _zip_members(path):
            yield f"{path}:{name}", _load_json(data)
        return
    try:
        size = path.stat().st_size
        if size > MAX_MEMBER_BYTES * 8:
            yield str(path), _BAD_SIZE
            return
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"--vuln-db {path}: cannot be read ({e.strerror or e})") from None
    doc = _load_json(data if len(data) <= MAX_MEMBER_BYTES * 8 else None)
    if isinstance(doc, list):          # a list of advisories (as an OSV query export gives)
        for i, d in enumerate(doc):
            yield f"{path}[{i}]", d
    else:
        yield str(path), doc


class _Bad:
    def __init__(self, why: str):
        self.why = why


_BAD_SIZE = _Bad("larger than the size bound")
_BAD_JSON = _Bad("not JSON")


def _load_json(data: bytes | None) -> Any:
    if data is None:
        return _BAD_SIZE
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return _BAD_JSON


def load(paths: Iterable[str | os.PathLike] | str | os.PathLike | None) -> VulnDB | None:
    """The database from every path given (None when none is)."""
    if paths is None:
        return None
    plist = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not plist:
        return None
    db = VulnDB(paths=[str(p) for p in plist])
    bad: list[str] = []
    digest = hashlib.sha256()
    for p in plist:
        path = Path(p)
        if not path.exists():
            raise InputError(f"--vuln-db {p}: no such file or folder")
        if not (path.is_dir() or path.is_file()):
            raise InputError(f"--vuln-db {p}: not a file or folder")
        for source, doc in _documents(path):
            adv = _Bad("not an OSV advisory") if isinstance(doc, _Bad) else parse_advisory(doc, source)
            if adv is None or isinstance(adv, _Bad):
                db.malformed += 1
                if len(bad) < MAX_WARN_EXAMPLES:
                    why = doc.why if isinstance(doc, _Bad) else "not in the OSV schema"
                    bad.append(f"{source} ({why})")
                continue
            if adv == "withdrawn":
                db.withdrawn += 1
                continue
            assert isinstance(adv, Advisory)
            prev = db.advisories.get(adv.id)
            if prev is None or adv.modified > prev.modified:
                db.advisories[adv.id] = adv
    for adv in db.advisories.values():
        digest.update(f"{adv.id}\0{adv.modified.isoformat()}\n".encode("utf-8", "surrogateescape"))
        for a in adv.affected:
            db.index.setdefault((a.ecosystem, norm_package(a.ecosystem, a.name)), []).append((adv, a))
    db.digest = digest.hexdigest()
    if db.malformed:
        db.warnings.append(f"vulnerabilities: {db.malformed} malformed advisor{'ies' if db.malformed != 1 else 'y'} "
                           f"skipped in --vuln-db, e.g. " + "; ".join(bad))
    if not db.advisories:
        db.warnings.append(f"vulnerabilities: no advisory could be read from --vuln-db {', '.join(db.paths)}")
    return db
