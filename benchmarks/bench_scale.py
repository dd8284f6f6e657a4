"""Does a scan's cost per commit stay flat as history grows? git/git at first-parent prefixes.

Usage: python benchmarks/bench_scale.py [REPO] [--sizes 10000,20000,40000,0] [--no-secrets]
(default REPO: the git/git mirror; size 0 = the whole history).

For each size N it picks the first-parent ancestor of HEAD whose reachable history holds about N
commits (binary search on `git rev-list --count` along `git rev-list --first-parent HEAD`), then runs
a cold `ddkit scan --no-licenses` in a fresh process with a fresh cache, and prints wall time, time per
commit, the peak RSS of ddkit and of its largest git child (resource.getrusage), and Scan.timings per
stage (the biggest last row tells where the time goes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import ddkit
s = ddkit.scan(sys.argv[1], ref=sys.argv[2], licenses=False, secrets=sys.argv[3] == "1", as_of="2026-01-01")
wall = time.perf_counter() - t0
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "commits": len(s.commits), "rss": own, "git_rss": kids,
                  "timings": s.timings}))
"""


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout


def pick(repo: str, fp: list[str], n: int) -> tuple[str, int]:
    """The first-parent commit (fp: newest first) whose reachable count is closest to n from above."""
    return fp[_pick(repo, fp, n)], int(git(repo, "rev-list", "--count", fp[_pick(repo, fp, n)]))


def _pick(repo: str, fp: list[str], n: int) -> int:
    lo, hi = 0, len(fp) - 1           # count(fp[0]) is the largest
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if int(git(repo, "rev-list", "--count", fp[mid])) >= n:
            lo = mid
        else:
            hi = mid - 1
    return lo


def main() -> int:
    args = sys.argv[1:]
    sizes = [10_000, 20_000, 40_000, 0]
    secrets = True
    if "--sizes" in args:
        i = args.index("--sizes")
        sizes = [int(x) for x in args[i + 1].split(",")]
        del args[i:i + 2]
    if "--no-secrets" in args:
        args.remove("--no-secrets")
        secrets = False
    repo = args[0] if args else "/work/.mirror/git+git/repo"
    fp = git(repo, "rev-list", "--first-parent", "HEAD").split()
    print(f"repository {repo}: {len(fp)} first-parent commits; secrets {'on' if secrets else 'off'}", flush=True)
    rows = []
    for n in sizes:
        sha, count = (fp[0], int(git(repo, "rev-list", "--count", "HEAD"))) if n == 0 else pick(repo, fp, n)
        env = {**os.environ, "DDKIT_CACHE_DIR": tempfile.mkdtemp(prefix="ddkit-scale-"),
               "PYTHONPATH": os.environ.get("BENCH_SRC", str(ROOT / "src"))}
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _CHILD, repo, sha, "1" if secrets else "0"],
                             capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        if out.returncode:
            print(f"{count:>7} commits: failed: {out.stderr[-500:]}", flush=True)
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((count, wall, r))
        # Incremental: the next first-parent commit (one merge or commit pulled), same cache.
        i = fp.index(sha)
        inc = ""
        if i > 0:
            t0 = time.perf_counter()
            o2 = subprocess.run([sys.executable, "-c", _CHILD, repo, fp[i - 1], "1" if secrets else "0"],
                                capture_output=True, text=True, env=env)
            w2 = time.perf_counter() - t0
            if o2.returncode == 0:
                r2 = json.loads(o2.stdout.strip().splitlines()[-1])
                inc = (f"\n{'':>8} next first-parent commit ({r2['commits'] - count} new): {w2:.1f} s "
                       f"= {100 * w2 / wall:.1f}% of cold | " + ", ".join(
                           f"{k} {v:.1f}" for k, v in sorted(r2["timings"].items(), key=lambda kv: -kv[1])[:5]))
        tm = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["timings"].items(), key=lambda kv: -kv[1]))
        print(f"{count:>7} commits @ {sha[:10]}: wall {wall:7.1f} s  {1000 * wall / count:6.2f} ms/commit  "
              f"peak RSS ddkit {r['rss'] / 1024:6.0f} MiB, git child {r['git_rss'] / 1024:6.0f} MiB  | {tm}{inc}",
              flush=True)
    if len(rows) > 1:
        (c0, w0, _), (c1, w1, _) = rows[0], rows[-1]
        print(f"per-commit cost, largest / smallest: {(w1 / c1) / (w0 / c0):.2f}x over {c1 / c0:.1f}x the commits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
