"""Secrets in history: every line ever added, by every commit reachable from the ref.

The detector is detect-secrets (Yelp), used as a library. Its file-level filter that drops paths not
on disk is disabled (history paths need not exist in any work tree). detect-secrets is slow per line,
so ddkit first screens the added text with the detectors' own regular expressions, run over large
blocks of text at C speed; only lines that one of them can match go through detect-secrets' full
pipeline (plugins, then its false-positive filters). The screen is a superset of what the plugins
match, so it changes the time, never the result (tested against the unscreened scan).

No secret value ever leaves this module: results carry a SHA-256 fingerprint prefix only.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
import string
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import pandas as pd

from .. import gitutil
from . import secrets_fast
from ..text import decode_path

SECRET_COLUMNS = ["sha", "path", "line", "detector", "fingerprint"]
_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_BATCH_LINES = 20000


def fingerprint(secret: str) -> str:
    """A redacted, stable identifier of a secret: never the secret itself."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()[:16]


@contextmanager
def _detect_secrets():
    from detect_secrets.settings import default_settings, get_settings
    with default_settings():
        get_settings().disable_filters("detect_secrets.filters.common.is_invalid_file")
        yield


def _group_end(p: str, i: int) -> int:
    """Index of the parenthesis closing the group that opens at p[i], or -1."""
    depth, j = 0, i
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            k = j + 1
            if k < len(p) and p[k] == "^":
                k += 1
            if k < len(p) and p[k] == "]":
                k += 1
            while k < len(p) and p[k] != "]":
                k += 2 if p[k] == "\\" else 1
            j = k + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return -1


def _strip_leading_context(p: str) -> str:
    """Drop leading look-behinds, optional groups and one-character alternatives from a pattern.

    Whatever a pattern XY matches contains a match of Y, so dropping a leading element can only
    widen the screen; it lets the regex engine start from a literal, which is much faster.
    """
    while p.startswith(("(?:", "(?<")):
        e = _group_end(p, 0)
        if e < 0 or e + 1 >= len(p) or p[e + 1] in "*+?{":
            break
        g = p[:e + 1]
        singles = g.startswith("(?:") and all(len(a.replace("\\", "")) <= 1 for a in g[3:-1].split("|"))
        if "(?<" in g or g.endswith("|)") or singles:
            p = p[e + 1:]
            continue
        break
    return p


_ESCAPE = re.compile(r"\\.")
_CLASS = re.compile(r"\[[^\]]*\]")


def _screen(pattern: str, flags: int) -> tuple[re.Pattern[str], bool]:
    """Compile a screening regex; True when it runs on ASCII-lower-cased text without IGNORECASE
    (much faster, and the same matches when no literal in the pattern is upper case)."""
    if not flags & re.X:
        pattern = _strip_leading_context(pattern)
    flags |= re.M
    # Character classes that hold both cases of every letter match the same on lower-cased text.
    bare = _CLASS.sub(lambda m: "" if "a-z" in m.group(0) and "A-Z" in m.group(0) else m.group(0),
                      _ESCAPE.sub("", pattern))
    if flags & re.I and not any(c.isupper() for c in bare):
        return re.compile(pattern, flags & ~re.I), True
    return re.compile(pattern, flags), False


_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _screen_patterns() -> list[tuple[re.Pattern[str], bool]] | None:
    """Regular expressions at least one of which matches any line a detect-secrets plugin can flag."""
    from detect_secrets.core.scan import get_plugins
    from detect_secrets.plugins import keyword
    out: list[tuple[re.Pattern[str], bool]] = []
    for p in get_plugins():
        name = type(p).__name__
        if name == "KeywordDetector":
            out.append(_screen("|".join(keyword.DENYLIST), re.I))
        elif hasattr(p, "denylist"):
            out += [_screen(r.pattern, r.flags) for r in p.denylist]
        elif hasattr(p, "regex") and hasattr(p, "entropy_limit"):
            # A string's Shannon entropy is at most log2(length): shorter quoted strings cannot pass.
            n = max(1, math.ceil(2 ** float(p.entropy_limit)))
            pat = p.regex.pattern
            tightened = pat.replace("]+)(\\1)", "]{%d,})(\\1)" % n)
            out.append(_screen(tightened, p.regex.flags))
        else:
            return None  # a plugin we do not know how to screen for: scan every line
    return out


