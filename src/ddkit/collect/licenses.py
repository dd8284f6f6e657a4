"""License and copyright notices in the files at the ref, with ScanCode (scancode-toolkit) as a library.

Files are read from git by blob id (never from the work tree), so bare repositories work and
uncommitted edits are not scanned. Three things keep it fast:

1. a keyword screen: a file with none of the words a license notice or copyright statement needs
   (``rules/licenses.yaml: screen``) cannot produce a ScanCode detection and is not sent to it;
   license-named files (LICENSE, COPYING, NOTICE, …) are always scanned;
2. a cache keyed by blob id and file name under ``cache_dir("licenses")``: a re-scan only scans
   blobs it has not seen;
3. long-lived worker processes, each loading ScanCode's license index once (about 1.4 GB), started
   only when something is left to scan. They are ``python -m ddkit.workerpool`` processes (see there):
   they never import the caller's main module, die with the process that started them, and ignore
   Ctrl-C, which the main process handles by stopping them.

Per-file timeouts use ScanCode's own ``deadline`` (no SIGALRM), so scanning also works off the main
thread and inside Dask workers; there (a daemonic process cannot start children) it runs in-process.
A file that fails or times out is recorded as a ``scan-error`` row and a warning, never as clean.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import posixpath
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from .. import cache as cache_mod
from .. import gitutil, globs
from ..cache import cache_dir, entry_key
from ..workerpool import WorkerPool, at_parent_exit
from .dependencies import scancode_version  # noqa: F401  (the pipeline imports it from here)

SCAN_COLUMNS = ["path", "blob", "license_expression", "license_spdx", "detections", "copyrights", "holders",
                "error"]


# ----------------------------------------------------------------------------- worker side
# ScanCode reads files by name, so each file is copied into a temporary folder. The folder's name
# carries the pid of the process that made it: a later run removes the folders of processes that
# are gone (a worker killed with its parent cannot clean up after itself).
_TMP_PREFIX = "ddkit-lic-"
_TMP_RE = re.compile(r"ddkit-lic-(\d+)-")
_live_dirs: set[str] = set()


def _remove_live_dirs() -> None:
    for d in list(_live_dirs):
        shutil.rmtree(d, ignore_errors=True)


def remove_stale_temp_dirs(max_age_unknown: float = 86400.0) -> int:
    """Remove the temporary folders of ddkit processes that no longer run; returns how many."""
    n = 0
    tmp = Path(tempfile.gettempdir())
    try:
        entries = list(tmp.glob(_TMP_PREFIX + "*"))
    except OSError:
        return 0
    for d in entries:
        m = _TMP_RE.match(d.name)
        try:
            if m:
                pid = int(m.group(1))
                if pid == os.getpid():
                    continue
                try:
                    os.kill(pid, 0)
                    continue          # its process still runs (or the pid is taken): leave it
                except ProcessLookupError:
                    pass
                except PermissionError:
                    continue
            elif time.time() - d.stat().st_mtime < max_age_unknown:
                continue              # an older ddkit's folder, without a pid: only when a day old
            shutil.rmtree(d, ignore_errors=True)
            n += 1
        except OSError:
            continue
    return n


def _scan_file(name: str, data: bytes, timeout: float) -> dict[str, Any]:
    from scancode.api import get_copyrights, get_licenses
    d = tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-")
    _live_dirs.add(d)
    try:
        loc = os.path.join(d, name or "file")
        with open(loc, "wb") as fh:
            fh.write(data)
        try:
            deadline = time.time() + timeout
            lic = get_licenses(loc, deadline=deadline)
            if time.time() > deadline:
                return {"error": f"timed out after {timeout:.0f} s"}
            cop = get_copyrights(loc, deadline=time.time() + timeout)
        except Exception as e:  # ScanCode raises many kinds on odd input
            return {"error": f"{type(e).__name__}: {e}"[:300]}
    finally:
        shutil.rmtree(d, ignore_errors=True)
        _live_dirs.discard(d)
    referenced: list[str] = []
    try:
        from licensedcode.detection import LicenseDetectionFromResult, get_referenced_filenames
        for m in lic.get("license_detections") or []:
            det = LicenseDetectionFromResult.from_license_detection_mapping(m, file_path=name)
            for f in get_referenced_filenames(det.matches):
                if f not in referenced:
                    referenced.append(f)
    except Exception:  # pragma: no cover - a ScanCode internals change: no reference following
        referenced = []
    detections = []
    for d_ in lic.get("license_detections") or []:
        lines = [(m.get("start_line"), m.get("end_line")) for m in d_.get("matches", [])]
        scores = [m.get("score") for m in d_.get("matches", []) if m.get("score") is not None]
        detections.append({
            "license_expression": d_.get("license_expression"),
            "license_expression_spdx": d_.get("license_expression_spdx"),
            "start_line": min((a for a, _ in lines if a), default=None),
            "end_line": max((b for _, b in lines if b), default=None),
            "score": min(scores) if scores else None,
        })
    return {
        "license_expression": lic.get("detected_license_expression"),
        "license_spdx": lic.get("detected_license_expression_spdx"),
        "detections": detections,
        "copyrights": [{"copyright": c.get("copyright"), "start_line": c.get("start_line"),
                        "end_line": c.get("end_line")} for c in cop.get("copyrights") or []],
        "holders": list(dict.fromkeys(h.get("holder") for h in cop.get("holders") or [] if h.get("holder"))),
        "error": None,
        "raw_detections": lic.get("license_detections") or [],
        "referenced": referenced,
    }


class _Resource:
    """Just enough of a ScanCode codebase Resource for its reference-following post-scan step."""

    def __init__(self, path: str, detections: list[dict]):
        self.path = path
        self.license_detections = detections
        self.is_file = True
        self.detected_license_expression = None
        self.detected_license_expression_spdx = None

    def parent_path(self) -> str:
        return posixpath.dirname(self.path)


class _Codebase:
    def __init__(self, resources: dict[str, _Resource]):
        self.resources = resources
        self.root = _Resource(_ROOT, [])

    def get_resource(self, path: str):
        return self.resources.get(path)

    def save_resource(self, resource) -> None:
        self.resources[resource.path] = resource


_ROOT = "root"


def _resolve_references(task: tuple[str, list[dict], dict[str, tuple[str, list[dict]]]]) -> tuple | None:
    """ScanCode's post-scan step that follows "see the LICENSE file" to that file's detections, run on one
    file. *task* is (path, its detections, {referenced name: (path of the file it resolves to, that file's
    detections)}); which file a name resolves to is decided on the main side (``_reference_candidates``).
    ScanCode decides the rest: whether the referenced expression is used and the detection's new
    expression (``licensedcode.detection.update_detection_from_referenced_files``, the function both its
    license and its package post-scan steps call, with their own file finders). None: unchanged."""
    import copy

    from licensedcode.detection import (
        DetectionCategory,
        LicenseDetectionFromResult,
        get_referenced_filenames,
        has_resolved_referenced_file,
        update_detection_from_referenced_files,
        update_expressions_from_license_detections,
    )
    path, dets, refs = task
    res = {f"{_ROOT}/{p}": _Resource(f"{_ROOT}/{p}", copy.deepcopy(d)) for p, d in refs.values()}
    chosen = {name: f"{_ROOT}/{p}" for name, (p, _d) in refs.items()}
    me = _Resource(f"{_ROOT}/{path}", copy.deepcopy(dets))
    res[me.path] = me
    codebase = _Codebase(res)

    def finder(referenced_filename, resource, codebase, **_kw):
        hit = chosen.get(referenced_filename)
        return codebase.get_resource(hit) if hit else None

    modified = False
    try:
        for mapping in me.license_detections:
            det = LicenseDetectionFromResult.from_license_detection_mapping(
                license_detection_mapping=mapping, file_path=me.path)
            names = get_referenced_filenames(det.matches)
            if not names or has_resolved_referenced_file(det.matches):
                continue
            if update_detection_from_referenced_files(
                    referenced_filenames=names, license_detection_mapping=mapping, resource=me, codebase=codebase,
                    analysis=DetectionCategory.UNKNOWN_FILE_REFERENCE_LOCAL.value,
                    find_referenced_resource_func=finder):
                modified = True
        if modified:
            update_expressions_from_license_detections(resource=me, codebase=codebase)
    except Exception:
        return None
    if not modified:
        return None
    return me.detected_license_expression, me.detected_license_expression_spdx, me.license_detections


def _init_worker() -> None:
    at_parent_exit(_remove_live_dirs)
    from licensedcode.cache import get_index
    get_index()  # load once per worker


_INIT = "ddkit.collect.licenses:_init_worker"


def _worker(task: tuple[str, bytes, float]) -> dict[str, Any]:
    return _scan_file(*task)


# ----------------------------------------------------------------------------- main side
def _screen(rules: dict) -> tuple[re.Pattern[bytes], list[str]]:
    words = rules.get("screen", {}).get("keywords", [])
    names = rules.get("screen", {}).get("always_scan", [])
    return re.compile(b"|".join(w.encode() for w in words), re.I), names


WINDOW = 20
_FILES_PER_EXTRA_WORKER = 64


def _windows(data: bytes, screen: re.Pattern[bytes], around: int) -> bytes:
    """Keep the lines within *around* lines of a keyword hit; blank the rest (line numbers stay true).

    License notices and copyright statements sit where their keywords are; ScanCode's cost grows with
    the size of the text, so a long source file with a short header is scanned as its header.
    """
    lines = data.split(b"\n")
    if len(lines) <= 4 * around:
        return data
    keep = bytearray(len(lines))
    for i, ln in enumerate(lines):
        if screen.search(ln):
            lo, hi = max(0, i - around), min(len(lines), i + around + 1)
            keep[lo:hi] = b"\x01" * (hi - lo)
    return b"\n".join(ln if keep[i] else b"" for i, ln in enumerate(lines))


def license_db_summary() -> dict[str, dict[str, str | None]]:
    """ScanCode license key -> {category, spdx}, cached per ScanCode version (loading the DB is slow)."""
    f = cache_dir("licenses") / f"db-{entry_key(tools=('scancode-toolkit',))}.json"
    hit = cache_mod.load(f, _DB)
    if hit:
        return hit
    from licensedcode.cache import get_licenses_db
    out = {k: {"category": lic.category, "spdx": lic.spdx_license_key, "name": lic.short_name}
           for k, lic in get_licenses_db().items()}
    cache_mod.save(f, _DB, out)
    return out


def _blobs(repo: str, items: list[tuple[str, str]]) -> Iterator[tuple[str, bytes | None]]:
    """(path, content) for each (path, blob id), streamed through one `git cat-file --batch`."""
    for (path, _blob), (_typ, data) in zip(items, gitutil.iter_objects(repo, [blob for _, blob in items])):
        yield path, data


def _is_opt_str(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _valid_result(v: Any) -> bool:
    """A cached per-file result has the shape _scan_file returns (anything else is recomputed)."""
    if not isinstance(v, dict) or v.get("error") is not None:
        return False
    if not (_is_opt_str(v.get("license_expression")) and _is_opt_str(v.get("license_spdx"))):
        return False
    lists = ("detections", "copyrights", "holders", "raw_detections", "referenced")
    if not all(isinstance(v.get(k, []), list) for k in lists):
        return False
    return (all(isinstance(d, dict) for k in ("detections", "copyrights", "raw_detections") for d in v.get(k, []))
            and all(isinstance(h, str) for k in ("holders", "referenced") for h in v.get(k, [])))


def _valid_reference(v: Any) -> bool:
    return (isinstance(v, dict) and _is_opt_str(v.get("expression")) and _is_opt_str(v.get("spdx"))
            and (v.get("detections") is None or (isinstance(v["detections"], list)
                                                  and all(isinstance(d, dict) for d in v["detections"]))))


def _entry(cdir: Path, key: str) -> Path:
    return cdir / key[:2] / f"{key}.json"


def _valid_db(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(x, dict) and _is_opt_str(x.get("category"))
                                       and _is_opt_str(x.get("spdx")) for x in v.values())


# The codecs of this stage's entries (ddkit.cache: one sealed format; a value of another shape is a miss).
_RESULT = cache_mod.json_codec("licenses/file", _valid_result)
_REFERENCE = cache_mod.json_codec("licenses/reference", _valid_reference)
_DB = cache_mod.json_codec("licenses/db", _valid_db)


class PackageDirs:
    """Which directories at the ref hold a package: a manifest that ScanCode's package parsers read as a
    named package (package.json, pyproject.toml, setup.py, Cargo.toml, pom.xml …; not lockfiles or
    requirements files, which name no package). Manifests are parsed lazily, only for a directory asked
    about, from their git blobs (``collect.dependencies``)."""

    def __init__(self, repo: str, files: pd.DataFrame):
        self.repo = repo
        self._files = files
        self._by_dir: dict[str, list[tuple[str, str]]] | None = None
        self._memo: dict[str, bool] = {}

    def is_package(self, directory: str) -> bool:
        if directory in self._memo:
            return self._memo[directory]
        from .dependencies import is_lockfile_path, is_manifest_path, parse_manifest, read_blobs
        if self._by_dir is None:
            self._by_dir = {}
            for p, b in zip(self._files["path"], self._files["blob"]):
                if isinstance(b, str):
                    self._by_dir.setdefault(posixpath.dirname(p), []).append((p, b))
        mans = [(p, b) for p, b in self._by_dir.get(directory, []) if is_manifest_path(p) and not is_lockfile_path(p)]
        content = dict(read_blobs(self.repo, [b for _, b in mans])) if mans else {}
        ok = False
        for p, b in mans:
            data = content.get(b)
            if data is not None:
                _rows, own, _w = parse_manifest(p, data)
                if own.get("name"):
                    ok = True
                    break
        self._memo[directory] = ok
        return ok


# ScanCode's referenced-filename marker for "distributed under the same license as the package" (gettext's
# .po header, many others): the license of the package the file belongs to.
INHERIT = "INHERIT_LICENSE_FROM_PACKAGE"
_LICENSE_FILE = re.compile(r"(?i)^(licen[cs]e|copying|unlicense)([._-].*)?$")


def license_files(paths: Iterable[str], directory: str = "") -> list[str]:
    """The files among *paths* directly in *directory* whose name says they state a license (LICENSE,
    LICENCE, COPYING, UNLICENSE, any case, with or without a suffix): LICENSE/LICENCE first, then by name."""
    return sorted((p for p in paths if posixpath.dirname(p) == directory and _LICENSE_FILE.match(posixpath.basename(p))),
                  key=lambda p: (0 if posixpath.basename(p).upper().startswith("LICEN") else 1, p))


def _package_license_file(path: str, results: dict, packages: PackageDirs | None, usable) -> str | None:
    """The license file of the package *path* belongs to: in the nearest enclosing directory that holds a
    named package manifest and a LICENSE/COPYING file with detections (a vendored copy only inside its own
    directory), else the repository's root license file: a repository is the package of its files."""
    from .dependencies import vendored_component

    def license_in(d: str) -> str | None:
        return next((p for p in license_files(results, d) if usable(p)), None)

    comp = vendored_component(path)
    d = posixpath.dirname(path)
    while d:
        if comp is not None and d != comp[0] and not d.startswith(comp[0] + "/"):
            return None    # a vendored copy never inherits the enclosing project's license
        if packages is not None and packages.is_package(d):
            hit = license_in(d)
            if hit:
                return hit
        d = posixpath.dirname(d)
    return None if comp is not None else license_in("")


