"""The command line's process tricks, measured (#26 item 5): does one of them alone buy 0.5 s or 10%?

Usage: python benchmarks/bench_tricks.py --baseline SRC [--tree SRC] [--rounds N] [--per-trick]
       [--variant LABEL=SRC ...] [--repo PATH[@REF] ...]

Runs `ddkit scan REPO --no-licenses --out X.xlsx --json X.json` (one CLI process each, wall clock) from
several source trees, alternating them in every round (their order rotates from round to round) so that
each sees the same machine load, and prints medians and ratios to the baseline for:

- cold: a cache empty except the compiled rule databases (a new repository on a machine where ddkit has
  run before; kingfisher compiling its rules once per installation is left out, as bench_end_to_end.py does);
- again: the same command, nothing changed;
- commit: after one new commit changing one file.

The trees: ``--baseline SRC`` (e.g. /work/main/src, the code with the tricks) and ``--tree SRC`` (default:
this checkout's src). ``--per-trick`` adds, for each trick the baseline's cli.py has, a copy of the
baseline without that one trick (made by a textual patch; a trick the baseline does not have is skipped
with a note), so that each trick's own worth is measured against the same baseline in the same session:

- no-fork: no workbook writer forked before the scan (the workbook written in turn);
- no-gc: the cyclic garbage collector left as Python sets it (no gc.set_threshold, gc.disable, gc.freeze);
- no-exit: the interpreter's own exit instead of threading._shutdown + atexit._run_exitfuncs + os._exit.

Repositories: ``--repo PATH[@REF]`` (repeatable; default pypa/pip's mirror at 6d30920 and psf/requests'
at HEAD). Each is cloned into a temporary folder first (the new commits are made there, never in PATH).
The load average is printed before and after each repository: the figures are only as quiet as the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
ENGINE_CACHES = ("kingfisher", "hyperscan", "packagedcode")     # compiled rule databases only (see above)
DEFAULT_REPOS = ("/work/.mirror/pypa+pip/repo@6d30920", "/work/.mirror/psf+requests/repo@HEAD")
SCENARIOS = ["cold", "again", "commit"]    # --scenarios may leave some out

# Each trick of the baseline's cli.py and the text that removes it: (old, new) replacements, all of which
# must apply for the variant to be made.
TRICKS: dict[str, list[tuple[str, str]]] = {
    "no-fork": [("def _fork_allowed() -> bool:\n", "def _fork_allowed() -> bool:\n    return False\n")],
    "no-gc": [("    gc.set_threshold(10000, 20, 20)", "    pass"),
              ("        gc.disable()\n", "        pass\n"),
              ("        gc.freeze()\n", "        pass\n")],
    "no-exit": [("    shutdown = getattr(threading, \"_shutdown\", None)\n"
                 "    if shutdown is not None:\n"
                 "        shutdown()", "    if True:\n        pass"),
                ("    atexit._run_exitfuncs()\n", ""),
                ("\n    os._exit(code)\n", "\n    sys.exit(code)\n")],
}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout.strip()


def new_commit(repo: str, n: int) -> None:
    """One new commit that changes one file (a line appended to the README)."""
    target = next((Path(repo) / n_ for n_ in ("README.rst", "README.md", "README") if (Path(repo) / n_).exists()),
                  Path(repo) / "README.md")
    with open(target, "a") as fh:
        fh.write(f"\nbenchmark change {n}\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", "-C", repo, "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", repo, "commit", "-qm", f"bench {n}"], check=True, env=env)


def make_variant(src: Path, label: str, work: Path, patch: Sequence[tuple[str, str]] = ()) -> Path | None:
    """A copy of the source tree *src*, without one trick when *patch* removes it; None (with a note) when
    the tree has not got the trick."""
    dst = work / "variants" / label / "src"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for data in ("rules", "sample_repos", "schemas"):     # the checkout's data folders (config.data_dir)
        if (src.parent / data).is_dir():
            (dst.parent / data).symlink_to(src.parent / data)
    cli = dst / "ddkit" / "cli.py"
    text = cli.read_text()
    for old, new in patch:
        if text.count(old) != 1:
            print(f"note: {label}: the baseline's cli.py has not got {old.strip()!r}: variant skipped")
            return None
        text = text.replace(old, new)
    cli.write_text(text)
    return dst


class Variant:
    def __init__(self, label: str, src: Path, work: Path):
        self.label, self.src = label, src
        self.cache = work / "cache" / label
        self.out = work / "out" / label
        self.out.mkdir(parents=True)
        self.times: dict[str, list[float]] = {s: [] for s in SCENARIOS}
        self.cpu: dict[str, list[float]] = {s: [] for s in SCENARIOS}
        self.rss: dict[str, list[float]] = {s: [] for s in SCENARIOS}

    def run(self, repo: str) -> tuple[float, float, float]:
        """One scan: wall seconds, CPU seconds (user + system, of the process and the children it waited for:
        git, workers) and the peak resident memory (MB) of the process or of one such child."""
        env = {**os.environ, "PYTHONPATH": str(self.src), "DDKIT_CACHE_DIR": str(self.cache)}
        cmd = [PY, "-m", "ddkit", "scan", repo, "--no-licenses", "--out", str(self.out / "r.xlsx"),
               "--json", str(self.out / "r.json")]
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert p.stderr is not None
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode not in (0, 1):
            raise SystemExit(f"{self.label}: {' '.join(cmd)} failed ({p.returncode}): {err[-800:].decode(errors='replace')}")
        return dt, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024

    def empty_cache(self) -> None:
        """Everything about any repository removed; the compiled rule databases kept."""
        if self.cache.is_dir():
            for entry in self.cache.iterdir():
                # The key file too: the compiled databases are sealed with it (#26's one cache store), and
                # without it they are recompiled, which is not what a new repository costs.
                if entry.name not in (*ENGINE_CACHES, ".ddkit-key"):
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def bench_repo(spec: str, variants_src: list[tuple[str, Path]], rounds: int, work: Path) -> None:
    path, _, ref = spec.rpartition("@") if "@" in spec else (spec, "", "HEAD")
    name = Path(path.rstrip("/")).name if Path(path).name not in ("repo", ".git") else Path(path).parent.name
    wdir = work / name
    repo = str(wdir / "repo")
    subprocess.run(["git", "clone", "-q", path, repo], check=True)
    git(repo, "checkout", "-q", ref)
    git(repo, "checkout", "-q", "-b", "bench-tricks")
    variants = [Variant(label, src, wdir) for label, src in variants_src]
    print(f"\n== {name} @ {ref} ({git(repo, 'rev-parse', '--short', 'HEAD')}), {rounds} round(s); "
          f"load average before: {load()}", flush=True)
    for v in variants:        # warm-up (not timed): the compiled rule databases, the OS's file cache
        v.run(repo)
    n = 0
    for r in range(rounds):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for scenario in SCENARIOS:
            if scenario == "commit":
                n += 1
                new_commit(repo, n)
            for v in order:
                if scenario == "cold":
                    v.empty_cache()
                dt, cpu, rss = v.run(repo)
                v.times[scenario].append(dt)
                v.cpu[scenario].append(cpu)
                v.rss[scenario].append(rss)
        print(f"round {r + 1} (load {load()}): " + "; ".join(
            f"{v.label} " + "/".join(f"{v.times[s][-1]:.2f} ({v.cpu[s][-1]:.2f} CPU)" for s in SCENARIOS)
            for v in variants), flush=True)
    base = variants[0]
    for title, attr in (("wall", "times"), ("CPU (user + system, with children)", "cpu")):
        print(f"\n{name}, {title}: medians of {rounds} round(s), seconds (min-max); ratio = median / "
              f"{base.label}'s median; load average after: {load()}")
        print(f"{'':12}" + "".join(f"{s:>34}" for s in SCENARIOS))
        for v in variants:
            cells = []
            for s in SCENARIOS:
                xs, bs = getattr(v, attr)[s], getattr(base, attr)[s]
                m, bm = statistics.median(xs), statistics.median(bs)
                cells.append(f"{m:6.2f} ({min(xs):.2f}-{max(xs):.2f}) {m / bm:5.2f}x {m - bm:+6.2f}s")
            print(f"{v.label:12}" + "".join(f"{c:>34}" for c in cells))
    print("peak RSS, MB (median)  " + "; ".join(
        f"{v.label} " + "/".join(f"{statistics.median(v.rss[s]):.0f}" for s in SCENARIOS) for v in variants))
    if SCENARIOS != ["cold", "again", "commit"]:
        return
    cold = statistics.median(base.times["cold"])
    for v in variants:
        own, again, inc = (statistics.median(v.times[s]) for s in SCENARIOS)
        print(f"  {v.label}: again {100 * again / own:.1f}% of its cold, after one commit {100 * inc / own:.1f}% "
              f"({100 * inc / cold:.1f}% of {base.label}'s cold)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", required=True, type=Path, help="source tree with the tricks (a src folder)")
    ap.add_argument("--tree", type=Path, default=ROOT / "src", help="source tree to compare (default: this checkout's src)")
    ap.add_argument("--no-tree", action="store_true", help="leave --tree out (only the baseline and its variants)")
    ap.add_argument("--per-trick", action="store_true", help="also the baseline without each trick, one at a time")
    ap.add_argument("--variant", action="append", default=[], metavar="LABEL=SRC", help="another source tree")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repo", action="append", default=[], metavar="PATH[@REF]")
    ap.add_argument("--scenarios", default="cold,again,commit",
                    help="which of cold, again, commit to run (comma-separated; e.g. again,commit for many cheap rounds)")
    a = ap.parse_args()
    SCENARIOS[:] = [x for x in ("cold", "again", "commit") if x in a.scenarios.split(",")]
    work = Path(tempfile.mkdtemp(prefix="ddkit-tricks-"))
    given: list[tuple[str, Path]] = [("baseline", a.baseline.resolve())]
    if not a.no_tree:
        given.append(("tree", a.tree.resolve()))
    given += [(label, Path(src).resolve()) for label, _, src in (v.partition("=") for v in a.variant)]
    trees: list[tuple[str, Path]] = []
    for label, src in given:
        print(f"{label:12} {src}")
        # A snapshot of each tree (its bytecode compiled there, never in the tree given).
        copy = make_variant(src, label, work)
        assert copy is not None
        trees.append((label, copy))
    if a.per_trick:
        for label in TRICKS:
            dst = make_variant(a.baseline.resolve(), label, work, TRICKS[label])
            if dst is not None:
                print(f"{label:12} the baseline without it")
                trees.append((label, dst))
    for _, src in trees:
        # Bytecode compiled first, as installing a package does (else each run compiles every module).
        subprocess.run([PY, "-m", "compileall", "-q", str(src)], check=True)
    try:
        for spec in a.repo or DEFAULT_REPOS:
            bench_repo(spec, trees, a.rounds, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
