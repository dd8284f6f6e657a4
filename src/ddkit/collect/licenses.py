"""License and copyright notices in the files at the ref, with ScanCode (scancode-toolkit) as a library.

Files are read from git by blob id (never from the work tree), so bare repositories work and
uncommitted edits are not scanned. Three things keep it fast:

1. a keyword screen: a file with none of the words a license notice or copyright statement needs
   (``rules/licenses.yaml: screen``) cannot produce a ScanCode detection and is not sent to it;
   license-named files (LICENSE, COPYING, NOTICE, …) are always scanned;
2. a cache keyed by blob id and file name under ``cache_dir("licenses")``: a re-scan only scans
   blobs it has not seen;
3. long-lived worker processes, each loading ScanCode's license index once (about 1.4 GB), started
   only when something is left to scan.

Per-file timeouts use ScanCode's own ``deadline`` (no SIGALRM), so scanning also works off the main
thread and inside Dask workers; there (a daemonic process cannot start children) it runs in-process.
A file that fails or times out is recorded as a ``scan-error`` row and a warning, never as clean.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import posixpath
import re
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

import pandas as pd

from .. import globs, gitutil
from ..cache import cache_dir

SCAN_COLUMNS = ["path", "blob", "license_expression", "license_spdx", "detections", "copyrights", "holders",
                "error"]
_CACHE_VERSION = "4"


def scancode_version() -> str:
    try:
        import scancode_config
        return str(scancode_config.__version__)
    except Exception:  # pragma: no cover
        return "unknown"


# ----------------------------------------------------------------------------- worker side
def _scan_file(name: str, data: bytes, timeout: float) -> dict[str, Any]:
    from scancode.api import get_copyrights, get_licenses
    with tempfile.TemporaryDirectory(prefix="ddkit-lic-") as d:
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
    def __init__(self, resources: dict[str, "_Resource"]):
        self.resources = resources
        self.root = _Resource(_ROOT, [])

    def get_resource(self, path: str):
        return self.resources.get(path)

    def save_resource(self, resource) -> None:
        self.resources[resource.path] = resource


_ROOT = "root"


def _resolve_references(task: tuple[str, list[dict], dict[str, list[dict]]]) -> tuple | None:
    """ScanCode's own post-scan step that follows "see the LICENSE file" to that file's detections
    (licensedcode.plugin_license), run on one file and the files it references. None: unchanged."""
    import copy
    from licensedcode.plugin_license import add_referenced_filenames_license_matches_for_detections
    path, dets, refs = task
    res = {f"{_ROOT}/{p}": _Resource(f"{_ROOT}/{p}", copy.deepcopy(d)) for p, d in refs.items()}
    me = _Resource(f"{_ROOT}/{path}", copy.deepcopy(dets))
    res[me.path] = me
    try:
        out = add_referenced_filenames_license_matches_for_detections(me, _Codebase(res))
    except Exception:
        return None
    if not out:
        return None
    return me.detected_license_expression, me.detected_license_expression_spdx, me.license_detections


def _init_worker() -> None:
    from licensedcode.cache import get_index
    get_index()  # load once per worker


def _worker(task: tuple[str, bytes, float]) -> dict[str, Any]:
    return _scan_file(*task)


# ----------------------------------------------------------------------------- main side
def _screen(rules: dict) -> tuple[re.Pattern[bytes], list[str]]:
    words = rules.get("screen", {}).get("keywords", [])
    names = rules.get("screen", {}).get("always_scan", [])
    return re.compile(b"|".join(w.encode() for w in words), re.I), names


WINDOW = 20


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
    f = cache_dir("licenses") / f"db-{scancode_version()}.json"
    if f.exists():
        try:
            return json.loads(f.read_text())
        except ValueError:
            pass
    from licensedcode.cache import get_licenses_db
    out = {k: {"category": lic.category, "spdx": lic.spdx_license_key, "name": lic.short_name}
           for k, lic in get_licenses_db().items()}
    tmp = f.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(f)
    return out


def _blobs(repo: str, items: list[tuple[str, str]]) -> Iterator[tuple[str, bytes | None]]:
    """(path, content) for each (path, blob id), streamed through one `git cat-file --batch`."""
    proc = gitutil.popen(repo, "cat-file", "--batch", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin and proc.stdout

    def feed():
        try:
            for _, blob in items:
                proc.stdin.write(blob.encode() + b"\n")
        finally:
            proc.stdin.close()

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    for path, _blob in items:
        header = proc.stdout.readline().split()
        if len(header) < 3:
            yield path, None
            continue
        size = int(header[2])
        data = proc.stdout.read(size + 1)[:size]
        yield path, data
    t.join()
    proc.wait()


def _cache_put(cdir: Path, key: str, value: dict) -> None:
    f = cdir / key[:2] / f"{key}.json"
    f.parent.mkdir(parents=True, exist_ok=True)
    tmp = f.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value))
    tmp.replace(f)


def _follow_references(results: dict, hashes: dict, cdir: Path | None, version: str, ex, in_process: bool,
                       stats: dict) -> None:
    """Resolve "see LICENSE.txt"-style references as ScanCode's post-scan does (the referenced file beside
    the file, else at the root), cached by the blobs involved. A referenced file that itself refers on
    (packaging's LICENSE → LICENSE.APACHE, LICENSE.BSD) is resolved first: files are taken deepest
    first, then in passes until nothing changes, as ScanCode walks the codebase bottom-up."""
    done: set[str] = set()
    for _ in range(3):
        tasks, keys, paths = [], [], []
        pending = {p for p, r in results.items() if not r.get("error") and r.get("referenced") and p not in done}
        for path in sorted(pending, key=lambda p: (-p.count("/"), p)):
            r = results[path]
            refs = {}
            for name in r["referenced"]:
                name = name.strip("/")
                for cand in (posixpath.join(posixpath.dirname(path), name), name):
                    hit = results.get(cand)
                    if hit and hit.get("raw_detections") and cand != path:
                        refs[cand] = hit["raw_detections"]
                        break
            if not refs:
                done.add(path)
                continue
            if any(c in pending and c not in done for c in refs):
                continue  # resolve what it refers to first
            key = hashlib.sha256("\x1f".join([_CACHE_VERSION, "ref", version, path, hashes.get(path, "")] +
                                              sorted(f"{p}={hashes.get(p, '')}" for p in refs)).encode(
                "utf-8", "surrogateescape")).hexdigest()
            if cdir is not None:
                f = cdir / key[:2] / f"{key}.json"
                if f.exists():
                    try:
                        _apply_reference(r, json.loads(f.read_text()))
                        done.add(path)
                        continue
                    except ValueError:
                        pass
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
        if ex is not None:
            outs = list(ex.map(_resolve_references, tasks))
        elif in_process:
            outs = [_resolve_references(t) for t in tasks]
        else:
            with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"), initializer=_init_worker) as one:
                outs = list(one.map(_resolve_references, tasks))
        for path, key, out in zip(paths, keys, outs):
            value = ({"expression": out[0], "spdx": out[1], "detections": out[2]} if out else
                     {"expression": None, "spdx": None, "detections": None})
            _apply_reference(results[path], value)
            done.add(path)
            if cdir is not None:
                _cache_put(cdir, key, value)


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
    not_scanned = pd.DataFrame(skipped, columns=["path", "reason"])
    stats["files"] = len(keep)
    screen, always = _screen(rules)
    cdir = cache_dir("licenses", "files") if cache else None
    version = scancode_version()
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
        key = hashlib.sha256("\x1f".join([_CACHE_VERSION, version, name, hashes[path]]).encode(
            "utf-8", "surrogateescape")).hexdigest()
        if cdir is not None:
            f = cdir / key[:2] / f"{key}.json"
            if f.exists():
                try:
                    results[path] = json.loads(f.read_text())
                    stats["cached"] += 1
                    continue
                except ValueError:
                    pass
        todo.append((path, name, data, key))
    if progress is not None:
        progress.set_total(len(todo))
    in_process = jobs <= 1 or mp.current_process().daemon
    ex = None
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
                ex = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=mp.get_context("spawn"),
                                         initializer=_init_worker)
                outs = []
                for o in ex.map(_worker, tasks, chunksize=4):
                    outs.append(o)
                    if progress is not None:
                        progress.advance(1)
            for (path, _name, _data, key), out in zip(todo, outs):
                results[path] = out
                stats["scanned"] += 1
                if cdir is not None and not out.get("error"):
                    _cache_put(cdir, key, out)
        _follow_references(results, hashes, cdir, version, ex, in_process, stats)
    finally:
        if ex is not None:
            ex.shutdown()
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
