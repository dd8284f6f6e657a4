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
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from ... import gitutil
from . import kingfisher_engine
from .context import DOWNGRADE, REPORT, SUPPRESS, TEST_KEY, Context, settings, unknown_keys
from .detectors import DetectorSet, all_detectors
from .history import Block, added_blocks, blocks_from, tree_block

SECRET_COLUMNS = ["sha", "path", "line", "detector", "fingerprint", "tier", "detector_id", "engine",
                  "action", "reason"]
TIER_RANK = {"provider": 0, "generic": 1, "entropy": 2, "info": 3}


def fingerprint(secret: str | bytes) -> str:
    """A redacted, stable identifier of a secret: never the secret itself."""
    b = secret if isinstance(secret, bytes) else secret.encode("utf-8", "surrogateescape")
    return "sha256:" + hashlib.sha256(b).hexdigest()[:16]


class Scanner:
    """Scans blocks with every engine and applies the context filter."""

    def __init__(self, ctx: Context, screen: bool = True, engines: tuple[str, ...] = ("kingfisher", "ddkit")):
        self.ctx = ctx
        self.engines = tuple(e for e in engines if e != "kingfisher" or kingfisher_engine.available())
        self.dets = DetectorSet(all_detectors(ctx.cfg), screen=screen) if "ddkit" in self.engines else None
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
            groups = [(g[0], g[2]) for g in blk.groups]
            for ln, dis in self.dets.candidates(text, starts, groups).items():
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
                        v = m.group("secret")
                        if d.next_line and ln + 1 < len(blk.lines):
                            # one fingerprint per key, not one for every file with the same header
                            v += b"\n" + blk.lines[ln + 1]
                        hits.append((ln, "ddkit." + d.id, d.name, d.tier, "ddkit", v))
        rows = []
        for ln, rid, name, tier, engine, value in hits:
            sha, path, lineno = blk.where(ln)
            action, reason = self.ctx.decide(tier, rid, path, blk.lines[ln], value.split(b"\n", 1)[0])
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


def _engines(engines: tuple[str, ...]) -> dict[str, str | None]:
    kf = "kingfisher" in engines and kingfisher_engine.available()
    return {"ddkit": "builtin", **({"kingfisher": kingfisher_engine.version()} if kf else {})}


def plan(repo: str, commit: str, screen: bool = True, rules: Any = None,
         engines: tuple[str, ...] = ("kingfisher", "ddkit")):
    """Look up the cache: what :func:`scan_history` will read for *commit* (a
    :class:`ddkit.collect.history.Plan`: nothing, all of history, or ``OLD..commit``)."""
    from .. import incremental
    from ..history import Plan
    store = incremental.Store("secrets", repo, {"cfg": settings(rules), "engines": _engines(engines),
                                                "screen": screen}, _valid_payload)
    return Plan(store, store.base(commit))


