"""Results of the history readers, kept per (repository, ref commit) so a re-scan reads only OLD..NEW.

A stage that reads the whole history (the commit tables, the secrets in added lines) stores what it
found for the commit it reached, under ``cache_dir("incremental", <repository>, <stage>)``. The next
scan of the same repository takes:

* the entry of exactly the same commit (nothing to read), or else
* the most recently written entry whose commit is an ancestor of the new one (``git merge-base
  --is-ancestor``: detected, never assumed), and reads only ``OLD..NEW``; or else
* nothing (a rewritten or moved-back ref, a first scan): a cold run.

An entry is one pickle in the cache's one sealed format (:func:`ddkit.cache.load`: an HMAC-SHA256 with
the cache's private key over the entry and its place, written atomically): a truncated or corrupt file, a
file this user's ddkit did not write (planted by another user, copied from elsewhere or from another
commit's name), a pickle from other ddkit code is dropped and recomputed, and only a sealed entry is ever
unpickled. The stage's own ``validate`` (the codec's) checks the payload's shape (columns and types) on
top. Nothing in the cache comes from a pickle a repository holds.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import cache, gitutil
from ..cache import cache_dir, entry_key

KEEP = 6            # entries kept per (repository, stage, parameters): branches switched between
CANDIDATES = 3      # entries tried as an ancestor base, newest first


def params_hash(params: Any) -> str:
    """A store's parameters as a file-name prefix (:func:`ddkit.cache.entry_key`: ddkit's code and the tools)."""
    return entry_key(params, length=16)


def _stamp(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


_COMMON: dict[tuple, str] = {}     # (repository path, stamps of it and its .git) -> git common dir


def _common_dir(repo: str) -> str:
    """``git rev-parse --git-common-dir``, asked once per process and repository (a scan opens a store
    for each stage and report), again when the folder or its .git entry changed (moved, re-cloned)."""
    key = (os.path.realpath(repo), _stamp(repo), _stamp(os.path.join(repo, ".git")))
    hit = _COMMON.get(key)
    if hit is None:
        hit = gitutil.run(repo, "rev-parse", "--path-format=absolute", "--git-common-dir",
                          check=False).decode("utf-8", "surrogateescape").strip() or str(repo)
        if len(_COMMON) > 64:
            _COMMON.clear()
        _COMMON[key] = hit
    return hit


def repo_key(repo: str) -> str:
    """The repository's object store (and whatever rewrites its history: shallow, grafts)."""
    objects = _common_dir(repo)
    h = hashlib.sha256(os.path.realpath(objects).encode("utf-8", "surrogateescape"))
    for extra in ("shallow", "info/grafts"):
        try:
            h.update(b"\0" + extra.encode() + b"\0" + Path(objects, extra).read_bytes())
        except OSError:   # absent: a full clone (most repositories)
            pass
    return h.hexdigest()[:16]


_ANCESTORS: set[tuple[str, str, str]] = set()


def is_ancestor(repo: str, old: str, new: str) -> bool:
    # A commit that is an ancestor stays one (commits do not change): kept for the process, so the stores
    # of one scan (history, secrets) ask git once. A "no" is asked again (the object may be fetched since).
    if (repo, old, new) in _ANCESTORS:
        return True
    try:
        gitutil.run(repo, "merge-base", "--is-ancestor", "--end-of-options", old, new)
    except Exception:  # exit 1 (not an ancestor), or an unknown object after a rewrite and gc
        return False
    _ANCESTORS.add((repo, old, new))
    return True


class Store:
    """One stage's entries for one repository: ``<stage>/<parameters>-<commit>.pkl``, each a pickle in the
    cache's one sealed format (:func:`ddkit.cache.load`), its place (repository, stage, parameters, commit)
    sealed with it and its payload checked by *validate*. *tools*: the tools whose versions the payload
    depends on (part of the parameters, :func:`ddkit.cache.entry_key`)."""

    def __init__(self, stage: str, repo: str, params: Any, validate: Callable[[Any], bool],
                 tools: tuple[str, ...] = ()):
        self.stage = stage
        self.repo = repo
        self.params = entry_key(stage, params, tools=tools, length=16)
        self.codec = cache.pickle_codec(f"incremental/{stage}", validate)
        self.dir = cache_dir("incremental", repo_key(repo), stage)

    def _path(self, commit: str) -> Path:
        return self.dir / f"{self.params}-{commit}.pkl"

    def load(self, commit: str) -> Any | None:
        p = self._path(commit)
        # Damaged, not ours or not of the stage's shape: dropped, recomputed and rewritten by the caller.
        payload = cache.load(p, self.codec, drop=True)
        if payload is None:
            return None
        try:
            os.utime(p)                  # most recently used first
        except OSError:   # the order of eviction only
            pass
        return payload

    def save(self, commit: str, payload: Any) -> None:
        cache.save(self._path(commit), self.codec, payload)
        try:
            def newest(pattern: str) -> list[Path]:
                return sorted(self.dir.glob(pattern), key=lambda q: q.stat().st_mtime, reverse=True)
            # At most KEEP entries per parameters, and 2 * KEEP per stage whatever the parameters
            # (an as-of date that changes daily must not grow the cache without bound).
            for q in newest(f"{self.params}-*.pkl")[KEEP:] + newest("*.pkl")[2 * KEEP:]:
                q.unlink(missing_ok=True)
        except OSError:
            pass                          # old entries left behind only take room

    def base(self, commit: str) -> tuple[str, Any] | None:
        """(commit, payload) of the exact entry, else of the newest entry that is an ancestor of *commit*."""
        exact = self.load(commit)
        if exact is not None:
            return commit, exact
        try:
            cands = sorted(self.dir.glob(f"{self.params}-*.pkl"), key=lambda q: q.stat().st_mtime, reverse=True)
        except OSError:
            return None
        for q in cands[:CANDIDATES]:
            old = q.stem[len(self.params) + 1:]
            if old != commit and is_ancestor(self.repo, old, commit):
                payload = self.load(old)
                if payload is not None:
                    return old, payload
        return None


def rev_list(repo: str, commit: str, *flags: str) -> list[str]:
    """Every commit reachable from *commit*, in the order ``git log`` with *flags* walks them."""
    return gitutil.run(repo, "rev-list", *flags, "--end-of-options", commit, "--").decode().split()
