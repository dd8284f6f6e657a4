"""History collection: one streamed pass of ``git log`` into two tables.

``commits``: one row per commit reachable from the ref (merges included), with the raw author and
committer identities as git recorded them (identity resolution happens later, in ``resolve``), and
``coauthors``: the (name, e-mail) pairs of the message's ``Co-authored-by:`` trailers.

``changes``: one row per file touched by a non-merge commit, with rename source, the lines it added and
deleted, and git's change status (A, M, D, R, C, T). Merge commits carry no file rows (git shows no diff
for them by default), so each change is counted once, in the commit that made it.

Both come from a single ``git log -z --raw -p -U0`` run that is parsed while git writes it. The counts
are summed from the patch's hunk headers, which is what ``--numstat`` prints for a diff without context
lines (a type change, shown as a deletion and a creation, counts both halves, as numstat does;
``tests/test_history_oracle.py`` checks every file of every commit against ``git -c diff.context=0 log
--numstat``; with context lines git may slide a hunk, and the default numstat then differs by a line or
so). Why the patch and not numstat: git computes
the diff again for each of ``--numstat`` and ``-p`` (on pypa/pip ``--raw --numstat`` costs git 3.0 s of
CPU, ``--raw -p -U0`` 2.8 s, both 4.3 s), and the secrets stage needs the added lines anyway, so when both
stages read the same range one read feeds both (``on_patch``; see :mod:`ddkit.collect.secrets`).
``binary`` is True when git printed the content change as binary (``Binary files … differ``); a
rename or mode change of a binary file that leaves its content unchanged is not a content change, and
counts 0 either way.
"""

from __future__ import annotations

import bisect
import collections
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import gitutil
from ..text import decode_name, decode_path

# Framing. Header fields are separated by NUL, which git never prints inside a name, e-mail or date (it
# cuts a header at a NUL byte). Each record starts with a marker holding a random nonce: paths are
# NUL-terminated under -z and may hold any other byte, so no file name in a hostile repository can
# fake a record start it cannot know in advance. (RS/US separators were forgeable by an author name.)
_N_HEADER = 10
# The last field: the message's Co-authored-by trailers, one per line (unfolded, so a value is one line).
_FIELDS = ("%H%x00%P%x00%an%x00%ae%x00%at%x00%ai%x00%cn%x00%ce%x00%ct%x00"
           "%(trailers:key=Co-authored-by,valueonly,unfold,separator=%x0a)%x00")
_COAUTHOR = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>]*)>\s*$")
_SHA = re.compile(rb"[0-9a-f]{40}|[0-9a-f]{64}")
_TZ = re.compile(rb".*[+-][0-9]{4}")
_IDENT = re.compile(rb"^(?P<name>.*?) *<(?P<email>[^>]*)> *(?P<ts>[0-9]+) *(?P<tz>[+-][0-9]{4})?")

COMMIT_COLUMNS = ["sha", "author_name_raw", "author_email_raw", "author_date", "author_tz",
                  "committer_name_raw", "committer_email_raw", "committer_date", "parents",
                  "files_changed", "added", "deleted", "coauthors"]
CHANGE_COLUMNS = ["sha", "path", "old_path", "status", "added", "deleted", "binary", "blob"]


@dataclass
class History:
    commits: pd.DataFrame
    changes: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def empty_history() -> History:
    return History(_commits_frame({c: [] for c in COMMIT_COLUMNS}),
                   _changes_frame({c: [] for c in CHANGE_COLUMNS}))


@dataclass
class Plan:
    """What a scan of *commit* will read: nothing (``base`` is the cached entry of *commit* itself), all of
    history (``base`` None) or ``OLD..commit`` (``base`` = (OLD, OLD's tables))."""
    store: Any
    base: tuple[str, Any] | None

    def reads(self, commit: str) -> tuple[str | None] | None:
        """(commit excluded from the read,) when git log must run; None when nothing is read."""
        if self.base is not None and self.base[0] == commit:
            return None
        return (self.base[0] if self.base is not None else None,)


