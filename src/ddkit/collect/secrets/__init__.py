"""Secrets in history and at the ref: one small package, one execution path.

* :mod:`.history` reads what to scan (lines added by every commit; files at the ref) into blocks,
  with byte-exact paths;
* :mod:`.kingfisher_engine` (kingfisher: hundreds of provider rules, native speed) and
  :mod:`.detectors` (ddkit's own generic-credential and credential-file detectors, behind an exact
  Hyperscan screen) find candidates in each block;
* :mod:`.context` decides, per occurrence, whether it is reported, downgraded or suppressed, and why.

Blocks are scanned in *jobs* threads while git is still writing the history (both engines run
native code that releases the GIL). No secret value ever leaves this package: results carry a
SHA-256 fingerprint prefix only.
"""

from __future__ import annotations

import hashlib
import itertools
import posixpath
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from ... import gitutil
from . import kingfisher_engine
from .context import DOWNGRADE, REPORT, SUPPRESS, Context, settings, unknown_keys  # noqa: F401
from .detectors import DetectorSet
from .history import Block, added_blocks, tree_block

SECRET_COLUMNS = ["sha", "path", "line", "detector", "fingerprint", "tier", "detector_id", "engine",
                  "action", "reason"]
TIER_RANK = {"provider": 0, "generic": 1, "entropy": 2}


def fingerprint(secret: str | bytes) -> str:
    """A redacted, stable identifier of a secret: never the secret itself."""
    b = secret if isinstance(secret, bytes) else secret.encode("utf-8", "surrogateescape")
    return "sha256:" + hashlib.sha256(b).hexdigest()[:16]


class Scanner:
    """Scans blocks with every engine and applies the context filter."""

    def __init__(self, ctx: Context, screen: bool = True, engines: tuple[str, ...] = ("kingfisher", "ddkit")):
        self.ctx = ctx
        self.engines = tuple(e for e in engines if e != "kingfisher" or kingfisher_engine.available())
        self.dets = DetectorSet(screen=screen) if "ddkit" in self.engines else None
        self.skip = frozenset(ctx.cfg.get("engine_rules_off") or [])

    def scan_block(self, blk: Block) -> tuple[list[tuple], int]:
        """(rows, lines handed to the ddkit detectors' full regular expressions)."""
        if not blk.lines:
            return [], 0
        text = b"\n".join(blk.lines)
        hits: list[tuple[int, str, str, str, str, bytes]] = []  # line, detector id, name, tier, engine, value
        if "kingfisher" in self.engines:
            for ln, rid, name, tier, value in kingfisher_engine.scan(text, self.skip):
                hits.append((ln, rid, name, tier, "kingfisher", value))
        checked = 0
        if self.dets is not None:
            starts = list(itertools.accumulate((len(x) + 1 for x in blk.lines), initial=0))
            from ...globs import first_match
            for ln, dis in self.dets.candidates(text, starts).items():
                line = blk.lines[ln]
                if not line:
                    continue
                checked += 1
                path = None
                for di in sorted(dis):
                    d = self.dets.detectors[di]
                    if d.paths:
                        if path is None:
                            path = blk.where(ln)[1]
                        if not first_match(path, d.paths):
                            continue
                    for m in self.dets.compiled[di].finditer(line):
                        hits.append((ln, "ddkit." + d.id, d.name, d.tier, "ddkit", m.group("secret")))
        rows = []
        for ln, rid, name, tier, engine, value in hits:
            sha, path, lineno = blk.where(ln)
            action, reason = self.ctx.decide(tier, rid, path, blk.lines[ln], value)
            rows.append((sha, path, lineno, name, fingerprint(value), tier, rid, engine, action, reason))
        return rows, checked


def _frame(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=SECRET_COLUMNS).drop_duplicates()
    return df.reset_index(drop=True)


