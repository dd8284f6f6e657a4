"""Surviving lines: whitespace-insensitive blame of every owned text file at the ref.

``git blame -w --incremental`` runs for each file in a small thread pool (the work is in git's own
processes, so threads use both cores), honouring the ref's ``.git-blame-ignore-revs``. Each blamed
line is attributed through its commit sha (joined to the commits table later), so git's own .mailmap
handling in blame does not matter. Results are cached per file under ``cache_dir("blame")``, keyed by
what the result depends on: the path, its blob at the ref, the last commit that changed it, and the
ignore-revs list. A re-scan after a new commit only blames the files that commit touched.

Speed: blame spends its time walking history for one path. A commit-graph with changed-path Bloom
filters lets git skip the commits that did not touch it (about 3x faster on pypa/pip). ddkit never
writes into the scanned repository: it writes that commit-graph into an object directory of its own
under the cache and runs git with that directory in front (GIT_OBJECT_DIRECTORY) and the repository's
objects as an alternate. Blame output is byte-for-byte the same with or without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from .. import gitutil
from ..cache import cache_dir
from ..text import encode_path

BLAME_COLUMNS = ["path", "sha", "lines"]
_CACHE_VERSION = "1"
_HEX = re.compile(rb"[0-9a-fA-F]{4,64}")


def last_changes(changes: pd.DataFrame) -> dict[str, str]:
    """The last non-merge commit that changed each path (changes are in git log order, newest first)."""
    if changes.empty:
        return {}
    first = changes.drop_duplicates("path", keep="first")
    return dict(zip(first["path"].tolist(), first["sha"].tolist()))


def _parse_incremental(out: bytes) -> dict[str, int]:
    """Lines per commit from ``git blame --incremental``: each group starts "<sha> <orig> <final> <n>".

    Object ids are 40 hex digits (SHA-1) or 64 (SHA-256 repositories).
    """
    counts: dict[str, int] = {}
    for line in out.split(b"\n"):
        parts = line.split(b" ")
        if len(parts) == 4 and len(parts[0]) in (40, 64) and _HEX.fullmatch(parts[0]):
            try:
                n = int(parts[3])
            except ValueError:
                continue
            sha = parts[0].decode()
            counts[sha] = counts.get(sha, 0) + n
    return counts


def ignore_revs(repo: str, data: bytes) -> tuple[list[str], list[str]]:
    """The full commit ids named by a ``.git-blame-ignore-revs`` file, and the entries that name none.

    git accepts only full object ids there and refuses the *whole* file (``fatal: invalid object name``,
    for every blame) when one line is an abbreviated sha, ``HEAD`` or garbage. So each entry is resolved
    here: a hex prefix that names exactly one commit becomes its full id; anything else is dropped and
    reported. Names like ``HEAD`` are dropped, not resolved: git would not accept them either, and their
    meaning moves with every commit.
    """
    entries: list[bytes] = []
    for line in data.split(b"\n"):
        e = line.split(b"#", 1)[0].strip()
        if e and e not in entries:
            entries.append(e)
    hexes = [e for e in entries if _HEX.fullmatch(e)]
    resolved: dict[bytes, str] = {}
    if hexes:
        # One cat-file for all entries; "^{commit}" peels a tag to its commit as git's own parser does.
        out = gitutil.run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)",
                          input=b"".join(e + b"^{commit}\n" for e in hexes), check=False)
        for e, line in zip(hexes, out.split(b"\n")):
            parts = line.split()
            if len(parts) == 2 and parts[1] == b"commit" and _HEX.fullmatch(parts[0]):
                resolved[e] = parts[0].decode()
    valid = list(dict.fromkeys(resolved[e] for e in entries if e in resolved))
    bad = [repr(e.decode("utf-8", "replace"))[1:-1] for e in entries if e not in resolved]
    return valid, bad


class BlameCache:
    def __init__(self, enabled: bool = True):
        self.dir = cache_dir("blame") if enabled else None

    def _file(self, key: str) -> Path | None:
        return self.dir / key[:2] / f"{key}.json" if self.dir else None

    def get(self, key: str, known: set[str] | None = None) -> dict[str, int] | None:
        """The cached result, or None when there is none or it cannot be trusted.

        The cache is outside the repository but still only a file: an entry of the wrong shape, or one
        naming a commit that is not in the scanned history (damaged, or rewritten to credit someone
        else), is treated as missing and recomputed, never used.
        """
        f = self._file(key)
        if f is None or not f.exists():
            return None
        try:
            value = json.loads(f.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(value, dict):
            return None
        for sha, n in value.items():
            if type(n) is not int or n <= 0 or (known is not None and sha not in known):
                return None
        return value

    def put(self, key: str, value: dict[str, int]) -> None:
        f = self._file(key)
        if f is None:
            return
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(value))
        tmp.replace(f)


def commit_graph_env(repo: str) -> dict[str, str]:
    """Environment that gives git a changed-path commit-graph for *repo*, kept in ddkit's cache.

    Returns {} (plain git) when the graph cannot be written.
    """
    try:
        objects = gitutil.run(repo, "rev-parse", "--path-format=absolute", "--git-path", "objects").decode().strip()
    except gitutil.GitError:
        return {}
    if not objects or not os.path.isdir(objects):
        return {}
    d = cache_dir("commit-graph", hashlib.sha256(os.path.realpath(objects).encode()).hexdigest()[:16], "objects")
    (d / "info").mkdir(exist_ok=True)
    (d / "pack").mkdir(exist_ok=True)
    env = {"GIT_OBJECT_DIRECTORY": str(d), "GIT_ALTERNATE_OBJECT_DIRECTORIES": objects}
    try:
        gitutil.run(repo, "commit-graph", "write", "--reachable", "--changed-paths", "--split", env=env)
    except gitutil.GitError:
        return {}
    return env


def blame_files(repo: str, commit: str | None, files: pd.DataFrame, changes: pd.DataFrame, jobs: int = 2,
                cache: bool = True, progress=None, commits=None) -> tuple[pd.DataFrame, list[str], dict]:
    """Lines per (path, commit sha) at *commit* for the files whose category is ``text``.

    *commits*: the shas of the scanned history; a cached result naming any other commit is not trusted.

    Returns the table, warnings (files that could not be blamed) and statistics (files blamed vs cached).
    """
    stats = {"files": 0, "blamed": 0, "cached": 0}
    if commit is None or files.empty:
        return pd.DataFrame(columns=BLAME_COLUMNS), [], stats
    todo = files[files["category"] == "text"][["path", "blob", "lines"]]
    warnings: list[str] = []
    ignore = gitutil.read_blob(repo, f"{commit}:.git-blame-ignore-revs")
    ignore_file = None
    valid: list[str] = []
    if ignore is not None:
        valid, bad = ignore_revs(repo, ignore)
        if bad:
            shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
            warnings.append(f".git-blame-ignore-revs: {len(bad)} entries are not commits of this repository "
                            f"and were not ignored: {shown}")
        fd, ignore_file = tempfile.mkstemp(prefix="ddkit-ignore-revs-")
        with os.fdopen(fd, "w") as fh:
            fh.write("".join(f"{v}\n" for v in valid))
    # Keyed by the normalized list: what blame was actually told to ignore.
    ign_hash = hashlib.sha256(" ".join(valid).encode()).hexdigest()[:16] if ignore is not None else "none"
    last = last_changes(changes)
    bc = BlameCache(cache)
    known = set(commits.tolist() if hasattr(commits, "tolist") else commits) if commits is not None else None
    env = gitutil.git_env(commit_graph_env(repo))
    rows: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    def one(path: str, blob: str, n_lines: int) -> None:
        key = hashlib.sha256("\x1f".join([_CACHE_VERSION, path, blob, last.get(path, ""), ign_hash]).encode(
            "utf-8", "surrogateescape")).hexdigest()
        counts = bc.get(key, known)
        cached = counts is not None
        if counts is None:
            # (gitutil passes an empty blame.ignoreRevsFile: the repository's own config cannot name a list
            # other than the one checked above; one bad line there makes git refuse every blame.)
            args = ["blame", "-w", "--incremental"]
            if ignore_file:
                args += ["--ignore-revs-file", ignore_file]
            cmd = gitutil.git_cmd(repo, *args, commit, "--")
            proc = subprocess.run([*cmd, encode_path(path)], capture_output=True, env=env)
            if proc.returncode != 0:
                with lock:
                    warnings.append(f"blame failed for {path}: "
                                    f"{proc.stderr.decode('utf-8', 'replace').strip().splitlines()[:1]}")
                return
            counts = _parse_incremental(proc.stdout)
            bc.put(key, counts)
        with lock:
            stats["files"] += 1
            stats["cached" if cached else "blamed"] += 1
            rows.extend((path, sha, n) for sha, n in counts.items())
            if progress is not None:
                progress.advance(1)

    try:
        if progress is not None:
            progress.set_total(len(todo))
        ex = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            # Largest files first keeps both workers busy to the end.
            order = todo.sort_values("lines", ascending=False, kind="stable")
            list(ex.map(lambda r: one(*r), order.itertuples(index=False, name=None)))
        except BaseException:
            # Ctrl-C or an error: drop the files not started (a `with` block would blame them all first).
            ex.shutdown(wait=False, cancel_futures=True)
            raise
        ex.shutdown()
    finally:
        if ignore_file:
            os.unlink(ignore_file)
    df = pd.DataFrame(rows, columns=BLAME_COLUMNS).sort_values(["path", "sha"], kind="stable").reset_index(drop=True)
    return df, warnings, stats
