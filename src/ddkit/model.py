"""The domain objects every stage produces and every report reads: plain dataclasses of DataFrames.

Reports import this module, never the orchestrator (``pipeline.py``) or ``portfolio.py``; the stages fill
it. Each table that leaves the pipeline has its columns declared once here (``*_COLUMNS``), and the
severity order is one enum (:data:`SEVERITIES`), also used as an ordered categorical so that
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

    # -- reports: each goes through the reporter registry (ddkit.report)
    def to_excel(self, path: str | os.PathLike, pseudonymize: bool = False) -> Path:
        from .report import write
        write("xlsx", self, Path(path), pseudonymize=pseudonymize)
        return Path(path)

    def to_json(self, path: str | os.PathLike | None = None, pseudonymize: bool = False) -> dict:
        from .report import write
        return write("json", self, None if path is None else Path(path), pseudonymize=pseudonymize)

    def to_sarif(self, path: str | os.PathLike, pseudonymize: bool = False) -> dict:
        from .report import write
        return write("sarif", self, Path(path), pseudonymize=pseudonymize)

    def to_sbom(self, path: str | os.PathLike) -> dict:   # deps: CycloneDX 1.6 JSON
        from .report import write
        return write("cyclonedx", self, Path(path))

    def to_spdx(self, path: str | os.PathLike | None = None) -> dict:   # SPDX 2.3 JSON, validated
        from .report import write
        return write("spdx", self, None if path is None else Path(path))

    def to_notices(self, path: str | os.PathLike | None = None) -> str:   # the attribution pack (.md or .txt)
        from .report import write
        return write("notices", self, None if path is None else Path(path))

    @property
    def notices(self) -> str:
        """The attribution pack as Markdown (what ``to_notices`` writes to a .md file)."""
        return self.to_notices()

    def simulate_departure(self, people_or_vendors) -> pd.DataFrame:
        """Per module: the files left without an author, and the truck factor before and after, if these
        people (or all staff of these vendors) left."""
        from .analyze.bus_factor import simulate_departure
        doa = self.doa if len(self.doa.columns) else pd.DataFrame(columns=["path", "person_id", "author"])
        return simulate_departure(doa, self.files, self.people, people_or_vendors)

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
        """Dependencies merged across repositories: one row per package, version, license and scope."""
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

    # -- reports: through the reporter registry, like a single scan's
    def to_json(self, path: str | os.PathLike | None = None, pseudonymize: bool = False) -> dict[str, Any]:
        from .report import write_portfolio
        return write_portfolio("json", self, None if path is None else Path(path), pseudonymize=pseudonymize)

    def to_sarif(self, path: str | os.PathLike, pseudonymize: bool = False) -> dict[str, Any]:
        from .report import write_portfolio
        return write_portfolio("sarif", self, Path(path), pseudonymize=pseudonymize)

    def to_sbom(self, path: str | os.PathLike) -> dict:   # deps: one CycloneDX document for the portfolio
        from .report import write_portfolio
        return write_portfolio("cyclonedx", self, Path(path))

    def to_excel(self, path: str | os.PathLike, pseudonymize: bool = False) -> Path:
        from .report import write_portfolio
        write_portfolio("xlsx", self, Path(path), pseudonymize=pseudonymize)
        return Path(path)

    def pseudonymized(self) -> Portfolio:
        """The same portfolio with people replaced by pseudonyms consistent across repositories."""
        from .report.pseudonym import pseudonymized_portfolio
        return pseudonymized_portfolio(self)
