"""Writing files so that a reader never sees half of one: write beside, then rename over."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def current_umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux: /proc), since
    ``os.umask`` can only be read by setting it, which for that instant would change the mode of files
    other threads create."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):   # no /proc: read with os.umask below
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, data: bytes | str | Callable[[Path], None], mode: int | None = None) -> Path:
    """Write *data* (bytes, text, or a function that writes a given path) to *path* atomically.

    The temporary file sits in the same folder (a rename is atomic only within one file system), has a
    unique name (concurrent writers never share it) and is removed when writing fails. The file gets
    *mode*, or by default what ``open()`` would give a new file: 0666 less the umask (the temporary file
    is created 0600, so a report never exists with more permissions than the user's umask allows, and a
    private file such as the pseudonym key, written with ``mode=0o600``, is never readable by others,
    not even for an instant).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    tmp = Path(tmp_name)
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, (0o666 & ~current_umask()) if mode is None else mode)
        tmp.replace(p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return p


@contextlib.contextmanager
def unwritable_as_input_error(path: Any, what: str = "the report") -> Iterator[None]:
    """An OSError while writing *what* at *path* (a full disk, a folder made read-only meanwhile) as a
    one-line InputError naming the path (exit 2); :func:`atomic_write` has left no partial file."""
    try:
        yield
    except OSError as e:
        if path is None:
            raise
        from .errors import InputError
        raise InputError(f"{path}: cannot write {what} ({e.strerror or e})") from None
