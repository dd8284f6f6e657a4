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


def last_changes(changes: pd.DataFrame) -> dict[str, str]:
    """The last non-merge commit that changed each path (changes are in git log order, newest first)."""
    if changes.empty:
        return {}
    first = changes.drop_duplicates("path", keep="first")
    return dict(zip(first["path"], first["sha"]))


def _parse_incremental(out: bytes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in out.split(b"\n"):
        if len(line) > 41 and line[40:41] == b" ":
            parts = line.split(b" ")
            if len(parts) == 4 and len(parts[0]) == 40:
                try:
                    n = int(parts[3])
                except ValueError:
                    continue
                sha = parts[0].decode()
                counts[sha] = counts.get(sha, 0) + n
    return counts


class BlameCache:
    def __init__(self, enabled: bool = True):
        self.dir = cache_dir("blame") if enabled else None

    def _file(self, key: str) -> Path | None:
        return self.dir / key[:2] / f"{key}.json" if self.dir else None

    def get(self, key: str) -> dict[str, int] | None:
        f = self._file(key)
        if f is None or not f.exists():
            return None
        try:
            return json.loads(f.read_text())
        except (OSError, ValueError):
            return None

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
                cache: bool = True, progress=None) -> tuple[pd.DataFrame, list[str], dict]:
    """Lines per (path, commit sha) at *commit* for the files whose category is ``text``.

    Returns the table, warnings (files that could not be blamed) and statistics (files blamed vs cached).
    """
    stats = {"files": 0, "blamed": 0, "cached": 0}
    if commit is None or files.empty:
        return pd.DataFrame(columns=BLAME_COLUMNS), [], stats
    todo = files[files["category"] == "text"][["path", "blob", "lines"]]
    ignore = gitutil.read_blob(repo, f"{commit}:.git-blame-ignore-revs")
    ignore_file = None
    if ignore is not None:
        # Only full shas that exist are usable; git refuses the whole file otherwise.
        valid = []
        for line in ignore.decode("utf-8", "replace").splitlines():
            s = line.split("#", 1)[0].strip()
            if s and gitutil.run(repo, "cat-file", "-t", s, check=False).strip() == b"commit":
                valid.append(s)
        fd, ignore_file = tempfile.mkstemp(prefix="ddkit-ignore-revs-")
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(valid) + "\n")
    ign_hash = hashlib.sha256(ignore or b"").hexdigest()[:16]
    last = last_changes(changes)
    bc = BlameCache(cache)
    env = gitutil.git_env(commit_graph_env(repo))
    rows: list[tuple[str, str, int]] = []
    warnings: list[str] = []
    lock = threading.Lock()

    def one(path: str, blob: str, n_lines: int) -> None:
        key = hashlib.sha256("\x1f".join([_CACHE_VERSION, path, blob, last.get(path, ""), ign_hash]).encode(
            "utf-8", "surrogateescape")).hexdigest()
        counts = bc.get(key)
        cached = counts is not None
        if counts is None:
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
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
            # Largest files first keeps both workers busy to the end.
            order = todo.sort_values("lines", ascending=False, kind="stable")
            list(ex.map(lambda r: one(*r), order.itertuples(index=False, name=None)))
    finally:
        if ignore_file:
            os.unlink(ignore_file)
    df = pd.DataFrame(rows, columns=BLAME_COLUMNS).sort_values(["path", "sha"], kind="stable").reset_index(drop=True)
    return df, warnings, stats
