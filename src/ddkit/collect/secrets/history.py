"""Reading what to scan: every line added in history (from `git log -p`), and files at the ref.

Both readers produce :class:`Block` objects: the added lines of many (commit, path, hunk) groups joined
into one text, so that engines scan large buffers at native speed, and a hit's line index maps back to
its commit, path and line number.

Paths are byte-exact: the `+++ b/…` header is parsed as git writes it (C-quoted when the name holds a
control character, a quote or a backslash; followed by a tab when the name holds a space; raw bytes
otherwise, since ddkit runs git with core.quotepath=off), and undecodable bytes survive through
:func:`ddkit.text.decode_path`. An added line that itself starts with `++ ` is content, not a header.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ... import gitutil
from ...text import decode_path

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_BLOCK_LINES = 100_000
_ESC = {ord("n"): 10, ord("t"): 9, ord('"'): 34, ord("\\"): 92, ord("a"): 7, ord("b"): 8,
        ord("f"): 12, ord("r"): 13, ord("v"): 11}


@dataclass
class Block:
    """Added lines; ``groups[i] = (index of its first line, sha, path, line number of that line)``.

    An empty separator line precedes every group, so that no match spans two groups.
    """
    lines: list[bytes] = field(default_factory=list)
    groups: list[tuple[int, str, str, int]] = field(default_factory=list)
    long_lines: int = 0
    _firsts: list[int] | None = None

    def start_group(self, sha: str, path: str, lineno: int) -> None:
        self.lines.append(b"")
        self.groups.append((len(self.lines), sha, path, lineno))
        self._firsts = None

    def where(self, idx: int) -> tuple[str, str, int]:
        """(sha, path, line number) of line *idx*."""
        if self._firsts is None:
            self._firsts = [g[0] for g in self.groups]
        g = self.groups[bisect.bisect_right(self._firsts, idx) - 1]
        return g[1], g[2], g[3] + idx - g[0]

    def group_of(self, idx: int) -> int:
        if self._firsts is None:
            self._firsts = [g[0] for g in self.groups]
        return bisect.bisect_right(self._firsts, idx) - 1


def c_unquote(b: bytes) -> bytes:
    """The bytes of a name git wrote C-quoted (``"a\\tb"``), up to its closing quote."""
    out = bytearray()
    i = 1
    n = len(b)
    while i < n:
        ch = b[i]
        if ch == 34:  # closing quote
            break
        if ch == 92 and i + 1 < n:
            nxt = b[i + 1]
            if nxt in _ESC:
                out.append(_ESC[nxt])
                i += 2
                continue
            if 48 <= nxt <= 55:
                out.append(int(b[i + 1:i + 4], 8) & 0xFF)
                i += 4
                continue
        out.append(ch)
        i += 1
    return bytes(out)


def header_path(target: bytes, prefix: bytes = b"b/") -> str | None:
    """The path named by a `+++ ` header's text (None for /dev/null)."""
    if target == b"/dev/null":
        return None
    if target[:1] == b'"':
        raw = c_unquote(target)
    else:
        raw = target[:-1] if target.endswith(b"\t") else target
    if raw.startswith(prefix):
        raw = raw[len(prefix):]
    return decode_path(raw)


class AddedLines:
    """Builds blocks from commits' ``-U0`` patches, one commit at a time (see :func:`added_blocks`)."""

    def __init__(self, max_line: int, block_lines: int = _BLOCK_LINES) -> None:
        self.max_line = max_line
        self.block_lines = block_lines
        self.blk = Block()

    def add(self, sha: str, patch: bytes) -> Iterator[Block]:
        """The blocks filled by the added lines of commit *sha* (its patch as ``git log -p -U0`` writes
        it); the block being filled is kept for the next commit."""
        blk = self.blk
        max_line, block_lines = self.max_line, self.block_lines
        path: str | None = None
        in_header = False
        hunk_line = 0          # line number of the next added line in the current hunk
        open_group = False     # the current hunk already has a group in blk
        for ln in patch.split(b"\n"):
            c = ln[:1]
            if c == b"+":
                if in_header:
                    if ln.startswith(b"+++ "):
                        path = header_path(ln[4:])
                    continue
                if path is None:
                    continue
                if not open_group:
                    blk.start_group(sha, path, hunk_line)
                    open_group = True
                if len(ln) > max_line + 1:
                    blk.long_lines += 1
                    blk.lines.append(ln[1:max_line + 1])
                else:
                    blk.lines.append(ln[1:])
                hunk_line += 1
            elif c == b"@":
                m = _HUNK.match(ln)
                if m:
                    in_header = False
                    hunk_line = int(m.group(1))
                    open_group = False
                    if len(blk.lines) >= block_lines:
                        yield blk
                        blk = self.blk = Block()
            elif c == b"d" and ln.startswith(b"diff --git "):
                path = None
                in_header = True
                open_group = False
        self.blk = blk

    def rest(self) -> Iterator[Block]:
        """The last, partly filled block."""
        if self.blk.lines:
            yield self.blk
        self.blk = Block()


def added_blocks(repo: str, commit: str, max_line: int, block_lines: int = _BLOCK_LINES,
                 exclude: str | None = None) -> Iterator[Block]:
    """Blocks of the lines added by every non-merge commit reachable from *commit* and not from
    *exclude*, read with the history stage's own ``git log -p`` (when both stages read the same range,
    the pipeline makes one read feed both: :func:`blocks_from`)."""
    from ..history import record_patch, records
    acc = AddedLines(max_line, block_lines)
    for rec in records(repo, commit, exclude):
        sha, patch = record_patch(rec)
        if patch:
            yield from acc.add(sha, patch)
    yield from acc.rest()


def blocks_from(patches: Iterable[tuple[str, bytes]], max_line: int, block_lines: int = _BLOCK_LINES
                ) -> Iterator[Block]:
    """Blocks of the added lines of (sha, patch) pairs handed over by the history stage's read."""
    acc = AddedLines(max_line, block_lines)
    for sha, patch in patches:
        yield from acc.add(sha, patch)
    yield from acc.rest()


def tree_block(repo: str, commit: str, paths: list[str], max_line: int) -> Block:
    """The files *paths* as they are at *commit*, as one block (binary files skipped)."""
    from ...text import encode_path
    blk = Block()
    if not paths:
        return blk
    # NUL-separated requests (-z), so that a path may hold any byte, a newline included.
    specs = [commit.encode() + b":" + encode_path(p) for p in paths]
    for p, (typ, data) in zip(paths, gitutil.iter_objects(repo, specs)):
        if data is None or typ != "blob" or b"\0" in data[:8000]:
            continue
        blk.start_group(commit, p, 1)
        for ln in data.split(b"\n"):
            if len(ln) > max_line:
                blk.long_lines += 1
                ln = ln[:max_line]
            blk.lines.append(ln[:-1] if ln.endswith(b"\r") else ln)
    return blk
