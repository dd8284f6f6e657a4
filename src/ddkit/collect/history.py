"""History collection: one streamed pass of ``git log`` into two tables.

``commits``: one row per commit reachable from the ref (merges included), with the raw author and
committer identities as git recorded them (identity resolution happens later, in ``resolve``).

``changes``: one row per file touched by a non-merge commit, with rename source, numstat counts and
git's change status (A, M, D, R, C, T). Merge commits carry no file rows (git shows no diff for them
by default), so each change is counted once, in the commit that made it.

Both come from a single ``git log --raw --numstat -z`` run that is parsed while git writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import gitutil
from ..text import decode_name, decode_path

RS = b"\x1e"  # starts each commit record
US = b"\x1f"  # separates header fields
_FORMAT = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%ai%x1f%cn%x1f%ce%x1f%ct%x1f"
_N_HEADER = 9

COMMIT_COLUMNS = ["sha", "author_name_raw", "author_email_raw", "author_date", "author_tz",
                  "committer_name_raw", "committer_email_raw", "committer_date", "parents",
                  "files_changed", "added", "deleted"]
CHANGE_COLUMNS = ["sha", "path", "old_path", "status", "added", "deleted", "binary", "blob"]


@dataclass
class History:
    commits: pd.DataFrame
    changes: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def empty_history() -> History:
    return History(_commits_frame({c: [] for c in COMMIT_COLUMNS}),
                   _changes_frame({c: [] for c in CHANGE_COLUMNS}))


def collect_history(repo: str, commit: str | None, *, renames: bool = True) -> History:
    """Read every commit reachable from *commit* (a resolved sha; None = empty repository)."""
    if commit is None:
        return empty_history()
    args = ["log", "-z", "--raw", "--numstat", "--no-abbrev", "--no-color", "--no-ext-diff",
            "--no-textconv", "--date-order", "--format=" + _FORMAT]
    args.append("-M" if renames else "--no-renames")
    args += ["--end-of-options", commit, "--"]
    parser = _Parser()
    buf = b""
    for chunk in gitutil.stream(repo, *args):
        buf += chunk
        parts = buf.split(RS)
        buf = parts.pop()
        for rec in parts:
            if rec:
                parser.record(rec)
    if buf:
        parser.record(buf)
    return History(_commits_frame(parser.c), _changes_frame(parser.f))


class _Parser:
    def __init__(self) -> None:
        self.c: dict[str, list] = {k: [] for k in COMMIT_COLUMNS}
        self.f: dict[str, list] = {k: [] for k in CHANGE_COLUMNS}

    def record(self, rec: bytes) -> None:
        head = rec.split(US, _N_HEADER)
        if len(head) <= _N_HEADER:
            raise ValueError("unexpected git log output")
        sha, parents, an, ae, at, ai, cn, ce, ct = head[:_N_HEADER]
        body = head[_N_HEADER]
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
        files, added, deleted = self._changes(c["sha"][-1], body)
        c["files_changed"].append(files)
        c["added"].append(added)
        c["deleted"].append(deleted)

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
                    old, new = toks[i], toks[i + 1]
                    i += 2
                    raw.append((status, decode_path(new), decode_path(old), blob))
                else:
                    raw.append((status, decode_path(toks[i]), None, blob))
                    i += 1
            else:
                a, d, p = t.split(b"\t", 2)
                if not p:  # rename in numstat -z: "a\td\t\0old\0new"
                    i += 2
                if a == b"-":
                    nums.append((None, None))
                else:
                    nums.append((int(a), int(d)))
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