@dataclass
class _Batch:
    # (sha, path, line number, text) of added lines, in order
    rows: list[tuple[str, str, int, str]] = field(default_factory=list)


class SecretScanner:
    def __init__(self, screen: bool = True) -> None:
        self.screen = _screen_patterns() if screen else None
        self.lines_seen = 0
        self.lines_checked = 0

    def _candidates(self, texts: list[str]) -> set[int]:
        if self.screen is None:
            return set(range(len(texts)))
        hits: set[int] = set()
        blob = "\n".join(texts)
        low = blob.translate(_LOWER)
        starts = [0]
        for t in texts[:-1]:
            starts.append(starts[-1] + len(t) + 1)
        for rx, lowered in self.screen:
            target = low if lowered else blob
            pos = 0
            n = len(blob)
            while pos < n:
                m = rx.search(target, pos)
                if not m:
                    break
                first = bisect.bisect_right(starts, m.start()) - 1
                last = bisect.bisect_right(starts, max(m.end() - 1, m.start())) - 1
                hits.update(range(first, last + 1))
                # Restart at the next line, so no line's own match is hidden by a longer one.
                pos = starts[first + 1] if first + 1 < len(starts) else n
        return hits

    def scan_batch(self, batch: _Batch) -> list[tuple[str, str, int, str, str]]:
        from detect_secrets.core.scan import _process_line_based_plugins
        self.lines_seen += len(batch.rows)
        cand = self._candidates([r[3] for r in batch.rows])
        # Group candidate lines per (commit, path), with the line before each (allow-list pragmas).
        groups: dict[tuple[str, str], dict[int, str]] = {}
        for i in sorted(cand):
            for j in (i - 1, i):
                if j < 0:
                    continue
                sha, path, ln, text = batch.rows[j]
                if (sha, path) != batch.rows[i][:2]:
                    continue
                groups.setdefault((sha, path), {})[ln] = text
        out = []
        for (sha, path), lines in groups.items():
            if _file_filtered(path):
                continue
            items = sorted(lines.items())
            self.lines_checked += len(items)
            for s in _process_line_based_plugins(items, filename=path):
                if s.secret_value is None:
                    continue
                out.append((sha, path, int(s.line_number), s.type, fingerprint(s.secret_value)))
        return out


def _file_filtered(path: str) -> bool:
    """detect-secrets' own file-level filters (lock files, non-text extensions, …), by name only."""
    from detect_secrets.core.scan import _is_filtered_out
    return _is_filtered_out(required_filter_parameters=["filename"], filename=path)


def _added_lines(repo: str, commit: str) -> Iterator[tuple[str, str, int, str]]:
    """(sha, path, line number in the new file, text) for every line added by a non-merge commit."""
    args = ["log", "-p", "-U0", "--no-color", "--no-ext-diff", "--no-textconv",
            "--format=%x1eC%H", "--end-of-options", commit, "--"]
    sha = path = None
    lineno = 0
    buf = b""
    for chunk in gitutil.stream(repo, *args):
        buf += chunk
        lines = buf.split(b"\n")
        buf = lines.pop()
        for ln in lines:
            c = ln[:1]
            if c == b"+":
                if ln.startswith(b"+++ "):
                    target = ln[4:]
                    path = None if target == b"/dev/null" else _unquote(target)[2:]
                    continue
                if path is not None and sha is not None:
                    yield sha, path, lineno, ln[1:].decode("utf-8", "replace")
                    lineno += 1
            elif c == b"@":
                m = _HUNK.match(ln)
                if m:
                    lineno = int(m.group(1))
            elif c == b"\x1e":
                sha = ln[2:].decode()
                path = None
            elif c == b"d" and ln.startswith(b"diff --git "):
                path = None


