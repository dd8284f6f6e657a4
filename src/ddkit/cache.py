"""ddkit's cache folder (contract: $DDKIT_CACHE_DIR, else $XDG_CACHE_HOME/ddkit, else ~/.cache/ddkit).

Deleting the cache never changes a result, only the time a scan takes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from .errors import InputError

_checked: set[Path] = set()   # cache roots known to be writable in this process


def cache_dir(*parts: str) -> Path:
    base = os.environ.get("DDKIT_CACHE_DIR")
    if base:
        root = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "ddkit"
    p = root.joinpath(*parts)
    try:
        if root not in _checked:
            if not root.is_dir():
                # Private from the start: the cache holds mirrors of private repositories and their contents.
                root.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Try a real write: permissions, a read-only file system or a full disk all show here, once,
            # instead of as a crash in the middle of a scan.
            fd, probe = tempfile.mkstemp(prefix=".ddkit-probe-", dir=root)
            os.close(fd)
            os.unlink(probe)
            _checked.add(root)
        p.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cache folder {root} is not writable ({e.strerror or e}); "
                         f"set DDKIT_CACHE_DIR to a writable folder") from None
    return p


_write_failures: dict[str, int] = {}   # why a cache write failed (strerror) -> how many times, this process


def write_failed(err: OSError) -> None:
    """Note that a cache entry could not be written (a full disk, say). A cache only saves time: the
    scan goes on and reports it once, as a warning (:func:`take_write_failures`)."""
    why = err.strerror or type(err).__name__
    _write_failures[why] = _write_failures.get(why, 0) + 1


def take_write_failures() -> str | None:
    """The warning for the cache writes that failed since the last call, or None; the count starts again."""
    if not _write_failures:
        return None
    n = sum(_write_failures.values())
    why = ", ".join(sorted(_write_failures))
    _write_failures.clear()
    return (f"cache: {n} cache entr{'y' if n == 1 else 'ies'} could not be written ({why}); the results are not "
            f"affected, only the next scan's time (free space in {cache_root()} or set DDKIT_CACHE_DIR)")


def cache_root() -> Path:
    base = os.environ.get("DDKIT_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ddkit"


def read_sealed(path: Path, magic: bytes = b"") -> bytes | None:
    """The body of a cache file written by :func:`write_sealed`: None when it is missing, unreadable,
    truncated or not what was written (its bytes do not match the SHA-256 written before them)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    n = len(magic)
    digest, body = raw[n:n + 64], raw[n + 64:]
    if raw[:n] != magic or hashlib.sha256(body).hexdigest().encode() != digest:
        return None
    return body


def write_sealed(path: Path, body: bytes, magic: bytes = b"") -> None:
    """*magic*, the SHA-256 of *body* (hex), then *body*, written atomically. A cache that cannot be
    written only costs time: errors are ignored."""
    from .fsutil import atomic_write
    try:
        atomic_write(path, magic + hashlib.sha256(body).hexdigest().encode() + body)
    except OSError as e:
        write_failed(e)
