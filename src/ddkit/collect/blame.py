"""Surviving lines: whitespace-insensitive blame of every owned text file at the ref.

``git blame -w --incremental`` runs for each file in a small thread pool (the work is in git's own
processes, so threads use both cores), honouring the ref's ``.git-blame-ignore-revs``. Each blamed
line is attributed through its commit sha (joined to the commits table later), so git's own .mailmap
handling in blame does not matter. Results are cached per file under ``cache_dir("blame")``, keyed by
what the result depends on: the path, its blob at the ref, the last commit that changed it, and the
ignore-revs list. A re-scan after a new commit only blames the files that commit touched. The results
used by the last scan of a repository are also kept together in one entry (``incremental.Store``,
stage "blame"), so that a re-scan reads one file instead of one per text file; a key it does not hold
is looked up in the per-file cache, which is shared across refs and repositories.

Speed: blame spends its time walking history for one path. A commit-graph with changed-path Bloom
filters lets git skip the commits that did not touch it (about 3x faster on pypa/pip). ddkit never
writes into the scanned repository: it writes that commit-graph into an object directory of its own
under the cache and runs git with that directory in front (GIT_OBJECT_DIRECTORY) and the repository's
objects as an alternate. Blame output is byte-for-byte the same with or without it.
"""

from __future__ import annotations

import collections
import hashlib
import operator
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd

from .. import cache as cache_mod
from .. import gitutil
from ..cache import cache_dir
from ..fsutil import atomic_write
from ..text import encode_path, first_few
from . import incremental

BLAME_COLUMNS = ["path", "sha", "lines"]
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
            except ValueError:   # not a blame header line (git's own output): skipped
                continue
            sha = parts[0].decode()
            counts[sha] = counts.get(sha, 0) + n
    return counts


def ignored_authors_warning(repo: str, valid: list[str]) -> str:
    """Who wrote the commits the ref's ``.git-blame-ignore-revs`` hides from blame. The file is honoured (it
    lists reformatting commits, whose lines belong to whoever wrote them before), but it is the repository's
    own file, and every line those commits touched is credited to an earlier author: the report names the
    authors so a reader can see whose work the file moves (one ``git log``, the commit ids on its input)."""
    raw = gitutil.run(repo, "log", "--no-walk=unsorted", "--stdin", "--format=%an <%ae>",
                      input="".join(f"{v}\n" for v in valid).encode())
    by = collections.Counter(raw.decode("utf-8", "replace").splitlines())
    authors = [f"{a} ({n})" for a, n in sorted(by.items(), key=lambda x: (-x[1], x[0]))]
    return (f".git-blame-ignore-revs (the repository's own file) makes blame skip {len(valid)} "
            f"commit{'s' if len(valid) != 1 else ''}, crediting the lines they changed to earlier authors; "
            f"their authors: {first_few(authors)}")


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


def _trusted(value, known: set[str] | None) -> bool:
    """A cached result has the shape of one and names only commits of the scanned history."""
    if not isinstance(value, dict):
        return False
    for sha, n in value.items():
        if type(n) is not int or n <= 0 or (known is not None and sha not in known):
            return False
    return True


_CODEC = cache_mod.json_codec("blame", lambda v: _trusted(v, None))


class BlameCache:
    def __init__(self, enabled: bool = True):
        self.dir = cache_dir("blame") if enabled else None

    def _file(self, key: str) -> Path | None:
        return self.dir / key[:2] / f"{key}.json" if self.dir else None

    def get(self, key: str, known: set[str] | None = None) -> dict[str, int] | None:
        """The cached result, or None when there is none or it cannot be trusted.

        The cache is outside the repository but still only a file: an entry not sealed by this cache, of
        the wrong shape, or naming a commit that is not in the scanned history (damaged, or rewritten to
        credit someone else), is treated as missing and recomputed, never used.
        """
        value = cache_mod.load(self._file(key), _CODEC)
        return value if value is not None and _trusted(value, known) else None

    def put(self, key: str, value: dict[str, int]) -> None:
        cache_mod.save(self._file(key), _CODEC, value)    # a full disk: the entry is only lost time