class PatchFeed:
    """(sha, patch) pairs handed from the thread that reads history to the thread that looks for secrets
    in the added lines, when both need the same range (one ``git log -p`` instead of two: git computes
    every diff once). At most *budget* bytes wait at any time, so a history of gigabytes never sits in
    memory; the reader waits for the scanner instead.

    The reader calls :meth:`put` for each commit and :meth:`close` at the end, with the error if the read
    failed (the scanner then raises instead of taking a partial history for a whole one). The scanner
    iterates; if it stops early it calls :meth:`abandon`, and the reader's puts return at once.
    """

    def __init__(self, budget: int = 64 << 20) -> None:
        self._items: collections.deque[tuple[str, bytes]] = collections.deque()
        self._bytes = 0
        self._budget = budget
        self._cv = threading.Condition()
        self._closed = False
        self._error: BaseException | None = None
        self._gone = False

    def put(self, sha: str, patch: bytes) -> None:
        with self._cv:
            while self._bytes >= self._budget and not self._gone:
                self._cv.wait()
            if self._gone:
                return
            self._items.append((sha, patch))
            self._bytes += len(patch)
            self._cv.notify_all()

    def close(self, error: BaseException | None = None) -> None:
        with self._cv:
            if not self._closed:
                self._closed, self._error = True, error
            self._cv.notify_all()

    def abandon(self) -> None:
        with self._cv:
            self._gone = True
            self._items.clear()
            self._cv.notify_all()

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        try:
            while True:
                with self._cv:
                    while not self._items and not self._closed:
                        self._cv.wait()
                    if self._items:
                        item = self._items.popleft()
                        self._bytes -= len(item[1])
                        self._cv.notify_all()
                    elif self._error is not None:
                        raise RuntimeError("the history read that feeds the secrets scan failed") from self._error
                    else:
                        return
                yield item
        finally:
            self.abandon()


def plan(repo: str, commit: str, renames: bool = True) -> Plan:
    """Look up the cache: what :func:`collect_history` will read for *commit* (see :class:`Plan`)."""
    from . import incremental
    store = incremental.Store("history", repo, {"renames": renames}, _valid_payload)
    return Plan(store, store.base(commit))


def collect_history(repo: str, commit: str | None, *, renames: bool = True, cache: bool = True,
                    plan_: Plan | None = None, on_patch: Callable[[str, bytes], None] | None = None) -> History:
    """Read every commit reachable from *commit* (a resolved sha; None = empty repository).

    With *cache*, the tables are kept per (repository, commit): a re-scan of the same commit reads
    nothing, and a scan of a descendant of a cached commit reads only ``OLD..NEW`` (see
    :mod:`.incremental`); the result is the same as a cold read's, row for row. *plan_*: the cache
    lookup already made by :func:`plan`. *on_patch*: called with (sha, -U0 patch) of every non-merge
    commit of the range read (used only when the caller knows that range; see :class:`Plan`).
    """
    if commit is None:
        return empty_history()
    if not cache:
        return _history(_read(repo, commit, None, renames, on_patch))
    pl = plan_ if plan_ is not None else plan(repo, commit, renames)
    store, base = pl.store, pl.base
    if base is not None and base[0] == commit:
        return _history(base[1])
    payload: dict | None
    if base is None:
        payload = _read(repo, commit, None, renames, on_patch)
    else:
        old, cached = base
        new = _read(repo, commit, old, renames, on_patch)
        if new.pop("chain"):     # OLD..NEW is a line on top of OLD: new rows first, then OLD's, as they are
            payload = _stack(new, cached)
        else:
            from . import incremental
            payload = _combine(new, cached, incremental.rev_list(repo, commit, "--date-order"))
    if payload is not None:
        store.save(commit, payload)     # callers get copies of its tables (_history): nothing changes it
    else:   # the pieces did not add up (cannot happen with an ancestor; never guessed): read it all
        payload = _read(repo, commit, None, renames)
    return _history(payload)