def scan_history(repo: str, commit: str | None, screen: bool = True, jobs: int = 1, progress=None,
                 rules: Any = None, engines: tuple[str, ...] = ("kingfisher", "ddkit"),
                 ref_commit: str | None = None, cache: bool = True, plan_=None,
                 patches: Iterable[tuple[str, bytes]] | None = None) -> tuple[pd.DataFrame, dict]:
    """Every credential in lines added anywhere in the history of *commit*, with its context decision.

    Returns (occurrences, stats). *jobs* threads scan blocks while git writes the history. With *cache*,
    the occurrences are kept per (repository, commit, effective secrets rules, engines, ddkit and
    kingfisher versions): a re-scan of the same commit reads nothing, a scan of a descendant reads only
    the lines added by ``OLD..NEW`` (see :mod:`ddkit.collect.incremental`). Rows come in ``git log``
    order either way, so a re-scan's table equals a cold scan's. *plan_*: the cache lookup already made by
    :func:`plan`; *patches*: the (sha, patch) pairs of exactly the range that plan reads, from the history
    stage's own read (:class:`ddkit.collect.history.PatchFeed`), instead of a ``git log -p`` of its own.
    """
    stats: dict[str, Any] = {"lines": 0, "checked": 0, "long_lines": 0}
    if commit is None:
        return pd.DataFrame(columns=SECRET_COLUMNS), stats
    cfg = settings(rules)
    readme = _readme_checker(repo, ref_commit or commit, cfg["test_readme_pattern"])
    ctx = Context(cfg, readme)
    stats["engines"] = _engines(engines)
    max_line = int(cfg["max_line_bytes"])
    store = base = None
    if cache:
        pl = plan_ if plan_ is not None else plan(repo, commit, screen, rules, engines)
        store, base = pl.store, pl.base
    if base is not None and base[0] == commit:
        df, counts = base[1]["rows"], base[1]["stats"]
    else:
        from .. import incremental
        sc = Scanner(ctx, screen=screen, engines=engines)   # compiles the rules: only when there is work
        df, counts = _scan_added(sc, repo, commit, base[0] if base else None, jobs, progress, max_line, patches)
        if base is None:
            df = _canonical(df, incremental.rev_list(repo, commit))
        else:
            counts = {k: counts[k] + base[1]["stats"][k] for k in counts}
            if df.empty:        # nothing found in OLD..NEW: OLD's rows are the answer, in their order
                df = base[1]["rows"]
            else:
                chain = _chain(repo, commit, base[0])
                if chain is not None:   # a line on top of OLD: its rows, then OLD's, is git log's own order
                    df = _frame(pd.concat([_canonical(df, chain), base[1]["rows"]], ignore_index=True))
                else:
                    df = _canonical(pd.concat([df, base[1]["rows"]], ignore_index=True),
                                    incremental.rev_list(repo, commit))
        if store is not None:
            store.save(commit, {"rows": df, "stats": counts})
        df = df.copy()
    if base is not None:
        df = _redecide_test_keys(df, ctx)
    stats.update(counts)
    stats["warnings"] = [f"rules: unknown key security.secrets.{k} (ignored)" for k in unknown_keys(rules or {})] \
        + long_line_warning(stats["long_lines"], max_line)
    return df, stats


def _chain(repo: str, commit: str, base: str) -> list[str] | None:
    """The commits of base..commit, newest first, when they are a line of single-parent commits on *base*."""
    from ..history import is_chain
    out = gitutil.run(repo, "rev-list", "--parents", "--end-of-options", commit, "^" + base, "--").decode().split("\n")
    rows = [ln.split() for ln in out if ln.strip()]
    if any(len(r) != 2 for r in rows):
        return None
    shas = [r[0] for r in rows]
    return shas if is_chain(shas, [r[1].encode() for r in rows], base) else None