def _temporary_file(text: str) -> Path:
    """*text* in a temporary file removed when the process ends (an InputError when none can be written)."""
    import atexit
    import tempfile
    try:
        fd, name = tempfile.mkstemp(prefix="ddkit-ignore-revs-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        from ..errors import InputError
        raise InputError(f"cannot write the list of revisions blame ignores, in the cache or in "
                         f"{tempfile.gettempdir()} ({e.strerror or e})") from None
    atexit.register(lambda: Path(name).unlink(missing_ok=True))
    return Path(name)


def _added_once(changes: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    """{path: (sha, blob)} for each path whose only change in *changes* is its addition ("A") in a commit
    that deleted no file (see :meth:`BlameJob._from_history`)."""
    if changes is None or changes.empty:
        return {}
    rows: dict[str, tuple[str, str, str] | None] = {}
    deleting: set[str] = set()
    for path, status, sha, blob in zip(changes["path"].tolist(), changes["status"].tolist(),
                                       changes["sha"].tolist(), changes["blob"].tolist()):
        if status == "D":
            deleting.add(sha)
        if path in rows:
            rows[path] = None            # changed more than once
        else:
            rows[path] = (status, sha, blob)
    return {p: (r[1], r[2]) for p, r in rows.items()
            if r is not None and r[0] == "A" and r[1] not in deleting and isinstance(r[2], str)}


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
    job = BlameJob(repo, commit, files, jobs=jobs, cache=cache)
    job.know(changes, commits)
    return job.result(progress)


class BlameJob:
    """:func:`blame_files` in *jobs* worker threads that start at once, so that the caller goes on with
    other stages (the work is in git's processes).

    A cached result is keyed by the last commit that changed the path, which only the history knows
    (:meth:`know`). With *speculate* (a cold scan: there is no history yet, so the cache is not expected to
    hold much), the workers do not wait for it: they blame files from the start, beside the history read,
    and their results are written to the cache once the history has given the keys. A file's blame at
    *commit* does not depend on the history stage, only its cache key does, so the table is the same
    either way; speculation only decides whether the cache is looked at before or after blaming.
    """

    def __init__(self, repo: str, commit: str | None, files: pd.DataFrame, jobs: int = 2, cache: bool = True,
                 speculate: bool = False) -> None:
        self.repo, self.commit, self.speculate = repo, commit, speculate
        self.stats = {"files": 0, "blamed": 0, "cached": 0, "from_history": 0}
        self.warnings: list[str] = []
        self.rows: list[tuple[str, str, int]] = []
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._known_evt = threading.Event()
        self._last: dict[str, str] = {}
        self._known: set[str] | None = None
        self._pending: list[tuple[str, str, dict[str, int]]] = []   # speculative results, keyed later
        self._cancel = False
        self._progress = None
        self._bc = BlameCache(cache)
        # The results of the last scan of this repository, by key (loaded once, in _setup), and those of
        # this scan, which replace them at the end when they differ.
        self._store: incremental.Store | None = None
        self._recent: dict[str, dict[str, int]] = {}
        self._used: dict[str, dict[str, int]] = {}
        self._from_recent = 0
        self._ignore_file: str | None = None
        self._ignored: set[str] = set()
        self._ign_hash = "none"
        self._git = ""                       # git's version (set up once, part of every key)
        self._changes: pd.DataFrame | None = None
        self._single: dict[str, tuple[str, str]] | None = None
        self._env: dict[str, str] = {}
        self._set_up = False                 # by the first worker, under _setup_lock
        self._setup_lock = threading.Lock()
        self._error: BaseException | None = None
        self._t0 = time.perf_counter()
        self.total = 0
        if commit is None or files.empty:
            self._todo: collections.deque = collections.deque()
            self._threads: list[threading.Thread] = []
            return
        todo = files[files["category"] == "text"][["path", "blob", "lines"]]
        # Largest files first keeps both workers busy to the end.
        self._todo = collections.deque(todo.sort_values("lines", ascending=False, kind="stable")
                                       .itertuples(index=False, name=None))
        self.total = len(self._todo)
        # Daemon threads: a scan that fails elsewhere, or Ctrl-C, does not wait for the files left.
        self._threads = [threading.Thread(target=self._work, name=f"ddkit-blame-{i}", daemon=True)
                         for i in range(max(1, jobs))]
        for t in self._threads:
            t.start()

    def know(self, changes: pd.DataFrame, commits=None) -> None:
        """The history is read: the cache keys (last change per path) and the commits a cached result may name."""
        self._changes = changes
        self._last = last_changes(changes)
        self._known = set(commits.tolist() if hasattr(commits, "tolist") else commits) if commits is not None \
            else None
        self._known_evt.set()

    def cancel(self) -> None:
        """Start no more files (those being blamed finish in the background)."""
        self._cancel = True
        self._known_evt.set()

    def result(self, progress=None) -> tuple[pd.DataFrame, list[str], dict]:
        """Wait for every file (after :meth:`know`)."""
        with self._lock:
            self._progress = progress
            if progress is not None:
                progress.set_total(self.total)
                progress.advance(self.stats["files"])
        for t in self._threads:
            t.join()
        if self._error is not None:
            raise self._error
        for path, blob, counts in self._pending:
            key = self._key(path, blob)
            self._bc.put(key, counts)
            self._used[key] = counts
        self._pending = []
        if self._store is not None and (self._from_recent != len(self._used) or self._used.keys() != self._recent.keys()):
            self._store.save("keys", self._used)     # this scan's files only: the entry does not grow
        self.seconds = time.perf_counter() - self._t0
        # Sorted by (path, sha) as a stable sort of the frame would, in plain Python (half the time).
        self.rows.sort(key=operator.itemgetter(0, 1))
        return pd.DataFrame(self.rows, columns=BLAME_COLUMNS), sorted(self.warnings), self.stats

    def _setup(self) -> None:
        """The ref's ignore-revs list and the commit-graph: once, by the first worker."""
        assert self.commit is not None
        ignore = gitutil.read_blob(self.repo, f"{self.commit}:.git-blame-ignore-revs")
        valid: list[str] = []
        if ignore is not None:
            valid, bad = ignore_revs(self.repo, ignore)
            if bad:
                self.warnings.append(f".git-blame-ignore-revs: {len(bad)} entries are not commits of this "
                                     f"repository and were not ignored: {first_few(bad)}")
            if valid:
                self.warnings.append(ignored_authors_warning(self.repo, valid))
            # Keyed by the normalized list: what blame was actually told to ignore.
            self._ign_hash = hashlib.sha256(" ".join(valid).encode()).hexdigest()[:16]
            self._ignored = set(valid)
            # The list blame reads is kept in the cache under that key (full ids only, one per line), not
            # in a temporary file: nothing is left behind when a scan stops while workers still blame.
            text = "".join(f"{v}\n" for v in valid)
            f = cache_dir("blame-ignore-revs") / f"{self._ign_hash}.txt"
            try:
                current = f.read_text() if f.exists() else None
            except (OSError, UnicodeDecodeError):
                current = None
            if current != text:
                try:
                    atomic_write(f, text)
                except OSError as e:     # a full cache disk: blame reads the list from a temporary file
                    cache_mod.write_failed(e)
                    f = _temporary_file(text)
            self._ignore_file = str(f)
        self._env = gitutil.git_env(commit_graph_env(self.repo))
        self._git = gitutil.git_version()
        if self._bc.dir is not None:
            self._store = incremental.Store("blame", self.repo, {},
                                            lambda v: isinstance(v, dict))
            self._recent = self._store.load("keys") or {}

    def _key(self, path: str, blob: str) -> str:
        return cache_mod.entry_key(path, blob, self._last.get(path, ""), self._ign_hash, self._git)

    def _from_history(self, path: str, blob: str, lines: int) -> dict[str, int] | None:
        """What ``git blame`` gives a file the history shows added once and never changed: every line to
        the commit that added it. Only when nothing else could be its origin: the path's one change in the
        history is that addition, of the very blob at the ref (an evil merge leaves another blob), in a commit
        that deleted no file (blame follows a whole-file rename, and git log's rename detection can give up
        where blame's does not: a deleted file could have been its origin) and that blame is not told to
        ignore. None: blame it (about a fifth of pip's text files qualify; their blames were 0.6 s of CPU)."""
        single = self._single
        if single is None:
            with self._lock:
                if self._single is None:
                    self._single = _added_once(self._changes)
                single = self._single
        hit = single.get(path)
        if hit is None or hit[1] != blob or hit[0] in self._ignored:
            return None
        return {hit[0]: int(lines)} if lines else {}

    def _blame(self, path: str) -> dict[str, int] | None:
        # (gitutil passes an empty blame.ignoreRevsFile: the repository's own config cannot name a list
        # other than the one checked in _setup; one bad line there makes git refuse every blame.)
        args = ["blame", "-w", "--incremental"]
        if self._ignore_file:
            args += ["--ignore-revs-file", self._ignore_file]
        cmd = gitutil.git_cmd(self.repo, *args, self.commit or "", "--")
        proc = subprocess.run([*cmd, encode_path(path)], capture_output=True, env=self._env)
        if proc.returncode != 0:
            with self._lock:
                self.warnings.append(f"blame failed for {path}: "
                                     f"{proc.stderr.decode('utf-8', 'replace').strip().splitlines()[:1]}")
            return None
        return _parse_incremental(proc.stdout)

    def _work(self) -> None:
        try:
            with self._setup_lock:
                if not self._set_up:
                    self._set_up = True
                    self._setup()
            self._files()
        except BaseException as e:     # handed to result()
            self._error = e
            self._cancel = True

    def _files(self) -> None:
        while not self._cancel:
            with self._lock:
                if not self._todo:
                    return
                path, blob, lines = self._todo.popleft()
            if self._known_evt.is_set() or not self.speculate:
                self._known_evt.wait()
                if self._cancel:
                    return
                key = self._key(path, blob)
                counts = self._recent.get(key)
                recent = counts is not None and _trusted(counts, self._known)
                if not recent:
                    counts = self._bc.get(key, self._known)
                kind = "cached"
                if counts is None:
                    kind = "from_history"
                    counts = self._from_history(path, blob, lines)
                    if counts is None:
                        kind = "blamed"
                        counts = self._blame(path)
                    if counts is None:
                        continue
                    self._bc.put(key, counts)
                with self._lock:
                    self._used[key] = counts
                    self._from_recent += recent
            else:
                counts = self._blame(path)
                kind = "blamed"
                if counts is None:
                    continue
                with self._lock:
                    self._pending.append((path, blob, counts))
            with self._lock:
                self.stats["files"] += 1
                self.stats[kind] += 1
                self.rows.extend((path, sha, n) for sha, n in counts.items())
                if self._progress is not None:
                    self._progress.advance(1)
