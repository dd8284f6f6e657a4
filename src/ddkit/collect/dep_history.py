"""Every version of every manifest and lockfile in the history, with the dependencies and versions it
declares: what the vulnerability stage needs to tell when an affected version entered the repository and
when it left (``analyze/vulnerabilities.py``).

The dependency stage's own history (``collect.dependencies.manifest_history``) keeps only the names a
manifest declares (who added a dependency); this one keeps the versions too, and reads lockfiles. It
reads only versions whose text names a package the vulnerability database knows (:func:`names_in`), since
only those can hold an affected version, and at most :data:`MAX_VERSIONS` of them (the newest first are
kept; a warning says so). Blobs are read from git objects and parsed by ScanCode's static parsers, as at
the ref; each parse is kept in the cache per (path, blob).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from .. import gitutil
from .dependencies import (
    MAX_MANIFEST_BYTES,
    VENDOR_DIRS,
    Scratch,
    display_name,
    manifest_paths,
    norm_name,
    parse_manifest,
    read_blobs,
)
from .history import follow_renames

# Lists of vendored packages in requirements syntax inside a vendored directory (pip's
# src/pip/_vendor/vendor.txt, setuptools' _vendor/vendored.txt): the versions of code the product ships.
VENDOR_LISTS = ("vendor.txt", "vendored.txt")
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def is_vendor_list(path: str) -> bool:
    parts = path.split("/")
    return parts[-1] in VENDOR_LISTS and any(p in VENDOR_DIRS for p in parts[:-1])


def parse_vendor_list(path: str, data: bytes) -> list[dict]:
    """The ``name==version`` lines of a vendor list, as dependency rows (kind "vendored", PyPI)."""
    rows = []
    for i, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        m = _REQ.match(line)
        if m:
            name, ver = m.group(1), m.group(2)
            rows.append(dict(purl=f"pkg:pypi/{norm_name('pypi', name)}@{ver}", name=name, version=ver, ecosystem="pypi",
                             scope="runtime", direct=True, manifest=path, line=i, kind="vendored"))
    return rows


def vendor_lists_at_ref(repo: str, files: pd.DataFrame) -> list[dict]:
    """Dependency rows of every vendor list at the ref (read from git objects by blob id)."""
    if files is None or files.empty:
        return []
    cand = [(p, b) for p, b in zip(files["path"].tolist(), files["blob"].tolist())
            if isinstance(p, str) and is_vendor_list(p) and isinstance(b, str)]
    size = dict(zip(files["path"].tolist(), files["size"].tolist())) if "size" in files else {}
    cand = [(p, b) for p, b in cand if int(size.get(p, 0) or 0) <= MAX_MANIFEST_BYTES]
    path_of = {b: p for p, b in cand}
    rows: list[dict] = []
    for blob, data in read_blobs(repo, [b for _p, b in cand]):
        if data is not None:
            rows += parse_vendor_list(path_of[blob], data)
    return rows

MAX_VERSIONS = 5000
UNPARSED = ("unparsed",)    # cached for a version ScanCode could not parse (rows: None, "unknown", in the output)
COLUMNS = ["sha", "file_id", "path", "path_at_ref", "status", "rows", "own"]
# (ecosystem, normalised name, name, version, kind, scope, direct) per dependency row of one version.
Row = tuple[str, str, str, "str | None", str, str, bool]
_FOLD = re.compile(r"[-_.]+")
_WORD = re.compile(r"[a-z0-9][a-z0-9-]*")


def name_token(name: str) -> str:
    """What the text of a manifest naming *name* contains, folded as :func:`names_in` folds the text: the
    name's last part (after a namespace's ``/`` or ``:``), lower case, runs of ``-_.`` as one ``-``."""
    return _FOLD.sub("-", re.split(r"[/:]", name.strip().lower())[-1])


def names_in(data: bytes) -> set[str]:
    """The name-like words of a text, folded as :func:`name_token` folds names."""
    return set(_WORD.findall(_FOLD.sub("-", data.decode("utf-8", "replace").lower())))


def _valid(v) -> bool:
    return isinstance(v, dict) and all(isinstance(k, tuple) and len(k) == 2 and isinstance(x, tuple)
                                       for k, x in v.items())


def mainline_changes(repo: str, commit: str) -> pd.DataFrame:
    """Every file change of the first-parent chain of *commit*, oldest first; a merge's against its first
    parent (what the merge brought into the main line). Columns: sha, path, blob, status.

    The history stage's changes follow every branch in git's order, where a side branch's older copy of a
    manifest can come after the main line's upgrade; the main line's sequence of versions cannot go back
    like that. (``git log --first-parent -m --raw``: no patches, cheap.)"""
    cols = ["sha", "path", "blob", "status"]
    out = gitutil.run(repo, "log", "-z", "--first-parent", "-m", "--raw", "--no-renames", "--no-abbrev",
                      "--format=%x01%H", "--end-of-options", commit, "--")
    rows: list[tuple[str, str, str, str]] = []
    sha = ""
    toks = out.split(b"\0")
    i = 0
    while i < len(toks):
        t = toks[i].lstrip(b"\n")
        if t.startswith(b"\x01"):
            sha = t[1:].decode("ascii", "replace")
        elif t.startswith(b":") and i + 1 < len(toks):
            f = t[1:].split(b" ")
            if len(f) >= 5:
                rows.append((sha, toks[i + 1].decode("utf-8", "surrogateescape"), f[3].decode("ascii", "replace"),
                             f[4][:1].decode("ascii", "replace")))
            i += 1
        i += 1
    rows.reverse()          # git log is newest first; one chain, so reversed it is oldest first
    return pd.DataFrame(rows, columns=cols)


def manifest_versions(repo: str, changes: pd.DataFrame, commits: pd.DataFrame, is_vendored: Callable[[str], bool],
                      tokens: set[str] | None, commit: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every change to a manifest or lockfile (not vendored) or vendor list, oldest first, with the dependency
    rows the new version declares (empty for a deletion, or for a version naming no package in *tokens*;
    None for a version that could not be parsed)."""
    warnings: list[str] = []
    if changes is None or changes.empty:
        return pd.DataFrame(columns=COLUMNS), warnings
    if commit is not None:
        ch = mainline_changes(repo, commit)
        ch = ch.assign(file_id=ch["path"], path_at_ref=ch["path"])   # a path is a file; renames are D + A
    else:
        ch = follow_renames(changes, commits, [])
    is_manifest = manifest_paths(repo, set(ch["path"].tolist()))
    kept = {p for p, m in is_manifest.items() if m and not is_vendored(p)} | {
        p for p in is_manifest if is_vendor_list(p)}
    ch = ch[ch["path"].isin(kept)]
    if ch.empty:
        return pd.DataFrame(columns=COLUMNS), warnings
    blobs = [(p, b) for p, b, s in zip(ch["path"].tolist(), ch["blob"].tolist(), ch["status"].tolist())
             if s != "D" and isinstance(b, str) and b.strip("0")]
    wanted = list(dict.fromkeys(blobs))
    if len(wanted) > MAX_VERSIONS:
        warnings.append(f"vulnerabilities: {len(wanted)} versions of manifests and lockfiles in the history; only "
                        f"the newest {MAX_VERSIONS} were read, so an exposure that began before them is dated at "
                        f"the oldest version read")
        wanted = wanted[-MAX_VERSIONS:]
    from . import incremental
    store = incremental.Store("manifest-versions", repo, {"parser": "scancode", "format": 3}, _valid,
                              tools=("scancode-toolkit",))
    cache: dict[tuple[str, str], tuple] = store.load("parsed") or {}
    todo = [b for p, b in wanted if (p, b) not in cache]
    path_of = {b: p for p, b in wanted}
    changed = False
    bad: set[str] = set()
    if todo:
        with Scratch() as scratch:
            for blob, data in read_blobs(repo, list(dict.fromkeys(todo))):
                key = (path_of[blob], blob)
                if data is None or len(data) > MAX_MANIFEST_BYTES:
                    cache[key] = ((), ())
                    changed = True
                    continue
                if tokens is not None and not (names_in(data) & tokens):
                    cache[key] = ((), ())    # names no package the database knows: nothing to match
                    changed = True
                    continue
                w: list[str] = []
                own: dict = {}
                if is_vendor_list(path_of[blob]):
                    rows = parse_vendor_list(path_of[blob], data)
                else:
                    rows, own, w = parse_manifest(path_of[blob], data, scratch)
                if w and not rows:
                    bad.add(path_of[blob])
                    cache[key] = UNPARSED     # not "declares nothing": the state before it is kept
                    changed = True
                    continue
                own_key: tuple = ()
                if own.get("name"):     # the package this manifest builds: a dependency on it is first-party
                    eco = own.get("type") or "unknown"
                    own_key = ((eco, norm_name(eco, display_name(eco, own.get("namespace"), own["name"]))),)
                cache[key] = (tuple((r["ecosystem"], norm_name(r["ecosystem"], r["name"]), r["name"], r["version"],
                                     r["kind"], r["scope"], bool(r["direct"]) if r["direct"] is not None else True)
                                    for r in rows), own_key)
                changed = True
    if changed:
        store.save("parsed", cache)
    for p, b in wanted:
        if cache.get((p, b)) == UNPARSED:
            bad.add(p)
    if bad:
        warnings.append(f"vulnerabilities: past versions of {len(bad)} manifest(s) could not be parsed "
                        f"({', '.join(sorted(bad)[:5])}); the versions before them are taken to hold until the next "
                        "version that could be")
    keep = set(wanted)
    paths, blobs_, status = ch["path"].tolist(), ch["blob"].tolist(), ch["status"].tolist()
    read = [s == "D" or (p, b) in keep for p, b, s in zip(paths, blobs_, status)]   # older than the bound: not read
    got = [((), ()) if s == "D" else (None, ()) if cache.get((p, b)) == UNPARSED else cache.get((p, b), ((), ()))
           for p, b, s, r in zip(paths, blobs_, status, read) if r]
    out = ch[read].assign(rows=[g[0] for g in got], own=[g[1][0] if g[1] else None for g in got])
    return out[COLUMNS].reset_index(drop=True), warnings
