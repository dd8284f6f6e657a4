"""Truck factors against the published results of Avelino et al. (ICPC 2016).

Usage: python benchmarks/truck_factor_paper.py [MIRROR_ROOT]
For each repository (a local clone or mirror under MIRROR_ROOT named owner+name/repo, as the `fetch`
tool leaves them; the repositories are never committed), scans the last commit before 2015-01-01 (the
paper's clones date from about November 2014 to March 2015) and prints ddkit's truck factor next to
the published one, with the authors removed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# Published truck factors (the tool's gh-pages table): repository -> TF.
PUBLISHED = {
    "janl/mustache.js": 1, "alexreisner/geocoder": 1, "erikhuda/thor": 1, "mitsuhiko/flask": 1,
    "jashkenas/backbone": 2, "haml/haml": 3,
}
# Where a repository has moved since the paper.
MOVED = {"mitsuhiko/flask": "pallets/flask"}
SNAPSHOTS = ("2014-11-15", "2015-01-01", "2015-03-01")


def main() -> int:
    import ddkit
    from ddkit.analyze.bus_factor import authors_by_file, source_files, truck_factor

    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror")
    print(f"{'repository':<24} {'snapshot':<11} {'commit':<11} {'files':>6} {'published':>9} {'ddkit':>6}  removed (in order)")
    same = {d: 0 for d in SNAPSHOTS}
    any_same = total = 0
    for repo, tf in PUBLISHED.items():
        path = root / MOVED.get(repo, repo).replace("/", "+") / "repo"
        if not path.exists():
            print(f"{repo:<24} (not fetched)")
            continue
        total += 1
        hit = False
        for day in SNAPSHOTS:
            commit = subprocess.run(["git", "-C", str(path), "rev-list", "-1", f"--before={day}", "HEAD"],
                                    capture_output=True, text=True).stdout.strip()
            t0 = time.perf_counter()
            s = ddkit.scan(path, ref=commit, licenses=False, secrets=False, as_of=day)
            doa = s.doa
            src = source_files(s.files)
            names = dict(zip(s.people["person_id"], s.people["person"]))
            ours, removed = truck_factor(authors_by_file(doa, src["path"]), names)
            same[day] += ours == tf
            hit |= ours == tf
            print(f"{repo:<24} {day:<11} {commit[:10]:<11} {len(src):>6} {tf:>9} {ours!s:>6}  "
                  f"{', '.join(names.get(p, p) for p in removed)}  ({time.perf_counter() - t0:.1f} s)")
        any_same += hit
    for day in SNAPSHOTS:
        print(f"same truck factor as published at {day}: {same[day]} of {total}")
    print(f"same at one of the snapshot dates at least: {any_same} of {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
