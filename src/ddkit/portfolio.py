"""Portfolio scans: many repositories, one report.

Each repository is scanned by :func:`_scan_one` in a worker (a local process pool by default, any
``concurrent.futures.Executor``, or a Dask cluster through ``Client.get_executor()``). A repository
that fails is recorded with its reason and never stops the others. A repository whose ref has not
moved since the last run (same commit, same inputs, same ddkit) is answered from the cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from collections.abc import Iterable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from . import cache, gitutil
from .cache import cache_dir
from .config import load_rules
from .errors import DdkitError, InputError
from .model import Portfolio, RepoResult
from .remote import is_url, materialize
from .report.sarif import anchors_of

_CODEC = cache.pickle_codec("portfolio", lambda v: isinstance(v, RepoResult))


def read_list(path: str | os.PathLike) -> list[tuple[str, ...]]:
    """A portfolio list: one repository path or URL per line, optionally followed by a ref and by
    ``company=FILE`` (the company profile of that repository, relative to the list; analyze/shared_code.py);
    # comments. A line with a company gives (repo, ref, profile), the others (repo, ref)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: repository list not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    out: list[tuple[str, ...]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        s = line.split("#", 1)[0].strip() if not line.lstrip().startswith(("http", "ssh", "git@", "file")) else line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        profile = None
        if len(parts) > 1 and parts[-1].startswith("company="):
            profile = parts.pop()[len("company="):]
            if not profile:
                raise InputError(f"{path}, line {n}: company= needs a company profile file")
            profile = str(p.parent / profile) if not os.path.isabs(profile) else profile
        if len(parts) > 2:
            raise InputError(f"{path}, line {n}: expected 'REPO [REF] [company=FILE]', got {len(parts)} words")
        repo = parts[0]
        if not is_url(repo) and not os.path.isabs(repo):
            repo = str((p.parent / repo).resolve())
        ref = parts[1] if len(parts) == 2 else "HEAD"
        out.append((repo, ref) if profile is None else (repo, ref, profile))
    if not out:
        raise InputError(f"{path}: the repository list is empty")
    return out


def _file_hash(path: Any) -> str | None:
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):   # a roster or profile given as data (already validated)
        return hashlib.sha256(pickle.dumps(path.to_csv() if hasattr(path, "to_csv") else repr(path))).hexdigest()
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _cache_key(display: str, commit: str, opts: dict[str, Any]) -> str:
    rules = load_rules(opts.get("rules"))
    parts = [display, commit, rules.sha256, _file_hash(opts.get("roster")),
             _file_hash(opts.get("company")), _file_hash(opts.get("triage") or opts.get("triage_default")),
             str(opts.get("as_of")),
             str(opts.get("licenses")),
             str(opts.get("secrets", True)),
             [_file_hash(x) for x in opts.get("sbom") or []], sorted(opts.get("environment") or []),   # deps
             list(opts.get("reference_ids") or []),
             opts.get("vuln_db_digest"),   # vulns
             *(["secrets-strict"] if opts.get("secrets_strict") else [])]
    return cache.entry_key(*parts)


