"""The files at the scanned ref: blob ids, sizes, line counts and what kind of file each is.

Each file gets a ``category``:
``text`` (scanned for ownership), ``vendored``, ``generated``, ``excluded`` (by the company profile),
``binary``, ``symlink``, ``submodule`` or ``lfs-pointer`` (a Git LFS pointer: the content lives outside
the repository, so neither its lines nor its license can be scanned), with the rule or glob that decided
it in ``reason``.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
from pathlib import Path

import pandas as pd

from .. import gitutil, globs
from ..config import Company, Rules
from ..text import decode_path, encode_path

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
    counts = line_counts(repo, commit, entries)

    pr = rules.get("paths", {})
    vendored = [(g["glob"], g.get("reason", "vendored")) for g in pr.get("vendored", [])]
    vendored += [(g, "vendored (company profile)") for g in company.vendored]
    generated = [(g["glob"], g.get("reason", "generated")) for g in pr.get("generated", [])]
    excludes = [(e["glob"], e["reason"]) for e in company.excludes]
    src_ext = {e.lower() for e in pr.get("source_extensions", [])}

    kinds = [(kind, lst, globs.any_regex(tuple(g for g, _ in lst)))
             for kind, lst in (("excluded", excludes), ("vendored", vendored), ("generated", generated))]
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
            for kind, lst, any_glob in kinds:
                if any_glob.match(path) is None:
                    continue
                hit = next(((g, r) for g, r in lst if globs.match(path, g)), None)
                if hit:
                    cat, reason = kind, f"{hit[1]} ({hit[0]})"
                    break
            if cat == "text":
                candidates_for_markers.append((path, obj))
        rows.append(dict(path=path, blob=obj, mode=mode, size=int(size) if size.isdigit() else 0,
                         lines=lines or 0, category=cat, reason=reason, module=module_of(path, company),
                         is_source=suffix(path).lower() in src_ext))
    row_of = {r["path"]: r for r in rows}
    for path, (cat, reason) in _sniff(repo, candidates_for_markers, pr).items():
        r = row_of[path]
        r["category"], r["reason"] = cat, reason
        if cat == "binary":
            r["lines"] = 0
    return pd.DataFrame(rows, columns=FILE_COLUMNS)


def suffix(path: str) -> str:
    """``PurePosixPath(path).suffix`` for a path as git lists it (no "." or empty components), without
    building a path object: the name's last dot and what follows, unless the dot starts or ends the name."""
    name = path[path.rfind("/") + 1:]
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


NARROW_MAX = 200    # more paths not seen at the last scan than this (or no last scan): one whole-tree diff


def _numstat(repo: str, commit: str, paths: list[str] | None = None) -> dict[str, int | None]:
    """Line counts and git's own binary test (None), in one diff against the empty tree: of the whole tree,
    or of *paths* only (literal pathspecs: a path's count does not depend on the others)."""
    empty = EMPTY_TREE if len(commit) == 40 else empty_tree(repo)
    spec = [] if paths is None else [":(literal)" + p for p in paths]
    out = gitutil.run(repo, "diff", "--numstat", "-z", "--no-renames", "--no-ext-diff", "--no-textconv",
                      empty, commit, "--", *spec)
    counts: dict[str, int | None] = {}
    for rec in out.split(b"\0"):
        if not rec:
            continue
        a, _d, raw_path = rec.split(b"\t", 2)
        counts[decode_path(raw_path)] = None if a == b"-" else int(a)
    return counts


def line_counts(repo: str, commit: str, entries: dict[str, tuple[str, str, str, str]]) -> dict[str, int | None]:
    """Each path's line count at *commit*, None where git's diff says binary (or lists no count).

    The diff of the whole tree against the empty one (~60 ms of git on pypa/pip) is kept per (path, mode,
    blob) in the cache, so a re-scan asks git only about the paths that changed. git's verdict also
    depends on the attributes it reads (``-diff``, ``binary``, a ``diff=`` driver) and on configuration
    (``diff.<driver>.binary``, ``core.bigFileThreshold``): the entry is keyed by every source of them
    (:func:`_attribute_sources`), and not used at all when one cannot be read safely.
    """
    sources = _attribute_sources(repo, commit, entries)
    if sources is None:
        return _numstat(repo, commit)
    from . import incremental
    store = incremental.Store("numstat", repo, {"attributes": sources}, _valid_counts)
    known: dict[str, tuple[str, str, int | None]] = store.load("paths") or {}
    counts: dict[str, int | None] = {}
    todo = []
    for path, (mode, _typ, obj, _size) in entries.items():
        hit = known.get(path)
        if hit is not None and hit[0] == obj and hit[1] == mode:   # (blob, mode, count)
            counts[path] = hit[2]
        else:
            todo.append(path)
    if todo:
        if not known or len(todo) > NARROW_MAX:
            fresh = _numstat(repo, commit)
            counts = {p: fresh.get(p) for p in entries}
        else:
            fresh = _numstat(repo, commit, todo)
            counts.update((p, fresh.get(p)) for p in todo)    # not listed by git: no count, as before
    seen = {p: (obj, mode, counts[p]) for p, (mode, _typ, obj, _size) in entries.items()}
    if seen != known:
        store.save("paths", seen)       # the paths at this ref only: the entry does not grow with history
    return counts


