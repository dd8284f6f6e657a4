"""Package manifests and lockfiles, read with ScanCode's package detection (``packagedcode``, part of
scancode-toolkit): which paths are manifests, and one manifest's parse (its dependencies with the line
that declares each, the licenses a lockfile records, and warnings). The dependency stage
(``collect.dependencies``) and the history of manifests (``collect.dep_history``) are built on it.

A manifest is parsed alone, from its bytes, by ScanCode's *static* parsers only (setup.py is read as a
syntax tree, never run), in a private scratch folder; a manifest that cannot be parsed is a warning, never
an error: the scanned repository is untrusted input.
"""

from __future__ import annotations

import bisect
import collections
import os
import posixpath
import re
import shutil
import tempfile
from functools import lru_cache
from typing import Any

from .._version import installed_version
from ..cache import json_codec
from ..globs import fnmatch_any

# ScanCode data-file handlers used, by datasource id: manifests declare dependencies, lockfiles resolve them.
MANIFEST_IDS = {
    "npm_package_json", "pip_requirements", "pipfile", "pypi_pyproject_toml", "pypi_poetry_pyproject_toml",
    "pypi_setup_py", "pypi_setup_cfg", "maven_pom", "build_gradle", "go_mod", "godeps", "cargo_toml",
    "php_composer_json", "gemfile", "gemspec", "nuget_nupsec", "pubspec_yaml", "cocoapods_podfile",
    "cocoapods_podspec", "bower_json", "swift_package_manifest_json", "cran_description",
}
LOCKFILE_IDS = {
    "npm_package_lock_json", "npm_shrinkwrap_json", "yarn_lock_v1", "yarn_lock_v2", "pnpm_lock_yaml",
    "pipfile_lock", "pypi_poetry_lock", "go_sum", "cargo_lock", "php_composer_lock", "gemfile_lock",
    "nuget_packages_lock", "pubspec_lock", "cocoapods_podfile_lock", "swift_package_resolved",
}
MAX_MANIFEST_BYTES = 20 << 20
# What parse_manifest gives per row; the first-party columns are decided across manifests, in inventory().
_PARSED_COLUMNS = ["purl", "name", "version", "ecosystem", "scope", "direct", "manifest", "line", "kind",
                   "datasource", "lock_license"]
FIRST_PARTY_COLUMNS = ["first_party", "first_party_manifest", "first_party_license"]
DEP_INVENTORY_COLUMNS = _PARSED_COLUMNS + FIRST_PARTY_COLUMNS
_TYPE_ALIASES = {"pypi": "pypi", "npm": "npm", "golang": "golang"}


def _reuse_requirements_line_parser() -> None:
    """Make pip-requirements-parser (ScanCode's reader of requirements files) build its option parser once.

    It builds a new ``optparse`` parser for every line, because appendable options (``--hash``, ``-r`` …)
    accumulate into the parser's default lists; building it is about 1 ms, most of the time of reading a
    requirements file, and a history holds thousands of lines. The same result, cheaper: one parser, and
    a deep copy of its default values for each line (nothing accumulates). Checked against the original
    in tests/unit/test_dependency_parsing.py."""
    import copy
    import shlex

    import pip_requirements_parser as prp
    if getattr(prp.get_line_parser, "_ddkit", False):
        return
    parser = prp.build_parser()
    defaults = parser.get_default_values()

    def get_line_parser():
        def parse_line(line: str):
            args_str, options_str = prp.break_args_options(line)
            opts, arguments = parser.parse_args(shlex.split(options_str), copy.deepcopy(defaults))
            return args_str, opts, arguments
        return parse_line

    get_line_parser._ddkit = True     # type: ignore[attr-defined]
    prp._ddkit_original_get_line_parser = prp.get_line_parser   # kept for the equivalence test
    prp.get_line_parser = get_line_parser


@lru_cache(maxsize=1)
def handlers() -> tuple:
    from packagedcode import APPLICATION_PACKAGE_DATAFILE_HANDLERS
    _reuse_requirements_line_parser()
    return tuple(h for h in APPLICATION_PACKAGE_DATAFILE_HANDLERS if h.datasource_id in MANIFEST_IDS | LOCKFILE_IDS)


def scancode_version() -> str:
    """ScanCode's version: part of every cache key and of the report's versions."""
    return installed_version("scancode-toolkit")


