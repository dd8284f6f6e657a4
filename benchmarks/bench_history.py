"""History collection speed: ddkit's one streamed pass vs raw `git log --numstat`, in the same run.

Usage: python benchmarks/bench_history.py [--synthetic N] [--repeat K] [REPO ...]
Builds a generated repository of N commits (default 20,000) with sample_repos.generate.build_synthetic,
then times, for it and each REPO given:
  baseline  git log --numstat <commit> > /dev/null      (what the issue names)
  ddkit     ddkit.collect.history.collect_history        (git log -z --raw -p -U0 -M, parsed to DataFrames;
            cache off: every round reads the whole history)
and prints the ratio (target <= 1.5x) and checks commit conservation against git rev-list --count.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from ddkit import gitutil  # noqa: E402
from ddkit.collect.history import collect_history  # noqa: E402


def best_of(k: int, fn) -> float:
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench(path: str, repeat: int) -> dict:
    info = gitutil.open_repo(path)
    commit = info.commit

    def baseline():
        subprocess.run(gitutil.git_cmd(path, "log", "--numstat", commit), stdout=subprocess.DEVNULL, check=True,
                       env=gitutil.git_env())

    result = {}

    def ours():
        result["h"] = collect_history(path, commit, cache=False)

    t_base = best_of(repeat, baseline)
    t_ours = best_of(repeat, ours)
    tracemalloc.start()
    collect_history(path, commit, cache=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    count = int(gitutil.run(path, "rev-list", "--count", commit))
    h = result["h"]
    return dict(repo=path, commits=len(h.commits), rev_list=count, changes=len(h.changes), baseline=t_base,
                ddkit=t_ours, ratio=t_ours / t_base, peak_mb=peak / 2**20)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("repos", nargs="*")
    ap.add_argument("--synthetic", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    paths = list(a.repos)
    tmp = None
    if a.synthetic:
        from sample_repos.generate import build_synthetic
        tmp = tempfile.TemporaryDirectory(prefix="ddkit-bench-")
        t0 = time.perf_counter()
        paths.insert(0, str(build_synthetic(a.synthetic, Path(tmp.name))))
        print(f"built synthetic repository of {a.synthetic} commits in {time.perf_counter() - t0:.1f} s")
    print(f"{'repository':<48} {'commits':>8} {'changes':>9} {'git log':>9} {'ddkit':>9} {'ratio':>6} {'py peak':>8}  conserved")
    ok = True
    for p in paths:
        r = bench(p, a.repeat)
        conserved = r["commits"] == r["rev_list"]
        ok &= conserved
        print(f"{Path(r['repo']).as_posix()[-48:]:<48} {r['commits']:>8} {r['changes']:>9} {r['baseline']:>8.2f}s "
              f"{r['ddkit']:>8.2f}s {r['ratio']:>5.2f}x {r['peak_mb']:>6.0f}MB  {'yes' if conserved else 'NO'}")
    print(f"target: ratio <= 1.50x (best of {a.repeat} runs each)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
