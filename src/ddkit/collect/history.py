"""History collection: one streamed pass of ``git log`` into two tables.

``commits``: one row per commit reachable from the ref (merges included), with the raw author and
committer identities as git recorded them (identity resolution happens later, in ``resolve``), and
``coauthors``: the (name, e-mail) pairs of the message's ``Co-authored-by:`` trailers.

``changes``: one row per file touched by a non-merge commit, with rename source, numstat counts and
git's change status (A, M, D, R, C, T). Merge commits carry no file rows (git shows no diff for them
by default), so each change is counted once, in the commit that made it.

Both come from a single ``git log --raw --numstat -z`` run that is parsed while git writes it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

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


def collect_history(repo: str, commit: str | None, *, renames: bool = True, cache: bool = True) -> History:
    """Read every commit reachable from *commit* (a resolved sha; None = empty repository).

    With *cache*, the tables are kept per (repository, commit): a re-scan of the same commit reads
    nothing, and a scan of a descendant of a cached commit reads only ``OLD..NEW`` (see
    :mod:`.incremental`); the result is the same as a cold read's, row for row.
    """
    if commit is None:
        return empty_history()
    if not cache:
        return _history(_read(repo, commit, None, renames))
    from . import incremental
    store = incremental.Store("history", repo, {"renames": renames}, _valid_payload)
    base = store.base(commit)
    if base is not None and base[0] == commit:
        return _history(base[1])
    payload: dict | None
    if base is None:
        payload = _read(repo, commit, None, renames)
    else:
        old, cached = base
        new = _read(repo, commit, old, renames)
        if new.pop("chain"):     # OLD..NEW is a line on top of OLD: new rows first, then OLD's, as they are
            order = [*new["commits"]["sha"].tolist(), *cached["commits"]["sha"].tolist()]
        else:
            order = incremental.rev_list(repo, commit, "--date-order")
        payload = _combine(new, cached, order)
    if payload is not None:
        store.save(commit, payload)
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


def _read(repo: str, commit: str, exclude: str | None, renames: bool) -> dict:
    """One streamed ``git log`` of *commit* (without what *exclude* reaches) into the payload tables."""
    marker = b"\x00\x1eddkit-" + secrets.token_hex(12).encode() + b"\x1e\x00"
    fmt = "".join(f"%x{b:02x}" for b in marker) + _FIELDS
    args = ["log", "-z", "--raw", "--numstat", "--no-abbrev", "--no-color", "--no-ext-diff",
            "--no-textconv", "--date-order", "--format=" + fmt]
    args.append("-M" if renames else "--no-renames")
    args += ["--end-of-options", commit] + (["^" + exclude] if exclude else []) + ["--"]
    parser = _Parser(repo)
    buf = b""
    for chunk in gitutil.stream(repo, *args):
        buf += chunk
        parts = buf.split(marker)
        buf = parts.pop()
        for rec in parts:
            if rec:
                parser.record(rec)
    if buf:
        parser.record(buf)
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
    changes = pd.concat([new["changes"], old["changes"]], ignore_index=True)
    cpos = changes["sha"].map(rank).to_numpy()
    changes = changes.iloc[cpos.argsort(kind="stable")].reset_index(drop=True)
    malformed = sorted(set(new["malformed"]) | set(old["malformed"]), key=lambda s: rank.get(s, 0))
    return {"commits": _commits_frame_fix(commits), "changes": changes, "malformed": malformed}


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


class _Parser:
    def __init__(self, repo: str) -> None:
        self.repo = repo
        self.c: dict[str, list] = {k: [] for k in COMMIT_COLUMNS}
        self.f: dict[str, list] = {k: [] for k in CHANGE_COLUMNS}
        self.malformed: list[str] = []
        self.parent_shas: list[bytes] = []   # as git printed them (not a column: the chain check below)

    def warnings(self) -> list[str]:
        return _malformed_warning(self.malformed)

    def record(self, rec: bytes) -> None:
        head = rec.split(b"\0", _N_HEADER)
        if len(head) <= _N_HEADER or not _SHA.fullmatch(head[0]):
            raise ValueError("unexpected git log output")
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
        toks = body.split(b"\0")
        raw: list[tuple[str, str, str | None, str]] = []  # status, path, old_path, blob
        nums: list[tuple[int | None, int | None]] = []
        i, n = 0, len(toks)
        while i < n:
            t = toks[i].lstrip(b"\n")
            i += 1
            if not t:
                continue
            if t[:1] == b":":
                meta = t.split()
                status = meta[-1][:1].decode()
                blob = meta[3].decode() if len(meta) >= 5 else ""
                if status in ("R", "C"):
                    old_b, new_b = toks[i], toks[i + 1]
                    i += 2
                    raw.append((status, decode_path(new_b), decode_path(old_b), blob))
                else:
                    raw.append((status, decode_path(toks[i]), None, blob))
                    i += 1
            else:
                a_b, d_b, p = t.split(b"\t", 2)
                if not p:  # rename in numstat -z: "a\td\t\0old\0new"
                    i += 2
                if a_b == b"-":
                    nums.append((None, None))
                else:
                    nums.append((int(a_b), int(d_b)))
        if nums and len(nums) != len(raw):
            raise ValueError(f"git log output for {sha}: {len(raw)} raw entries but {len(nums)} numstat entries")
        f = self.f
        tot_a = tot_d = 0
        for k, (status, path, old, blob) in enumerate(raw):
            a, d = nums[k] if nums else (0, 0)
            f["sha"].append(sha)
            f["path"].append(path)
            f["old_path"].append(old)
            f["status"].append(status)
            f["binary"].append(a is None)
            f["added"].append(0 if a is None else a)
            f["deleted"].append(0 if d is None else d)
            f["blob"].append(blob)
            tot_a += a or 0
            tot_d += d or 0
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
    ex = ", ".join(f"{r.sha[:12]} ({r.author_date.date()})" for r in bad.head(5).itertuples())
    return [f"{len(bad)} commits are dated before {EARLIEST_PLAUSIBLE} or after the as-of date + 1 day, so "
            f"date-based results may be wrong for them: {ex}"]


def _commits_frame(c: dict[str, list]) -> pd.DataFrame:
    df = pd.DataFrame(c, columns=COMMIT_COLUMNS)
    df["author_date"] = pd.to_datetime(df["author_date"].astype("int64"), unit="s", utc=True)
    df["committer_date"] = pd.to_datetime(df["committer_date"].astype("int64"), unit="s", utc=True)
    for col in ("parents", "files_changed", "added", "deleted"):
        df[col] = df[col].astype("int64")
    return df


def _changes_frame(f: dict[str, list]) -> pd.DataFrame:
    df = pd.DataFrame(f, columns=CHANGE_COLUMNS)
    df["added"] = df["added"].astype("int64")
    df["deleted"] = df["deleted"].astype("int64")
    df["binary"] = df["binary"].astype(bool)
    return df


def follow_renames(changes: pd.DataFrame, commits: pd.DataFrame, keep: list[str]) -> pd.DataFrame:
    """The changes oldest first, each with a stable ``file_id`` that follows renames and ``path_at_ref``
    (where that file is at the scanned ref, or NaN when it is gone); *keep*: commit columns to carry."""
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
