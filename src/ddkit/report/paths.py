"""Output paths checked before any scanning: a scan can take an hour, and its end must not overwrite an
input (`--json roster.csv`), write two reports to one file, put the real-name pseudonym key where the
data-room report should be, or write a format under another format's name (`--out r.json`).

Each format's allowed endings are in :data:`ddkit.report.REGISTRY`; the pseudonym key is a CSV file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputError

KEY_EXTENSIONS = (".csv",)
_WHAT = {"xlsx": "the workbook", "json": "the JSON report", "sarif": "the SARIF report",
         "cyclonedx": "the CycloneDX SBOM"}


def _same(a: str, b: str) -> bool:
    """Whether *a* and *b* name one file: the same resolved path (symbolic links, `..`), or the same
    file under two names (a hard link, a case-insensitive file system)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:           # one of them does not exist yet: then only the names can be the same
        return False


def _inside(path: str, folder: str) -> bool:
    p, f = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([p, f]) == f


def _extension_ok(path: str, allowed: tuple[str, ...]) -> bool:
    name = Path(path).name.lower()
    return not allowed or any(name.endswith(e) and len(name) > len(e) for e in allowed)


def check_paths(outputs: dict[str, str], inputs: Iterable[tuple[str, str | os.PathLike | None]],
                key: str | None = None, key_option: str = "--pseudonym-key") -> None:
    """Raise :class:`InputError` (one line) when an output path is an input, another output, or lacks its
    format's extension.

    *outputs*: report format (a REGISTRY key, or ``"xlsx"`` for `diff --out`) -> path; *inputs*: (the
    option or argument that named it, path) for every file the command reads; *key*: the pseudonym key.
    """
    from . import REGISTRY
    named: list[tuple[str, str, tuple[str, ...], str]] = []     # option, path, endings, what it is
    for fmt, path in outputs.items():
        if not path:
            continue
        f = REGISTRY.get(fmt)
        named.append((f.option if f is not None else fmt, str(path), f.extensions if f is not None else (),
                      _WHAT.get(fmt, f"the {fmt} report")))
    if key:
        named.append((key_option, str(key), KEY_EXTENSIONS, "the pseudonym key, a CSV file,"))
    # What would be lost first (an input, another output), then the name's ending.
    ins = [(o, os.fspath(p)) for o, p in inputs if p]
    for opt, path, _, _ in named:
        for opt2, inp in ins:
            if _same(path, inp):
                raise InputError(f"{opt} {path}: is the {opt2} input; writing the report there would overwrite "
                                 f"it; choose another file")
            if os.path.isdir(inp) and _inside(path, inp):
                raise InputError(f"{opt} {path}: is inside the {opt2} input {inp}; writing the report there "
                                 f"would change what is read; choose another folder")
    for i, (opt, path, _, _) in enumerate(named):
        for opt2, path2, _, _ in named[:i]:
            if _same(path, path2):
                raise InputError(f"{opt} {path}: the same file as {opt2}; give each output its own file")
    for opt, path, endings, what in named:
        if not _extension_ok(path, endings):
            raise InputError(f"{opt} {path}: {what} must be written to a file ending in {' or '.join(endings)}")
