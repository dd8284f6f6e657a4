"""License scan speed and fidelity: ddkit vs ScanCode's own command line, in one run.

Usage: python benchmarks/bench_licenses.py [REPO] [--baseline-json FILE --baseline-seconds S]
Default REPO: the pypa/pip mirror. Checks out the ref into a temporary work tree, runs
`scancode -clip -n 2 --json` on it (unless a saved baseline is given), then ddkit's cold license stage
(empty cache), then one new commit and the warm re-scan. Prints the time ratio (target <= 0.2), the
recall of ScanCode's (file, license expression) pairs and (file, holder) pairs (target >= 99%), and the
warm/cold ratio (target <= 5%).
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def scancode_pairs(data: dict, prefix: str) -> tuple[set, set]:
    lic, hold = set(), set()
    for f in data.get("files", []):
        if f.get("type") != "file":
            continue
        path = f["path"][len(prefix):].lstrip("/") if f["path"].startswith(prefix) else f["path"].split("/", 1)[-1]
        if f.get("detected_license_expression"):
            lic.add((path, f["detected_license_expression"]))
        for h in f.get("holders") or []:
            hold.add((path, h["holder"]))
    return lic, hold


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("repo", nargs="?", default="/work/.mirror/pypa+pip/repo")
    ap.add_argument("--baseline-json")
    ap.add_argument("--baseline-seconds", type=float)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ddkit-bench-lic-"))
    os.environ["DDKIT_CACHE_DIR"] = str(tmp / "cache")
    work = tmp / "repo"
    subprocess.run(["git", "clone", "-q", a.repo, str(work)], check=True)
    from ddkit import gitutil
    from ddkit.collect.licenses import license_db_summary, scan_licenses
    from ddkit.collect.tree import list_files
    from ddkit.config import load_company, load_rules

    if a.baseline_json:
        data = json.loads(Path(a.baseline_json).read_text())
        t_sc = a.baseline_seconds or float("nan")
    else:
        scj = tmp / "scancode.json"
        t0 = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "scancode"), "-clip", "-n", "2", "--quiet", "--json",
                        str(scj), "--ignore", ".git", str(work)], check=True)
        t_sc = time.perf_counter() - t0
        data = json.loads(scj.read_text())
    sc_lic, sc_hold = scancode_pairs(data, str(work))

    rules, company = load_rules(), load_company(None)

    def run() -> tuple[float, dict, object]:
        info = gitutil.open_repo(work)
        t0 = time.perf_counter()
        files = list_files(info.path, info.commit, rules, company)
        df, _ns, _w, st = scan_licenses(info.path, info.commit, files, rules.get("licenses", {}), [], jobs=2)
        if len(df):
            license_db_summary()
        return time.perf_counter() - t0, st, df

    cold, st_cold, df = run()
    ours_lic = {(p, e) for p, e in zip(df["path"], df["license_expression"]) if isinstance(e, str)}
    ours_hold = {(p, h) for p, hs in zip(df["path"], df["holders"]) for h in hs}
    # ScanCode (run on the work tree) also sees untracked/ignored files: compare on tracked files only.
    tracked = set(files_at_ref(work))
    sc_lic = {x for x in sc_lic if x[0] in tracked}
    sc_hold = {x for x in sc_hold if x[0] in tracked}
    rec_lic = len(sc_lic & ours_lic) / len(sc_lic) if sc_lic else 1.0
    rec_hold = len(sc_hold & ours_hold) / len(sc_hold) if sc_hold else 1.0

    victim = next(p for p in sorted(work.rglob("*.py")) if ".git" not in p.parts and p.stat().st_size > 1000)
    with open(victim, "a") as fh:
        fh.write("\n# Copyright (c) 2026 Benchmark Example\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "B", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "B",
           "GIT_COMMITTER_EMAIL": "b@example.com"}
    subprocess.run(["git", "-C", str(work), "commit", "-qam", "bench"], check=True, env=env)
    warm, st_warm, _ = run()
    print(f"repository: {a.repo} ({len(tracked)} files)")
    print(f"scancode -clip -n 2         {t_sc:8.1f} s")
    print(f"ddkit licenses, cold        {cold:8.1f} s   ratio {cold / t_sc:5.3f}  (target <= 0.2)   "
          f"scanned {st_cold['scanned']}, screened out {st_cold['screened_out']}, errors {st_cold['errors']}")
    print(f"ddkit licenses, warm        {warm:8.1f} s   ratio to cold {warm / cold:5.3f}  (target <= 0.05)   "
          f"scanned {st_warm['scanned']}, from cache {st_warm['cached']}")
    print(f"recall of ScanCode's (file, license expression) pairs: {rec_lic:.2%} ({len(sc_lic & ours_lic)}/{len(sc_lic)})")
    print(f"recall of ScanCode's (file, holder) pairs:             {rec_hold:.2%} ({len(sc_hold & ours_hold)}/{len(sc_hold)})")
    ours_by_path = dict(ours_lic)
    past = reference_past_sibling(data, str(work), tracked)
    for m in sorted(sc_lic - ours_lic)[:10]:
        why = ""
        if m[0] in past:
            used, beside = past[m[0]]
            why = (f"  <- ScanCode followed the reference to {used}, past {beside} beside the file "
                   f"(ddkit: {ours_by_path.get(m[0])})")
        print("  missed:", m, why)
    for m in sorted(sc_hold - ours_hold)[:10]:
        print("  missed:", m)
    n_past = len({x for x in sc_lic - ours_lic if x[0] in past})
    if n_past:
        rest = sc_lic - {x for x in sc_lic if x[0] in past}
        print(f"{n_past} of the misses are references ScanCode resolved past a file of the referenced name beside "
              f"the referencing file; recall of the other pairs: {len(rest & ours_lic) / len(rest):.2%} "
              f"({len(rest & ours_lic)}/{len(rest)})")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def reference_past_sibling(data: dict, prefix: str, tracked: set[str]) -> dict[str, tuple[str, str]]:
    """Files whose license reference ScanCode resolved to a file elsewhere (through a package manifest or
    the root) although a file of the same name sits beside the referencing file: path -> (the file
    ScanCode used, the file beside). Read from ScanCode's own match provenance (``from_file``)."""
    def rel(p: str) -> str:
        return p[len(prefix):].lstrip("/") if p.startswith(prefix) else p.split("/", 1)[-1]
    out = {}
    for f in data.get("files", []):
        if f.get("type") != "file":
            continue
        path = rel(f["path"])
        for det in f.get("license_detections") or []:
            for m in det.get("matches") or []:
                src = m.get("from_file")
                if not src or rel(src) == path:
                    continue
                used = rel(src)
                beside = posixpath.join(posixpath.dirname(path), posixpath.basename(used))
                if beside != used and beside in tracked:
                    out[path] = (used, beside)
    return out


def files_at_ref(work: Path) -> list[str]:
    out = subprocess.run(["git", "-C", str(work), "ls-files", "-z"], capture_output=True, check=True).stdout
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


if __name__ == "__main__":
    sys.exit(main())
