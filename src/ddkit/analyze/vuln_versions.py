"""Versions and ranges for vulnerability matching: OSV ``ranges``/``versions`` against a dependency's version
or the range its manifest allows.

Every comparison of two versions is made by a maintained version library, never by hand: ``univers`` (its
per-ecosystem classes: PEP 440 for PyPI, semver for npm/crates.io/Hex/Pub and OSV's SEMVER ranges, Maven's,
RubyGems', Composer's, NuGet's, Go's) and ``packaging`` to read PEP 440 requirement specifiers (univers does
not read ``~=`` or ``==1.*``). What is ddkit's here is only the set arithmetic: an OSV range becomes
intervals (``introduced`` opens one, ``fixed``/``limit`` closes it before, ``last_affected`` after), a
manifest's requirement becomes the intervals it allows, and a dependency is affected when the two meet.

An interval is ``(lo, lo_inclusive, hi, hi_inclusive)`` with ``None`` for an open end.
"""

from __future__ import annotations

import functools
import re
from typing import Any

Interval = tuple[Any, bool, Any, bool]

# OSV ecosystem -> univers version class name for ECOSYSTEM ranges and the dependency's versions.
_ECOSYSTEM_CLASS = {
    "PyPI": "PypiVersion", "npm": "SemverVersion", "Go": "GolangVersion", "Maven": "MavenVersion",
    "crates.io": "SemverVersion", "RubyGems": "RubygemsVersion", "Packagist": "ComposerVersion",
    "NuGet": "NugetVersion", "Hex": "SemverVersion", "Pub": "SemverVersion",
}
# purl type -> univers range scheme used to read a manifest's requirement (where univers reads the native form).
_NATIVE_RANGE = {"npm": "npm", "gem": "gem", "nuget": "nuget", "maven": "maven"}


@functools.lru_cache(maxsize=16)
def _cls(name: str):
    import univers.versions as uv
    return getattr(uv, name)


def version_class(osv_ecosystem: str, range_type: str = "ECOSYSTEM") -> str | None:
    """The univers class comparing versions of this range type in this ecosystem (None: not comparable)."""
    if range_type == "SEMVER":
        return "SemverVersion"
    if range_type == "GIT":
        return None
    return _ECOSYSTEM_CLASS.get(osv_ecosystem)


@functools.lru_cache(maxsize=200_000)
def parse(cls_name: str, text: str):
    """A version of class *cls_name*, or None when the string is not one (never raises)."""
    t = text.strip()
    if cls_name in ("SemverVersion", "GolangVersion"):
        t = t[1:] if t[:1] in ("v", "V") and t[1:2].isdigit() else t   # OSV's Go SEMVER ranges drop the "v"
        # semver needs three parts: "1.2" is "1.2.0" to npm's and cargo's resolvers.
        m = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?([-+].*)?", t)
        if m is None:
            return None
        t = f"{m.group(1)}.{m.group(2) or 0}.{m.group(3) or 0}{m.group(4) or ''}"
    try:
        return _cls("SemverVersion" if cls_name == "GolangVersion" else cls_name)(t)
    except Exception:   # univers raises its own and the wrapped libraries' errors on a malformed version
        return None


def _lt(a, b) -> bool:
    try:
        return bool(a < b)
    except Exception:   # versions of kinds that do not compare: neither is lower (OSV's order keeps them)
        return False


