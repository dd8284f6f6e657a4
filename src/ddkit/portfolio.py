"""Portfolio scans: many repositories, one report.

Each repository is scanned by :func:`_scan_one` in a worker (a local process pool by default, any
``concurrent.futures.Executor``, or a Dask cluster through ``Client.get_executor()``). A repository
that fails is recorded with its reason and never stops the others. A repository whose ref has not
moved since the last run (same commit, same inputs, same ddkit) is answered from the cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import pickle
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from . import __version__, gitutil
from .cache import cache_dir
from .config import load_rules
from .errors import DdkitError, InputError
from .remote import is_url, materialize

REPO_COLUMNS = ["repo", "ref", "status", "error", "commit", "readiness_score", "rating", "truck_factor",
                "critical", "high", "medium", "low", "info", "commits", "contributors", "outsourced_share",
                "cached", "seconds"]


@dataclass
class RepoResult:
    repo: str                       # as the user gave it, credentials removed
    ref: str
    status: str                     # ok | failed
    error: str | None = None
    commit: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    findings: pd.DataFrame | None = None
    people: pd.DataFrame | None = None
    remediation: pd.DataFrame | None = None
    dependencies: pd.DataFrame | None = None   # deps
    warnings: list[str] = field(default_factory=list)
    cached: bool = False
    seconds: float = 0.0
    peak_rss_mb: float | None = None   # the worker process's peak memory after this scan


def read_list(path: str | os.PathLike) -> list[tuple[str, str]]:
    """A portfolio list: one repository path or URL per line, optionally followed by a ref; # comments."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: repository list not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        s = line.split("#", 1)[0].strip() if not line.lstrip().startswith(("http", "ssh", "git@", "file")) else line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        if len(parts) > 2:
            raise InputError(f"{path}, line {n}: expected 'REPO [REF]', got {len(parts)} words")
        repo = parts[0]
        if not is_url(repo) and not os.path.isabs(repo):
            repo = str((p.parent / repo).resolve())
        out.append((repo, parts[1] if len(parts) == 2 else "HEAD"))
    if not out:
        raise InputError(f"{path}: the repository list is empty")
    return out