def _reference_target(path: str, name: str, results: dict, packages: PackageDirs | None) -> str | None:
    """The file a reference *name* in the file *path* resolves to: the file of that name beside it, else
    beside the manifest of a package the file belongs to (nearest first; ScanCode's package step), else at
    the root. A file in a vendored directory (``_vendor/x``, ``node_modules/x`` …) belongs only to packages
    inside that directory: the vendored copy is its own component, whatever package encloses the project
    (ScanCode assigns it to the project's package and so sends its "see LICENSE.txt" to the project's
    LICENSE.txt even when the vendored copy's own LICENSE.txt sits beside the file). None: not found."""
    from .dependencies import vendored_component

    def usable(cand: str) -> bool:
        hit = results.get(cand)
        return bool(cand != path and hit and hit.get("raw_detections"))

    rel = name.strip("/")
    here = posixpath.dirname(path)
    if rel == INHERIT:
        return _package_license_file(path, results, packages, usable)
    cand = posixpath.join(here, rel)
    if usable(cand):
        return cand
    if packages is not None and here:
        comp = vendored_component(path)
        d = posixpath.dirname(here)
        while d:
            if comp is not None and d != comp[0] and not d.startswith(comp[0] + "/"):
                break
            cand = posixpath.join(d, rel)
            if usable(cand) and packages.is_package(d):
                return cand
            d = posixpath.dirname(d)
    return rel if usable(rel) else None