# ----------------------------------------------------------------------------- OSV ranges
def range_intervals(cls_name: str, events: list[tuple[str, str]]) -> list[Interval] | None:
    """The affected intervals of one OSV range (``events`` as given); None when a version in it cannot be read.

    As OSV's evaluation specifies: events are sorted by version ("0" lowest); ``introduced`` opens an interval,
    ``fixed`` and ``limit`` close it before their version, ``last_affected`` after it."""
    parsed: list[tuple[Any, str]] = []
    for kind, v in events:
        if kind == "introduced" and v == "0":
            parsed.append((None, kind))
            continue
        pv = parse(cls_name, v)
        if pv is None:
            return None
        parsed.append((pv, kind))
    order = {"introduced": 1, "fixed": 0, "limit": 0, "last_affected": 2}

    def cmp(x: tuple[Any, str], y: tuple[Any, str]) -> int:
        """By version, None ("0") first; at one version, fixed before introduced (a re-introduction)."""
        if x[0] is None or y[0] is None:
            return (x[0] is not None) - (y[0] is not None) or order[x[1]] - order[y[1]]
        if _lt(x[0], y[0]):
            return -1
        if _lt(y[0], x[0]):
            return 1
        return order[x[1]] - order[y[1]]
    parsed_sorted = sorted(parsed, key=functools.cmp_to_key(cmp))
    out: list[Interval] = []
    start: Any = _CLOSED
    for v, kind in parsed_sorted:
        if kind == "introduced":
            if start is _CLOSED:
                start = v
        elif start is not _CLOSED:
            if kind in ("fixed", "limit"):
                out.append((start, True, v, False))
            else:
                out.append((start, True, v, True))
            start = _CLOSED
    if start is not _CLOSED:
        out.append((start, True, None, False))
    return out


_CLOSED = object()


def fixed_versions(events: list[tuple[str, str]]) -> list[str]:
    return [v for k, v in events if k == "fixed"]