def _scan_one(repo: str, ref: str, opts: dict[str, Any]) -> RepoResult:
    """Scan one repository inside a worker. Never raises: failures become a 'failed' result."""
    from .pipeline import scan
    display = gitutil.strip_credentials(repo) or repo
    t0 = time.perf_counter()
    try:
        path = materialize(repo, timeout=opts.get("clone_timeout"))
        info = gitutil.open_repo(path, ref, allow_other_owner=opts.get("allow_other_owner", False))
        key = _cache_key(display, info.commit or "empty", opts) if opts.get("cache", True) else None
        cfile = cache_dir("portfolio") / f"{key}.pickle" if key else None
        res = cache.load(cfile, _CODEC)   # only an entry this user's ddkit sealed is unpickled (ddkit.cache)
        if res is not None:
            res.cached, res.repo = True, display
            if not opts.get("fingerprint") or getattr(res, "fingerprints", None) is not None:
                return res   # (a result cached without the fingerprints this portfolio needs: scanned again)
        s = scan(path, roster=opts.get("roster"), company=opts.get("company"), rules=opts.get("rules"), ref=ref,
                 as_of=opts.get("as_of"), licenses=opts.get("licenses", True), jobs=1,
                 secrets=opts.get("secrets", True), triage=opts.get("triage"), progress=False,
                 sbom=opts.get("sbom"), environment=opts.get("environment"),   # deps
                 reference=opts.get("reference"),
                 vuln_db=opts.get("vuln_db"),   # vulns
                 allow_other_owner=opts.get("allow_other_owner", False),
                 secrets_strict=opts.get("secrets_strict", False))
        import resource
        res = RepoResult(repo=display, ref=ref, status="ok", commit=s.repo.commit, summary=dict(s.summary),
                         findings=s.findings, people=s.people, remediation=s.remediation,
                         dependencies=s.dependencies,   # deps
                         fingerprints=_prints(s, display) if opts.get("fingerprint") else None,   # shared code
                         warnings=list(s.warnings), seconds=time.perf_counter() - t0,
                         sarif_anchors=anchors_of(s),
                         peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        cache.save(cfile, _CODEC, res)
        return res
    except (DdkitError, gitutil.GitError) as e:
        return RepoResult(repo=display, ref=ref, status="failed", error=gitutil.strip_credentials(str(e)),
                          seconds=time.perf_counter() - t0)
    except Exception as e:  # a bug must not stop the portfolio either
        return RepoResult(repo=display, ref=ref, status="failed",
                          error=f"internal error: {type(e).__name__}: {gitutil.strip_credentials(str(e))}",
                          seconds=time.perf_counter() - t0)


def _prints(s, display: str):
    """The scanned code's fingerprints (a portfolio of several companies compares them: analyze/shared_code.py)."""
    from .analyze.provenance import target_prints
    return target_prints(s.repo.path, s.files, s.blame, s.commits, display)


def _make_executor(executor: Executor | None, dask: str | None, jobs: int | None):
    """(executor, closer): the executor to use and what to call when done."""
    if executor is not None:
        return executor, lambda: None
    if dask:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - dask is a dependency
            raise InputError("--dask needs dask[distributed] installed") from None
        if dask == "local":
            cluster = LocalCluster(n_workers=jobs or min(2, os.cpu_count() or 1), threads_per_worker=1,
                                   processes=True, host="127.0.0.1", dashboard_address=None)
            client = Client(cluster)

            def close():
                client.close()
                cluster.close()
        else:
            try:
                client = Client(dask, timeout="20s")
            except Exception as e:
                raise InputError(f"--dask {dask}: cannot connect to the scheduler: {e}") from None
            close = client.close
        return client.get_executor(), close
    # Worker processes that never import the caller's main module (see ddkit.workerpool).
    from .workerpool import WorkerExecutor
    ex = WorkerExecutor(jobs or min(2, os.cpu_count() or 1))
    return ex, lambda: ex.shutdown(wait=True)


def scan_many(repos: Iterable[str | tuple[str, ...]], roster=None, company=None, rules=None, ref: str = "HEAD",
              as_of=None, licenses: bool = True, jobs: int | None = None, executor: Executor | None = None,
              dask: str | None = None, secrets: bool = True, cache: bool = True, timeout: float | None = None,
              progress=None, triage=None, sbom=None, environment=None, reference=None,
              vuln_db=None, allow_other_owner: bool = False,
              secrets_strict: bool = False) -> Portfolio:
    """Scan many repositories (paths or URLs, or (repo, ref) pairs) and merge the results."""
    from .config import load_company
    from .pipeline import _as_of
    from .roster import load_roster
    # Validate the shared inputs once, before any work starts.
    roster_data = load_roster(roster)
    company_data = load_company(company)
    rules_o = load_rules(rules)
    if triage:
        from .triage import load_triage
        load_triage(triage)
    as_of_d = _as_of(as_of)
    from .analyze.dependencies import load_inputs  # deps: check the user's SBOMs and environments first
    load_inputs(sbom, environment)
    from .pipeline import _references  # provenance: check (and fingerprint once) the reference corpora
    ref_ids = [c.identity for c in _references(reference, jobs or min(2, os.cpu_count() or 1))]
    from .collect.vulndb import load as load_vulndb  # vulns: the database is checked once, read by each scan
    vdb = load_vulndb(vuln_db)
    repos = list(repos)
    specs: list[tuple[str, str]] = [(r, ref) if isinstance(r, str) else (r[0], r[1]) for r in repos]
    # Which company each repository belongs to (a (repo, ref, profile) spec names its own; analyze/shared_code.py)
    own_profile: list[str | None] = [None if isinstance(r, str) or len(r) < 3 else r[2] for r in repos]
    shared = _shared_code(own_profile, company)
    # A path is passed on as a path (each worker reads it); data, as the validated table or profile.
    opts = dict(roster=(str(roster) if isinstance(roster, (str, os.PathLike)) else roster_data) if roster is not None
                else None,
                company=(str(company) if isinstance(company, (str, os.PathLike)) else company_data)
                if company is not None else None,
                rules=str(rules) if rules else None, as_of=as_of_d, licenses=licenses, secrets=secrets,
                cache=cache, clone_timeout=timeout, triage=str(triage) if triage else None,
                sbom=[str(x) for x in (sbom or [])], environment=[str(x) for x in (environment or [])],   # deps
                reference=[str(x) for x in (reference or [])], reference_ids=ref_ids,   # (ids: the cache key)
                vuln_db=[str(x) for x in ([vuln_db] if isinstance(vuln_db, (str, os.PathLike)) else vuln_db or [])]
                or None, vuln_db_digest=vdb.digest if vdb is not None else None,   # vulns
                allow_other_owner=allow_other_owner,
                **({"secrets_strict": True} if secrets_strict else {}))
    if not triage:
        # Each scan reads the default triage file from the current folder (workers share it): its content is
        # part of a cached result's key.
        from .triage import default_path
        opts["triage_default"] = str(default_path())
    ex, close = _make_executor(executor, dask, jobs)
    results: list[RepoResult | None] = [None] * len(specs)
    try:
        if shared is not None:
            opts["fingerprint"] = True
        futures = [ex.submit(_scan_one, repo, r, opts if c is None else dict(opts, company=str(c)))
                   for (repo, r), c in zip(specs, own_profile)]
        if progress is not None:
            progress.set_total(len(futures))
        for i, fut in enumerate(futures):
            try:
                results[i] = fut.result(timeout=timeout)
            except Exception as e:  # worker died, timed out, or the cluster failed
                repo, r = specs[i]
                what = "timed out" if type(e).__name__ in ("TimeoutError",) else f"{type(e).__name__}: {e}"
                results[i] = RepoResult(repo=gitutil.strip_credentials(repo) or repo, ref=r, status="failed",
                                        error=f"worker failed: {gitutil.strip_credentials(what)}")
            if shared is not None:
                shared.add(i, results[i])   # its fingerprints to disk, out of memory
            if progress is not None:
                progress.advance(1)
    except BaseException:
        if executor is None and not dask:   # our own workers, on Ctrl-C or an error: stop them now
            ex.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        close()
    copied = None
    if shared is not None:
        try:
            from .triage import load_triage
            copied = shared.compare(rules_o, results, load_triage(triage) if triage else None)
        finally:
            shared.close()
    return Portfolio([r for r in results if r is not None], as_of_d, opts, rules_o, copied_code=copied)


def _shared_code(own_profile: list, company):
    """A collector of the repositories' fingerprints when they belong to more than one company, else None;
    each repository's own profile is checked here, before any work starts."""
    from .analyze.shared_code import SharedCode, company_key, company_label
    from .config import Company, load_company
    if not any(own_profile):
        return None
    default_src = str(company) if isinstance(company, (str, os.PathLike)) else None
    default = company if isinstance(company, Company) else load_company(company) if company else None
    seen: dict[str, Company] = {}
    keys: list[str] = []
    labels: list[str] = []
    for prof in own_profile:
        if prof is None:
            c, src = default, default_src
        else:
            c = seen.get(str(prof)) or load_company(prof)
            seen[str(prof)], src = c, str(prof)
        keys.append(company_key(c, src))
        first = keys.index(keys[-1])     # one company, one label: as its first repository's profile spells it
        labels.append(labels[first] if first < len(labels) else company_label(c, src))
    if len(set(keys)) < 2:
        return None
    return SharedCode(keys, labels)
