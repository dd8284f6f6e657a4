"""How the workbook prints: pages per sheet for psf/requests (and the sample), rendered by LibreOffice.

    python benchmarks/bench_workbook.py [REQUESTS_REPO] [--out DIR]

Scans REQUESTS_REPO (default /tmp/requests_wt; psf/requests is fetched, never committed) with the
fictional roster and company profile in benchmarks/requests/, as of 2026-11-25, writes the workbook,
renders it to PDF and prints the page count per sheet, the total and any layout problem (a sheet not one
page wide, text cut). Needs LibreOffice and poppler-utils (scripts/system-deps.sh).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from ddkit.report import xlsx_render  # noqa: E402


def bench(repo: Path, out: Path, roster: Path | None, company: Path | None, as_of: str, name: str) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    xlsx = out / f"{name}.xlsx"
    args = [sys.executable, "-m", "ddkit", "scan", str(repo), "--as-of", as_of, "--out", str(xlsx), "--quiet"]
    if roster:
        args += ["--roster", str(roster)]
    if company:
        args += ["--company", str(company)]
    t = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(p.stderr)
    scan_s = time.perf_counter() - t
    t = time.perf_counter()
    r = xlsx_render.measure(xlsx, out / "pdf")
    render_s = time.perf_counter() - t
    print(f"{name}: {len(r.pages)} pages (scan {scan_s:.0f} s, render and checks {render_s:.0f} s)")
    for sheet, n in r.pages_per_sheet.items():
        print(f"  {sheet:<22} {n:>4}")
    for prob in r.problems:
        print(f"  PROBLEM: {prob}")
    return {"pages": len(r.pages), "per_sheet": r.pages_per_sheet, "problems": r.problems, "pdf": str(r.pdf)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo", nargs="?", default="/tmp/requests_wt")
    ap.add_argument("--out", default="/tmp/ddkit-bench-workbook")
    ap.add_argument("--sample", action="store_true", help="also measure the acme sample")
    a = ap.parse_args()
    if not xlsx_render.available():
        print("LibreOffice or poppler-utils missing: run scripts/system-deps.sh")
        return 2
    out = Path(a.out)
    if a.sample:
        from sample_repos.generate import HERE, build
        repo = build("acme", out)
        bench(repo, out, HERE / "acme" / "roster.csv", HERE / "acme" / "company.yaml", "2024-06-30", "acme")
    req = ROOT / "benchmarks" / "requests"
    bench(Path(a.repo), out, req / "roster.csv", req / "company.yaml", "2026-11-25", "requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
