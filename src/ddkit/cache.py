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

import functools
import hashlib
import hmac
import json
import os
import stat
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from .errors import InputError

T = TypeVar("T")

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
    """The warning for the cache writes that failed and the entries refused (:func:`load`) since the last
    call, or None; the counts start again. The command line prints it as one line on stderr."""
    refused = take_rejected()
    taken = _take(_write_failures)
    if taken is None:
        return refused
    n, why = taken
    return (f"cache: {n} cache entr{'y' if n == 1 else 'ies'} could not be written ({why}); the results are not "
            f"affected, only the next scan's time (free space in {cache_root()} or set DDKIT_CACHE_DIR)"
            + (f"; {refused.removeprefix('cache: ')}" if refused else ""))


def _take(counts: dict[str, int]) -> tuple[int, str] | None:
    """(how many, the reasons or kinds, sorted) of *counts*, emptied; None when there are none."""
    if not counts:
        return None
    n, why = sum(counts.values()), ", ".join(sorted(counts))
    counts.clear()
    return n, why


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
        except OSError:
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
        except FileExistsError:
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
    except OSError:
        return None
    return _unseal(raw, magic)


def write_sealed(path: Path, body: bytes, magic: bytes = b"") -> None:
    """*magic*, the HMAC-SHA256 of *body* with the cache's key (hex), then *body*, written atomically and
    0600. A cache that cannot be written only costs time: errors are ignored."""
    from .fsutil import atomic_write
    try:
        atomic_write(path, magic + _mac(magic, body) + body, mode=0o600)
    except OSError as e:      # a full disk, say: counted, and reported once as a warning
        write_failed(e)
    except InputError:
        pass


# ---------------------------------------------------------------------------------------------------------------
# The one entry format. Every cache user keeps only a Codec (how its value becomes bytes and back, and what a
# value must look like) and a key made by entry_key; load/save do the rest: the seal, the entry's place bound
# into it, the atomic write, and a miss for anything that is not exactly what this user's ddkit wrote there.

FORMAT = b"ddkit-cache-1"


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How one kind of entry is stored. *name* is sealed into the entry (an entry of one kind is never read as
    another's); *decode* turns the body back into a value and *valid* says whether that value has the shape
    its user relies on: a decode that raises, or a value *valid* refuses, is a miss."""
    name: str
    encode: Callable[[T], bytes]
    decode: Callable[[bytes], Any]
    valid: Callable[[Any], bool] = field(default=lambda v: True)

    @property
    def magic(self) -> bytes:
        return FORMAT + b" " + self.name.encode() + b"\n"


def pickle_codec(name: str, valid: Callable[[Any], bool] = lambda v: True) -> Codec[Any]:
    """Python objects (tables, results): only ever unpickled from a sealed entry (threat model)."""
    import pickle
    return Codec(name, lambda v: pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL), pickle.loads, valid)


def json_codec(name: str, valid: Callable[[Any], bool] = lambda v: True) -> Codec[Any]:
    import json
    return Codec(name, lambda v: json.dumps(v).encode(), json.loads, valid)


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """ddkit's own code and data files (name, size, modification time): a cached result is only reused by
    the same code, also between two builds that carry the same version number (a source checkout)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.suffix in (".py", ".json", ".yaml") and f.is_file():
            st = f.stat()
            h.update(f"{f.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:16]


@functools.cache
def tool_version(tool: str) -> str:
    """The version of an installed distribution a cached value depends on (git's own version, which only
    gitutil asks git for, is given by its callers as a part of the key)."""
    from ._version import installed_version
    return installed_version(tool)


@functools.lru_cache(maxsize=64)
def _key_base(tools: tuple[str, ...]) -> bytes:
    from ._version import __version__
    return json.dumps([__version__, code_fingerprint(), {t: tool_version(t) for t in tools}]).encode()


def entry_key(*parts: Any, tools: tuple[str, ...] = (), length: int = 64) -> str:
    """The one key builder: a SHA-256 (hex, *length* digits) of ddkit's version and code fingerprint, the
    versions of *tools*, and *parts* (JSON; anything else by ``str``). A value cached by other code or other
    tools is simply never looked up again (old entries only take room)."""
    h = hashlib.sha256(_key_base(tuple(tools)))
    h.update(b"\0" + json.dumps(parts, sort_keys=True, default=str).encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:length]


_rejected: dict[str, int] = {}   # codec name -> entries refused (not sealed by this cache's key, or invalid)
_rejected_lock = threading.Lock()


def _place(path: Path) -> bytes:
    # The entry's place under the root is sealed with it: an entry moved or copied to another key (another
    # commit, another blob) does not authenticate there.
    try:
        return path.relative_to(cache_root()).as_posix().encode("utf-8", "surrogateescape")
    except ValueError:
        return path.name.encode("utf-8", "surrogateescape")


def load(path: Path | None, codec: Codec[Any], *, drop: bool = False) -> Any:
    """The value stored at *path* by :func:`save` with *codec*, or None: missing, unreadable, not sealed with
    this cache's key for this place and kind (planted, copied, damaged, written by an older format), not
    decodable or refused by ``codec.valid``. A refused entry that exists is counted for the warning
    (:func:`take_write_failures`) and, with *drop*, removed so that it is recomputed and rewritten."""
    if path is None:
        return None
    magic = codec.magic + _place(path) + b"\n"
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    body = _unseal(raw, magic)
    value: Any = None
    if body is not None:
        try:
            value = codec.decode(body)
            if not codec.valid(value):
                value = None
        except Exception:   # whatever a damaged body makes the decoder raise: a miss, recomputed
            value = None
    if value is None:
        with _rejected_lock:
            _rejected[codec.name] = _rejected.get(codec.name, 0) + 1
        if drop:
            path.unlink(missing_ok=True)
    return value


def save(path: Path | None, codec: Codec[T], value: T) -> None:
    """*value* at *path*, sealed (:func:`write_sealed`); one that cannot be encoded or written only costs time."""
    if path is None:
        return
    try:
        body = codec.encode(value)
    except Exception:       # a value the codec cannot store (an unpicklable object): not cached
        return
    write_sealed(path, body, codec.magic + _place(path) + b"\n")


def _unseal(raw: bytes, magic: bytes) -> bytes | None:
    n = len(magic)
    digest, body = raw[n:n + 64], raw[n + 64:]
    try:
        if raw[:n] != magic or not hmac.compare_digest(_mac(magic, body), digest):
            return None
    except (OSError, InputError):
        return None
    return body


def inspect(path: Path) -> tuple[str, bytes] | None:
    """(kind, body) of the entry at *path* when it is sealed by this cache for this place, else None (for
    tests and for looking into a cache by hand; a user reads an entry with :func:`load` and its codec)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head = FORMAT + b" "
    end = raw.find(b"\n")
    if not raw.startswith(head) or end < 0:
        return None
    name = raw[len(head):end].decode("utf-8", "replace")
    body = _unseal(raw, raw[:end + 1] + _place(path) + b"\n")
    return None if body is None else (name, body)


def take_rejected() -> str | None:
    """The warning for the cache entries refused since the last call, or None; the count starts again."""
    with _rejected_lock:
        taken = _take(_rejected)
    if taken is None:
        return None
    n, kinds = taken
    return (f"cache: {n} cache entr{'y was' if n == 1 else 'ies were'} not written by this user's ddkit or "
            f"damaged ({kinds}) and {'was' if n == 1 else 'were'} recomputed; the results are not affected")
