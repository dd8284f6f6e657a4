"""How the workbook prints, and how long two versions of ddkit take to write it.

    python benchmarks/bench_workbook.py [REQUESTS_REPO] [--out DIR]
    python benchmarks/bench_workbook.py --compare OLD_SRC NEW_SRC [--repo NAME=PATH ...] [--rounds N]

The first form scans REQUESTS_REPO (default /tmp/requests_wt; psf/requests is fetched, never committed)
with the fictional roster and company profile in benchmarks/requests/, as of 2026-11-25, writes the
workbook, renders it to PDF and prints the page count per sheet, the total and any layout problem (a sheet
not one page wide, text cut). Needs LibreOffice and poppler-utils (scripts/system-deps.sh).

``--compare`` times two source trees (each a ``src`` folder, put first on PYTHONPATH: e.g. main's and a
branch's) alternately, round after round, so that a machine's changing load falls on both alike. Per
repository (pip at 6d30920 without licenses; requests with its roster, profile and licenses; as of
2026-11-25): the workbook write alone (a fresh process loads one pickled scan, imports the writer, writes the
workbook once: what the command does at its end), and the whole command line after one new commit (a copy
of a cache warmed at the parent commit, then ``ddkit scan`` of the commit; each tree warms its own). It
prints each round and the medians, wall and CPU seconds (CPU: the process and every process it waited
for; what a loaded machine changes least), with the load average before and after.
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


_WRITE = """
import json, pickle, sys, time
t0 = time.perf_counter()
with open(sys.argv[1], "rb") as fh:
    s = pickle.load(fh)
t1 = time.perf_counter()
from ddkit.report import xlsx
t2 = time.perf_counter()
c2 = time.process_time()
xlsx.write_workbook(s, sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"load": t1 - t0, "import": t2 - t1, "write": t3 - t2, "write_cpu": time.process_time() - c2}))
"""


def _args(name: str) -> list[str]:
    """The scan's options for a repository, as scripts/golden_outputs.py gives them."""
    req = ROOT / "benchmarks" / "requests"
    if name == "requests":
        return ["--roster", str(req / "roster.csv"), "--company", str(req / "company.yaml"), "--as-of", "2026-11-25"]
    return ["--no-licenses", "--as-of", "2026-11-25"]


def _run(src: str, args: list[str], cache: str | None = None) -> tuple[float, float, str]:
    """Wall and CPU seconds (the process and every process it waited for: git, a forked writer) and stdout."""
    import os
    import resource
    env = dict(os.environ, PYTHONPATH=src)
    if cache:
        env["DDKIT_CACHE_DIR"] = cache
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{args}: exit {p.returncode}\n{p.stderr[-2000:]}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, p.stdout


def compare(old: str, new: str, repos: dict[str, str], rounds: int, out: Path, cli: bool) -> None:
    import json
    import os
    import shutil
    import statistics
    out.mkdir(parents=True, exist_ok=True)
    trees = {"old": old, "new": new}
    print(f"load average before: {os.getloadavg()}", flush=True)
    times: dict[tuple, list[float]] = {}
    for name, repo in repos.items():
        args = _args(name)
        pickled = out / f"{name}.scan.pickle"
        warm = {}
        # The scan, pickled once (by the new tree: the Scan's class is model.py's, the same in both), and for
        # the command line a cache per tree warmed at the parent commit.
        code = ("import pickle, sys, ddkit; s = ddkit.scan(sys.argv[1], **eval(sys.argv[2]));"
                "pickle.dump(s, open(sys.argv[3], 'wb'))")
        kw = {"as_of": "2026-11-25"}
        if name == "requests":
            req = ROOT / "benchmarks" / "requests"
            kw.update(roster=str(req / "roster.csv"), company=str(req / "company.yaml"))
        else:
            kw["licenses"] = False
        _run(new, ["-c", code, repo, repr(kw), str(pickled)], str(out / "cache-pickle"))
        if cli:
            for which, src in trees.items():
                warm[which] = str(out / f"warm-{name}-{which}")
                shutil.rmtree(warm[which], ignore_errors=True)
                _run(src, ["-m", "ddkit", "scan", repo, "--ref", "HEAD~1", *args, "--quiet",
                           "--out", str(out / "warm.xlsx")], warm[which])
        for k in range(rounds):
            order = ("old", "new") if k % 2 == 0 else ("new", "old")
            line = []
            for which in order:
                _, _, got = _run(trees[which], ["-c", _WRITE, str(pickled), str(out / f"{name}-{which}.xlsx")])
                w = json.loads(got)
                times.setdefault((name, "write", which), []).append(w["write"])
                times.setdefault((name, "writecpu", which), []).append(w["write_cpu"])
                times.setdefault((name, "import", which), []).append(w["import"])
                line.append(f"{which} write {w['write']:.3f} s (CPU {w['write_cpu']:.3f}, import {w['import']:.3f})")
                if cli:
                    cache = str(out / "cache-round")
                    shutil.rmtree(cache, ignore_errors=True)
                    shutil.copytree(warm[which], cache, symlinks=True)
                    secs, cpu, _ = _run(trees[which], ["-m", "ddkit", "scan", repo, *args, "--quiet",
                                                       "--out", str(out / f"{name}-{which}-cli.xlsx")], cache)
                    times.setdefault((name, "cli", which), []).append(secs)
                    times.setdefault((name, "clicpu", which), []).append(cpu)
                    line.append(f"{which} command {secs:.2f} s (CPU {cpu:.2f})")
            print(f"{name} round {k + 1}: " + "; ".join(line), flush=True)
    print(f"load average after: {os.getloadavg()}")
    for (name, what, which), xs in sorted(times.items()):
        print(f"{name:<9} {what:<7} {which}: median {statistics.median(xs):.3f} s over {len(xs)} "
              f"(min {min(xs):.3f}, max {max(xs):.3f})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo", nargs="?", default="/tmp/requests_wt")
    ap.add_argument("--out", default="/tmp/ddkit-bench-workbook")
    ap.add_argument("--sample", action="store_true", help="also measure the acme sample")
    ap.add_argument("--compare", nargs=2, metavar=("OLD_SRC", "NEW_SRC"), help="time two source trees alternately")
    ap.add_argument("--repo", dest="repos", action="append", default=[], metavar="NAME=PATH",
                    help="with --compare: a repository (pip or requests), repeatable")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-cli", action="store_true", help="with --compare: the workbook write alone")
    a = ap.parse_args()
    if a.compare:
        repos = dict(x.split("=", 1) for x in a.repos) or {"pip": "/tmp/pip", "requests": "/tmp/requests"}
        compare(*a.compare, repos, a.rounds, Path(a.out), not a.no_cli)
        return 0
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
