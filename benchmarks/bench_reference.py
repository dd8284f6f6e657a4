"""--reference on a large corpus: fingerprinting time and peak memory, cold and cached, against a scan's.

Usage: python benchmarks/bench_reference.py [--target REPO] [--ref REF] [--reference PATH ...]
Defaults: target the pypa/pip mirror at 6d30920; references this Python's standard library and the
virtual environment's site-packages (over 20,000 .py files together). Each phase runs in its own
process (its peak RSS is its own): (1) fingerprint every reference with an empty cache; (2) load them from
the cache; (3) scan the target without references (licenses and secrets off: the cost the references add
is the question); (4) the same scan with the references (fingerprints cached). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, %(src)r)
phase, refs, target, ref = json.loads(sys.argv[1])
t0 = time.perf_counter()
out = {}
if phase in ("fingerprint", "cached"):
    from ddkit.collect.fingerprints import load_corpus
    cs = [load_corpus(r, 2) for r in refs]   # two worker processes (a cached corpus is only read)
    out.update(files=sum(len(c.paths) for c in cs), fingerprints=int(sum(len(c.hashes) for c in cs)),
               cached=all(c.cached for c in cs))
else:
    import ddkit
    s = ddkit.scan(target, ref=ref, licenses=False, secrets=False, as_of="2026-12-01",
                   reference=refs if phase == "scan+references" else None)
    out.update(copied_findings=int((s.findings["rule"] == "prov.copied-code").sum()),
               stage_seconds={k: round(v, 2) for k, v in s.timings.items() if k in ("references", "blame", "history")})
out["seconds"] = round(time.perf_counter() - t0, 2)
out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="/work/.mirror/pypa+pip/repo")
    ap.add_argument("--ref", default="6d30920")
    ap.add_argument("--reference", action="append")
    a = ap.parse_args()
    refs = a.reference or [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, DDKIT_CACHE_DIR=cache)
        res = {"references": refs}
        for phase in ("fingerprint", "cached", "scan", "scan+references"):
            p = subprocess.run([sys.executable, "-c", CHILD % {"src": str(ROOT / "src")},
                                json.dumps([phase, refs, a.target, a.ref])],
                               capture_output=True, text=True, env=env)
            if p.returncode != 0:
                sys.exit(p.stderr[-2000:])
            res[phase] = json.loads(p.stdout.strip().splitlines()[-1])
    res["max_child_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
