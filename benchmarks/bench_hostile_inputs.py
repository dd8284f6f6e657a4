"""Time and peak memory of ddkit on each hostile input of the test suite (issue #23: every one under 10 s
and 500 MB).

    python benchmarks/bench_hostile_inputs.py [--only NAME]

Builds each input in a temporary folder (the builders of tests/hostile_inputs.py), runs the command line
on it as a user would (``python -m ddkit ...``, a fresh cache per run) and prints one line per input: the
exit status, the wall time, the peak resident memory of that process (its VmHWM, polled: not counting
the processes it starts, ScanCode's workers or the workbook writer) and the last line of its message.
The last line says whether the slowest and the largest are within the target. Lines named "baseline"
are not hostile: the same work on a well-formed input, for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

import hostile_inputs as H  # noqa: E402
from gitrepo import Repo  # noqa: E402

TARGET_S, TARGET_MB = 10.0, 500.0
SCAN = ["--no-licenses", "--no-secrets", "--as-of", "2024-01-01", "--quiet"]


def cases(tmp: Path):
    """(name, ddkit arguments, env overrides) of every hostile input, built under *tmp*."""
    repo = Repo(tmp / "repo")
    repo.commit({"a.py": "x = 1\n"}, name="Alice", email="alice@example.com")
    r = str(repo.path)

    rules = tmp / "rules"
    rules.mkdir()
    (rules / "findings.yaml").write_text(H.yaml_laughs(key="thresholds"))
    yield "yaml: alias bomb in a --rules overlay", ["scan", r, *SCAN, "--rules", rules], {}
    company = tmp / "company.yaml"
    company.write_text(H.yaml_laughs(key="vendors"))
    yield "yaml: alias bomb in the company profile", ["scan", r, *SCAN, "--company", company], {}
    merge = tmp / "merge.yaml"
    merge.write_text(H.yaml_merge_bomb())
    yield "yaml: merge-key bomb in the company profile", ["scan", r, *SCAN, "--company", merge], {}
    triage = tmp / "triage.yaml"
    triage.write_text(H.yaml_laughs())
    yield "yaml: alias bomb in a triage file", ["scan", r, *SCAN, "--triage", triage], {}
    deep = tmp / "deep.yaml"
    deep.write_text(H.yaml_deep(3000))
    yield "yaml: 3,000-deep nesting (triage file)", ["scan", r, *SCAN, "--triage", deep], {}

    sbom = tmp / "deep.cdx.json"
    sbom.write_text(H.deep_sbom(3000))
    yield "json: 3,000-deep SBOM", ["scan", r, *SCAN, "--sbom", sbom], {}
    doc = H.valid_cyclonedx()
    doc["metadata"] = [1]
    wrong = tmp / "wrong.cdx.json"
    wrong.write_text(json.dumps(doc))
    yield "json: SBOM whose metadata is a list", ["scan", r, *SCAN, "--sbom", wrong], {}

    ok = H.roster_xlsx(tmp / "ok.xlsx", [["Alice", "alice@example.com", "employee"]])
    bomb = H.sheet_bomb(ok, tmp / "roster-bomb.xlsx", megabytes=300)
    yield "xlsx: zip-bomb roster (roster check)", ["roster", "check", bomb], {}
    yield "xlsx: zip-bomb roster (scan --roster)", ["scan", r, *SCAN, "--roster", bomb], {}
    small = H.sheet_bomb(ok, tmp / "roster-ratio.xlsx", megabytes=12)
    yield "xlsx: 12 MB roster sheet deflated 500x", ["roster", "check", small], {}
    wide = H.wide_rows_sheet(ok, tmp / "roster-wide.xlsx", rows=200)
    yield "xlsx: roster rows padded to column XFD", ["roster", "check", wide], {}
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.title = "Findings"
    wb.active.append(["ID", "Status"])
    wb.save(tmp / "w.xlsx")
    tbomb = H.sheet_bomb(tmp / "w.xlsx", tmp / "triage-bomb.xlsx", megabytes=300)
    yield "xlsx: zip-bomb triage workbook", ["triage", "import", tbomb, "--triage", tmp / "t.yaml"], {}

    pretty = Repo(tmp / "pretty")
    pretty.commit({"package.json": json.dumps(json.loads(H.one_line_package_json(20_000)), indent=2)},
                  name="A", email="a@example.com")
    yield "baseline: the same, pretty-printed", ["scan", str(pretty.path), *SCAN, "--json", tmp / "pretty.json"], {}
    big = Repo(tmp / "big")
    big.commit({"package.json": H.one_line_package_json(20_000)}, name="A", email="a@example.com")
    yield "manifest: one-line package.json, 20,000 deps", ["scan", str(big.path), *SCAN, "--json",
                                                            tmp / "big.json"], {}
    pom = Repo(tmp / "pom")
    pom.commit({"pom.xml": H.pom_with_entities(levels=5, fan=100)}, name="A", email="a@example.com")
    yield "manifest: pom.xml entity bomb (10^10)", ["scan", str(pom.path), *SCAN, "--json", tmp / "pom.json"], {}

    pub = Repo(tmp / "pub")
    pub.commit({"pubspec.yaml": H.pubspec_bomb()}, name="A", email="a@example.com")
    yield "manifest: pubspec.yaml alias bomb", ["scan", str(pub.path), *SCAN, "--json", tmp / "pub.json"], {}

    roster = tmp / "many-problems.csv"
    roster.write_text("person,emails,type\n" + "".join(f"P{i},bad-{i},employee\n" for i in range(3000)))
    yield "pipe: roster check | head -1", ["roster", "check", roster], {"_head": "1"}

    mnt = tmp / "full"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True).returncode == 0:
        (mnt / "cache").mkdir()
        with open(mnt / "fill", "wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass
        yield "disk full: workbook output", ["scan", r, *SCAN, "--out", mnt / "r.xlsx"], {}
        yield "disk full: cache", ["scan", r, "--no-licenses", "--as-of", "2024-01-01", "--quiet", "--json",
                                   tmp / "c.json"], {"DDKIT_CACHE_DIR": str(mnt / "cache")}
        yield "baseline: the same, an empty cache", ["scan", r, "--no-licenses", "--as-of", "2024-01-01", "--quiet",
                                                     "--json", tmp / "c2.json"], {}


def measure(args, env_over: dict, tmp: Path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
           "DDKIT_CACHE_DIR": tempfile.mkdtemp(prefix="cache-", dir=tmp)}
    head = env_over.pop("_head", None)
    env.update(env_over)
    cmd = [sys.executable, "-m", "ddkit", *map(str, args)]
    if head:     # the pipe closed after the first line, as `| head -1` does
        import shlex
        cmd = ["bash", "-c", f"{shlex.join(cmd)} | head -{head} >/dev/null; exit ${{PIPESTATUS[0]}}"]
    return H.run_measured(cmd, env=env, timeout=600)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="run the inputs whose name contains this text")
    a = ap.parse_args()
    worst_s = worst_mb = 0.0
    with tempfile.TemporaryDirectory(prefix="ddkit-hostile-") as d:
        tmp = Path(d)
        try:
            print(f"{'input':48} {'exit':>4} {'seconds':>8} {'peak MB':>8}  message")
            for name, args, env in cases(tmp):
                if a.only and a.only not in name:
                    continue
                p, seconds, mb = measure(args, dict(env), tmp)
                msg = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or [""])[-1]
                shown = "n/a" if "_head" in env else f"{mb:.0f}"   # the pipeline's shell is what was measured
                print(f"{name:48} {p.returncode:>4} {seconds:>8.2f} {shown:>8}  {msg[:110]}", flush=True)
                if not name.startswith("baseline"):
                    worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, mb)
        finally:
            subprocess.run(["umount", "-l", str(tmp / "full")], capture_output=True)
    ok = worst_s < TARGET_S and worst_mb < TARGET_MB
    print(f"slowest {worst_s:.2f} s, largest {worst_mb:.0f} MB: {'within' if ok else 'OVER'} the target "
          f"({TARGET_S:.0f} s, {TARGET_MB:.0f} MB)")


if __name__ == "__main__":
    main()