def _unquote(b: bytes) -> str:
    """git quotes paths with special characters C-style ("a\\tb"); undo it."""
    if b[:1] == b'"' and b[-1:] == b'"':
        raw = b[1:-1]
        out = bytearray()
        i = 0
        esc = {ord("n"): 10, ord("t"): 9, ord('"'): 34, ord("\\"): 92, ord("a"): 7, ord("b"): 8,
               ord("f"): 12, ord("r"): 13, ord("v"): 11}
        while i < len(raw):
            ch = raw[i]
            if ch == 92 and i + 1 < len(raw):
                nxt = raw[i + 1]
                if nxt in esc:
                    out.append(esc[nxt])
                    i += 2
                    continue
                if 48 <= nxt <= 55:
                    out.append(int(raw[i + 1:i + 4], 8))
                    i += 4
                    continue
            out.append(ch)
            i += 1
        b = bytes(out)
    return decode_path(b)


_WORKER: SecretScanner | None = None
_WORKER_SETTINGS = None


def _init_worker(screen: bool) -> None:
    global _WORKER, _WORKER_SETTINGS
    _WORKER_SETTINGS = _detect_secrets()
    _WORKER_SETTINGS.__enter__()  # kept (referenced) for the worker's life
    _WORKER = SecretScanner(screen=screen)


def _worker_batch(rows: list[tuple[str, str, int, str]]) -> tuple[list[tuple], int, int]:
    assert _WORKER is not None
    before = (_WORKER.lines_seen, _WORKER.lines_checked)
    out = _WORKER.scan_batch(_Batch(rows))
    return out, _WORKER.lines_seen - before[0], _WORKER.lines_checked - before[1]


def _batches(repo: str, commit: str) -> Iterator[list[tuple[str, str, int, str]]]:
    rows: list[tuple[str, str, int, str]] = []
    for rec in _added_lines(repo, commit):
        rows.append(rec)
        if len(rows) >= _BATCH_LINES:
            yield rows
            rows = []
    if rows:
        yield rows


def _check_groups(groups: list[tuple[str, str, list[tuple[int, str]]]]) -> list[tuple]:
    """detect-secrets' full pipeline on candidate lines, grouped by (commit, path)."""
    from detect_secrets.core.scan import _process_line_based_plugins
    rows = []
    for sha, path, items in groups:
        if _file_filtered(path):
            continue
        for s in _process_line_based_plugins(items, filename=path):
            if s.secret_value is not None:
                rows.append((sha, path, int(s.line_number), s.type, fingerprint(s.secret_value)))
    return rows


def _check_groups_worker(groups):
    global _WORKER_SETTINGS
    if _WORKER_SETTINGS is None:
        _WORKER_SETTINGS = _detect_secrets()
        _WORKER_SETTINGS.__enter__()
    return _check_groups(groups)