def _follow_references(results: dict, hashes: dict, cdir: Path | None, pool: WorkerPool | None,
                       in_process: bool, stats: dict, packages: PackageDirs | None = None) -> None:
    """Resolve "see LICENSE.txt"-style references as ScanCode's post-scan steps do (``_reference_target``
    says which file), cached by the blobs involved. A referenced file that itself refers on
    (packaging's LICENSE → LICENSE.APACHE, LICENSE.BSD) is resolved first: files are taken deepest
    first, then in passes until nothing changes, as ScanCode walks the codebase bottom-up."""
    done: set[str] = set()
    for _ in range(3):
        tasks, keys, paths = [], [], []
        pending = {p for p, r in results.items() if not r.get("error") and r.get("referenced") and p not in done}
        for path in sorted(pending, key=lambda p: (-p.count("/"), p)):
            r = results[path]
            refs: dict[str, tuple[str, list[dict]]] = {}
            for name in r["referenced"]:
                target = _reference_target(path, name, results, packages)
                if target is not None:
                    refs[name] = (target, results[target]["raw_detections"])
            if not refs:
                done.add(path)
                continue
            targets = sorted({t for t, _d in refs.values()})
            if any(c in pending and c not in done for c in targets):
                continue  # resolve what it refers to first
            key = entry_key("ref2", path, hashes.get(path, ""),
                            sorted(f"{n}={t}={hashes.get(t, '')}" for n, (t, _d) in refs.items()),
                            tools=("scancode-toolkit",))
            if cdir is not None:
                hit = cache_mod.load(_entry(cdir, key), _REFERENCE)
                if hit is not None:
                    _apply_reference(r, hit)
                    done.add(path)
                    continue
            tasks.append((path, r["raw_detections"], refs))
            keys.append(key)
            paths.append(path)
        if not tasks:
            if not pending - done:
                break
            # A cycle of references: resolve the rest as they stand.
            for p in pending - done:
                done.add(p)
            continue
        stats["references_resolved"] = stats.get("references_resolved", 0) + len(tasks)
        spec = "ddkit.collect.licenses:_resolve_references"
        if pool is not None:
            outs = pool.map(spec, [(t,) for t in tasks], on_error=lambda msg: None)
        elif in_process:
            outs = [_resolve_references(t) for t in tasks]
        else:
            with WorkerPool(1, init=_INIT) as one:
                outs = one.map(spec, [(t,) for t in tasks], on_error=lambda msg: None)
        for path, key, out in zip(paths, keys, outs):
            value = ({"expression": out[0], "spdx": out[1], "detections": out[2]} if out else
                     {"expression": None, "spdx": None, "detections": None})
            _apply_reference(results[path], value)
            done.add(path)
            if cdir is not None:
                cache_mod.save(_entry(cdir, key), _REFERENCE, value)


