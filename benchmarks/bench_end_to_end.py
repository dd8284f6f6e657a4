"""The whole scan, end to end from the command line, against git-fame, cold and incremental.

Usage: python benchmarks/bench_end_to_end.py [REPO [REF]] [--rounds N] [--no-licensed] [--overlap N]
(default: a /tmp clone of the pypa/pip mirror at 6d30920; needs `pip install git-fame`).

Each figure is the wall clock of one CLI process (`ddkit scan --no-licenses --out X.xlsx --json X.json`),
fresh cache for "cold". Rounds alternate ddkit and git-fame, so both see the same machine load:

1. cold ddkit vs `git-fame -w` (target <= 0.6x): with an empty cache (the first scan ever on the machine:
   kingfisher compiles its provider rules, about 2.6 s of CPU), and with an empty cache except the
   compiled rule databases (kingfisher, the Hyperscan screen, ScanCode's manifest patterns: functions
   of the installed versions only, holding nothing of any repository), i.e. a new repository on a
   machine where ddkit has run before;
2. the same command again, nothing changed (target <= 5% of cold);
3. after one new commit that changes one file (target <= 10% of cold);
4. with licenses: cold, then after one new commit (target <= 10% of the cold licensed scan).

--overlap N instead alternates N cold scans one thing at a time (DDKIT_OVERLAP=0: history and secrets
each read their own `git log -p`, blame after history, the secrets history after the other stages) with
the default (one read for both, blame beside it, the secrets history beside everything).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


# Cache folders that hold compiled rule databases only (keyed by the installed versions): kept for the
# "new repository" cold figure. Everything else in the cache is about some repository and is not kept.
ENGINE_CACHES = ("kingfisher", "hyperscan", "packagedcode")


def timed(cmd: list[str], env: dict | None = None, cwd: str | None = None) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-800:]}")
    return dt


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout.strip()


def new_commit(repo: str, n: int) -> None:
    """One new commit that changes one file (appends a line to the README-like first text file)."""
    target = Path(repo) / "README.rst" if (Path(repo) / "README.rst").exists() else Path(repo) / "README.md"
    with open(target, "a") as fh:
        fh.write(f"\nbenchmark change {n}\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", "-C", repo, "commit", "-qam", f"bench {n}"], check=True, env=env)


def main() -> int:
    args = sys.argv[1:]
    rounds = 1
    licensed = True
    if "--rounds" in args:
        i = args.index("--rounds")
        rounds = int(args[i + 1])
        del args[i:i + 2]
    overlap = 0
    if "--overlap" in args:
        i = args.index("--overlap")
        overlap = int(args[i + 1])
        del args[i:i + 2]
    if "--no-licensed" in args:
        args.remove("--no-licensed")
        licensed = False
    work = Path(tempfile.mkdtemp(prefix="ddkit-e2e-"))
    if args:
        src, ref = args[0], (args[1] if len(args) > 1 else "HEAD")
    else:
        src, ref = "/work/.mirror/pypa+pip/repo", "6d30920"
    repo = str(work / "repo")
    subprocess.run(["git", "clone", "-q", "--no-local", src, repo], check=True)
    git(repo, "checkout", "-q", ref)
    git(repo, "checkout", "-q", "-b", "bench")
    # Bytecode compiled first, as installing a package does: a shell with PYTHONDONTWRITEBYTECODE=1 running
    # the source tree would otherwise compile every ddkit module at every run (about 0.07 s).
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    fame = shutil.which("git-fame") or str(Path(PY).parent / "git-fame")
    env0 = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = work / "out"
    out.mkdir()

    def ddkit(cache: Path, *extra: str) -> float:
        return timed([PY, "-m", "ddkit", "scan", repo, "--quiet", "--as-of", "2026-01-01", "--out",
                      str(out / "r.xlsx"), "--json", str(out / "r.json"), *extra],
                     env={**env0, "DDKIT_CACHE_DIR": str(cache)})

    if overlap:
        seq, par = [], []
        for r in range(overlap):
            seq.append(timed([PY, "-m", "ddkit", "scan", repo, "--quiet", "--no-licenses", "--as-of", "2026-01-01",
                              "--json", str(out / "s.json")],
                             env={**env0, "DDKIT_CACHE_DIR": str(work / f"ov-s{r}"), "DDKIT_OVERLAP": "0"}))
            par.append(timed([PY, "-m", "ddkit", "scan", repo, "--quiet", "--no-licenses", "--as-of", "2026-01-01",
                              "--json", str(out / "p.json")],
                             env={**env0, "DDKIT_CACHE_DIR": str(work / f"ov-p{r}"), "DDKIT_OVERLAP": "1"}))
            print(f"cold, one thing at a time {seq[-1]:.1f} s, overlapped {par[-1]:.1f} s", flush=True)
        print(f"overlap: median {statistics.median(par):.1f} s vs {statistics.median(seq):.1f} s sequential "
              f"({statistics.median(par) / statistics.median(seq):.2f}x)")
        return 0
    colds, news, fames, warms, incs = [], [], [], [], []
    n = 0
    for r in range(rounds):
        cache = work / f"cache-{r}"
        colds.append(ddkit(cache, "--no-licenses"))
        fames.append(timed([fame, "-w", "--format=json"], cwd=repo))
        fresh = work / f"cache-new-{r}"
        fresh.mkdir(mode=0o700)
        for engine in ENGINE_CACHES:
            if (cache / engine).is_dir():
                shutil.copytree(cache / engine, fresh / engine)
        shutil.copy(cache / ".ddkit-key", fresh / ".ddkit-key")   # (the entries are sealed with that cache's key)
        news.append(ddkit(fresh, "--no-licenses"))
        warms.append(ddkit(cache, "--no-licenses"))
        n += 1
        new_commit(repo, n)
        incs.append(ddkit(cache, "--no-licenses"))
        print(f"round {r + 1}: cold {colds[-1]:.1f} s, new repository {news[-1]:.1f} s, git-fame -w {fames[-1]:.1f} s, "
              f"again {warms[-1]:.2f} s, after one commit {incs[-1]:.2f} s", flush=True)
    cold, new, fm, warm, inc = (statistics.median(x) for x in (colds, news, fames, warms, incs))
    print(f"\nrepository {src} @ {ref}, medians of {rounds} round(s)")
    print(f"cold ddkit scan --no-licenses      {cold:7.1f} s   = {cold / fm:.2f}x git-fame -w ({fm:.1f} s)   target <= 0.6x")
    print(f"  the same, compiled rules kept    {new:7.1f} s   = {new / fm:.2f}x git-fame -w")
    print(f"again, nothing changed             {warm:7.2f} s   = {100 * warm / cold:.1f}% of cold   target <= 5%")
    print(f"after one new commit (one file)    {inc:7.2f} s   = {100 * inc / cold:.1f}% of cold   target <= 10%")
    if licensed:
        cache = work / "cache-lic"
        lic_cold = ddkit(cache)
        n += 1
        new_commit(repo, n)
        lic_inc = ddkit(cache)
        print(f"with licenses: cold                {lic_cold:7.1f} s")
        print(f"with licenses: after one commit    {lic_inc:7.2f} s   = {100 * lic_inc / lic_cold:.1f}% of cold   "
              f"target <= 10%")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
