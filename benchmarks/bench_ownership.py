"""Ownership speed: cold blame of every owned file vs git-fame -w, and a warm re-scan after one commit.

Usage: python benchmarks/bench_ownership.py [REPO]   (default: a pypa/pip mirror if present)
Needs git-fame (pip install git-fame) for the baseline; it is not a ddkit dependency.
Prints: git-fame time, ddkit cold time and ratio (target <= 0.5), warm time after one new commit and its
ratio to cold (target <= 10%), and peak memory (ddkit process and its git children; target < 1 GB).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    src = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/pypa+pip/repo"
    tmp = Path(tempfile.mkdtemp(prefix="ddkit-bench-own-"))
    os.environ["DDKIT_CACHE_DIR"] = str(tmp / "cache")
    work = tmp / "repo"
    subprocess.run(["git", "clone", "-q", src, str(work)], check=True)
    import ddkit

    fame = shutil.which("git-fame") or str(Path(sys.executable).parent / "git-fame")
    t0 = time.perf_counter()
    p = subprocess.run([fame, "-w", "--format", "json"], cwd=work, capture_output=True)
    t_fame = time.perf_counter() - t0
    if p.returncode != 0:
        print("git-fame failed:", p.stderr.decode()[:300])
        t_fame = float("nan")

    def ownership_time() -> tuple[float, dict, int]:
        s = ddkit.scan(work, licenses=False, secrets=False, as_of="2026-01-01")
        return s.timings["blame"] + s.timings["ownership"], s.stats.blame, int(s.people["surviving_lines"].sum())

    cold, st_cold, lines = ownership_time()
    # One new commit that changes one file.
    victim = next(p for p in sorted((work / "src").rglob("*.py")) if p.stat().st_size > 2000)
    with open(victim, "a") as fh:
        fh.write("\n# benchmark change\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", "-C", str(work), "commit", "-qam", "benchmark change"], check=True, env=env)
    warm, st_warm, _ = ownership_time()
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"repository: {src}")
    print(f"git-fame -w               {t_fame:8.2f} s")
    print(f"ddkit ownership, cold     {cold:8.2f} s   ratio to git-fame {cold / t_fame:5.2f}  (target <= 0.50)"
          f"   files blamed {st_cold['blamed']}, surviving lines {lines}")
    print(f"ddkit ownership, warm     {warm:8.2f} s   ratio to cold     {warm / cold:5.2f}  (target <= 0.10)"
          f"   files blamed {st_warm['blamed']}, from cache {st_warm['cached']}")
    print(f"peak memory: ddkit process {me:.0f} MB, largest child process {kids:.0f} MB  (target < 1024 MB)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
