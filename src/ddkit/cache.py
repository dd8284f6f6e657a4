"""ddkit's cache folder (contract: $DDKIT_CACHE_DIR, else $XDG_CACHE_HOME/ddkit, else ~/.cache/ddkit).

Deleting the cache never changes a result, only the time a scan takes.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    base = os.environ.get("DDKIT_CACHE_DIR")
    if base:
        root = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "ddkit"
    p = root.joinpath(*parts)
    if not root.is_dir():
        # Private from the start: the cache holds mirrors of private repositories and what was in them.
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    p.mkdir(mode=0o700, parents=True, exist_ok=True)
    return p