# ----------------------------------------------------------------------------- the dependency's side
def _pep440_intervals(spec: str, cls_name: str) -> list[Interval] | None:
    """Intervals a PEP 440 specifier set allows (``!=`` ignored: it removes points, never an interval)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    try:
        ss = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    lo: Any = None
    lo_inc = True
    hi: Any = None
    hi_inc = True

    def raise_lo(v, inc):
        nonlocal lo, lo_inc
        if lo is None or _lt(lo, v) or (not _lt(v, lo) and not inc):
            lo, lo_inc = v, inc

    def lower_hi(v, inc):
        nonlocal hi, hi_inc
        if hi is None or _lt(v, hi) or (not _lt(hi, v) and not inc):
            hi, hi_inc = v, inc
    for s in ss:
        op, ver = s.operator, s.version
        if op == "!=":
            continue
        if op in ("==", "===") and ver.endswith(".*"):
            parts = ver[:-2].split(".")
            a = parse(cls_name, ".".join(parts))
            nums = [int(x) if x.isdigit() else None for x in parts]
            if a is None or None in nums:
                return None
            b = parse(cls_name, ".".join(map(str, nums[:-1] + [nums[-1] + 1])) + ".dev0")  # type: ignore[operator]
            raise_lo(a, True)
            lower_hi(b, False)
            continue
        v = parse(cls_name, ver)
        if v is None:
            return None
        if op in ("==", "==="):
            raise_lo(v, True)
            lower_hi(v, True)
        elif op == ">=":
            raise_lo(v, True)
        elif op == ">":
            raise_lo(v, False)
        elif op == "<=":
            lower_hi(v, True)
        elif op == "<":
            lower_hi(v, False)
        elif op == "~=":
            parts = ver.split(".")
            if len(parts) < 2:
                return None
            head = [p for p in parts[:-1]]
            try:
                head[-1] = str(int(re.match(r"\d+", head[-1]).group()) + 1)   # type: ignore[union-attr]
            except (AttributeError, ValueError):
                return None
            up = parse(cls_name, ".".join(head) + ".dev0")
            if up is None:
                return None
            raise_lo(v, True)
            lower_hi(up, False)
    return [(lo, lo_inc, hi, hi_inc)]


def _univers_intervals(scheme: str, spec: str) -> list[Interval] | None:
    """Intervals of a requirement univers reads natively (npm, RubyGems, NuGet, Maven)."""
    import univers.version_range as uvr
    try:
        vr = uvr.RANGE_CLASS_BY_SCHEMES[scheme].from_native(spec)
    except Exception:   # univers raises many kinds on a requirement it does not read
        return None
    out: list[Interval] = []
    lo: Any = _CLOSED
    lo_inc = True
    for c in vr.constraints:
        comp, v = c.comparator, c.version
        if comp == "!=":
            continue
        if comp in ("=", "=="):
            if lo is not _CLOSED:
                out.append((lo, lo_inc, None, False))
                lo = _CLOSED
            out.append((v, True, v, True))
        elif comp in (">", ">="):
            if lo is not _CLOSED:
                out.append((lo, lo_inc, None, False))
            lo, lo_inc = v, comp == ">="
        elif comp in ("<", "<="):
            out.append((None if lo is _CLOSED else lo, True if lo is _CLOSED else lo_inc, v, comp == "<="))
            lo = _CLOSED
        elif comp == "*":
            return [(None, True, None, False)]
    if lo is not _CLOSED:
        out.append((lo, lo_inc, None, False))
    return out


def _caret(cls_name: str, spec: str) -> list[Interval] | None:
    """A bare or caret requirement as Cargo and Composer read it: "1.2" and "^1.2" allow >=1.2.0, <2.0.0."""
    m = re.fullmatch(r"\^?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", spec.strip())
    if m is None:
        return None
    a, b, c = int(m.group(1)), m.group(2), m.group(3)
    lo = parse(cls_name, f"{a}.{b or 0}.{c or 0}")
    if a > 0 or b is None:
        up = f"{a + 1}.0.0"
    elif int(b) > 0 or c is None:
        up = f"0.{int(b) + 1}.0"
    else:
        up = f"0.0.{int(c) + 1}"
    hi = parse(cls_name, up)
    if lo is None or hi is None:
        return None
    return [(lo, True, hi, False)]


_TAIL = re.compile(r"\s*(?:\\\s|--|;|#).*$", re.S)


def clean(requirement: Any) -> str | None:
    """A requirement without what follows it on its line(s): pip's ``--hash=`` options after a line
    continuation, an environment marker, a comment ("==75.8.0 \\ --hash=sha256:..." -> "==75.8.0")."""
    if not isinstance(requirement, str):
        return None
    return _TAIL.sub("", requirement).strip() or None


EXACT = re.compile(r"^\s*(?:==|=)?\s*v?[0-9][0-9A-Za-z.+_-]*\s*$")


def allowed(purl_type: str, osv_ecosystem: str, cls_name: str, version: str | None,
            exact: bool) -> list[Interval] | None:
    """The versions a dependency may be at: one point when *exact*, the requirement's intervals otherwise
    (every version when it states none); None when the requirement cannot be read."""
    if version is None or not str(version).strip() or str(version).strip() in ("*", "latest", "x"):
        return [(None, True, None, False)]
    text = str(version).strip()
    if exact:
        v = parse(cls_name, text.lstrip("=").strip())
        return None if v is None else [(v, True, v, True)]
    if osv_ecosystem == "PyPI":
        return _pep440_intervals(text, cls_name)
    if purl_type in ("cargo", "composer"):
        got = _caret(cls_name, text)
        if got is not None:
            return got
    scheme = _NATIVE_RANGE.get(purl_type)
    if scheme is not None:
        got = _univers_intervals(scheme, text)
        if got is not None:
            return got
    if EXACT.match(text):
        v = parse(cls_name, text.lstrip("=").strip())
        return None if v is None else [(v, True, v, True)]
    return None


def overlaps(a: Interval, b: Interval) -> bool:
    """Whether two intervals share a version."""
    alo, alo_inc, ahi, ahi_inc = a
    blo, blo_inc, bhi, bhi_inc = b
    # a's upper end must be at or above b's lower end, and the other way round.
    return _above(ahi, ahi_inc, blo, blo_inc) and _above(bhi, bhi_inc, alo, alo_inc)


def _above(hi, hi_inc, lo, lo_inc) -> bool:
    if hi is None or lo is None:
        return True
    if _lt(lo, hi):
        return True
    if _lt(hi, lo):
        return False
    return hi_inc and lo_inc    # the same version: only if both ends include it


def contains(intervals: list[Interval], v) -> bool:
    return any(overlaps(iv, (v, True, v, True)) for iv in intervals)


def text(v: Any) -> str:
    """A univers version as written."""
    return str(getattr(v, "string", v))


def show(iv: Interval) -> str:
    lo, lo_inc, hi, hi_inc = iv
    parts = []
    if lo is not None:
        parts.append(f"{'>=' if lo_inc else '>'}{text(lo)}")
    if hi is not None:
        if lo is not None and text(hi) == text(lo) and lo_inc and hi_inc:
            return f"={text(lo)}"
        parts.append(f"{'<=' if hi_inc else '<'}{text(hi)}")
    return ", ".join(parts) or "every version"
