"""Portfolio scaling: 20 generated repositories scanned serially and through the default executor.

Usage: python benchmarks/bench_portfolio.py [--repos 20] [--commits 1500] [--licenses]
Prints wall time serial vs parallel, the speed-up (expect close to 2x on 2 cores) and the peak memory
of the worker processes, and an estimate for a 1,000-repository portfolio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", type=int, default=20)
    ap.add_argument("--commits", type=int, default=1500)
    ap.add_argument("--licenses", action="store_true")
    a = ap.parse_args()
    from sample_repos.generate import build_synthetic

    import ddkit
    tmp = Path(tempfile.mkdtemp(prefix="ddkit-bench-pf-"))
    repos = [str(build_synthetic(a.commits, tmp / f"r{i:02d}", seed=i)) for i in range(a.repos)]
    results = {}
    for label, workers in (("serial", 1), ("parallel", min(2, os.cpu_count() or 1))):
        os.environ["DDKIT_CACHE_DIR"] = str(tmp / f"cache-{label}")
        ex = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        t0 = time.perf_counter()
        p = ddkit.scan_many(repos, licenses=a.licenses, executor=ex, as_of="2026-01-01", cache=False)
        wall = time.perf_counter() - t0
        ex.shutdown()
        ok = sum(r.status == "ok" for r in p.results)
        peak = max((r.peak_rss_mb or 0) for r in p.results)
        results[label] = wall
        print(f"{label:<9} workers {workers}: {wall:7.1f} s for {ok}/{len(repos)} repositories "
              f"({a.commits} commits each), peak worker memory {peak:.0f} MB")
    speedup = results["serial"] / results["parallel"]
    per_repo = results["parallel"] / a.repos
    print(f"speed-up: {speedup:.2f}x on {os.cpu_count()} cores")
    print(f"estimate for 1,000 such repositories on this machine: {per_repo * 1000 / 60:.0f} min "
          f"({per_repo:.2f} s per repository with 2 workers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
