"""ddkit's cache folder (contract: $DDKIT_CACHE_DIR, else $XDG_CACHE_HOME/ddkit, else ~/.cache/ddkit).

Deleting the cache never changes a result, only the time a scan takes.

The cache is trusted only as far as it is private (README, threat model): its root must belong to the
user running ddkit and must not be writable by the group or others (else :class:`InputError`, exit 2,
naming it), and an entry that could run code when read (a pickle, a compiled pattern database) is only
read through :func:`read_sealed`, which accepts it only when it carries an HMAC-SHA256 made with this
cache's key: 32 random bytes in ``<root>/.ddkit-key``, mode 0600. An entry planted by anyone who does
not hold the key (another user, a file copied in from elsewhere) is never deserialised.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import tempfile
from pathlib import Path

from .errors import InputError

_checked: set[Path] = set()   # cache roots known to be private and writable in this process
_keys: dict[Path, tuple[tuple[int, ...], bytes]] = {}   # root -> (the key file's stat, key)
KEY_FILE = ".ddkit-key"


def cache_root() -> Path:
    base = os.environ.get("DDKIT_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ddkit"


def _check_private(root: Path) -> None:
    """Refuse a cache root another user could write into: whatever is in it would be read as ddkit's own."""
    if not hasattr(os, "getuid"):
        return
    st = os.stat(root)
    if st.st_uid != os.getuid():
        raise InputError(f"cache folder {root} belongs to another user (uid {st.st_uid}); "
                         f"set DDKIT_CACHE_DIR to a folder of your own")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise InputError(f"cache folder {root} is writable by {'others' if st.st_mode & stat.S_IWOTH else 'its group'} "
                         f"(mode {stat.S_IMODE(st.st_mode):04o}); make it private (chmod 700 {root}) or set "
                         f"DDKIT_CACHE_DIR to a private folder")


def cache_dir(*parts: str) -> Path:
    root = cache_root()
    p = root.joinpath(*parts)
    try:
        if root not in _checked:
            if not root.is_dir():
                # Private from the start: the cache holds mirrors of private repositories and their contents.
                root.mkdir(mode=0o700, parents=True, exist_ok=True)
            _check_private(root)
            # Try a real write: permissions, a read-only file system or a full disk all show here, once,
            # instead of as a crash in the middle of a scan.
            fd, probe = tempfile.mkstemp(prefix=".ddkit-probe-", dir=root)
            os.close(fd)
            os.unlink(probe)
            _checked.add(root)
        p.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private_parts(root, parts)
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


def _private_parts(root: Path, parts: tuple[str, ...]) -> None:
    """The folders below the root are the user's own and private too: one made loose by an older ddkit
    under a permissive umask is tightened (0700), one owned by someone else refused."""
    if not hasattr(os, "getuid"):
        return
    d = root
    for part in parts:
        d = d / part
        st = os.stat(d)
        if st.st_uid != os.getuid() or not stat.S_ISDIR(st.st_mode):
            raise InputError(f"cache folder {d} is not a folder of your own; remove it or set DDKIT_CACHE_DIR "
                             f"to a private folder")
        if st.st_mode & 0o077:
            os.chmod(d, 0o700)


def _key() -> bytes:
    """This cache's HMAC key, made on first use (32 random bytes, 0600). A key file that is not the
    user's own, or that others could read, is replaced: the entries sealed with it are then no longer
    read (they only cost time)."""
    root = cache_dir().resolve()
    path = root / KEY_FILE
    known = _keys.get(root)
    if known is not None:
        try:
            st = os.stat(path, follow_symlinks=False)
            if (st.st_ino, st.st_mtime_ns, st.st_mode, st.st_uid) == known[0]:
                return known[1]
        except OSError:   # vanished: read again below
            pass
    for _ in range(3):
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            _new_key(path)
            continue
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            key = fh.read(64)
        private = (not hasattr(os, "getuid") or st.st_uid == os.getuid()) and not (st.st_mode & 0o077)
        if private and stat.S_ISREG(st.st_mode) and len(key) == 32:
            _keys[root] = ((st.st_ino, st.st_mtime_ns, st.st_mode, st.st_uid), key)
            return key
        path.unlink(missing_ok=True)
    raise OSError(f"cannot make a cache key in {root}")


def _new_key(path: Path) -> None:
    # Written in full beside, then linked into place: a concurrent ddkit either wins or reads the winner's.
    fd, tmp = tempfile.mkstemp(prefix=".ddkit-key-", dir=path.parent)
    try:
        os.write(fd, os.urandom(32))
        os.fchmod(fd, 0o600)
        os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:   # another process made it first: its key is read below
            pass
    finally:
        os.unlink(tmp)


def _mac(magic: bytes, body: bytes) -> bytes:
    return hmac.new(_key(), magic + b"\0" + body, hashlib.sha256).hexdigest().encode()


def read_sealed(path: Path, magic: bytes = b"") -> bytes | None:
    """The body of a cache file written by :func:`write_sealed`: None when it is missing, unreadable,
    truncated or not what this user's ddkit wrote (its HMAC, made with the cache's private key, does not
    match). The only way into the cache for anything that is deserialised into code-bearing objects."""
    try:
        raw = path.read_bytes()
        n = len(magic)
        digest, body = raw[n:n + 64], raw[n + 64:]
        if raw[:n] != magic or not hmac.compare_digest(_mac(magic, body), digest):
            return None
    except (OSError, InputError):
        return None
    return body


def write_sealed(path: Path, body: bytes, magic: bytes = b"") -> None:
    """*magic*, the HMAC-SHA256 of *body* with the cache's key (hex), then *body*, written atomically and
    0600. A cache that cannot be written only costs time: errors are ignored."""
    from .fsutil import atomic_write
    try:
        atomic_write(path, magic + _mac(magic, body) + body, mode=0o600)
    except OSError as e:      # a full disk, say: counted, and reported once as a warning
        write_failed(e)
    except InputError:   # a path the cache refuses (not private): an entry not kept only costs time
        pass
