"""The domain objects every stage produces and every report reads: plain dataclasses of DataFrames.

Reports import this module, never the orchestrator (``pipeline.py``) or ``portfolio.py``; the stages fill
it. It imports no stage and no report: what its methods do beyond holding data (writing a report, merging a
portfolio's findings, simulating a departure) is done by those layers, asked for by name through
:mod:`ddkit.operations` (the layer check: pyproject.toml ``[tool.importlinter]``).

Each table that leaves the pipeline has its columns declared once here (``*_COLUMNS``), and the severity
order is one enum (:data:`SEVERITIES`), also used as an ordered categorical so that
``findings.sort_values("severity")`` puts the worst first.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .config import Company, Rules
    from .gitutil import RepoInfo

from .operations import operation
from .schema import (  # noqa: F401  (re-exported: the model's vocabulary)
    FINDING_COLUMNS,
    LICENSE_PUBLIC,
    PEOPLE_COLUMNS,
    PEOPLE_PUBLIC,
    REPO_COLUMNS,
    SEVERITIES,
    SEVERITY_TYPE,
    count_at_or_above,
    severity_rank,
    typed_findings,
)


# ------------------------------------------------------------------ one result type per stage
@dataclass
class StageStats:
    """What each collector did (files blamed vs cached, files scanned, lines screened...)."""

    blame: dict[str, Any] = field(default_factory=dict)
    licenses: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scan:
    """Everything one scan found. DataFrames for notebooks; ``to_*`` methods for reports."""

    repo: RepoInfo
    as_of: dt.date
    rules: Rules
    company: Company
    roster: pd.DataFrame
    commits: pd.DataFrame
    changes: pd.DataFrame
    files: pd.DataFrame
    identities: pd.DataFrame
    people: pd.DataFrame
    ownership: pd.DataFrame = field(default_factory=pd.DataFrame)
    findings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FINDING_COLUMNS))
    remediation: pd.DataFrame = field(default_factory=pd.DataFrame)
    licenses: pd.DataFrame = field(default_factory=pd.DataFrame)
    bus_factor: pd.DataFrame = field(default_factory=pd.DataFrame)
    trends: pd.DataFrame = field(default_factory=pd.DataFrame)
    dependencies: pd.DataFrame = field(default_factory=pd.DataFrame)   # deps: one row per (manifest, dependency)
    # vulns: one row per (dependency location, vulnerability), current and past (the database: summary)
    vulnerabilities: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # What the scan was asked to do: licenses, secrets, jobs, ref.
    options: dict[str, Any] = field(default_factory=dict)
    # -- intermediate tables the reports and simulations use
    blame: pd.DataFrame = field(default_factory=pd.DataFrame)            # lines per (path, sha)
    doa: pd.DataFrame = field(default_factory=pd.DataFrame)              # degree of authorship per (path, person)
    truck_factors: dict[str, Any] = field(default_factory=lambda: {"repository": None, "modules": {}})
    ownership_by_module: pd.DataFrame = field(default_factory=pd.DataFrame)
    ownership_by_classification: pd.DataFrame = field(default_factory=pd.DataFrame)
    simulations: pd.DataFrame = field(default_factory=pd.DataFrame)      # off-boarding simulations
    security: pd.DataFrame | None = None                                 # None when secrets were not scanned
    not_scanned_for_licenses: pd.DataFrame | None = None
    stats: StageStats = field(default_factory=StageStats)
    versions: dict[str, str] = field(default_factory=dict)              # ddkit, git, scancode, kingfisher-secret-scanner
    triage_stale: list[dict[str, Any]] = field(default_factory=list)    # decisions whose finding no longer occurs
    # The scanned repository's own triage file: its decisions, listed as claims and never applied (a table,
    # so that every rule for tables, pseudonymisation included, covers it)
    triage_claims: pd.DataFrame = field(default_factory=pd.DataFrame)
    # -- the buyer's next questions (analyze/retention.py): whom to retain; what a clean-room rewrite would cover
    retention: pd.DataFrame = field(default_factory=pd.DataFrame)
    rewrite_scope: pd.DataFrame = field(default_factory=pd.DataFrame)
    ai: Any = None      # the AI-assisted code ledger (analyze/ai.py Ledger); None when not built
    copied_code: pd.DataFrame | None = None   # matches against --reference corpora; None without one
    cache_key: str | None = None        # inputs + commit this result stands for (None: not cached); see report.write

    # -- reports: each goes through the reporter registry (ddkit.report), provided by the facade
    def to_excel(self, path: str | os.PathLike, pseudonymize: bool = False) -> Path:
        operation("write")("xlsx", self, Path(path), pseudonymize=pseudonymize)
        return Path(path)

    def to_json(self, path: str | os.PathLike | None = None, pseudonymize: bool = False) -> dict:
        return operation("write")("json", self, None if path is None else Path(path), pseudonymize=pseudonymize)

    def to_sarif(self, path: str | os.PathLike, pseudonymize: bool = False) -> dict:
        return operation("write")("sarif", self, Path(path), pseudonymize=pseudonymize)

    def to_sbom(self, path: str | os.PathLike) -> dict:   # deps: CycloneDX 1.6 JSON
        return operation("write")("cyclonedx", self, Path(path))

    def to_spdx(self, path: str | os.PathLike | None = None) -> dict:   # SPDX 2.3 JSON, validated
        return operation("write")("spdx", self, None if path is None else Path(path))

    def to_notices(self, path: str | os.PathLike | None = None) -> str:   # the attribution pack (.md or .txt)
        return operation("write")("notices", self, None if path is None else Path(path))

    @property
    def components(self) -> pd.DataFrame:
        """The third-party components the CycloneDX SBOM lists (docs/outputs.md), from the tables as they are
        now: one row per declared package or vendored directory (analyze/components.py)."""
        return operation("components")(self.dependencies, self.licenses)

    @property
    def notices(self) -> str:
        """The attribution pack as Markdown (what ``to_notices`` writes to a .md file)."""
        return self.to_notices()

    def simulate_departure(self, people_or_vendors) -> pd.DataFrame:
        """Per module: the files left without an author, and the truck factor before and after, if these
        people (or all staff of these vendors) left."""
        from .schema import typed
        from .values import records
        doa = self.doa if len(self.doa.columns) else pd.DataFrame(columns=["path", "person_id", "author"])
        # The analysis works on plain values (missing: None); the answer is a public table (typed, module).
        people = pd.DataFrame(records(self.people), columns=self.people.columns)
        out = operation("simulate_departure")(doa, self.files, people, people_or_vendors)
        if "scope" in out:
            out = _with(out, "module", out["scope"].tolist(), "scenario")
        return typed(out, "simulate_departure")

    def __repr__(self) -> str:  # a short, useful line in a notebook
        return (f"<ddkit.Scan {self.repo.path} @ {self.repo.commit and self.repo.commit[:12]} as_of {self.as_of}: "
                f"{len(self.commits)} commits, {len(self.people)} people, {len(self.findings)} findings>")


@dataclass
class RepoResult:
    """One repository of a portfolio: its summary and the tables merged across repositories."""

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
    # where SARIF's results about no file point (report.sarif.anchors_of): "" the repository, else a module
    sarif_anchors: dict[str, str] = field(default_factory=dict)
    fingerprints: Any = None           # provenance: the code's fingerprints (a portfolio of several companies)


@dataclass
class Portfolio:
    """Many repositories' results; the tables are merged on demand."""

    results: list[RepoResult]
    as_of: dt.date
    options: dict[str, Any]
    rules: Rules | None = None
    copied_code: pd.DataFrame | None = None   # code shared between companies' repositories (None: one company)

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
                             **{k: int(sev.get(k, 0)) if r.status == "ok" else None for k in SEVERITIES},
                             commits=sm.get("commits"), contributors=sm.get("contributors"),
                             outsourced_share=sm.get("outsourced_share"), cached=r.cached,
                             seconds=round(r.seconds, 2)))
        return _typed(pd.DataFrame(rows, columns=REPO_COLUMNS), "repositories")

    @property
    def findings(self) -> pd.DataFrame:
        frames = self._tagged("findings")
        if not frames:
            return _typed(pd.DataFrame(columns=["repository", "id", "rule", "area", "severity", "subject", "path",
                                                "lines_at_stake", "evidence", "remediation"]), "portfolio_findings")
        df = operation("findings_frame")(pd.concat(frames, ignore_index=True))
        cols = ["repository"] + [c for c in df.columns if c != "repository"]
        return _typed(df[cols], "portfolio_findings")

    @property
    def people(self) -> pd.DataFrame:
        """People merged across repositories: the same person's lines, commits and repositories, once."""
        frames = self._tagged("people")
        if not frames:
            return _typed(pd.DataFrame(columns=["person", "type", "vendor", "is_bot", "repositories", "commits",
                                                "first_commit", "last_commit", "departed", "surviving_lines",
                                                "emails"]), "portfolio_people")
        df = pd.concat(frames, ignore_index=True)
        rows = []
        for pid, g in df.groupby("person_id", sort=False):
            first = g.iloc[0]
            emails = sorted({e for lst in g["emails"] for e in (lst if isinstance(lst, list) else [])})
            fc = [x for x in g["first_commit"] if isinstance(x, dt.date) and not pd.isna(x)]   # (NaT is a date)
            lc = [x for x in g["last_commit"] if isinstance(x, dt.date) and not pd.isna(x)]
            rows.append(dict(person=first["person"], type=first["type"], vendor=first.get("vendor"),
                             is_bot=bool(first["is_bot"]), repositories=sorted(set(g["repository"])),
                             commits=int(g["commits"].sum()), first_commit=min(fc) if fc else None,
                             last_commit=max(lc) if lc else None, departed=bool(g["departed"].all()),
                             surviving_lines=int(g["surviving_lines"].fillna(0).sum()), emails=emails,
                             in_roster=bool(first.get("in_roster", False)),
                             ip_assignment=first.get("ip_assignment"), person_id=pid))
        out = pd.DataFrame(rows)
        out = out.sort_values(["is_bot", "surviving_lines", "commits", "person"],
                              ascending=[True, False, False, True], kind="stable").reset_index(drop=True)
        return _typed(out, "portfolio_people")

    @property
    def dependencies(self) -> pd.DataFrame:   # deps
        """Dependencies merged across repositories: one row per package, version, license and scope."""
        return _typed(operation("merge_dependencies")(self._tagged("dependencies")), "portfolio_dependencies")

    @property
    def components(self) -> pd.DataFrame:   # deps
        """The third-party components of the portfolio's CycloneDX SBOM: every repository's dependencies."""
        frames = [r.dependencies for r in self.results
                  if r.status == "ok" and r.dependencies is not None and len(r.dependencies)]
        return operation("components")(pd.concat(frames, ignore_index=True) if frames else None, None)

    @property
    def remediation(self) -> pd.DataFrame:
        """One row per person or vendor needing paperwork, across all repositories (signed once)."""
        frames = self._tagged("remediation")
        if not frames:
            return _typed(pd.DataFrame(columns=["subject", "document", "repositories", "lines_at_stake"]),
                          "portfolio_remediation")
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
        out = df.groupby(keys, sort=False, dropna=False, observed=True).agg(agg).reset_index()
        return _typed(out.rename(columns={"repository": "repositories"}), "portfolio_remediation")

    # -- reports: through the reporter registry, like a single scan's
    def to_json(self, path: str | os.PathLike | None = None, pseudonymize: bool = False) -> dict[str, Any]:
        return operation("write_portfolio")("json", self, None if path is None else Path(path), pseudonymize=pseudonymize)

    def to_sarif(self, path: str | os.PathLike, pseudonymize: bool = False) -> dict[str, Any]:
        return operation("write_portfolio")("sarif", self, Path(path), pseudonymize=pseudonymize)

    def to_sbom(self, path: str | os.PathLike) -> dict:   # deps: one CycloneDX document for the portfolio
        return operation("write_portfolio")("cyclonedx", self, Path(path))

    def to_excel(self, path: str | os.PathLike, pseudonymize: bool = False) -> Path:
        operation("write_portfolio")("xlsx", self, Path(path), pseudonymize=pseudonymize)
        return Path(path)

    def pseudonymized(self) -> Portfolio:
        """The same portfolio with people replaced by pseudonyms consistent across repositories."""
        return operation("pseudonymized_portfolio")(self)