def _history(p: dict) -> History:
    return History(p["commits"].copy(), p["changes"].copy(), _malformed_warning(p["malformed"]))


def _valid_payload(p) -> bool:
    return (isinstance(p, dict) and isinstance(p.get("commits"), pd.DataFrame)
            and isinstance(p.get("changes"), pd.DataFrame) and isinstance(p.get("malformed"), list)
            and list(p["commits"].columns) == COMMIT_COLUMNS and list(p["changes"].columns) == CHANGE_COLUMNS
            and isinstance(p["commits"]["author_date"].dtype, pd.DatetimeTZDtype)
            and str(p["changes"]["added"].dtype) == "int64"
            and bool(p["commits"]["sha"].is_unique))


def records(repo: str, commit: str, exclude: str | None, renames: bool = True) -> Iterator[bytes]:
    """The records of one streamed ``git log -z --raw -p -U0`` of *commit* (without what *exclude*
    reaches), one per commit: the header fields, the raw entries, then the patch."""
    marker = b"\x00\x1eddkit-" + secrets.token_hex(12).encode() + b"\x1e\x00"
    fmt = "".join(f"%x{b:02x}" for b in marker) + _FIELDS
    # Fixed prefixes: the patch headers are parsed as a/… and b/… whatever diff.noprefix or
    # diff.mnemonicPrefix say.
    args = ["log", "-z", "--raw", "-p", "-U0", "--no-abbrev", "--no-color", "--no-ext-diff", "--no-textconv",
            "--src-prefix=a/", "--dst-prefix=b/", "--date-order", "--format=" + fmt]
    args.append("-M" if renames else "--no-renames")
    args += ["--end-of-options", commit] + (["^" + exclude] if exclude else []) + ["--"]
    buf = bytearray()
    keep = len(marker) - 1
    for chunk in gitutil.stream(repo, *args):
        # Only the new bytes (and the marker's length before them) are searched: a commit whose patch is
        # hundreds of megabytes arrives in many chunks and must not be searched again for each one.
        start = max(0, len(buf) - keep)
        buf += chunk
        cut = 0
        while True:
            i = buf.find(marker, start)
            if i < 0:
                break
            if i > cut:
                yield bytes(buf[cut:i])
            cut = start = i + len(marker)
        if cut:
            del buf[:cut]
    if buf:
        yield bytes(buf)


def _read(repo: str, commit: str, exclude: str | None, renames: bool,
          on_patch: Callable[[str, bytes], None] | None = None) -> dict:
    """One streamed ``git log`` of *commit* (without what *exclude* reaches) into the payload tables."""
    parser = _Parser(repo, on_patch)
    for rec in records(repo, commit, exclude, renames):
        parser.record(rec)
    out = {"commits": _commits_frame(parser.c), "changes": _changes_frame(parser.f), "malformed": parser.malformed}
    if exclude:
        out["chain"] = is_chain(parser.c["sha"], parser.parent_shas, exclude)
    return out


def is_chain(shas: list[str], parents: list[bytes], base: str) -> bool:
    """Are the commits *shas* (newest first) a line of single-parent commits on top of *base*?

    Then every walk order git has (date order, the default, topological) shows them first, in this
    order, and then exactly what the same walk from *base* shows: *base*'s whole history is their
    ancestry, and once they are shown the walk is at *base* alone. No other walk is needed to order them.
    """
    if not shas:
        return True
    for i, p in enumerate(parents):
        nxt = shas[i + 1] if i + 1 < len(shas) else base
        if p.decode() != nxt:
            return False
    return True


