"""Knowledge analysis cost: DOA, truck factors, concentration and trends vs history collection.

Usage: python benchmarks/bench_bus_factor.py [REPO]   (default: the pypa/pip mirror)
Target: the knowledge analysis adds less than 20% to history collection.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    import ddkit
    from ddkit.analyze import bus_factor
    from ddkit.analyze.trends import trends_table
    from ddkit.collect.history import collect_history

    repo = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/pypa+pip/repo"
    s = ddkit.scan(repo, licenses=False, secrets=False)
    t0 = time.perf_counter()
    collect_history(s.repo.path, s.repo.commit)
    t_hist = time.perf_counter() - t0
    t0 = time.perf_counter()
    doa = bus_factor.degree_of_authorship(s.changes, s.commits, s.people, s.files)
    bus = bus_factor.bus_factor_table(doa, s.files, s.people)
    bus_factor.knowledge_findings(s.rules, bus)
    trends_table(s.commits, s.people)
    t_kn = time.perf_counter() - t0
    print(f"repository: {repo} ({len(s.commits)} commits, {len(s.changes)} file changes)")
    print(f"history collection   {t_hist:6.2f} s")
    print(f"knowledge analysis   {t_kn:6.2f} s   = {t_kn / t_hist:.1%} of history (target < 20%)")
    print(f"truck factor {int(bus.iloc[0]['truck_factor'])} over {int(bus.iloc[0]['files'])} source files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
