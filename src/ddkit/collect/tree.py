"""The files at the scanned ref: blob ids, sizes, line counts and what kind of file each is.

Each file gets a ``category``:
``text`` (scanned for ownership), ``vendored``, ``generated``, ``excluded`` (by the company profile),
``binary``, ``symlink``, ``submodule`` or ``lfs-pointer`` (a Git LFS pointer: the content lives outside
the repository, so neither its lines nor its license can be scanned), with the rule or glob that decided
it in ``reason``.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pandas as pd

from .. import gitutil, globs
from ..config import Company, Rules
from ..text import decode_path

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"   # SHA-1's; see empty_tree()
FILE_COLUMNS = ["path", "blob", "mode", "size", "lines", "category", "reason", "module", "is_source"]
ROOT_MODULE = "(root)"


def module_of(path: str, company: Company) -> str:
    for name, gl in company.modules.items():
        if globs.first_match(path, gl):
            return name
    parts = path.split("/")
    return parts[0] if len(parts) > 1 else ROOT_MODULE


def empty_tree(repo: str) -> str:
    """The empty tree's id in *repo*'s object format (SHA-1 and SHA-256 repositories differ)."""
    return gitutil.run(repo, "hash-object", "-t", "tree", "--stdin", input=b"").decode().strip()


def list_files(repo: str, commit: str | None, rules: Rules, company: Company) -> pd.DataFrame:
    if commit is None:
        return pd.DataFrame(columns=FILE_COLUMNS)
    # Blob id, mode and size of every entry.
    out = gitutil.run(repo, "ls-tree", "-r", "-z", "--long", "--full-tree", commit)
    entries = {}
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, raw_path = rec.split(b"\t", 1)
        mode_b, typ_b, obj_b, size_b = meta.split()
        entries[decode_path(raw_path)] = (mode_b.decode(), typ_b.decode(), obj_b.decode(), size_b.decode())
    # Line counts and git's own binary test, in one diff against the empty tree.
    counts: dict[str, int | None] = {}
    out = gitutil.run(repo, "diff", "--numstat", "-z", "--no-renames", "--no-ext-diff", "--no-textconv",
                      empty_tree(repo), commit, "--")
    for rec in out.split(b"\0"):
        if not rec:
            continue
        a, _d, raw_path = rec.split(b"\t", 2)
        counts[decode_path(raw_path)] = None if a == b"-" else int(a)

    pr = rules.get("paths", {})
    vendored = [(g["glob"], g.get("reason", "vendored")) for g in pr.get("vendored", [])]
    vendored += [(g, "vendored (company profile)") for g in company.vendored]
    generated = [(g["glob"], g.get("reason", "generated")) for g in pr.get("generated", [])]
    excludes = [(e["glob"], e["reason"]) for e in company.excludes]
    src_ext = {e.lower() for e in pr.get("source_extensions", [])}

    rows = []
    candidates_for_markers = []
    for path, (mode, typ, obj, size) in sorted(entries.items()):
        lines = counts.get(path)
        if typ == "commit":
            cat, reason = "submodule", "git submodule (not scanned)"
        elif mode == "120000":
            cat, reason = "symlink", "symbolic link"
        elif lines is None:
            cat, reason = "binary", "binary file"
        else:
            cat, reason = "text", ""
            for kind, lst in (("excluded", excludes), ("vendored", vendored), ("generated", generated)):
                hit = next(((g, r) for g, r in lst if globs.match(path, g)), None)
                if hit:
                    cat, reason = kind, f"{hit[1]} ({hit[0]})"
                    break
            if cat == "text":
                candidates_for_markers.append((path, obj))
        ext = PurePosixPath(path).suffix.lower()
        rows.append(dict(path=path, blob=obj, mode=mode, size=int(size) if size.isdigit() else 0,
                         lines=lines or 0, category=cat, reason=reason, module=module_of(path, company),
                         is_source=ext in src_ext))
    df = pd.DataFrame(rows, columns=FILE_COLUMNS)
    for path, (cat, reason) in _sniff(repo, candidates_for_markers, pr).items():
        i = df.index[df["path"] == path]
        df.loc[i, "category"] = cat
        df.loc[i, "reason"] = reason
        if cat == "binary":
            df.loc[i, "lines"] = 0
    return df


# Magic numbers of binary formats whose first bytes can pass git's NUL test (git only looks for a NUL
# byte in the first 8,000 bytes): a PDF-based Illustrator file has long stretches of plain ASCII.
_MAGIC = ((b"%PDF-", "PDF document"), (b"%!PS", "PostScript document"), (b"\x89PNG", "PNG image"),
          (b"GIF8", "GIF image"), (b"\xff\xd8\xff", "JPEG image"), (b"PK\x03\x04", "zip archive"),
          (b"\x1f\x8b", "gzip archive"), (b"\x7fELF", "ELF executable"), (b"\xd0\xcf\x11\xe0", "OLE document"),
          (b"BZh", "bzip2 archive"), (b"\xfd7zXZ", "xz archive"), (b"7z\xbc\xaf", "7-zip archive"),
          (b"\x00\x00\x01\x00", "icon"), (b"wOFF", "web font"), (b"wOF2", "web font"), (b"OTTO", "font"))
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27)) + b"\x7f"


def binary_by_content(head: bytes) -> str | None:
    """The kind of binary file *head* (the first bytes of a file) starts, or None for text."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    sample = head[:8000]
    if sample and sum(sample.count(bytes([c])) for c in _CONTROL) > len(sample) // 10:
        return "binary content (control bytes)"
    return None