def _apply_reference(r: dict, value: dict) -> None:
    if value.get("expression"):
        r["license_expression"] = value["expression"]
        r["license_spdx"] = value["spdx"]
    if value.get("detections"):
        r["raw_detections"] = value["detections"]


def scan_licenses(repo: str, commit: str | None, files: pd.DataFrame, rules: dict, excludes: list[tuple[str, str]],
                  jobs: int = 2, timeout: float = 120.0, cache: bool = True,
                  progress=None) -> tuple[pd.DataFrame, pd.DataFrame, list[str], dict]:
    """Scan the text files at *commit*. Returns (results, not scanned [path, reason], warnings, stats)."""
    stats = {"files": 0, "screened_out": 0, "cached": 0, "scanned": 0, "errors": 0}
    empty = pd.DataFrame(columns=SCAN_COLUMNS)
    if commit is None or files.empty:
        return empty, pd.DataFrame(columns=["path", "reason"]), [], stats
    cand = files[files["category"].isin(["text", "vendored", "generated", "binary"])]
    skipped = []
    keep = []
    for path, blob in zip(cand["path"], cand["blob"]):
        hit = next(((g, r) for g, r in excludes if globs.match(path, g)), None)
        if hit:
            skipped.append((path, f"{hit[1]} ({hit[0]})"))
        else:
            keep.append((path, blob))
    # Files whose content is not in the repository (Git LFS pointers) cannot be scanned: say so.
    skipped += [(p, r) for p, c, r in zip(files["path"], files["category"], files["reason"]) if c == "lfs-pointer"]
    not_scanned = pd.DataFrame(skipped, columns=["path", "reason"])
    stats["files"] = len(keep)
    screen, always = _screen(rules)
    cdir = cache_dir("licenses", "files") if cache else None
    results: dict[str, dict[str, Any]] = {}
    hashes: dict[str, str] = {}
    todo: list[tuple[str, str, bytes, str]] = []   # path, blob, data, cache key
    for path, data in _blobs(repo, keep):
        if data is None:
            results[path] = {"error": "blob missing from the repository"}
            continue
        name = PurePosixPath(path).name
        forced = any(globs.match(name, g) for g in always)
        # Binaries hold their strings in UTF-16 as often as not: screen them with the NULs removed.
        probe = data.replace(b"\0", b"") if b"\0" in data[:8000] else data
        if not forced and not screen.search(probe):
            stats["screened_out"] += 1
            continue
        if not forced and b"\0" not in data[:8000]:
            data = _windows(data, screen, WINDOW)
        hashes[path] = hashlib.sha1(data).hexdigest()
        key = entry_key(name, hashes[path], tools=("scancode-toolkit",))
        if cdir is not None:
            hit = cache_mod.load(_entry(cdir, key), _RESULT)
            if hit is not None:
                results[path] = hit
                stats["cached"] += 1
                continue
        todo.append((path, name, data, key))
    if progress is not None:
        progress.set_total(len(todo))
    # In a daemonic process (a Dask worker) scan in-process: one index per Dask worker is enough memory.
    in_process = jobs <= 1 or mp.current_process().daemon
    pool = None
    remove_stale_temp_dirs()
    try:
        if todo:
            tasks = [(name, data, timeout) for _, name, data, _ in todo]
            if in_process or len(todo) < 4:
                outs = []
                for t in tasks:
                    outs.append(_worker(t))
                    if progress is not None:
                        progress.advance(1)
            else:
                # Each worker first loads the index (seconds of CPU, 1.2 GB): a second one pays off only
                # when there are many files to share out.
                pool = WorkerPool(min(jobs, 1 + len(todo) // _FILES_PER_EXTRA_WORKER), init=_INIT)
                outs = pool.map("ddkit.collect.licenses:_worker", [(t,) for t in tasks],
                                on_result=(progress.advance if progress is not None else None),
                                on_error=lambda msg: {"error": msg})
                stats["workers"] = pool.started
            for (path, _name, _data, key), out in zip(todo, outs):
                results[path] = out
                stats["scanned"] += 1
                if cdir is not None and not out.get("error"):
                    cache_mod.save(_entry(cdir, key), _RESULT, out)
        _follow_references(results, hashes, cdir, pool, in_process, stats, PackageDirs(repo, files))
    except BaseException:
        if pool is not None:
            pool.close(kill=True)   # Ctrl-C or an error: stop the workers now, not after their files
        raise
    finally:
        if pool is not None:
            pool.close()
    blobs = dict(keep)
    rows = []
    warnings = []
    for path in sorted(results):
        r = results[path]
        if r.get("error"):
            stats["errors"] += 1
            warnings.append(f"license scan failed for {path}: {r['error']}")
        if not r.get("error") and not r.get("license_expression") and not r.get("copyrights"):
            continue
        rows.append({"path": path, "blob": blobs.get(path), "license_expression": r.get("license_expression"),
                     "license_spdx": r.get("license_spdx"), "detections": r.get("detections") or [],
                     "copyrights": r.get("copyrights") or [], "holders": r.get("holders") or [],
                     "error": r.get("error")})
    return pd.DataFrame(rows, columns=SCAN_COLUMNS), not_scanned, warnings, stats
