"""Path globs in git's wildmatch style: ``*`` stays inside a directory, ``**`` crosses them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=4096)
def glob_regex(glob: str) -> re.Pattern[str]:
    g = glob.strip().lstrip("/")
    if g.endswith("/"):
        g += "**"
    out, i = [], 0
    while i < len(g):
        if g.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif g.startswith("**", i):
            out.append(".*")
            i += 2
        elif g[i] == "*":
            out.append("[^/]*")
            i += 1
        elif g[i] == "?":
            out.append("[^/]")
            i += 1
        elif g[i] == "[":
            j = g.find("]", i + 1)
            if j < 0:
                out.append(re.escape(g[i]))
                i += 1
            else:
                cls = g[i + 1:j].replace("\\", "\\\\")
                if cls.startswith("!"):
                    cls = "^" + cls[1:]
                out.append("[" + cls + "]")
                i = j + 1
        else:
            out.append(re.escape(g[i]))
            i += 1
    pat = "".join(out)
    # A glob without a slash matches the name in any directory, as in .gitignore.
    if "/" not in glob.strip().strip("/"):
        pat = "(?:.*/)?" + pat
    return re.compile(pat + r"\Z", re.DOTALL)


def match(path: str, glob: str) -> bool:
    return glob_regex(glob).match(path) is not None


@lru_cache(maxsize=256)
def any_regex(globs: tuple[str, ...]) -> re.Pattern[str]:
    """One expression whose ``match`` is true when :func:`match` is for any of *globs*: a path that matches
    none (most paths, against a list of vendored or generated globs) is answered in one call."""
    return re.compile("|".join(f"(?:{glob_regex(g).pattern})" for g in globs) or "(?!)", re.DOTALL)


def first_match(path: str, globs: Iterable[str]) -> str | None:
    for g in globs:
        if match(path, g):
            return g
    return None


def fnmatch_any(patterns: Iterable[str]) -> re.Pattern[str]:
    """One regular expression whose ``match`` is true when ``fnmatch.fnmatchcase`` is for any of *patterns*
    (Python's fnmatch dialect, not the wildmatch one above): ``fnmatchcase(name, pat)`` is
    ``re.match(fnmatch.translate(pat), name)``, so one alternation answers for all of them in one call."""
    import fnmatch
    pats = [f"(?:{fnmatch.translate(p)})" for p in patterns]
    return re.compile("|".join(pats) if pats else "(?!)")