LFS_MAX = 1024   # the LFS specification: pointer files are under 1024 bytes
LFS_SPECS = (b"version https://git-lfs.github.com/spec/", b"version https://hawser.github.com/spec/")


def _sniff(repo: str, files: list[tuple[str, str]], pr: dict) -> dict[str, tuple[str, str]]:
    """Text files that are Git LFS pointers, binary by content, or whose first lines say they are generated
    ('DO NOT EDIT')."""
    markers = [re.compile(m, re.I | re.M) for m in pr.get("generated_markers", [])]
    n_lines = int(pr.get("marker_lines", 5))
    if not files:
        return {}
    found: dict[str, tuple[str, str]] = {}
    # What a blob is depends only on its bytes (and the markers): kept per blob id in the cache, so a
    # re-scan reads only the blobs it has not seen (a re-scan after one commit: the changed files).
    from . import incremental
    store = incremental.Store("sniff", repo, {"markers": [m.pattern for m in markers], "lines": n_lines},
                              _valid_sniffed)
    known: dict[str, tuple[str, str] | None] = store.load("blobs") or {}
    seen: dict[str, tuple[str, str] | None] = {}
    todo = []
    for path, obj in files:
        if obj in known:
            hit = seen[obj] = known[obj]
            if hit is not None:
                found[path] = hit
        else:
            todo.append((path, obj))
    for (path, obj), (_typ, data) in zip(todo, gitutil.iter_objects(repo, [obj for _, obj in todo])):
        if data is None:
            continue
        what = _sniff_one(data, markers, n_lines)
        seen[obj] = what
        if what is not None:
            found[path] = what
    if seen.keys() != known.keys():
        store.save("blobs", seen)       # the blobs at this ref only: the entry does not grow with history
    return found


def _valid_sniffed(v) -> bool:
    return isinstance(v, dict) and all(
        isinstance(k, str) and (x is None or (isinstance(x, tuple) and len(x) == 2 and all(isinstance(y, str) for y in x)))
        for k, x in v.items())


def _sniff_one(data: bytes, markers: list, n_lines: int) -> tuple[str, str] | None:
    """What a text blob really is: a Git LFS pointer, binary by content, generated (a marker), or None."""
    size = len(data)
    if size < LFS_MAX and data.startswith(LFS_SPECS):
        # A Git LFS pointer (three lines: version, oid, size) stands in for content stored elsewhere;
        # counted as text, it would credit its committer with owned code.
        return ("lfs-pointer", "Git LFS pointer: the content is stored outside the repository (not scanned)")
    what = binary_by_content(data[:8000])
    if what:
        return ("binary", f"binary file ({what}, by content)")
    head = b"\n".join(data[:4096].split(b"\n")[:n_lines]).decode("utf-8", "replace")
    for m in markers:
        if m.search(head):
            return ("generated", f"generated (marker: {m.pattern})")
    return None
