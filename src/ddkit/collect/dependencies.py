"""Declared third-party dependencies: package manifests and lockfiles at the ref, read with ScanCode's
package detection (``packagedcode``, part of scancode-toolkit).

Files are read from git objects by blob id (``git cat-file --batch``), never from the work tree, and
parsed by ScanCode's *static* parsers only (setup.py is read as a syntax tree, never run: one manifest's
parse is ``collect.manifests``). A manifest that cannot be parsed is a warning, never an error: the
scanned repository is untrusted input.

``inventory()`` gives one row per (manifest, dependency); ``manifest_history()`` gives, for every version
of every declaring manifest in the history, the set of direct dependencies it declares (for "who added
it"); ``vendored_packages()`` reads the package manifests found inside vendored directories (their own
declared license).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from .. import gitutil
from .history import follow_renames

# Parsing one manifest lives in .manifests; these names are also imported from here by the other stages.
from .manifests import (  # noqa: F401
    _PARSED_COLUMNS,
    DEP_INVENTORY_COLUMNS,
    LOCKFILE_IDS,
    MANIFEST_IDS,
    MAX_MANIFEST_BYTES,
    Scratch,
    display_name,
    ecosystem_of,
    handlers,
    is_lockfile_path,
    is_manifest_path,
    norm_name,
    parse_manifest,
    scancode_version,
)


def manifest_paths(repo: str, paths: Iterable[str]) -> dict[str, bool]:
    """:func:`is_manifest_path` of each distinct path, kept per repository in the cache (per ScanCode
    version and ddkit's code): the answer depends only on the path, and matching a history's paths
    against ScanCode's hundred patterns (and compiling them) took 30 ms of every re-scan of pip. New
    paths are matched and added; a damaged entry is recomputed (``tests/test_rescan_speed.py``)."""
    from . import incremental
    store = incremental.Store("manifest-paths", repo, {}, _valid_flags, tools=("scancode-toolkit",))
    known: dict[str, bool] = store.load("paths") or {}
    out: dict[str, bool] = {}
    added = False
    for p in dict.fromkeys(paths):
        hit = known.get(p)
        if hit is None:
            hit = known[p] = is_manifest_path(p)
            added = True
        out[p] = hit
    if added:
        store.save("paths", known)
    return out


def _valid_flags(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, bool) for k, x in v.items())


# ----------------------------------------------------------------------------- reading blobs
def read_blobs(repo: str, blobs: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
    """(blob id, content or None) for each distinct blob id, through gitutil's one `cat-file` reader."""
    items = list(dict.fromkeys(b for b in blobs if b))
    for b, (typ, data) in zip(items, gitutil.iter_objects(repo, items)):
        yield b, data if typ == "blob" else None


def inventory(repo: str, files: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(dependency rows, vendored package records, warnings) for the files at the ref.

    Manifests inside vendored directories (node_modules/, vendor/, third_party/ …) do not declare the
    project's dependencies; they describe the vendored package itself (its name, version and license)."""
    warnings: list[str] = []
    if files is None or files.empty:
        return pd.DataFrame(columns=DEP_INVENTORY_COLUMNS), pd.DataFrame(columns=VENDORED_COLUMNS), warnings
    ok = files[files["category"].isin(["text", "generated", "vendored", "excluded"])]
    ok_paths = ok["path"].tolist()
    is_manifest = manifest_paths(repo, ok_paths)
    cand = [(p, b, c) for p, b, c in zip(ok_paths, ok["blob"].tolist(), ok["category"].tolist())
            if is_manifest[p] and (c != "vendored" or _vendored_package_manifest(p))]
    size_of = dict(zip(ok_paths, ok["size"].tolist()))
    too_big = [p for p, b, c in cand if int(size_of[p]) > MAX_MANIFEST_BYTES]
    for p in too_big:
        warnings.append(f"dependencies: {p} is larger than {MAX_MANIFEST_BYTES >> 20} MB and was not read")
    cand = [x for x in cand if x[0] not in too_big]
    # Each manifest's parse is kept per (path, blob) in the cache: a re-scan parses only manifests that
    # changed (and then only imports ScanCode). The entry holds the manifests at the last ref scanned.
    from . import incremental
    store = incremental.Store("manifests-at-ref", repo, {"parser": "scancode"}, _valid_at_ref,
                              tools=("scancode-toolkit",))
    cached: dict[tuple[str, str], tuple[list, dict, list]] = store.load("parsed") or {}
    todo = [b for p, b, _ in cand if (p, b) not in cached]
    content = dict(read_blobs(repo, todo)) if todo else {}
    rows: list[dict] = []
    vend: list[dict] = []
    # The repository's own packages (a Cargo workspace member, an npm workspace package, a second Python
    # package in a monorepo): a dependency on one of them is first-party code, not a third-party component.
    ours: dict[tuple[str, str], dict] = {}
    parsed = {(p, b): cached[(p, b)] for p, b, _c in cand if (p, b) in cached}
    if content:    # only manifests that changed are parsed (and only then is a scratch folder made)
        with Scratch() as scratch:
            for path, blob, _cat in sorted(cand):
                if (path, blob) not in parsed and (data := content.get(blob)) is not None:
                    parsed[(path, blob)] = parse_manifest(path, data, scratch)
    for path, blob, cat in sorted(cand):
        if (path, blob) not in parsed:
            warnings.append(f"dependencies: {path} could not be read from git")
            continue
        r, own, w = parsed[(path, blob)]
        warnings += w
        if cat == "vendored":
            if own.get("name"):
                vend.append(dict(path=path, directory=posixpath.dirname(path), ecosystem=ecosystem_of(own["type"]),
                                 name=display_name(own["type"], own.get("namespace"), own["name"]),
                                 version=own.get("version"), license=own.get("license")))
            continue
        if own.get("name"):
            eco = ecosystem_of(own["type"])
            ours.setdefault((eco, norm_name(eco, display_name(own["type"], own.get("namespace"), own["name"]))),
                            dict(manifest=path, license=own.get("license")))
        rows += [dict(x) for x in r]
    for row in rows:
        hit = ours.get((row["ecosystem"], norm_name(row["ecosystem"], row["name"])))
        row["first_party"] = hit is not None
        row["first_party_manifest"] = hit["manifest"] if hit else None
        row["first_party_license"] = hit["license"] if hit else None
    if parsed.keys() != cached.keys():
        store.save("parsed", parsed)
    df = pd.DataFrame(rows, columns=DEP_INVENTORY_COLUMNS)
    df = mark_direct(df)
    return df, pd.DataFrame(vend, columns=VENDORED_COLUMNS), warnings


VENDORED_COLUMNS = ["path", "directory", "ecosystem", "name", "version", "license"]


VENDOR_DIRS = {"node_modules", "vendor", "third_party", "third-party", "_vendor", "vendored"}


def vendored_component(path: str) -> tuple[str, str] | None:
    """(directory, package name) of a file inside a vendored directory, or None."""
    parts = path.split("/")
    idx = [i for i, p in enumerate(parts[:-1]) if p in VENDOR_DIRS]
    if not idx:
        return None
    i = idx[-1]
    rest = parts[i + 1:-1]
    if not rest:
        return None
    if rest[0].startswith("@") and len(rest) >= 2:
        n = 2
    elif "." in rest[0] and len(rest) >= 3 and parts[i] == "vendor":   # Go: vendor/github.com/owner/repo
        n = 3
    else:
        n = 1
    return "/".join(parts[:i + 1 + n]), "/".join(rest[:n])


def _valid_at_ref(v: Any) -> bool:
    """The shape :func:`inventory` keeps: (path, blob) → (dependency rows, own record, warnings)."""
    return isinstance(v, dict) and all(
        isinstance(k, tuple) and len(k) == 2 and all(isinstance(x, str) for x in k)
        and isinstance(x, tuple) and len(x) == 3 and isinstance(x[0], list)
        and all(isinstance(r, dict) and set(r) == set(_PARSED_COLUMNS) for r in x[0])
        and isinstance(x[1], dict) and isinstance(x[2], list) and all(isinstance(w, str) for w in x[2])
        for k, x in v.items())


def _vendored_package_manifest(path: str) -> bool:
    """A vendored package's own top manifest (node_modules/x/package.json, vendor/x/composer.json, …)."""
    return posixpath.basename(path) in ("package.json", "composer.json", "pyproject.toml", "setup.py", "setup.cfg",
                                        "Cargo.toml", "go.mod", "pom.xml", "bower.json")


def mark_direct(df: pd.DataFrame) -> pd.DataFrame:
    """Lockfile rows are direct when a manifest in the same directory declares the same package."""
    if df.empty:
        return df
    df = df.copy()
    df["_dir"] = df["manifest"].map(posixpath.dirname)
    df["_key"] = [norm_name(e, n) for e, n in zip(df["ecosystem"], df["name"])]
    man = df[df["kind"] == "manifest"]
    d_ = man[man["direct"].fillna(False).astype(bool)]
    declared_direct = set(zip(d_["_dir"], d_["ecosystem"], d_["_key"]))
    has_manifest = set(zip(man["_dir"], man["ecosystem"]))
    out = []
    for d, e, k, kind, direct in zip(df["_dir"], df["ecosystem"], df["_key"], df["kind"], df["direct"]):
        if kind == "manifest":
            out.append(bool(direct) if direct is not None else True)
        elif (d, e) in has_manifest:
            out.append((d, e, k) in declared_direct)
        else:
            out.append(False)
    df["direct"] = out
    return df.drop(columns=["_dir", "_key"])


# ----------------------------------------------------------------------------- manifests through history
_SEPARATORS = re.compile(r"[-_.]+")
_ESCAPE = re.compile(rb"\\[uUxN0-7]")     # \u0066, \x66, \N{...}, \146: a character written as an escape


def _name_token(key: str) -> str:
    """What the text of a manifest declaring *key* (``ecosystem:normalized name``) must contain, in the
    form :func:`_may_declare` compares: the name's last part (after a namespace's ``/`` or ``:``), lower
    case, each run of ``-``, ``_`` and ``.`` as one ``-`` (PEP 503's folding, applied to any ecosystem)."""
    name = key.split(":", 1)[-1]
    return _SEPARATORS.sub("-", re.split(r"[/:]", name)[-1].strip().lower())


def _may_declare(data: bytes, keys: set[str]) -> bool:
    """False only when *data* cannot declare any of *keys*: no key's name (:func:`_name_token`) occurs in
    the text folded the same way (lower case as ``norm_name`` makes it, separators as one ``-``). A text with
    character escapes (``\\u0066``, ``\\x66``, ``\\146``, ``&#102;``) or that is not ASCII-compatible
    (UTF-16 or UTF-32: NUL bytes or their byte-order marks) is not ruled out. Assumed: a name is not built
    from pieces (``"fo" "o"`` in a setup.py); a version that did would be taken as not declaring it, and
    its addition dated at the next version that names it."""
    if b"\0" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"&#" in data or _ESCAPE.search(data):
        return True
    text = _SEPARATORS.sub("-", data.decode("utf-8", "surrogateescape").lower())
    for k in keys:
        tok = _name_token(k)
        if not tok or tok in text:
            return True
    return False


def _valid_parsed(v: Any) -> bool:
    return isinstance(v, dict) and all(
        isinstance(k, tuple) and len(k) == 2 and isinstance(x, tuple) and len(x) == 2
        and isinstance(x[0], frozenset) and isinstance(x[1], bool) for k, x in v.items())


def manifest_history(repo: str, changes: pd.DataFrame, commits: pd.DataFrame, is_vendored,
                     wanted: dict[str, set[str]] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every change to a declaring manifest (not a lockfile, not vendored), oldest first, with the set of
    direct dependencies the new version declares (``ecosystem:normalized name``), a file id that follows
    renames, and the path the file has at the ref (None when it was deleted since).

    *wanted*: {directory: keys} of the dependencies whose addition is asked for (those declared at the ref,
    by the directory of the manifest at the ref). A version can only matter for the keys of its own
    directory (who added a dependency is decided per directory: see ``analyze.dependencies.additions``),
    and only if its text names one of them, so versions of a directory with no wanted key, or whose text
    names none (:func:`_may_declare`), are not parsed: their ``names`` are given as empty (about 600 of
    pip's 683 past manifest versions, 0.7 s of CPU). None: every version is parsed.

    Columns: sha, file_id, path, path_at_ref, status, names."""
    cols = ["sha", "file_id", "path", "path_at_ref", "status", "names"]
    if changes is None or changes.empty:
        return pd.DataFrame(columns=cols), []
    # Follow renames of every file (cheap, and needed to know a manifest's path at the ref).
    ch = follow_renames(changes, commits, [])
    # Each distinct path judged once (a history repeats each path many times: pip's 35,000 changes name
    # 4,430 paths), then the rows of the kept ones picked in one pass (5.5 ms on pip with a list of flags).
    ch_paths = ch["path"].tolist()
    is_manifest = manifest_paths(repo, set(ch_paths))
    kept = {p for p, m in is_manifest.items() if m and not is_lockfile_path(p) and not is_vendored(p)}
    ch = ch[np.fromiter(map(kept.__contains__, ch_paths), dtype=bool, count=len(ch_paths))]
    warnings: list[str] = []
    if ch.empty:
        return pd.DataFrame(columns=cols), warnings
    ch_blobs, ch_status = ch["blob"].tolist(), ch["status"].tolist()
    blobs = [b for b, s in zip(ch_blobs, ch_status) if s != "D" and isinstance(b, str) and b.strip("0")]
    names_of: dict[str, frozenset] = {}
    bad: set[str] = set()
    paths = dict(zip(ch_blobs, ch["path"].tolist()))
    # The keys each blob's names can matter for: those wanted in the directories it is a version in.
    want_of: dict[str, set[str]] | None = None
    if wanted is not None:
        want_of = {}
        for b, p, par in zip(ch_blobs, ch["path"].tolist(), ch["path_at_ref"].tolist()):
            want_of.setdefault(b, set()).update(wanted.get(posixpath.dirname(par if isinstance(par, str) else p), ()))
    # Parsed versions are kept per (path, blob) in the cache: a re-scan parses only manifests' new versions;
    # so are the wanted names a version's text was found not to name ("absent").
    from . import incremental
    store = incremental.Store("manifests", repo, {"parser": "scancode"}, _valid_parsed, tools=("scancode-toolkit",))
    parsed: dict[tuple[str, str], tuple[frozenset, bool]] = store.load("parsed") or {}
    absent: dict[tuple[str, str], tuple[frozenset, bool]] = store.load("absent") or {}
    absent_changed = False
    unread = set()
    todo = []
    for b in dict.fromkeys(blobs):
        key = (paths[b], b)
        if key in parsed:
            continue
        if want_of is not None and (not want_of[b] or want_of[b] <= absent.get(key, (frozenset(), False))[0]):
            unread.add(b)        # names nothing wanted: not parsed
            continue
        todo.append(b)
    if todo:
        n_parsed = len(parsed)
        with Scratch() as scratch:
            for blob, data in read_blobs(repo, todo):
                key = (paths[blob], blob)
                if data is None or len(data) > MAX_MANIFEST_BYTES:
                    parsed[key] = (frozenset(), False)
                    continue
                if want_of is not None and not _may_declare(data, want_of[blob]):
                    absent[key] = (frozenset(want_of[blob]) | absent.get(key, (frozenset(), False))[0], False)
                    absent_changed = True
                    unread.add(blob)
                    continue
                rows, _own, w = parse_manifest(paths[blob], data, scratch)
                parsed[key] = (frozenset(
                    f"{r['ecosystem']}:{norm_name(r['ecosystem'], r['name'])}"
                    for r in rows if r["kind"] == "manifest" and r["direct"] is not False), bool(w))
        if len(parsed) != n_parsed:
            store.save("parsed", parsed)
        if absent_changed:
            store.save("absent", absent)
    for blob in dict.fromkeys(blobs):
        if blob in unread:
            names_of[blob] = frozenset()
            continue
        names, was_bad = parsed[(paths[blob], blob)]
        names_of[blob] = names
        if was_bad:
            bad.add(paths[blob])
    if bad:
        warnings.append(f"dependencies: {len(bad)} past version(s) of manifests could not be parsed "
                        f"({', '.join(sorted(bad)[:5])}); who added a dependency may be later than the truth there")
    ch = ch.assign(names=[frozenset() if s == "D" else names_of.get(b, frozenset())
                          for s, b in zip(ch_status, ch_blobs)])
    return ch[cols].reset_index(drop=True), warnings
