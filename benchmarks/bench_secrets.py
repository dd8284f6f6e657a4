"""Secrets over the whole history vs the ownership stage, in one run.

Usage: python benchmarks/bench_secrets.py [REPO]   (default: the pypa/pip mirror)
Prints the secrets stage (1 and 2 workers) next to the cold ownership stage (blame + ownership), and
how many added lines the screen let through to detect-secrets.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    repo = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/pypa+pip/repo"
    os.environ["DDKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ddkit-bench-sec-")
    import ddkit
    from ddkit.collect.secrets import scan_history
    s = ddkit.scan(repo, licenses=False, secrets=False)
    own = s.timings["blame"] + s.timings["ownership"]
    print(f"repository: {repo} ({len(s.commits)} commits)")
    print(f"ownership stage, cold        {own:6.1f} s")
    for jobs in (1, 2):
        t0 = time.perf_counter()
        df, st = scan_history(s.repo.path, s.repo.commit, jobs=jobs)
        t = time.perf_counter() - t0
        print(f"secrets in history, {jobs} worker{'s' if jobs > 1 else ' '} {t:6.1f} s   = {t / own:.2f}x the ownership "
              f"stage; {st['lines']} added lines, {st['checked']} passed the screen, {len(df)} secrets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
