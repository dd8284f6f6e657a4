"""Outputs identical before and after a refactor: write every report for a set of scans, then compare two runs.

Usage:
    python scripts/golden_outputs.py write OUTDIR [--only NAME ...] [--no-real]
    python scripts/golden_outputs.py compare OLD_DIR NEW_DIR

``write`` scans the four bundled samples (with roster, profile and their pinned ``--as-of``), and, when their
work trees exist, pypa/pip at 6d30920 (``/tmp/pip``, no roster, ``--no-licenses``) and psf/requests
(``/tmp/requests``, with ``benchmarks/requests``'s roster and profile and licenses), writing the workbook,
JSON, SARIF, both SBOMs and the notices for each into OUTDIR/NAME/. Each scan uses a fresh cache, so a
cached result from before the change cannot hide a difference.

``compare`` says, per scan and per file, whether the two runs are equal: JSON as parsed data (after removing
the fields that record when and how long: ``generated_at``-style timestamps, durations, ddkit's version),
workbooks sheet by sheet and cell by cell (value and number format; sheet order; merged ranges), the other
files as text with the same volatile fields masked. Exit 1 when anything differs, listing the first
differences. Why a script and not a test: pip and requests are fetched repositories, not part of the suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ("acme", "globex", "initech", "hooli")
REAL = {
    "pip": ("/tmp/pip", ["--no-licenses", "--as-of", "2026-11-25"]),
    "requests": ("/tmp/requests", ["--roster", str(ROOT / "benchmarks/requests/roster.csv"),
                                   "--company", str(ROOT / "benchmarks/requests/company.yaml"),
                                   "--as-of", "2026-11-25"]),
}
OUTS = {"--out": "report.xlsx", "--json": "report.json", "--sarif": "report.sarif",
        "--sbom-out": "sbom.cdx.json", "--spdx-out": "sbom.spdx.json", "--notices-out": "NOTICES.md"}

# Keys whose values record when or how long, or which build of ddkit: they differ between any two runs.
VOLATILE_KEYS = re.compile(r"(generated|timestamp|created|duration|elapsed|seconds|_at$|^version$|"
                           r"ddkit_version|documentNamespace|serialNumber|toolVersion|runtime)", re.I)
VOLATILE_TEXT = re.compile(r"\S*/ddkit-golden-samples(-[^/\s]+)?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?|urn:uuid:[0-9a-f-]+|"
                           r"\b\d+(\.\d+)?\s*s\b")


def _scan(name: str, repo: str, args: list[str], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "ddkit", "scan", repo, "--quiet", *args]
    for flag, fname in OUTS.items():
        cmd += [flag, str(dest / fname)]
    env = dict(os.environ, DDKIT_CACHE_DIR=tempfile.mkdtemp(prefix=f"golden-{name}-"))
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    (dest / "exit.txt").write_text(f"{p.returncode}\n")
    (dest / "stderr.txt").write_text(p.stderr)
    shutil.rmtree(env["DDKIT_CACHE_DIR"], ignore_errors=True)
    if p.returncode not in (0, 1):
        print(f"{name}: exit {p.returncode}\n{p.stderr[-1500:]}", file=sys.stderr)


def write(outdir: Path, only: list[str], real: bool) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from ddkit.samples import build_sample
    # The repository's path is printed in the reports: the comparison masks this folder's name, so runs
    # in parallel each have their own.
    work = Path(tempfile.mkdtemp(prefix="ddkit-golden-samples-"))
    for name in SAMPLES:
        if only and name not in only:
            continue
        s = build_sample(name, work / name)
        args = ["--roster", str(s.roster), "--company", str(s.company)]
        if s.as_of:
            args += ["--as-of", s.as_of]
        if s.reference:
            args += ["--reference", str(s.reference)]
        print(f"scanning {name}", flush=True)
        _scan(name, str(s.repo), args, outdir / name)
    if real:
        for name, (repo, args) in REAL.items():
            if (only and name not in only) or not Path(repo, ".git").exists():
                continue
            print(f"scanning {name}", flush=True)
            _scan(name, repo, args, outdir / name)
    shutil.rmtree(work, ignore_errors=True)


def _strip(obj):
    if isinstance(obj, dict):
        return {k: ("<volatile>" if VOLATILE_KEYS.search(k) else _strip(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    if isinstance(obj, str):
        return VOLATILE_TEXT.sub("<t>", obj)
    return obj


def _diff_json(a, b, path="$", out=None, limit=10):
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if type(a) is not type(b):
        out.append(f"{path}: {a!r:.120} != {b!r:.120}")
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'new' if k in b else 'old'}")
            else:
                _diff_json(a[k], b[k], f"{path}.{k}", out, limit)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(f"{path}: length {len(a)} != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            _diff_json(x, y, f"{path}[{i}]", out, limit)
    elif a != b:
        out.append(f"{path}: {a!r:.120} != {b!r:.120}")
    return out


def _diff_xlsx(pa: Path, pb: Path, limit=10) -> list[str]:
    import openpyxl
    wa, wb = openpyxl.load_workbook(pa), openpyxl.load_workbook(pb)
    if wa.sheetnames != wb.sheetnames:
        return [f"sheets: {wa.sheetnames} != {wb.sheetnames}"]
    out: list[str] = []
    for name in wa.sheetnames:
        sa, sb = wa[name], wb[name]
        if sa.dimensions != sb.dimensions:
            out.append(f"{name}: dimensions {sa.dimensions} != {sb.dimensions}")
        if sorted(map(str, sa.merged_cells.ranges)) != sorted(map(str, sb.merged_cells.ranges)):
            out.append(f"{name}: merged ranges differ")
        rows = max(sa.max_row, sb.max_row)
        cols = max(sa.max_column, sb.max_column)
        for r in range(1, rows + 1):
            for c in range(1, cols + 1):
                ca, cb = sa.cell(r, c), sb.cell(r, c)
                va, vb = ca.value, cb.value
                if isinstance(va, str) and isinstance(vb, str):
                    va, vb = VOLATILE_TEXT.sub("<t>", va), VOLATILE_TEXT.sub("<t>", vb)
                if va != vb or ca.number_format != cb.number_format:
                    out.append(f"{name}!{ca.coordinate}: {va!r:.80} [{ca.number_format}] != "
                               f"{vb!r:.80} [{cb.number_format}]")
                    if len(out) >= limit:
                        return out
    return out


def compare(old: Path, new: Path) -> int:
    bad = 0
    for d in sorted(p for p in old.iterdir() if p.is_dir()):
        nd = new / d.name
        if not nd.is_dir():
            print(f"{d.name}: missing in {new}")
            bad += 1
            continue
        for f in sorted(d.iterdir()):
            g = nd / f.name
            if f.name == "stderr.txt":
                continue
            if not g.exists():
                print(f"{d.name}/{f.name}: missing in new")
                bad += 1
                continue
            if f.suffix == ".xlsx":
                diffs = _diff_xlsx(f, g)
            elif f.suffix in (".json", ".sarif"):
                diffs = _diff_json(_strip(json.loads(f.read_text())), _strip(json.loads(g.read_text())))
            else:
                a, b = VOLATILE_TEXT.sub("<t>", f.read_text()), VOLATILE_TEXT.sub("<t>", g.read_text())
                diffs = [] if a == b else ["text differs"]
            print(f"{d.name}/{f.name}: {'equal' if not diffs else 'DIFFERENT'}")
            for line in diffs:
                print(f"    {line}")
            bad += bool(diffs)
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "write":
        only = argv[argv.index("--only") + 1:] if "--only" in argv else []
        write(Path(argv[1]), [o for o in only if not o.startswith("--")], "--no-real" not in argv)
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