def _valid_counts(v) -> bool:
    return isinstance(v, dict) and all(
        isinstance(k, str) and isinstance(x, tuple) and len(x) == 3 and isinstance(x[0], str)
        and isinstance(x[1], str) and (x[2] is None or (type(x[2]) is int and x[2] >= 0))
        for k, x in v.items())


def _attribute_sources(repo: str, commit: str, entries: dict[str, tuple[str, str, str, str]]) -> str | None:
    """A digest of everything besides a blob that git's numstat of it depends on, or None when one of
    them cannot be read safely (the whole tree is then diffed, as without the cache).

    ``git diff <tree> <tree>`` reads attributes from the work tree's ``.gitattributes`` files (not the
    scanned commit's; a bare repository has none, recent gits read HEAD's), ``$GIT_DIR/info/attributes``,
    ``core.attributesFile`` (gitutil points it at /dev/null) and the system file (gitutil turns it off);
    some versions fall back to the index where the work tree has no file. All of them go in, and the
    whole configuration (drivers, thresholds) and git's version.
    """
    if gitutil.git_env().get("GIT_ATTR_NOSYSTEM") != "1":
        return None
    if (sys.getfilesystemencoding().lower().replace("-", "") != "utf8"
            or sys.getfilesystemencodeerrors() != "surrogateescape"):
        return None                     # paths given to git and to the file system as git's own bytes
    h = hashlib.sha256(f"git {gitutil.git_version()}\0".encode())
    try:
        config = gitutil.run(repo, "config", "--list", "-z", "--includes")
    except gitutil.GitError:
        return None
    attributes_file = None
    for item in config.split(b"\0"):
        key, _, value = item.partition(b"\n")
        k = key.lower()
        if k == b"core.attributesfile":
            attributes_file = value
        elif k == b"attr.tree":
            return None                 # a tree named in the configuration: its content is not in the key
    if attributes_file != os.fsencode(os.devnull):
        return None                     # a global attributes file (or the default one) would be read
    h.update(b"config\0" + config)
    out = gitutil.run(repo, "rev-parse", "--is-bare-repository", "--path-format=absolute",
                      "--git-path", "info/attributes", "--show-toplevel", check=False).split(b"\n")
    # "true", the file, "" (a bare repository: no top folder) or "false", the file, the top folder, "";
    # anything else (a path holding a newline) is not parsed.
    bare = out[0] == b"true"
    if len(out) != (3 if bare else 4) or out[-1] or out[0] not in (b"true", b"false"):
        return None
    info = _read_attr_file(out[1].decode("utf-8", "surrogateescape"))
    if info is None:
        return None
    h.update(b"info\0" + info)
    if bare:
        # No work tree. Recent gits read the attributes of HEAD's tree: the scanned commit's when HEAD is
        # that commit, else any other commit's (keyed by its id).
        head = gitutil.run(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False).strip()
        if head.decode() == commit:
            h.update(b"head\0" + "\0".join(f"{p}\0{e[2]}" for p, e in entries.items()
                                          if p.rsplit("/", 1)[-1] == ".gitattributes").encode("utf-8", "surrogateescape"))
        else:
            h.update(b"head\0" + head)
        return h.hexdigest()
    top = out[2].decode("utf-8", "surrogateescape")
    if not os.path.isdir(top):
        return None
    # The work tree's .gitattributes in every folder of the scanned tree (where git looks for them).
    folders = {""}
    for p in entries:
        i = p.rfind("/")
        while i > 0 and p[:i] not in folders:
            folders.add(p[:i])
            i = p.rfind("/", 0, i)
    for d in sorted(folders):
        f = os.path.join(top, d, ".gitattributes") if d else os.path.join(top, ".gitattributes")
        try:
            st = os.lstat(f)
        except (FileNotFoundError, NotADirectoryError):
            continue                    # (the folder is not checked out, or is a file in the work tree)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None                 # a link or a folder: not worth telling what git makes of it
        try:
            data = Path(f).read_bytes()
        except OSError:
            return None
        h.update(b"worktree\0" + encode_path(d) + b"\0" + hashlib.sha256(data).digest())
    # The index's .gitattributes entries (read by gits that fall back to it).
    h.update(b"index\0" + gitutil.run(repo, "ls-files", "-s", "-z", "--", ":(glob)**/.gitattributes", check=False))
    return h.hexdigest()


def _read_attr_file(path: str) -> bytes | None:
    try:
        return b"file\0" + Path(path).read_bytes()
    except FileNotFoundError:
        return b"none"
    except OSError:
        return None


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
