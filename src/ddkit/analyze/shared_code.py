"""Code shared between repositories of different companies in a portfolio (``scan-many``).

Which company a repository belongs to: a line of the portfolio list may name a company profile
(``company=FILE``); the others belong to the portfolio's ``--company`` (or to one unnamed company). Two
repositories belong to the same company when their profiles have the same ``name`` (case and spacing
ignored) or, without a name, are the same file. Repositories of one company share code legitimately
(their own libraries); only pairs of *different* companies are compared, and only when the portfolio has
more than one.

Each repository's code at its ref is fingerprinted once, in its worker, exactly as ``--reference`` does
(analyze/provenance.py ``target_prints``), and reported the same way: one ``prov.copied-code`` finding
per file of a repository whose code matches files of other companies' repositories, with both sides'
line ranges and who committed the code on each side and when.

Memory stays bounded for large portfolios: each repository's fingerprints are written to a temporary
directory as its result arrives (the result keeps none of them); the fingerprints present in more than one
company are then found one hash range at a time (each repository's arrays are sorted by hash, so a range
is one slice of a memory-mapped file), at most ``_BUDGET`` hashes in memory per range; only those shared
fingerprints are loaded for the comparison.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import Company, Rules
from ..schema import Finding

_BUDGET = 1 << 24          # hashes held at once while finding the shared ones (16 Mi x 8 bytes = 128 MiB)
_ARRAYS = ("hashes", "file", "start", "end")


def company_key(company: Company | None, source: str | None) -> str:
    """Which company a profile stands for: its name, normalised, or else the file it came from."""
    if company is not None and company.name and company.name.strip():
        return "name:" + " ".join(company.name.casefold().split())
    return "file:" + (str(Path(source).resolve()) if source else "")


def company_label(company: Company | None, source: str | None) -> str:
    if company is not None and company.name and company.name.strip():
        return company.name.strip()
    return Path(source).stem if source else "the portfolio's company"


class SharedCode:
    """Collects the repositories' fingerprints as their results arrive, then compares different companies."""

    def __init__(self, keys: list[str], labels: list[str]):
        self.keys, self.labels = keys, labels       # per repository of the list (its index)
        self.dir = Path(tempfile.mkdtemp(prefix="ddkit-shared-code-"))
        self.meta: dict[int, tuple[Any, int]] = {}  # index -> (RepoPrints without arrays, fingerprints)
        self.missing: list[int] = []

    def add(self, i: int, res) -> None:
        """Spill repository *i*'s fingerprints to disk (the result keeps none)."""
        prints = getattr(res, "fingerprints", None)
        res.fingerprints = None
        if res.status != "ok":
            return
        if prints is None:
            self.missing.append(i)
            return
        d = self.dir / str(i)
        d.mkdir()
        c = prints.corpus
        for k in _ARRAYS:
            np.save(d / f"{k}.npy", getattr(c, k))
        self.meta[i] = (prints, len(c.hashes))
        for k in _ARRAYS:   # what stays in memory: paths, line counts and owners
            setattr(c, k, None)

    def _array(self, i: int, k: str) -> np.ndarray:
        return np.load(self.dir / str(i) / f"{k}.npy", mmap_mode="r")

    def shared_hashes(self) -> np.ndarray:
        """The fingerprints present in repositories of at least two companies, sorted."""
        total = sum(n for _, n in self.meta.values())
        parts = max(1, math.ceil(total / _BUDGET))
        edges = [(2 ** 64 * k) // parts for k in range(parts + 1)]
        out = []
        for lo, hi in zip(edges[:-1], edges[1:]):
            per_company: dict[str, list[np.ndarray]] = {}
            for i in self.meta:
                h = self._array(i, "hashes")
                a = int(np.searchsorted(h, np.uint64(lo), side="left"))
                b = len(h) if hi >= 2 ** 64 else int(np.searchsorted(h, np.uint64(hi), side="left"))
                if b > a:
                    per_company.setdefault(self.keys[i], []).append(np.asarray(h[a:b]))
            if len(per_company) < 2:
                continue
            uniq = np.concatenate([np.unique(np.concatenate(v)) for v in per_company.values()])
            vals, counts = np.unique(uniq, return_counts=True)
            out.append(vals[counts >= 2])
        return np.concatenate(out) if out else np.zeros(0, np.uint64)

    def compare(self, rules: Rules, results: list, triage: dict | None = None) -> pd.DataFrame:
        """Add the ``prov.copied-code`` findings to each repository's result; the matches as one table."""
        from ..collect.fingerprints import Corpus
        from .findings import findings_frame
        from .provenance import _COPIED_COLUMNS, copied_file, per_file
        shared = self.shared_hashes()
        cols = ["repository", *_COPIED_COLUMNS, "reference_company"]
        if not len(shared):
            return pd.DataFrame(columns=cols)
        # Each repository restricted to its shared fingerprints (all that can match another company), and the
        # number of fingerprints of each of its files (the similarity's denominator).
        restricted: dict[int, Any] = {}
        n_prints: dict[int, np.ndarray] = {}
        for i, (prints, _) in self.meta.items():
            h = self._array(i, "hashes")
            pos = np.searchsorted(shared, h)
            keep = np.flatnonzero((pos < len(shared)) & (shared[np.minimum(pos, len(shared) - 1)] == h))
            f = self._array(i, "file")
            n_prints[i] = np.bincount(np.asarray(f), minlength=len(prints.corpus.paths))
            if len(keep):
                c = prints.corpus
                restricted[i] = Corpus(f"{results[i].repo} ({self.labels[i]})", c.paths, np.asarray(h[keep]),
                                       np.asarray(f[keep]), np.asarray(self._array(i, "start")[keep]),
                                       np.asarray(self._array(i, "end")[keep]), c.lines,
                                       reader=getattr(c, "reader", None))
        rows: list[dict] = []
        for i, target in restricted.items():
            others = [j for j in restricted if self.keys[j] != self.keys[i]]
            corpora = [restricted[j] for j in others]
            found: list[Finding] = []
            t_prints = self.meta[i][0]
            t_prints = type(t_prints)(target, t_prints.owners)
            for fi, (th, ts, te) in enumerate(per_file(target)):
                if not len(th):
                    continue
                got = copied_file(rules, t_prints, fi, th, ts, te, int(n_prints[i][fi]), corpora,
                                  others=[self.meta[j][0] for j in others],
                                  intro="matches code of another company's repository in this portfolio",
                                  id_extra="portfolio")
                if got is None:
                    continue
                found.append(got[0])
                by_name = {restricted[j].name: self.labels[j] for j in others}
                rows += [dict(r, repository=results[i].repo, reference_company=by_name.get(r["reference"]))
                         for r in got[1]]
            if found:
                res = results[i]
                new = findings_frame(found)
                from ..triage import apply_triage
                new, _ = apply_triage(new, triage or {})   # the statuses every scan's findings carry
                res.findings = findings_frame(pd.concat([res.findings, new], ignore_index=True)
                                              if res.findings is not None and len(res.findings) else new)
                sev = dict(res.summary.get("findings_by_severity") or {})
                for s in new["severity"].astype(str):
                    sev[s] = int(sev.get(s, 0)) + 1
                res.summary = dict(res.summary, findings_by_severity=sev, shared_code_findings=len(found))
        return pd.DataFrame(rows, columns=cols)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