def _file_hash(path: Any) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _cache_key(display: str, commit: str, opts: dict[str, Any]) -> str:
    rules = load_rules(opts.get("rules"))
    parts = [__version__, display, commit, rules.sha256, _file_hash(opts.get("roster")),
             _file_hash(opts.get("company")), str(opts.get("as_of")), str(opts.get("licenses")),
             str(opts.get("secrets", True)),
             [_file_hash(x) for x in opts.get("sbom") or []], sorted(opts.get("environment") or [])]   # deps
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _scan_one(repo: str, ref: str, opts: dict[str, Any]) -> RepoResult:
    """Scan one repository inside a worker. Never raises: failures become a 'failed' result."""
    from .scan import scan
    display = gitutil.strip_credentials(repo) or repo
    t0 = time.perf_counter()
    try:
        path = materialize(repo, timeout=opts.get("clone_timeout"))
        info = gitutil.open_repo(path, ref)
        key = _cache_key(display, info.commit or "empty", opts) if opts.get("cache", True) else None
        cfile = cache_dir("portfolio") / f"{key}.pickle" if key else None
        if cfile is not None and cfile.exists():
            try:
                with open(cfile, "rb") as fh:
                    res = pickle.load(fh)
                res.cached, res.repo = True, display
                return res
            except Exception:
                pass  # a damaged cache entry is ignored and rewritten
        s = scan(path, roster=opts.get("roster"), company=opts.get("company"), rules=opts.get("rules"), ref=ref,
                 as_of=opts.get("as_of"), licenses=opts.get("licenses", True), jobs=1,
                 secrets=opts.get("secrets", True), sbom=opts.get("sbom"), environment=opts.get("environment"))
        import resource
        res = RepoResult(repo=display, ref=ref, status="ok", commit=s.repo.commit, summary=dict(s.summary),
                         findings=s.findings, people=s.people, remediation=s.remediation,
                         dependencies=s.dependencies,   # deps
                         warnings=list(s.warnings), seconds=time.perf_counter() - t0,
                         peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        if cfile is not None:
            tmp = cfile.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                pickle.dump(res, fh)
            tmp.replace(cfile)
        return res
    except (DdkitError, gitutil.GitError) as e:
        return RepoResult(repo=display, ref=ref, status="failed", error=gitutil.strip_credentials(str(e)),
                          seconds=time.perf_counter() - t0)
    except Exception as e:  # a bug must not stop the portfolio either
        return RepoResult(repo=display, ref=ref, status="failed",
                          error=f"internal error: {type(e).__name__}: {gitutil.strip_credentials(str(e))}",
                          seconds=time.perf_counter() - t0)


@dataclass
class Portfolio:
    results: list[RepoResult]
    as_of: dt.date
    options: dict[str, Any]

    def _tagged(self, attr: str) -> list[pd.DataFrame]:
        """Each repository's table *attr*, with a repository column."""
        frames = []
        for r in self.results:
            df = getattr(r, attr)
            if df is not None and len(df):
                frames.append(df.assign(repository=r.repo))
        return frames

    @property
    def repositories(self) -> pd.DataFrame:
        rows = []
        for r in self.results:
            sm = r.summary or {}
            sev = sm.get("findings_by_severity", {})
            rows.append(dict(repo=r.repo, ref=r.ref, status=r.status, error=r.error, commit=r.commit,
                             readiness_score=sm.get("readiness_score"), rating=sm.get("rating"),
                             truck_factor=sm.get("truck_factor"),
                             **{k: int(sev.get(k, 0)) if r.status == "ok" else None
                                for k in ("critical", "high", "medium", "low", "info")},
                             commits=sm.get("commits"), contributors=sm.get("contributors"),
                             outsourced_share=sm.get("outsourced_share"), cached=r.cached,
                             seconds=round(r.seconds, 2)))
        return pd.DataFrame(rows, columns=REPO_COLUMNS)

    @property
    def findings(self) -> pd.DataFrame:
        frames = self._tagged("findings")
        if not frames:
            return pd.DataFrame(columns=["repository", "id", "rule", "area", "severity", "subject", "path",
                                         "lines_at_stake", "evidence", "remediation"])
        from .analyze.findings import findings_frame
        df = findings_frame(pd.concat(frames, ignore_index=True))
        cols = ["repository"] + [c for c in df.columns if c != "repository"]
        return df[cols]

    @property
    def people(self) -> pd.DataFrame:
        """People merged across repositories: the same person's lines, commits and repositories, once."""
        frames = self._tagged("people")
        if not frames:
            return pd.DataFrame(columns=["person", "type", "vendor", "is_bot", "repositories", "commits",
                                         "first_commit", "last_commit", "departed", "surviving_lines", "emails"])
        df = pd.concat(frames, ignore_index=True)
        rows = []
        for pid, g in df.groupby("person_id", sort=False):
            first = g.iloc[0]
            emails = sorted({e for lst in g["emails"] for e in (lst if isinstance(lst, list) else [])})
            fc = [x for x in g["first_commit"] if isinstance(x, dt.date)]
            lc = [x for x in g["last_commit"] if isinstance(x, dt.date)]
            rows.append(dict(person=first["person"], type=first["type"], vendor=first.get("vendor"),
                             is_bot=bool(first["is_bot"]), repositories=sorted(set(g["repository"])),
                             commits=int(g["commits"].sum()), first_commit=min(fc) if fc else None,
                             last_commit=max(lc) if lc else None, departed=bool(g["departed"].all()),
                             surviving_lines=int(g["surviving_lines"].fillna(0).sum()), emails=emails,
                             in_roster=bool(first.get("in_roster", False)),
                             ip_assignment=first.get("ip_assignment"), person_id=pid))
        out = pd.DataFrame(rows)
        return out.sort_values(["is_bot", "surviving_lines", "commits", "person"],
                               ascending=[True, False, False, True], kind="stable").reset_index(drop=True)

    @property
    def dependencies(self) -> pd.DataFrame:   # deps
        """Dependencies merged across repositories: one row per package, version and license."""
        from .analyze.dependencies import merge_portfolio
        return merge_portfolio(self._tagged("dependencies"))

    @property
    def remediation(self) -> pd.DataFrame:
        """One row per person or vendor needing paperwork, across all repositories (signed once)."""
        frames = self._tagged("remediation")
        if not frames:
            return pd.DataFrame(columns=["subject", "document", "repositories", "lines_at_stake"])
        df = pd.concat(frames, ignore_index=True)
        keys = [c for c in ("subject", "subject_type", "document") if c in df.columns]
        agg: dict[str, Any] = {"repository": lambda s: sorted(set(s))}
        for c in ("lines_at_stake", "files_at_stake"):
            if c in df.columns:
                agg[c] = "sum"
        if "period_start" in df.columns:
            agg["period_start"] = "min"
        if "period_end" in df.columns:
            agg["period_end"] = "max"
        for c in df.columns:
            if c not in agg and c not in keys:
                agg[c] = "first"
        out = df.groupby(keys, sort=False, dropna=False).agg(agg).reset_index()
        return out.rename(columns={"repository": "repositories"})

    def to_json(self, path: str | os.PathLike | None = None) -> dict[str, Any]:
        from .report.cells import json_value
        repos = self.repositories
        data = {
            "schema_version": 1,
            "ddkit_version": __version__,
            "as_of": self.as_of.isoformat(),
            "repositories": [{k: json_value(v) for k, v in rec.items()}
                             for rec in repos.to_dict(orient="records")],
            "findings": [{k: json_value(v) for k, v in rec.items()} for rec in self.findings.to_dict(orient="records")],
            "people": [{k: json_value(v) for k, v in rec.items() if k != "person_id"}
                       for rec in self.people.to_dict(orient="records")],
            "dependencies": [{k: json_value(v) for k, v in rec.items()}   # deps
                             for rec in self.dependencies.to_dict(orient="records")],
        }
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return data

    def pseudonymized(self) -> "Portfolio":
        """The same portfolio with people replaced by pseudonyms consistent across repositories."""
        import copy
        from .report.pseudonym import _replacer, frame, mapping, people_frame
        names = mapping(self.people)
        frames = [r.people for r in self.results if r.people is not None and len(r.people)]
        allp = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["person", "names"])
        fix = _replacer(allp, names)
        out = []
        for r in self.results:
            r2 = copy.copy(r)
            if r.people is not None:
                r2.people = people_frame(r.people, names, fix)
            r2.findings = frame(r.findings, fix) if r.findings is not None else None
            r2.remediation = frame(r.remediation, fix) if r.remediation is not None else None
            r2.warnings = [fix(w) for w in r.warnings]
            out.append(r2)
        return Portfolio(out, self.as_of, self.options)

    def to_sarif(self, path: str | os.PathLike) -> dict[str, Any]:
        """SARIF 2.1.0 with one run per scanned repository."""
        from .report.sarif import to_sarif
        sev = load_rules(self.options.get("rules")).get("findings", {}).get("severities", {})
        runs = []
        for r in self.results:
            if r.status != "ok" or r.findings is None:
                continue
            run = to_sarif(r.findings, sev)["runs"][0]
            run["automationDetails"] = {"id": f"ddkit/{r.repo}/"}
            run["properties"] = {"repository": r.repo, "commit": r.commit}
            runs.append(run)
        data = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": runs}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return data

    def to_excel(self, path: str | os.PathLike) -> Path:
        from .report.portfolio_xlsx import write_portfolio_workbook
        return write_portfolio_workbook(self, Path(path))


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
    ex = ProcessPoolExecutor(max_workers=jobs or min(2, os.cpu_count() or 1), mp_context=mp.get_context("spawn"))
    return ex, lambda: ex.shutdown(wait=True)