# ------------------------------------------------------------------ the public tables, as users get them
def _typed(df: pd.DataFrame, table: str) -> pd.DataFrame:
    from .schema import typed
    out = typed(df, table)
    assert out is not None
    return out


def _id_of_name(people: pd.DataFrame) -> dict[str, str]:
    """person -> person_id, for the names only one person has (two unresolved identities may share a name)."""
    if people.empty or "person_id" not in people:
        return {}
    counts = people["person"].value_counts()
    return {p: i for p, i in zip(people["person"].tolist(), people["person_id"].tolist())
            if isinstance(p, str) and counts.get(p) == 1}


def _with(df: pd.DataFrame, name: str, values: Any, after: str | None) -> pd.DataFrame:
    """*df* with column *name* (replaced if there), placed right after *after* when that column exists."""
    df = df.drop(columns=[name]) if name in df.columns else df.copy()
    cols = list(df.columns)
    pos = cols.index(after) + 1 if after in cols else len(cols)
    df.insert(pos, name, values)
    return df


def public_tables(s: Scan) -> Scan:
    """The Scan's public tables as users get them (docs/outputs.md, "Tables"): one vocabulary (``person_id``
    beside every person, ``module`` beside the deprecated ``scope``, ``sha`` beside the security table's
    ``commit``) and the declared dtypes (:data:`ddkit.schema.DTYPES`). Called once, when the scan is
    assembled: the analyses before it work on plain Python values."""
    from .schema import PUBLIC_TABLES, typed
    ids = _id_of_name(s.people)

    def pid(names: Any) -> list[Any]:
        return [ids.get(n) if isinstance(n, str) else None for n in names]

    if len(s.findings.columns):
        s.findings = _with(s.findings, "person_id", pid(s.findings["person"]), "person")
    if len(s.remediation.columns):
        person_rows = s.remediation["subject_type"].astype(str) != "vendor"
        s.remediation = _with(s.remediation, "person_id",
                              [i if ok else None for i, ok in zip(pid(s.remediation["subject"]), person_rows)],
                              "subject_type")
    if len(s.rewrite_scope.columns):
        s.rewrite_scope = _with(s.rewrite_scope, "person_id", pid(s.rewrite_scope["subject"]), "subject_type")
    if len(s.retention.columns):
        s.retention = _with(s.retention, "person_id", pid(s.retention["person"]), "person")
    if len(s.licenses.columns) and "introduced_by" in s.licenses:
        s.licenses = _with(s.licenses, "person_id", pid(s.licenses["introduced_by"]), "introduced_by")
    if len(s.dependencies.columns) and "added_by" in s.dependencies:
        s.dependencies = _with(s.dependencies, "person_id", pid(s.dependencies["added_by"]), "added_by")
    vulns = getattr(s, "vulnerabilities", None)
    if vulns is not None and len(vulns.columns) and "added_by" in vulns:
        s.vulnerabilities = _with(vulns, "person_id", pid(vulns["added_by"]), "added_by")
    copied = getattr(s, "copied_code", None)
    if copied is not None and len(copied.columns) and "committed_by" in copied:
        s.copied_code = _with(copied, "person_id", pid(copied["committed_by"]), "committed_by")
    if len(s.ownership_by_module.columns):
        obm = _with(s.ownership_by_module, "person_id", pid(s.ownership_by_module["person"]), "person")
        type_of = dict(zip(s.people["person_id"], s.people["type"])) if len(s.people) else {}
        s.ownership_by_module = _with(obm, "type", [type_of.get(i) for i in obm["person_id"]], "person_id")
    for name in ("bus_factor", "simulations"):
        df = getattr(s, name)
        if len(df.columns) and "scope" in df:
            setattr(s, name, _with(df, "module", df["scope"].tolist(), None if name == "bus_factor" else "scenario"))
    if s.bus_factor is not None and len(s.bus_factor.columns) and "module" in s.bus_factor:
        s.bus_factor = s.bus_factor[["module", *[c for c in s.bus_factor.columns if c != "module"]]]
    if s.security is not None and len(s.security.columns) and "commit" in s.security:
        by_sha = dict(zip(s.commits["sha"].tolist(), s.commits["person_id"].tolist())) if len(s.commits) else {}
        sec = _with(s.security, "sha", s.security["commit"].tolist(), "commit")
        s.security = _with(sec, "person_id", [by_sha.get(c) if isinstance(c, str) else None for c in sec["sha"]],
                           "author")
    out_of_range: list[int] = []
    for name in PUBLIC_TABLES:
        df = getattr(s, name)
        if df is not None:
            setattr(s, name, typed(df, name, out_of_range))
    if out_of_range:
        s.warnings.append(f"{sum(out_of_range)} dates are outside the range pandas' datetime64[ns] holds "
                          "(1677-09-22 to 2262-04-10): they are missing (NaT) in the tables and the reports")
    return s