@lru_cache(maxsize=1)
def _handler_screens() -> tuple[tuple[Any, re.Pattern[str] | None], ...]:
    """Each handler with a regular expression that must match a location for its ``is_datafile`` to be
    true, or None when the handler decides otherwise (it overrides ``is_datafile``). ScanCode's default
    ``is_datafile`` starts with ``fnmatchcase`` over ``path_patterns`` (and their yaml/yml aliases) and
    costs ~70 µs a call; 37 handlers times hundreds of manifest versions made it a second per scan."""
    from packagedcode.models import DatafileHandler
    default = DatafileHandler.is_datafile.__func__
    out: list[tuple[Any, re.Pattern[str] | None]] = []
    for h in handlers():
        if getattr(h.is_datafile, "__func__", None) is not default:
            out.append((h, None))
            continue
        pats = list(h.path_patterns) + [p.replace("yaml", "yml") for p in h.path_patterns]
        out.append((h, fnmatch_any(pats) if pats else None))
    return tuple(out)


def _handlers_for(location: str) -> list:
    """The handlers whose ``is_datafile`` may accept *location* (the same answers, fewer calls)."""
    return [h for h, screen in _handler_screens() if screen is None or screen.match(location) is not None]


@lru_cache(maxsize=1)
def _pattern_sets() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(manifest patterns, lockfile patterns) of the handlers used. Importing packagedcode takes about a
    second, so they are kept in the cache per ScanCode version (and ddkit code): a scan whose manifests
    are all already parsed never imports it. A cache file that is not what was written is recomputed."""
    from .. import cache
    path = cache.cache_dir("packagedcode") / f"patterns-{cache.entry_key(tools=('scancode-toolkit',))}.json"
    doc = cache.load(path, _PATTERNS_CODEC)
    if doc is not None:
        return tuple(doc["manifest"]), tuple(doc["lockfile"])
    man = tuple(sorted({pat for h in handlers() if h.datasource_id in MANIFEST_IDS for pat in h.path_patterns}))
    lock = tuple(sorted({pat for h in handlers() if h.datasource_id in LOCKFILE_IDS for pat in h.path_patterns}))
    cache.save(path, _PATTERNS_CODEC, {"manifest": man, "lockfile": lock})
    return man, lock


def _valid_patterns(doc: Any) -> bool:
    return isinstance(doc, dict) and all(
        isinstance(x, list) and x and all(isinstance(p, str) and p for p in x)
        for x in (doc.get("manifest"), doc.get("lockfile")))


_PATTERNS_CODEC = json_codec("packagedcode-patterns", _valid_patterns)


def _patterns() -> tuple[str, ...]:
    man, lock = _pattern_sets()
    return tuple(sorted(set(man) | set(lock)))


@lru_cache(maxsize=1)
def _matchers() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    man, lock = _pattern_sets()
    return fnmatch_any(man + lock), fnmatch_any(man), fnmatch_any(lock)


def is_manifest_path(path: str) -> bool:
    """Whether a path (relative, POSIX) names a manifest or lockfile ScanCode can read."""
    name = posixpath.basename(path)
    if name.startswith(".") and name != ".package-lock.json":
        return False
    return _matchers()[0].match("/" + path) is not None


def is_lockfile_path(path: str) -> bool:
    p = "/" + path
    _, man, lock = _matchers()
    return lock.match(p) is not None and man.match(p) is None


# ----------------------------------------------------------------------------- parsing
def ecosystem_of(purl_type: str | None) -> str:
    return purl_type or "unknown"


def norm_name(ecosystem: str, name: str) -> str:
    """The name a registry considers the same package (PEP 503 for PyPI; case-insensitive elsewhere)."""
    n = (name or "").strip().lower()
    if ecosystem == "pypi":
        n = re.sub(r"[-_.]+", "-", n)
    return n


def display_name(purl_type: str | None, namespace: str | None, name: str | None) -> str:
    if not namespace:
        return name or ""
    if purl_type == "maven":
        return f"{namespace}:{name}"
    return f"{namespace}/{name}"


def map_scope(scope: str | None, is_runtime: bool | None, is_optional: bool | None, manifest: str) -> str:
    """ScanCode's scope names (dependencies, devDependencies, install, test, compile, require-dev, …) →
    runtime | dev | optional | test. A requirements file named for development or tests gives that scope."""
    s = (scope or "").lower()
    base = posixpath.basename(manifest).lower()
    dirs = set(manifest.lower().split("/")[:-1])
    if "test" in s or dirs & {"test", "tests", "testing"} or (s in ("install", "") and re.search(r"test", base)):
        return "test"
    if dirs & {"docs", "doc", "ci", ".github", "tools", "scripts", "examples"} or (
            s in ("install", "") and re.search(r"dev|lint|doc|build|ci\b|typing", base)):
        return "dev"
    if s in ("compile", "runtime"):   # Maven's default and runtime scopes ship with the product (ScanCode marks
        return "runtime"              # compile-scope dependencies is_runtime False, is_optional True)
    if is_runtime is False or "dev" in s or s in ("development", "build-dependencies", "provided"):
        return "dev"
    if is_optional or "optional" in s or "peer" in s:
        return "optional"
    return "runtime"


class Scratch:
    """One private, empty folder that holds one manifest at a time while ScanCode parses it.

    Each manifest is parsed alone (no parser can reach the repository's other files or a previous
    manifest: the file is removed after its parse). One folder for a whole run rather than one per
    manifest: creating and removing a folder costs about 1-2 ms, and history holds hundreds of versions."""

    def __enter__(self) -> Scratch:
        self._tmp = tempfile.TemporaryDirectory(prefix="ddkit-dep-")
        self.dir = os.path.join(self._tmp.name, "m")
        os.mkdir(self.dir)
        return self

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()


def _parse_with_scancode(path: str, data: bytes, scratch: Scratch | None = None) -> tuple[list[dict], list[str]]:
    """Package data mappings from every ScanCode handler that recognizes this file, and errors."""
    if scratch is None:
        with Scratch() as one:
            return _parse_with_scancode(path, data, one)
    out: list[dict] = []
    errors: list[str] = []
    # The file's own folder is kept: some of ScanCode's patterns name it (``*requirements/*.txt``), and a
    # requirements/base.txt written as base.txt was recognised by no handler and silently gave nothing.
    parent = posixpath.basename(posixpath.dirname(path))
    folder = os.path.join(scratch.dir, parent) if parent not in ("", ".", "..") else scratch.dir
    loc = os.path.join(folder, posixpath.basename(path) or "manifest")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(loc, "wb") as fh:
            fh.write(data)
        for h in _handlers_for(loc):
            try:
                if not h.is_datafile(loc):
                    continue
                for pd_ in h.parse(loc, package_only=True):
                    m = pd_.to_dict() if hasattr(pd_, "to_dict") else dict(pd_)
                    m["datasource_id"] = m.get("datasource_id") or h.datasource_id
                    out.append(m)
            except Exception as e:  # ScanCode's parsers raise many kinds on malformed input
                errors.append(f"{type(e).__name__}: {e}"[:200])
    finally:
        for name in os.listdir(scratch.dir):   # a parser may have left files beside it
            q = os.path.join(scratch.dir, name)
            if os.path.isdir(q) and not os.path.islink(q):
                shutil.rmtree(q, ignore_errors=True)
            else:
                os.unlink(q)
    return out, errors


def _lock_licenses(path: str, data: bytes) -> dict[str, Any]:
    """Licenses recorded in lockfiles that record them: npm lockfile v2/v3 (`packages.*.license`) and
    composer.lock (`packages[].license`). Keyed by the package name as written."""
    import json
    name = posixpath.basename(path)
    out: dict[str, Any] = {}
    if name not in ("package-lock.json", "npm-shrinkwrap.json", ".package-lock.json", "composer.lock"):
        return out
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError):   # the scanned repository's file: nested thousands deep, say
        return out
    if not isinstance(doc, dict):
        return out
    if name == "composer.lock":
        for key in ("packages", "packages-dev"):
            for p in doc.get(key) or []:
                if isinstance(p, dict) and isinstance(p.get("name"), str) and p.get("license"):
                    lic = p["license"]
                    out[p["name"]] = " OR ".join(lic) if isinstance(lic, list) else str(lic)
        return out
    for k, p in (doc.get("packages") or {}).items():
        if not k or not isinstance(p, dict) or "node_modules/" not in k:
            continue
        lic = p.get("license")
        if isinstance(lic, dict):
            lic = lic.get("type")
        if isinstance(lic, str) and lic:
            out.setdefault(k.rsplit("node_modules/", 1)[1], lic)
    return out


_XML_ENTITY = re.compile(rb"<!ENTITY[\s%]", re.I)
_TOKEN = re.compile(r"@?[A-Za-z0-9_.][A-Za-z0-9_./:+-]*")


def _token_index(text_lines: list[str]) -> dict[str, int]:
    """First line of every name-like token (for large lockfiles, where a scan per dependency is too slow)."""
    idx: dict[str, int] = {}
    for i, line in enumerate(text_lines, start=1):
        for t in _TOKEN.findall(line):
            t = t.rstrip(".:/").lower()
            if "node_modules/" in t:
                idx.setdefault("nm:" + t.rsplit("node_modules/", 1)[-1], i)
            for v in {t, t.split("@")[0] if not t.startswith("@") else "@" + t[1:].split("@")[0],
                      t.rsplit("node_modules/", 1)[-1]}:
                if v:
                    idx.setdefault(v, i)
                    idx.setdefault(re.sub(r"[-_.]+", "-", v), i)
    return idx


# Line breaks as str.splitlines counts them (a line number is the same in both).
_LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_AT_LINE_START = "(?:\\A|(?<=[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]))"
# Above this many (dependencies x characters), line numbers come from a token index built in one pass
# (:func:`_token_index`) instead of one search of the text per dependency: the searches' work grows as
# the product (a one-line package.json of 20,000 dependencies: 0.4 MB searched 20,000 times took 285 s),
# the index's as the text. Below it the searches take at most about half a second a file.
_SEARCH_BUDGET = 50_000_000


class _Lines:
    """A manifest's text and the offset where each of its lines starts: an offset's line by bisection."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]

    def line_at(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def _line_of(lines: _Lines, ecosystem: str, name: str, kind: str,
             index: dict[str, int] | None = None) -> int | None:
    """The first line that names the dependency (ScanCode does not give line numbers).

    Each pattern is searched in the whole text once (the first match's line by bisection), the same
    answers as searching line by line (``tests/unit/test_input_bounds.py``)."""
    if not name or _LINE_BREAK.search(name):
        return None
    if index is not None:
        n = name.lower()
        if ecosystem == "npm" and kind == "lockfile" and "nm:" + n in index:
            return index["nm:" + n]
        hit = index.get(n) or index.get(re.sub(r"[-_.]+", "-", n) if ecosystem == "pypi" else n)
        if hit is None and ("/" in n or ":" in n):     # Maven's group:artifact, a Go module path: its last part
            hit = index.get(n.split(":")[-1].split("/")[-1])
        return hit
    core = re.escape(name)
    if ecosystem == "pypi":
        core = "[-_.]+".join(re.escape(p) for p in re.split(r"[-_.]+", name))
    pats = []
    if ecosystem == "npm" and kind == "lockfile":
        pats.append(re.compile(r'node_modules/' + core + r'"'))
        pats.append(re.compile(_AT_LINE_START + r'"?' + core + r'@'))
    pats.append(re.compile(r'(?<![\w.@/-])' + core + r'(?![\w-])', re.I))
    if "/" in name or ":" in name:
        pats.append(re.compile(re.escape(name.split(":")[-1].split("/")[-1]), re.I))
    for pat in pats:
        m = pat.search(lines.text)
        if m is not None:
            return lines.line_at(m.start())
    return None


# The last manifests parsed, by (path, SHA-256 of the content): the manifest at the ref is also the newest
# version in its history (inventory, then manifest_history), and a parse costs about 0.3 ms a dependency
# (ScanCode's and packageurl's), seconds for a manifest of 20,000. Callers never change what they get.
_RECENT: collections.OrderedDict[tuple[str, bytes], tuple[list[dict], dict[str, Any], list[str]]] = \
    collections.OrderedDict()
_RECENT_SIZE = 8


def parse_manifest(path: str, data: bytes, scratch: Scratch | None = None) -> tuple[list[dict], dict[str, Any], list[str]]:
    """(dependency rows, the package's own record, warnings) for one manifest or lockfile."""
    import hashlib
    key = (path, hashlib.sha256(data).digest())
    hit = _RECENT.get(key)
    if hit is not None:
        _RECENT.move_to_end(key)
        return hit
    out = _parse_manifest(path, data, scratch)
    _RECENT[key] = out
    while len(_RECENT) > _RECENT_SIZE:
        _RECENT.popitem(last=False)
    return out


_YAML_NAMES = ("pubspec.lock", "yarn.lock")   # read as YAML by ScanCode, besides *.yaml and *.yml


def _yaml_refusal(path: str, data: bytes) -> str | None:
    """Why a manifest ScanCode reads as YAML must not be given to it (an alias bomb: ScanCode's own
    reading walks the expansion, hours for a 1 kB file), or None. Aliases are counted at their full size;
    a file without aliases passes whatever its size (at most one node per byte)."""
    base = posixpath.basename(path).lower()
    if not (base.endswith((".yaml", ".yml")) or base in _YAML_NAMES):
        return None
    from ..errors import InputError
    from ..limits import MAX_YAML_NODES, check_yaml
    try:
        check_yaml(data.decode("utf-8", "replace"), path, max_bytes=MAX_MANIFEST_BYTES,
                   max_nodes=max(MAX_YAML_NODES, len(data)))
    except InputError as e:
        return str(e)
    return None


def _parse_manifest(path: str, data: bytes, scratch: Scratch | None) -> tuple[list[dict], dict[str, Any], list[str]]:
    warnings: list[str] = []
    refusal = _yaml_refusal(path, data)
    if refusal is not None:
        return [], {}, [f"dependencies: {refusal.removesuffix('; refused')}: not read"]
    maps, errors = _parse_with_scancode(path, data, scratch)
    for e in errors:
        warnings.append(f"dependencies: {path} could not be read as a package manifest ({e})")
    if _XML_ENTITY.search(data) and posixpath.basename(path).lower().endswith((".xml", ".pom", ".nuspec")):
        # ScanCode's XML parser neither expands entities nor fetches external ones (good: no billion
        # laughs, no local file read), and silently reads an element written with one as empty.
        warnings.append(f"dependencies: {path} declares XML entities (<!ENTITY>); ddkit does not expand them "
                        "(an entity bomb, or a reference to a local file), so any dependency written with one "
                        "is missing from the inventory")
    lock_lic = _lock_licenses(path, data)
    text = data.decode("utf-8", "replace")
    text_lines = text.splitlines()
    lines = _Lines(text)
    n_deps = sum(len(m.get("dependencies") or []) for m in maps)
    index = _token_index(text_lines) if n_deps * max(len(text), 1) > _SEARCH_BUDGET else None
    rows: list[dict] = []
    seen: dict[tuple, int] = {}
    own: dict[str, Any] = {}
    order = {"runtime": 0, "optional": 1, "dev": 2, "test": 3}
    lockfile = is_lockfile_path(path)
    for m in maps:
        ds = m.get("datasource_id")
        kind = "lockfile" if ds in LOCKFILE_IDS else "manifest"
        # The package a file builds comes from a manifest: a lockfile's package records are its dependencies
        # (ScanCode reads composer.lock's locked packages as composer.json data: guzzle was "first-party").
        if not own and m.get("name") and kind == "manifest" and not lockfile:
            own = dict(type=m.get("type"), namespace=m.get("namespace"), name=m.get("name"),
                       version=m.get("version"), license=m.get("extracted_license_statement"), datasource=ds)
        for d in m.get("dependencies") or []:
            purl = d.get("purl")
            if not purl:
                continue
            try:
                from packageurl import PackageURL
                pu = PackageURL.from_string(purl)
            except ValueError:   # not a purl: no package to name
                continue
            eco = ecosystem_of(pu.type)
            name = display_name(pu.type, pu.namespace, pu.name)
            scope = map_scope(d.get("scope"), d.get("is_runtime"), d.get("is_optional"), path)
            version = pu.version if kind == "lockfile" else (d.get("extracted_requirement") or pu.version)
            if isinstance(version, str) and kind == "manifest":   # "flask[async]>=2.0" → ">=2.0"
                m_ = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$", version, re.S)
                if m_ and norm_name(eco, m_.group(1)) == norm_name(eco, pu.name):
                    version = m_.group(3).split(";")[0].strip() or None
            if isinstance(version, str) and version.strip() in ("*", ""):
                version = None
            line = _line_of(lines, eco, name, kind, index)
            # go.mod marks indirect requirements with a comment on their line.
            direct = bool(d.get("is_direct")) if kind == "manifest" else None
            if eco == "golang" and line and "// indirect" in text_lines[line - 1]:
                direct = False
            if kind == "manifest" and not pu.version and isinstance(version, str) and \
                    re.fullmatch(r"=?v?\d+(\.\d+)*([-+][\w.]+)?", version.strip()):
                pu = pu._replace(version=version.strip().lstrip("="))   # an exact pin: the purl names it
            key = (eco, norm_name(eco, name), pu.version if kind == "lockfile" else None)
            row = dict(purl=_canonical_purl(pu), name=name, version=version, ecosystem=eco, scope=scope,
                       direct=direct, manifest=path, line=line, kind=kind, datasource=ds,
                       lock_license=lock_lic.get(name))
            if key in seen:   # listed twice (e.g. runtime and an extra): keep the most distributed scope
                prev = rows[seen[key]]
                if order[scope] < order[prev["scope"]]:
                    prev["scope"] = scope
                continue
            seen[key] = len(rows)
            rows.append(row)
    return rows, own, warnings


def _canonical_purl(pu) -> str:
    from packageurl import PackageURL
    name = pu.name
    if pu.type == "pypi":
        name = re.sub(r"[-_.]+", "-", name.lower())
    return PackageURL(type=pu.type, namespace=pu.namespace, name=name, version=pu.version).to_string()


# ----------------------------------------------------------------------------- the inventory at the ref
