"""Secrets over the whole history vs the ownership stage, in one run.

Usage: python benchmarks/bench_secrets.py [REPO [REF]] [--baseline SRC]   (default: the pypa/pip mirror @ 6d30920)
--baseline SRC also times another ddkit's secrets stage (e.g. /work/main/src) in the same run.
Prints the secrets stage (1 and 2 workers) next to the cold ownership stage (blame + ownership) of
the same run, how many added lines the Hyperscan screen let through to ddkit's own detectors (kingfisher
scans every added line), and the findings by context decision.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


_BASELINE = """
import sys, time
from ddkit.collect.secrets import scan_history
t0 = time.perf_counter()
df, st = scan_history(sys.argv[1], sys.argv[2], jobs=2)
print(f"{time.perf_counter() - t0:.2f} {len(df)}")
"""


def main() -> int:
    args = sys.argv[1:]
    baseline = None
    if "--baseline" in args:
        i = args.index("--baseline")
        baseline = args[i + 1]
        del args[i:i + 2]
    repo = args[0] if args else "/work/.mirror/pypa+pip/repo"
    ref = args[1] if len(args) > 1 else ("6d30920" if "pypa+pip" in repo else "HEAD")
    os.environ["DDKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ddkit-bench-sec-")
    import ddkit
    from ddkit.collect.secrets import scan_history
    s = ddkit.scan(repo, ref=ref, licenses=False, secrets=False)
    own = s.timings["blame"] + s.timings["ownership"]
    print(f"repository: {repo} @ {ref} ({len(s.commits)} commits)")
    print(f"ownership stage, cold        {own:6.1f} s")
    from ddkit.collect.secrets import kingfisher_engine
    t0 = time.perf_counter()
    kingfisher_engine.scan(b"warm up")
    print(f"kingfisher rules, cold cache {time.perf_counter() - t0:6.1f} s (compiled once, then cached)")
    for jobs in (1, 2):
        t0 = time.perf_counter()
        df, st = scan_history(s.repo.path, s.repo.commit, jobs=jobs)
        t = time.perf_counter() - t0
        print(f"secrets in history, {jobs} worker{'s' if jobs > 1 else ' '} {t:6.1f} s   = {t / own:.2f}x the ownership "
              f"stage; {st['lines']} added lines, {st['checked']} passed the screen; occurrences by decision "
              f"{df.groupby('action').size().to_dict()}")
    if baseline:
        out = subprocess.run([sys.executable, "-c", _BASELINE, s.repo.path, s.repo.commit], capture_output=True,
                             text=True, env={**os.environ, "PYTHONPATH": baseline}, check=True).stdout.split()
        print(f"baseline {baseline}, 2 workers {float(out[0]):6.1f} s   = {float(out[0]) / own:.2f}x the ownership "
              f"stage; {out[1]} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