def scan_many(repos: Iterable[str | tuple[str, str]], roster=None, company=None, rules=None, ref: str = "HEAD",
              as_of=None, licenses: bool = True, jobs: int | None = None, executor: Executor | None = None,
              dask: str | None = None, secrets: bool = True, cache: bool = True, timeout: float | None = None,
              progress=None, sbom=None, environment=None) -> Portfolio:
    """Scan many repositories (paths or URLs, or (repo, ref) pairs) and merge the results."""
    from .roster import load_roster
    from .scan import _as_of
    from .config import load_company
    # Validate the shared inputs once, before any work starts.
    load_roster(roster) if roster else None
    load_company(company) if company else None
    load_rules(rules)
    as_of_d = _as_of(as_of)
    from .analyze.dependencies import load_inputs   # deps: check the user's SBOMs and environments first
    load_inputs(sbom, environment)
    specs: list[tuple[str, str]] = [(r, ref) if isinstance(r, str) else (r[0], r[1]) for r in repos]
    opts = dict(roster=str(roster) if roster else None, company=str(company) if company else None,
                rules=str(rules) if rules else None, as_of=as_of_d, licenses=licenses, secrets=secrets,
                cache=cache, clone_timeout=timeout,
                sbom=[str(x) for x in (sbom or [])], environment=[str(x) for x in (environment or [])])   # deps
    ex, close = _make_executor(executor, dask, jobs)
    results: list[RepoResult | None] = [None] * len(specs)
    try:
        futures = [ex.submit(_scan_one, repo, r, opts) for repo, r in specs]
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
            if progress is not None:
                progress.advance(1)
    finally:
        close()
    return Portfolio([r for r in results if r is not None], as_of_d, opts)