def _combine(new: dict, old: dict, order: list[str]) -> dict | None:
    """The tables of OLD..NEW and of OLD, in the order a cold ``git log --date-order NEW`` gives them."""
    commits = pd.concat([new["commits"], old["commits"]], ignore_index=True)
    if len(commits) != len(order) or not commits["sha"].is_unique:
        return None
    rank = {s: i for i, s in enumerate(order)}
    pos = commits["sha"].map(rank)
    if pos.isna().any():
        return None
    commits = commits.iloc[pos.to_numpy().argsort(kind="stable")].reset_index(drop=True)
    changes = _concat_changes(new["changes"], old["changes"])
    cpos = changes["sha"].map(rank).to_numpy()
    changes = changes.iloc[cpos.argsort(kind="stable")].reset_index(drop=True)
    malformed = sorted(set(new["malformed"]) | set(old["malformed"]), key=lambda s: rank.get(s, 0))
    return {"commits": _commits_frame_fix(commits), "changes": changes, "malformed": malformed}


def _stack(new: dict, old: dict) -> dict | None:
    """:func:`_combine` when OLD..NEW is a line on top of OLD: its rows, then OLD's, already in cold order."""
    commits = pd.concat([new["commits"], old["commits"]], ignore_index=True)
    if not commits["sha"].is_unique:
        return None
    changes = _concat_changes(new["changes"], old["changes"])
    malformed = [*new["malformed"], *[m for m in old["malformed"] if m not in set(new["malformed"])]]
    return {"commits": _commits_frame_fix(commits), "changes": changes, "malformed": malformed}


