"""Vulnerability matching cost: 50,000 synthetic OSV advisories against 2,000 dependencies.

Usage: python benchmarks/bench_vulns.py [N_ADVISORIES] [N_DEPENDENCIES]
Target: matching (analyze.vulnerabilities.assess on the dependency table, without history) under 5 s.

The advisories are written as one OSV all.zip (as published) and read with collect.vulndb (that time is
printed too, not part of the target). They spread over PyPI, npm, Go and Maven, 2,000 package names per ecosystem
(so a package has several advisories), each with one or two ECOSYSTEM/SEMVER ranges and, for a third of
them, a list of affected versions. The dependencies are half names the database knows (about six advisories each), half not; a
quarter are unpinned requirements (matched by the range they allow). Advisories are indexed by
(ecosystem, normalised name), so the work grows with the advisories of the packages in use, not with the
database. Also printed: univers vs packaging for reading and comparing PEP 440 versions (the choice of
version library).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

ECOS = [("PyPI", "pypi"), ("npm", "npm"), ("Go", "golang"), ("Maven", "maven")]


def _name(eco: str, i: int) -> str:
    if eco == "Go":
        return f"github.com/org{i % 97}/mod{i}"
    if eco == "Maven":
        return f"org.example{i % 31}:artifact-{i}"
    return f"pkg-{i}"


def _ver(rng: random.Random) -> str:
    return f"{rng.randint(0, 5)}.{rng.randint(0, 20)}.{rng.randint(0, 30)}"


def advisories(n: int, names: int, rng: random.Random):
    for i in range(n):
        eco, _ = ECOS[i % 4]
        k = rng.randrange(names)
        a, b = sorted([_ver(rng), _ver(rng)], key=lambda v: tuple(map(int, v.split("."))))
        rtype = "SEMVER" if eco in ("npm", "Go") else "ECOSYSTEM"
        aff = {"package": {"ecosystem": eco, "name": _name(eco, k)},
               "ranges": [{"type": rtype, "events": [{"introduced": a}, {"fixed": b}]}]}
        if i % 3 == 0:
            aff["versions"] = [a] + [_ver(rng) for _ in range(5)]
        if i % 5 == 0:
            aff["ranges"].append({"type": rtype, "events": [{"introduced": "0"}, {"last_affected": _ver(rng)}]})
        yield {"id": f"SYN-{i}", "modified": "2024-01-01T00:00:00Z", "aliases": [f"CVE-2024-{i}"],
               "summary": "synthetic", "affected": [aff],
               "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
               if i % 2 else [], "database_specific": {"severity": "HIGH"}}


def dependencies(n: int, names: int, rng: random.Random):
    import pandas as pd
    rows = []
    for j in range(n):
        eco, ptype = ECOS[j % 4]
        k = rng.randrange(names) if j % 2 == 0 else names + j      # half unknown to the database
        name = _name(eco, k)
        exact = j % 4 != 3
        v = _ver(rng)
        version = (("==" + v) if ptype == "pypi" else ("v" + v) if ptype == "golang" else v) if exact else (
            ">=" + v if ptype == "pypi" else "^" + v if ptype == "npm" else v)
        rows.append(dict(purl=f"pkg:{ptype}/{name.replace(':', '/')}" + (f"@{v}" if exact else ""), name=name,
                         version=version, ecosystem=ptype, scope="runtime", direct=True, license_spdx=None,
                         license_source="none", manifest=f"m{j % 50}/manifest", line=j, added_by=None,
                         added_by_type=None, added_sha=None, added_date=None, kind="manifest"))
    return pd.DataFrame(rows)


def version_libraries(n: int = 100_000) -> tuple[float, float]:
    from packaging.version import Version
    from univers.versions import PypiVersion
    rng = random.Random(1)
    vs = [_ver(rng) for _ in range(n)]
    t0 = time.perf_counter()
    p = [Version(v) for v in vs]
    sum(a < b for a, b in zip(p, p[1:]))
    t_pack = time.perf_counter() - t0
    t0 = time.perf_counter()
    u = [PypiVersion(v) for v in vs]
    sum(a < b for a, b in zip(u, u[1:]))
    return t_pack, time.perf_counter() - t0


def main() -> int:
    from ddkit.analyze import vuln_versions
    from ddkit.analyze.vulnerabilities import assess
    from ddkit.collect import vulndb
    from ddkit.config import load_rules
    n_adv = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    n_dep = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    rng = random.Random(28)
    names = 2_000
    with tempfile.TemporaryDirectory() as tmp:
        z = Path(tmp) / "all.zip"
        with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
            for doc in advisories(n_adv, names, rng):
                zf.writestr(f"{doc['id']}.json", json.dumps(doc))
        t0 = time.perf_counter()
        db = vulndb.load(z)
        t_load = time.perf_counter() - t0
    assert db is not None
    deps = dependencies(n_dep, names, rng)
    rules = load_rules(None)
    vuln_versions.parse.cache_clear()
    t0 = time.perf_counter()
    table, found, _w = assess(rules, db, deps, None, None, None, dt.date(2024, 2, 1))    # type: ignore[arg-type]
    t_match = time.perf_counter() - t0
    candidates = sum(len(db.lookup(e, n)) for e, n in zip(deps["ecosystem"].map(vulndb.OSV_ECOSYSTEM), deps["name"]))
    print(f"advisories {len(db.advisories)}, dependencies {len(deps)}, candidate (advisory, dependency) pairs "
          f"{candidates}")
    print(f"read the all.zip      {t_load:6.2f} s")
    print(f"match (assess)        {t_match:6.2f} s   (target < 5 s): {len(table)} matches, {len(found)} findings")
    t_pack, t_univ = version_libraries()
    print(f"100,000 PEP 440 versions read and compared: packaging {t_pack:.2f} s, univers {t_univ:.2f} s")
    return 0 if t_match < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