def _scan_history_fast(repo: str, commit: str, jobs: int) -> tuple[pd.DataFrame, dict]:
    """Hyperscan finds the candidate lines in one pass per block; detect-secrets checks them, in
    *jobs* worker processes while git is still writing the history."""
    import multiprocessing as mp
    stats = {"lines": 0, "checked": 0}
    rows: list[tuple] = []
    with _detect_secrets():
        patterns = secrets_fast.plugin_patterns()
        if patterns is None:
            return scan_history(repo, commit, fast=False)
        scr = secrets_fast.Screen(patterns)
        ex = None
        if jobs > 1 and not mp.current_process().daemon:
            from concurrent.futures import ProcessPoolExecutor
            ex = ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn"))
        futures = []
        try:
            batch: list[tuple[str, str, list[tuple[int, str]]]] = []
            cur_key, cur = None, {}

            def flush_group():
                if cur_key is not None:
                    batch.append((cur_key[0], cur_key[1], sorted(cur.items())))
                    stats["checked"] += len(cur)

            for sha, path, n, text in secrets_fast.candidate_lines(repo, commit, scr, stats):
                if (sha, path) != cur_key:
                    flush_group()
                    cur_key, cur = (sha, path), {}
                    if len(batch) >= 200:
                        futures.append(ex.submit(_check_groups_worker, batch) if ex else None)
                        if not ex:
                            rows += _check_groups(batch)
                        batch = []
                cur[n] = text
            flush_group()
            if batch:
                if ex:
                    futures.append(ex.submit(_check_groups_worker, batch))
                else:
                    rows += _check_groups(batch)
            for f in futures:
                if f is not None:
                    rows += f.result()
        finally:
            if ex:
                ex.shutdown()
    df = pd.DataFrame(rows, columns=SECRET_COLUMNS).drop_duplicates()
    return df.reset_index(drop=True), stats


def scan_history(repo: str, commit: str | None, screen: bool = True, jobs: int = 1,
                 progress=None, fast: bool = True) -> tuple[pd.DataFrame, dict]:
    """Every secret detect-secrets finds in lines added anywhere in the history of *commit*.

    With jobs > 1, batches of added lines are screened and scanned in that many worker processes
    while this process reads git's output (not inside a daemonic process, e.g. a Dask worker, which
    cannot start children: there it runs in-process).
    """
    if commit is None:
        return pd.DataFrame(columns=SECRET_COLUMNS), {"lines": 0, "checked": 0}
    import multiprocessing as mp
    if screen and fast and secrets_fast.available():
        return _scan_history_fast(repo, commit, jobs)
    if mp.current_process().daemon:
        jobs = 1
    rows: list[tuple] = []
    seen = checked = 0
    if jobs <= 1:
        with _detect_secrets():
            sc = SecretScanner(screen=screen)
            for b in _batches(repo, commit):
                rows += sc.scan_batch(_Batch(b))
                if progress is not None:
                    progress.advance(len(b))
            seen, checked = sc.lines_seen, sc.lines_checked
    else:
        from concurrent.futures import ProcessPoolExecutor
        ctx = mp.get_context("spawn" if "fork" not in mp.get_all_start_methods() else "fork")
        with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker, initargs=(screen,)) as ex:
            pending = []
            def drain(limit: int) -> None:
                nonlocal seen, checked, rows
                while len(pending) > limit:
                    out, n_seen, n_checked = pending.pop(0).result()
                    rows += out
                    seen += n_seen
                    checked += n_checked
                    if progress is not None:
                        progress.advance(n_seen)
            for b in _batches(repo, commit):
                pending.append(ex.submit(_worker_batch, b))
                drain(2 * jobs)
            drain(0)
    df = pd.DataFrame(rows, columns=SECRET_COLUMNS).drop_duplicates()
    return df.reset_index(drop=True), {"lines": seen, "checked": checked}


def scan_tree(repo: str, commit: str | None, paths: list[str]) -> pd.DataFrame:
    """Secrets in the given files as they are at *commit* (to tell which history secrets remain)."""
    if commit is None or not paths:
        return pd.DataFrame(columns=SECRET_COLUMNS)
    rows = []
    with _detect_secrets():
        from detect_secrets.core.scan import _process_line_based_plugins
        for path in paths:
            if _file_filtered(path):
                continue
            blob = gitutil.read_blob(repo, f"{commit}:{path}")
            if blob is None or b"\0" in blob[:8000]:
                continue
            lines = list(enumerate(blob.decode("utf-8", "replace").splitlines(), start=1))
            for s in _process_line_based_plugins(lines, filename=path):
                if s.secret_value is not None:
                    rows.append((commit, path, int(s.line_number), s.type, fingerprint(s.secret_value)))
    return pd.DataFrame(rows, columns=SECRET_COLUMNS).drop_duplicates().reset_index(drop=True)