def _canonical(df: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Occurrences in git log order of their commits, then by path, line and detector: one order whatever
    blocks the lines were read in (engines report a block's hits engine by engine)."""
    if df.empty:
        return _frame(df)
    rank = {s: i for i, s in enumerate(order)}
    key = df.assign(_rank=df["sha"].map(rank).fillna(len(rank)).astype("int64"))
    key = key.sort_values(["_rank", "path", "line", "engine", "detector_id", "fingerprint", "tier", "detector",
                           "action", "reason"], kind="mergesort")
    return _frame(key.drop(columns=["_rank"]))


def _valid_payload(p) -> bool:
    return (isinstance(p, dict) and isinstance(p.get("rows"), pd.DataFrame)
            and list(p["rows"].columns) == SECRET_COLUMNS and isinstance(p.get("stats"), dict)
            and all(isinstance(p["stats"].get(k), int) for k in ("lines", "checked", "long_lines"))
            and set(p["rows"]["action"]) <= {REPORT, DOWNGRADE, SUPPRESS})


def _redecide_test_keys(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Rows read at an older ref: the one decision that depends on the ref (a README at the ref saying a
    folder's keys are for tests) is taken again at this ref, exactly as :meth:`Context.decide` takes it."""
    if df.empty or ctx.readme_says_test is None:
        return df
    from ...globs import first_match
    cfg = ctx.cfg
    df = df.reset_index(drop=True)
    for i, r in enumerate(df.itertuples(index=False)):
        if r.tier != "provider" or not any(k in r.detector_id for k in cfg["test_key_detectors"]):
            continue
        if not ((r.action == REPORT and r.reason == "") or (r.action == DOWNGRADE and r.reason == TEST_KEY)):
            continue
        if first_match(r.path, cfg["tests"]):
            continue
        act = (DOWNGRADE, TEST_KEY) if ctx.readme_says_test(r.path) else (REPORT, "")
        if act != (r.action, r.reason):
            df.loc[i, ["action", "reason"]] = act
    return _frame(df)


def _scan_added(sc: Scanner, repo: str, commit: str, exclude: str | None, jobs: int, progress,
                max_line: int, patches: Iterable[tuple[str, bytes]] | None = None) -> tuple[pd.DataFrame, dict]:
    counts = {"lines": 0, "checked": 0, "long_lines": 0}
    rows: list[tuple] = []

    def done(res, blk):
        r, checked = res
        rows.extend(r)
        counts["lines"] += len(blk.lines) - len(blk.groups)
        counts["checked"] += checked
        counts["long_lines"] += blk.long_lines
        if progress is not None:
            progress.advance(len(blk.lines) - len(blk.groups))

    blocks = added_blocks(repo, commit, max_line, exclude=exclude) if patches is None else \
        blocks_from(patches, max_line)
    if jobs <= 1:
        for blk in blocks:
            done(sc.scan_block(blk), blk)
    else:
        with ThreadPoolExecutor(jobs) as ex:
            pending: list = []
            for blk in blocks:
                pending.append((ex.submit(sc.scan_block, blk), blk))
                while len(pending) > 2 * jobs:
                    f, b = pending.pop(0)
                    done(f.result(), b)
            for f, b in pending:
                done(f.result(), b)
    return _frame(rows), counts


def credential_files_by_name(changes: pd.DataFrame, files: pd.DataFrame, commit: str | None,
                             rules: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Credential files recognised by their name alone (``by_name: true`` classes: a PKCS#12 key store is
    binary, so no line of it is ever scanned): (occurrences in history: each commit that added or changed
    such a file; occurrences at the ref). The fingerprint is of the file's blob id (its content), never of
    the content itself; the line is 1."""
    from ...globs import any_regex
    cfg = settings(rules)
    ctx = Context(cfg, None)
    classes = [c for c in cfg["credential_files"] or [] if c.get("by_name")]
    out: list[list[tuple]] = [[], []]
    if not classes or commit is None:
        return _frame(out[0]), _frame(out[1])
    for c in classes:
        rx = any_regex(tuple(c.get("files") or ()))
        det = "ddkit." + str(c["id"])
        name, tier = str(c.get("name") or c["id"]), str(c.get("tier") or "generic")
        sources = []
        if len(changes):
            sources.append((0, zip(changes["sha"].tolist(), changes["path"].tolist(), changes["status"].tolist(),
                                   changes["blob"].tolist())))
        if len(files):
            sources.append((1, zip([commit] * len(files), files["path"].tolist(), ["A"] * len(files),
                                   files["blob"].tolist())))
        named: dict[str, bool] = {}    # one match per path (pip: 36,098 file changes, 4,430 paths)
        for k, rows in sources:
            for sha, path, status, blob in rows:
                if status == "D" or not isinstance(blob, str) or not blob.strip("0"):
                    continue
                hit = named.get(path)
                if hit is None:
                    hit = named[path] = rx.match(path) is not None
                if not hit:
                    continue
                action, reason = ctx.decide(tier, det, path, b"", blob.encode())
                out[k].append((sha, path, 1, name, fingerprint(blob), tier, det, "ddkit", action, reason))
    return _frame(out[0]), _frame(out[1])


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
