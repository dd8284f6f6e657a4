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

from .dependencies import MAX_MANIFEST_BYTES, Scratch, manifest_paths, norm_name, parse_manifest, read_blobs
from .history import follow_renames

MAX_VERSIONS = 5000
COLUMNS = ["sha", "file_id", "path", "path_at_ref", "status", "rows"]
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


def manifest_versions(repo: str, changes: pd.DataFrame, commits: pd.DataFrame, is_vendored: Callable[[str], bool],
                      tokens: set[str] | None) -> tuple[pd.DataFrame, list[str]]:
    """Every change to a manifest or lockfile (not vendored), oldest first, with the dependency rows the new
    version declares (empty for a deletion, or for a version naming no package in *tokens*)."""
    warnings: list[str] = []
    if changes is None or changes.empty:
        return pd.DataFrame(columns=COLUMNS), warnings
    ch = follow_renames(changes, commits, [])
    is_manifest = manifest_paths(repo, set(ch["path"].tolist()))
    kept = {p for p, m in is_manifest.items() if m and not is_vendored(p)}
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
    from .dependencies import scancode_version
    store = incremental.Store("manifest-versions", repo, {"parser": "scancode", "scancode": scancode_version()}, _valid)
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
                    cache[key] = ()
                    changed = True
                    continue
                if tokens is not None and not (names_in(data) & tokens):
                    cache[key] = ()          # names no package the database knows: nothing to match
                    changed = True
                    continue
                rows, _own, w = parse_manifest(path_of[blob], data, scratch)
                if w:
                    bad.add(path_of[blob])
                cache[key] = tuple((r["ecosystem"], norm_name(r["ecosystem"], r["name"]), r["name"], r["version"],
                                    r["kind"], r["scope"], bool(r["direct"]) if r["direct"] is not None else True)
                                   for r in rows)
                changed = True
    if changed:
        store.save("parsed", cache)
    if bad:
        warnings.append(f"vulnerabilities: {len(bad)} past version(s) of manifests could not be parsed "
                        f"({', '.join(sorted(bad)[:5])}); an exposure there may be dated later than the truth")
    keep = set(wanted)
    rows_col = [() if s == "D" else cache.get((p, b), ()) if (p, b) in keep else None
                for p, b, s in zip(ch["path"].tolist(), ch["blob"].tolist(), ch["status"].tolist())]
    out = ch.assign(rows=rows_col)
    out = out[out["rows"].notna()]      # versions older than the bound: not read
    return out[COLUMNS].reset_index(drop=True), warnings
