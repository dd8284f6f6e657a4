"""How many findings a user meets on real repositories, per rule (issue 12's targets), from the command line.

Usage: python benchmarks/bench_findings.py [--only requests,pip,git] [--no-licenses] [--out DIR]

Scans, as a user would (`ddkit scan … --json`), with the caches as they are:
- psf/requests with the fictional roster and company profile in benchmarks/requests/ (target <= 60);
- pypa/pip @6d30920 without a roster (target <= 40);
- git/git at its mirror's HEAD without a roster (target <= 60).
The repositories come from the `fetch` mirrors under /work/.mirror (never committed). Prints, per
repository, the wall time, the total, the count per (rule, severity) and each roll-up with its subjects
and lines at stake. Every finding listed counts, info included (triaged findings would not).
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIRRORS = Path("/work/.mirror")
AS_OF = "2026-11-25"


def work_tree(tmp: Path, mirror: Path, ref: str) -> Path:
    dest = tmp / mirror.parent.name
    subprocess.run(["git", "clone", "-q", str(mirror), str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "-q", ref], check=True)
    return dest


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="requests,pip,git")
    ap.add_argument("--no-licenses", action="store_true")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ddkit-findings-"))
    out = a.out or tmp
    out.mkdir(parents=True, exist_ok=True)
    req = ROOT / "benchmarks" / "requests"
    specs = {
        "requests": (lambda: work_tree(tmp, MIRRORS / "psf+requests" / "repo", "HEAD"),
                     ["--roster", str(req / "roster.csv"), "--company", str(req / "company.yaml")], 60),
        "pip": (lambda: work_tree(tmp, MIRRORS / "pypa+pip" / "repo", "6d30920"), [], 40),
        "git": (lambda: MIRRORS / "git+git" / "repo", [], 60),
    }
    for name in a.only.split(","):
        make, extra, target = specs[name]
        repo = make()
        js = out / f"{name}.json"
        cmd = [sys.executable, "-m", "ddkit", "scan", str(repo), *extra, "--as-of", AS_OF, "--json", str(js),
               "--out", str(out / f"{name}.xlsx"), "--quiet"] + (["--no-licenses"] if a.no_licenses else [])
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if p.returncode not in (0, 1):
            print(f"{name}: scan failed ({p.returncode}): {p.stderr[-500:]}")
            continue
        d = json.loads(js.read_text())
        f = d["findings"]
        counts = collections.Counter((x["rule"], x["severity"]) for x in f)
        print(f"\n{name}: {len(f)} findings (target <= {target}: {'met' if len(f) <= target else 'MISSED'}), "
              f"{dt:.0f} s, licenses {'off' if a.no_licenses else 'on'}, outbound "
              f"{d['summary'].get('outbound_license')} ({d['summary'].get('outbound_license_source')})")
        for (rule, sev), n in sorted(counts.items()):
            print(f"  {rule:34} {sev:8} {n}")
        for x in f:
            if x.get("rolled_up"):
                print(f"  roll-up {x['rule']}: {x['subject']} ({x.get('lines_at_stake') or 0:,} lines)")
    print(f"\nreports in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
