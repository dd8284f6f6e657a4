"""The fast path of the history secrets scan: Hyperscan over raw `git log -p` blocks.

Every detect-secrets plugin's regular expression is rewritten into a *wider* one that Hyperscan can
compile (leading look-behinds, optional groups, look-arounds and back-references dropped, upper bounds
of repeats lifted, word/digit/space classes widened to any non-ASCII byte, and no element able to match a
newline), so a line any plugin can match is always reported; one pass over a whole block of the patch
finds the candidate lines, and only those (with the line before, for allow-list pragmas) are located
(commit, path, line number) and handed to detect-secrets' full pipeline. A pattern Hyperscan refuses is
screened with Python's `re` on the same bytes. Without Hyperscan installed, ddkit uses the slower
line-by-line screen in :mod:`ddkit.collect.secrets`.
"""

from __future__ import annotations

import bisect
import math
import re
from typing import Iterator

from .. import gitutil

_BLOCK = 8 << 20
_HEADERS = re.compile(rb"^(?:\x1eC([0-9a-f]{40})|\+\+\+ (.*)|@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@.*|diff --git .*)$", re.M)


def available() -> bool:
    try:
        import hyperscan  # noqa: F401
        return True
    except ImportError:
        return False


def _unverbose(p: str) -> str:
    out, i, in_class = [], 0, False
    while i < len(p):
        c = p[i]
        if c == "\\":
            out.append(p[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "#":
            j = p.find("\n", i)
            i = len(p) if j < 0 else j + 1
            continue
        elif c.isspace():
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _drop_lookarounds(p: str) -> str:
    from .secrets import _group_end
    i = 0
    while True:
        m = re.search(r"\(\?<?[=!]", p[i:])
        if not m:
            return p
        start = i + m.start()
        if start > 0 and p[start - 1] == "\\":
            i = start + 1
            continue
        end = _group_end(p, start)
        if end < 0:
            return p
        p = p[:start] + p[end + 1:]
        i = start


def _bytes_safe(p: str) -> str:
    """No element may match a newline; \\w, \\d and \\s also accept any non-ASCII byte (a superset of
    Python's Unicode classes on UTF-8 text)."""
    out, i = [], 0
    wide = {"w": r"[\w\x80-\xff]", "d": r"[\d\x80-\xff]", "s": r"[ \t\r\f\v\x80-\xff]",
            "W": r"[^\w\n]", "D": r"[^\d\n]", "S": r"[^\s]"}
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            out.append(wide.get(p[i + 1], p[i:i + 2]))
            i += 2
            continue
        if c == "[":
            j = i + 1
            neg = j < len(p) and p[j] == "^"
            k = j + 1 if neg else j
            if k < len(p) and p[k] == "]":
                k += 1
            while k < len(p) and p[k] != "]":
                k += 2 if p[k] == "\\" else 1
            body = p[(j + 1 if neg else j):k]
            body = body.replace("\\w", "\\w\\x80-\\xff").replace("\\d", "\\d\\x80-\\xff").replace("\\s", " \\t\\r\\f\\v\\x80-\\xff") \
                if not neg else body
            out.append(("[^\\n" + body + "]") if neg else ("[" + body + "]"))
            i = k + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def widen(pattern: str, flags: int) -> str:
    from .secrets import _strip_leading_context
    if flags & re.X:
        pattern = _unverbose(pattern)
    pattern = _drop_lookarounds(_strip_leading_context(pattern))
    pattern = re.sub(r"(?<!\\)\\[1-9]", "", pattern)          # back-references to a closing quote
    pattern = re.sub(r"\{(\d+),\d+\}", r"{\1,}", pattern)      # lift upper bounds
    pattern = re.sub(r"(?<!\\)\{(\d+)\}", r"{\1,}", pattern)   # and exact counts
    return _bytes_safe(pattern)


def plugin_patterns() -> list[tuple[str, int]] | None:
    from detect_secrets.core.scan import get_plugins
    from detect_secrets.plugins import keyword
    out: list[tuple[str, int]] = []
    for p in get_plugins():
        if type(p).__name__ == "KeywordDetector":
            out.append(("|".join(keyword.DENYLIST), re.I))
        elif hasattr(p, "denylist"):
            out += [(r.pattern, r.flags) for r in p.denylist]
        elif hasattr(p, "regex") and hasattr(p, "entropy_limit"):
            n = max(1, math.ceil(2 ** float(p.entropy_limit)))
            out.append((p.regex.pattern.replace("]+)(\\1)", "]{%d,})(\\1)" % n), p.regex.flags))
        else:
            return None
    return out


class Screen:
    def __init__(self, patterns: list[tuple[str, int]]):
        import hyperscan
        exprs, fl = [], []
        self.fallback: list[re.Pattern[bytes]] = []
        for pat, f in patterns:
            expr = widen(pat, f).encode()
            hf = hyperscan.HS_FLAG_MULTILINE | (hyperscan.HS_FLAG_CASELESS if f & re.I else 0)
            try:
                hyperscan.Database().compile(expressions=[expr], ids=[0], elements=1, flags=[hf])
            except hyperscan.error:
                self.fallback.append(re.compile(expr, re.M | (re.I if f & re.I else 0)))
                continue
            exprs.append(expr)
            fl.append(hf)
        self.db = hyperscan.Database()
        self.db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=fl)

    def hits(self, data: bytes) -> list[int]:
        """End offsets of matches (any line containing one is a candidate)."""
        ends: list[int] = []
        self.db.scan(data, match_event_handler=lambda _i, _f, to, _fl, _c: ends.append(to - 1))
        for rx in self.fallback:
            pos = 0
            while True:
                m = rx.search(data, pos)
                if not m:
                    break
                ends.append(m.end() - 1 if m.end() > m.start() else m.start())
                nl = data.find(b"\n", m.start())
                pos = len(data) if nl < 0 else nl + 1
        return ends


def _blocks(repo: str, commit: str) -> Iterator[bytes]:
    args = ["log", "-p", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", "--format=%x1eC%H",
            "--end-of-options", commit, "--"]
    buf = b""
    for chunk in gitutil.stream(repo, *args):
        buf += chunk
        if len(buf) >= _BLOCK:
            cut = buf.rfind(b"\n\x1eC")
            if cut > 0:
                yield buf[:cut + 1]
                buf = buf[cut + 1:]
    if buf:
        yield buf


def candidate_lines(repo: str, commit: str, screen: Screen, stats: dict) -> Iterator[tuple[str, str, int, str]]:
    """(sha, path, line number, text) of the added lines a plugin could match, and the line before each."""
    from .secrets import _unquote
    for data in _blocks(repo, commit):
        stats["lines"] += data.count(b"\n+") - data.count(b"\n+++ ")
        ends = screen.hits(data)
        if not ends:
            continue
        heads = [(m.start(), m) for m in _HEADERS.finditer(data)]
        starts = [h[0] for h in heads]
        seen: set[int] = set()
        counted = (-1, -1, 0)   # (hunk start, offset counted to, plus-lines before it): counts run forward
        for e in sorted(set(ends)):
            ls = data.rfind(b"\n", 0, e) + 1
            if ls in seen or data[ls:ls + 1] != b"+" or data.startswith(b"+++ ", ls):
                continue
            seen.add(ls)
            k = bisect.bisect_right(starts, ls) - 1
            hunk = file_ = sha = None
            while k >= 0 and sha is None:
                m = heads[k][1]
                if m.group(3) is not None and hunk is None and file_ is None:
                    hunk = m
                elif m.group(2) is not None and file_ is None:
                    file_ = m
                elif m.group(1) is not None:
                    sha = m.group(1).decode()
                elif m.group(0).startswith(b"diff --git") and (hunk is None or file_ is None):
                    break  # a new file's header before we found this line's hunk: not an added line
                k -= 1
            if sha is None or hunk is None or file_ is None or file_.group(2) == b"/dev/null":
                continue
            path = _unquote(file_.group(2))[2:]
            first = int(hunk.group(3))
            base = hunk.end()
            if counted[0] == base:
                # the previous candidate (an added line itself) plus those between it and this one
                before = counted[2] + 1 + data.count(b"\n+", counted[1], ls)
            else:
                before = data.count(b"\n+", base, ls)
            counted = (base, ls, before)
            n = first + before
            prev = data.rfind(b"\n", 0, ls - 1) + 1
            if prev > base and data[prev:prev + 1] == b"+":
                yield sha, path, n - 1, data[prev + 1:ls - 1].decode("utf-8", "replace")
            end = data.find(b"\n", ls)
            yield sha, path, n, data[ls + 1:(len(data) if end < 0 else end)].decode("utf-8", "replace")