def _readme_checker(repo: str, commit: str | None, pattern: str):
    """path -> does a README in the same directory (at *commit*) say the files there are for tests?"""
    import re
    rx = re.compile(pattern.encode(), re.I)
    memo: dict[str, bool] = {}

    def check(path: str) -> bool:
        d = posixpath.dirname(path)
        if not d:
            return False  # the top README describes the project, not one directory's files
        if d in memo or commit is None:
            return memo.get(d, False)
        names = gitutil.run(repo, "ls-tree", "-z", "--name-only", "--end-of-options", commit, "--",
                            (d + "/") if d else ".", check=False).split(b"\0")
        hit = False
        for n in names:
            base = n.rsplit(b"/", 1)[-1].lower()
            if base.startswith(b"readme"):
                blob = gitutil.read_blob(repo, f"{commit}:{n.decode('utf-8', 'surrogateescape')}")
                if blob and rx.search(blob[:20000]):
                    hit = True
                    break
        memo[d] = hit
        return hit
    return check


def scan_history(repo: str, commit: str | None, screen: bool = True, jobs: int = 1, progress=None,
                 rules: Any = None, engines: tuple[str, ...] = ("kingfisher", "ddkit"),
                 ref_commit: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Every credential in lines added anywhere in the history of *commit*, with its context decision.

    Returns (occurrences, stats). *jobs* threads scan blocks while git writes the history.
    """
    stats: dict[str, Any] = {"lines": 0, "checked": 0, "long_lines": 0}
    if commit is None:
        return pd.DataFrame(columns=SECRET_COLUMNS), stats
    cfg = settings(rules)
    ctx = Context(cfg, _readme_checker(repo, ref_commit or commit, cfg["test_readme_pattern"]))
    sc = Scanner(ctx, screen=screen, engines=engines)
    stats["engines"] = {"ddkit": "builtin", **({"kingfisher": kingfisher_engine.version()}
                                                 if "kingfisher" in sc.engines else {})}
    rows: list[tuple] = []
    max_line = int(cfg["max_line_bytes"])

    def done(res, blk):
        r, checked = res
        rows.extend(r)
        stats["lines"] += len(blk.lines) - len(blk.groups)
        stats["checked"] += checked
        stats["long_lines"] += blk.long_lines
        if progress is not None:
            progress.advance(len(blk.lines) - len(blk.groups))

    if jobs <= 1:
        for blk in added_blocks(repo, commit, max_line):
            done(sc.scan_block(blk), blk)
    else:
        with ThreadPoolExecutor(jobs) as ex:
            pending: list = []
            for blk in added_blocks(repo, commit, max_line):
                pending.append((ex.submit(sc.scan_block, blk), blk))
                while len(pending) > 2 * jobs:
                    f, b = pending.pop(0)
                    done(f.result(), b)
            for f, b in pending:
                done(f.result(), b)
    stats["warnings"] = [f"rules: unknown key security.secrets.{k} (ignored)" for k in unknown_keys(rules or {})] \
        + long_line_warning(stats["long_lines"], max_line)
    return _frame(rows), stats


def long_line_warning(n: int, max_line: int) -> list[str]:
    if not n:
        return []
    return [f"secrets: {n} line(s) longer than {max_line:,} bytes were scanned only in their first "
            f"{max_line:,} bytes (minified or data files; raise secrets.max_line_bytes to scan more)"]


def scan_tree(repo: str, commit: str | None, paths: list[str], rules: Any = None,
              engines: tuple[str, ...] = ("kingfisher", "ddkit")) -> tuple[pd.DataFrame, dict]:
    """Credentials in the given files as they are at *commit* (to tell which history secrets remain)."""
    stats: dict[str, Any] = {"long_lines": 0}
    if commit is None or not paths:
        return pd.DataFrame(columns=SECRET_COLUMNS), stats
    cfg = settings(rules)
    ctx = Context(cfg, _readme_checker(repo, commit, cfg["test_readme_pattern"]))
    blk = tree_block(repo, commit, paths, int(cfg["max_line_bytes"]))
    rows, _ = Scanner(ctx, engines=engines).scan_block(blk)
    stats["long_lines"] = blk.long_lines
    return _frame(rows), stats