def _concat_changes(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """The rows of two parts of the changes table, typed as a cold read of both types them: a column whose
    type differs between the parts (old_path: a part without renames holds only None, the object type) is
    built again from its values, as ``pd.DataFrame`` infers it from the whole history's lists."""
    changes = pd.concat([a, b], ignore_index=True)
    for c in CHANGE_COLUMNS:
        if a[c].dtype != b[c].dtype:
            changes[c] = pd.DataFrame({c: changes[c].tolist()})[c]
    return _changes_frame_types(changes)


def _changes_frame_types(df: pd.DataFrame) -> pd.DataFrame:
    df["added"] = df["added"].astype("int64")
    df["deleted"] = df["deleted"].astype("int64")
    df["binary"] = df["binary"].astype(bool)
    return df


def _commits_frame_fix(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("parents", "files_changed", "added", "deleted"):
        df[col] = df[col].astype("int64")
    return df


def _malformed_warning(malformed: list[str]) -> list[str]:
    if not malformed:
        return []
    ex = ", ".join(s[:12] for s in malformed[:5])
    return [f"{len(malformed)} commits have a malformed author or committer header (git fsck reports them; "
            f"e.g. a NUL byte): their identities and dates were read from the raw commit object: {ex}"]


def coauthors(trailers: bytes) -> list[tuple[str, str]]:
    """(name, e-mail) of each ``Co-authored-by:`` trailer, in message order, without repeats.

    Co-authors are authors for copyright, whatever git's single author field says. A trailer without an
    ``<e-mail>`` is kept with an empty e-mail (a person to ask about, not to drop).
    """
    out: list[tuple[str, str]] = []
    for line in trailers.split(b"\n"):
        v = decode_name(line.strip())
        if not v:
            continue
        m = _COAUTHOR.match(v)
        pair = (m["name"].strip(), m["email"].strip()) if m else (v, "")
        if pair not in out:
            out.append(pair)
    return out


def _fields(rec: bytes) -> list[bytes]:
    """One record of :func:`records` cut into its header fields and, last, its body."""
    head = rec.split(b"\0", _N_HEADER)
    if len(head) <= _N_HEADER or not _SHA.fullmatch(head[0]):
        raise ValueError("unexpected git log output")
    return head


def record_patch(rec: bytes) -> tuple[str, bytes]:
    """(sha, patch) of one record of :func:`records`."""
    head = _fields(rec)
    return head[0].decode(), split_body(head[_N_HEADER])[1]


def split_body(body: bytes) -> tuple[list[tuple[str, bytes, bytes | None, str]], bytes]:
    """A record's body: its raw entries (status, path, old path or None, blob at the commit) and the patch.

    Raw entries are read by position (``:meta\0path\0``, and a second path for a rename or copy), since a
    path may hold any byte but NUL; what follows them is the patch (which may hold NUL bytes itself).
    """
    raw: list[tuple[str, bytes, bytes | None, str]] = []
    pos, n = 0, len(body)
    while pos < n:
        ch = body[pos]
        if ch == 0 or ch == 10:     # the separators git writes around the raw entries
            pos += 1
            continue
        if ch != 58:                # not ':': the patch starts here
            break
        e = body.index(b"\0", pos)
        meta = body[pos:e].split()
        pos = e + 1
        status = meta[-1][:1].decode()
        blob = meta[3].decode() if len(meta) >= 5 else ""
        e = body.index(b"\0", pos)
        first = body[pos:e]
        pos = e + 1
        if status in ("R", "C"):
            e = body.index(b"\0", pos)
            raw.append((status, body[pos:e], first, blob))
            pos = e + 1
        else:
            raw.append((status, first, None, blob))
    return raw, body[pos:]


# In a -U0 patch every content line starts with '+', '-' or '\\', so a line starting with one of these is a
# header: a file's section, a hunk (its deleted and added counts; an omitted count is 1), or git's note
# that the change is binary. Each is found by its own literal-prefixed search (a single ^-anchored
# alternation made the regular-expression engine stop at every byte of 130 MB on pip).
_SECTION = re.compile(rb"\ndiff --git ")
_HUNK = re.compile(rb"\n@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_BINARY = re.compile(rb"\nBinary files ")


def patch_counts(raw: list[tuple[str, bytes, bytes | None, str]], patch: bytes, sha: str
                 ) -> list[tuple[int, int, bool]]:
    """(added, deleted, binary) of each raw entry, from its section(s) of the patch.

    Sections come in the order of the raw entries, one each, except a type change (file to symlink or
    submodule), which git shows as a deletion and then a creation: two sections, both counted, as
    ``--numstat`` counts them.
    """
    if not raw and not patch:
        return []
    if not patch.startswith(b"diff --git "):
        raise ValueError(f"git log output for {sha}: the patch does not start with a section header")
    starts = [0] + [m.start() + 1 for m in _SECTION.finditer(patch)]
    # Which raw entry each section belongs to.
    owner: list[int] = []
    for k, r in enumerate(raw):
        owner += [k, k] if r[0] == "T" else [k]
    if len(owner) != len(starts):
        raise ValueError(f"git log output for {sha}: {len(raw)} raw entries but {len(starts)} patch sections")
    added = [0] * len(raw)
    deleted = [0] * len(raw)
    binary = [False] * len(raw)
    sec, nxt = 0, (starts[1] if len(starts) > 1 else len(patch))
    for m in _HUNK.finditer(patch):
        pos = m.start()
        while pos >= nxt:
            sec += 1
            nxt = starts[sec + 1] if sec + 1 < len(starts) else len(patch)
        k = owner[sec]
        d, a = m.group(1), m.group(2)
        deleted[k] += 1 if d is None else int(d)
        added[k] += 1 if a is None else int(a)
    for m in _BINARY.finditer(patch):
        binary[owner[bisect.bisect_right(starts, m.start()) - 1]] = True
    return [(0, 0, True) if b else (a, d, False) for a, d, b in zip(added, deleted, binary)]


class _Parser:
    def __init__(self, repo: str, on_patch: Callable[[str, bytes], None] | None = None) -> None:
        self.repo = repo
        self.on_patch = on_patch
        self.c: dict[str, list] = {k: [] for k in COMMIT_COLUMNS}
        self.f: dict[str, list] = {k: [] for k in CHANGE_COLUMNS}
        self.malformed: list[str] = []
        self.parent_shas: list[bytes] = []   # as git printed them (not a column: the chain check below)

    def warnings(self) -> list[str]:
        return _malformed_warning(self.malformed)

    def record(self, rec: bytes) -> None:
        head = _fields(rec)
        sha, parents, an, ae, at, ai, cn, ce, ct, trailers = head[:_N_HEADER]
        body = head[_N_HEADER]
        if not (at.isdigit() and ct.isdigit() and _TZ.fullmatch(ai)):
            # git could not parse an identity line (a NUL byte in it, a missing '<>'): it prints empty
            # fields, so read the identities from the commit object itself, byte for byte.
            an, ae, at, ai, cn, ce, ct = self._raw_idents(sha.decode())
            self.malformed.append(sha.decode())
        c = self.c
        c["sha"].append(sha.decode())
        c["author_name_raw"].append(decode_name(an))
        c["author_email_raw"].append(decode_name(ae))
        c["author_date"].append(int(at))
        c["author_tz"].append(ai[-5:].decode() if len(ai) >= 5 else "+0000")
        c["committer_name_raw"].append(decode_name(cn))
        c["committer_email_raw"].append(decode_name(ce))
        c["committer_date"].append(int(ct))
        c["parents"].append(len(parents.split()))
        self.parent_shas.append(parents)
        c["coauthors"].append(coauthors(trailers))
        files, added, deleted = self._changes(c["sha"][-1], body)
        c["files_changed"].append(files)
        c["added"].append(added)
        c["deleted"].append(deleted)

    def _raw_idents(self, sha: str) -> tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes]:
        raw = gitutil.run(self.repo, "cat-file", "commit", sha, check=False)
        header = raw.split(b"\n\n", 1)[0].split(b"\n")

        def ident(kind: bytes) -> tuple[bytes, bytes, bytes, bytes]:
            line = next((ln[len(kind) + 1:] for ln in header if ln.startswith(kind + b" ")), b"")
            line = line.replace(b"\0", "\ufffd".encode())     # shown as a replacement character
            m = _IDENT.match(line)
            if not m:
                return line.strip(), b"", b"0", b"+0000"
            return m["name"], m["email"], m["ts"], m["tz"] or b"+0000"

        an, ae, at, atz = ident(b"author")
        cn, ce, ct, _ = ident(b"committer")
        return an, ae, at, atz, cn, ce, ct

    def _changes(self, sha: str, body: bytes) -> tuple[int, int, int]:
        raw, patch = split_body(body)
        counts = patch_counts(raw, patch, sha)
        if patch and self.on_patch is not None:
            self.on_patch(sha, patch)
        f = self.f
        tot_a = tot_d = 0
        for (status, path, old, blob), (a, d, binary) in zip(raw, counts):
            f["sha"].append(sha)
            f["path"].append(decode_path(path))
            f["old_path"].append(decode_path(old) if old is not None else None)
            f["status"].append(status)
            f["binary"].append(binary)
            f["added"].append(a)
            f["deleted"].append(d)
            f["blob"].append(blob)
            tot_a += a
            tot_d += d
        return len(raw), tot_a, tot_d


EARLIEST_PLAUSIBLE = 1990


def implausible_dates(commits: pd.DataFrame, as_of) -> list[str]:
    """A warning for author or committer dates before 1990 or after *as_of* + 1 day.

    git stores whatever date the committing machine claimed (a clock at 1970, a typo, a forged date);
    every date-based result (first and last commit, departures, pre-incorporation work, trends) then
    depends on it, so the reader is told how many and which.
    """
    if commits.empty:
        return []
    lo = pd.Timestamp(f"{EARLIEST_PLAUSIBLE}-01-01", tz="UTC")
    hi = pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=2)   # the end of as_of + 1 day
    bad = commits[(commits["author_date"] < lo) | (commits["author_date"] >= hi) |
                  (commits["committer_date"] < lo) | (commits["committer_date"] >= hi)]
    if bad.empty:
        return []
    latest = pd.Timestamp(LATEST_DATE, unit="s", tz="UTC")
    ex = ", ".join(f"{r.sha[:12]} ({'after 2262' if r.author_date >= latest else r.author_date.date()})"
                   for r in bad.head(5).itertuples())
    return [f"{len(bad)} commits are dated before {EARLIEST_PLAUSIBLE} or after the as-of date + 1 day, so "
            f"date-based results may be wrong for them: {ex}"]


# The latest time a pandas timestamp holds (2262-04-11 23:47:16 UTC), in whole seconds. git stores any
# number a commit claims (99999999999999 is the year 3170843): a later date is read as this one, which the
# implausible-dates warning then names as "after 2262" (nothing else can tell the two apart).
LATEST_DATE = int(pd.Timestamp.max.timestamp())


def _commits_frame(c: dict[str, list]) -> pd.DataFrame:
    df = pd.DataFrame(c, columns=COMMIT_COLUMNS)
    for col in ("author_date", "committer_date"):
        secs = [min(t, LATEST_DATE) for t in df[col]]
        df[col] = pd.to_datetime(pd.Series(secs, index=df.index, dtype="int64"), unit="s", utc=True)
    return _commits_frame_fix(df)


def _changes_frame(f: dict[str, list]) -> pd.DataFrame:
    return _changes_frame_types(pd.DataFrame(f, columns=CHANGE_COLUMNS))


_RENAMES: list = []     # [(changes, commits, followed without commit columns)]: the last call's


def follow_renames(changes: pd.DataFrame, commits: pd.DataFrame, keep: list[str]) -> pd.DataFrame:
    """The changes oldest first, each with a stable ``file_id`` that follows renames and ``path_at_ref``
    (where that file is at the scanned ref, or NaN when it is gone); *keep*: commit columns to carry.

    A scan asks this of the same two tables three times (knowledge, dependencies, secrets): the last
    answer is kept, for the very same objects (held, so that their ids cannot be reused), and the commit
    columns asked for are joined to it by sha, which is what the merge does when shas are unique (asked
    only when columns are to be joined: 1 ms on pip's commits, and the kept answer is the whole answer)."""
    if _RENAMES and _RENAMES[0][0] is changes and _RENAMES[0][1] is commits and (not keep or commits["sha"].is_unique):
        base = _RENAMES[0][2]
        if not keep:
            return base.copy()
        by_sha = commits.set_index("sha")
        return base.assign(**{c: base["sha"].map(by_sha[c]) for c in keep})[
            [*changes.columns, *keep, "_pos", "file_id", "path_at_ref"]]
    full = _follow_renames(changes, commits, keep)
    _RENAMES[:] = [(changes, commits, full.drop(columns=keep) if keep else full.copy())]
    return full


def forget_renames() -> None:
    """Drop the kept answer of :func:`follow_renames` (the end of a scan: its tables are the scan's)."""
    _RENAMES.clear()


def _follow_renames(changes: pd.DataFrame, commits: pd.DataFrame, keep: list[str]) -> pd.DataFrame:
    order = commits[["sha", *keep]].copy()
    order["_pos"] = range(len(order), 0, -1)        # git log is newest first
    ch = changes.merge(order, on="sha", how="left").sort_values(["_pos"], kind="stable")
    current: dict[str, int] = {}
    next_id = 0
    ids = []
    for status, path, old in zip(ch["status"].tolist(), ch["path"].tolist(), ch["old_path"].tolist()):
        if status == "R" and isinstance(old, str):
            fid = current.pop(old, None)
            if fid is None:
                fid, next_id = next_id, next_id + 1
            current[path] = fid
        elif status in ("A", "C") or path not in current:
            current[path], next_id = next_id, next_id + 1
        fid = current[path]
        if status == "D":
            current.pop(path, None)
        ids.append(fid)
    ch = ch.assign(file_id=ids)
    final = {fid: p for p, fid in current.items()}
    ch["path_at_ref"] = ch["file_id"].map(final)
    return ch
