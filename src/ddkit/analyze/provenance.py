"""Provenance: code the company may not own because it arrived fully formed (bulk imports).

Shared helpers of the provenance analyses (analyze/ai.py, the bulk-import rule below).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import globs
from ..config import Company, Rules
from ..schema import Finding
from .findings import finding
from .ownership import fmt_files


def excluded_paths(rules: Rules, company: Company, files: pd.DataFrame) -> Callable[[str], bool]:
    """Whether a path (at the ref or only in history) is vendored, generated or excluded: at the ref as
    the files stage classified it (its content markers included); elsewhere by the globs alone."""
    at_ref = dict(zip(files["path"].tolist(), files["category"].tolist())) if len(files) else {}
    pr = rules.get("paths", {})
    gl = tuple([g["glob"] for g in pr.get("vendored", [])] + list(company.vendored)
               + [g["glob"] for g in pr.get("generated", [])] + [e["glob"] for e in company.excludes])
    rx = globs.any_regex(gl)

    def excluded(path: str) -> bool:
        cat = at_ref.get(path)
        if cat is not None:
            return cat in ("vendored", "generated", "excluded")
        return rx.match(path) is not None
    return excluded


# ------------------------------------------------------------------ prov.bulk-import
# A URL in a comment near the top of a file ("# Taken from https://…", "// Source: http://…").
_URL_IN_COMMENT = re.compile(r"^\s*(?:#|//|/\*|\*|--|;|<!--|\")\W{0,3}.*?(?P<url>https?://[^\s\"'<>)]+)", re.I)
_HEAD_LINES = 40


def bulk_imports(rules: Rules, company: Company, commits: pd.DataFrame, changes: pd.DataFrame, blame: pd.DataFrame,
                 files: pd.DataFrame, people: pd.DataFrame, licenses: pd.DataFrame | None,
                 messages: pd.DataFrame | None, repo: str | None = None, roster_given: bool = False) -> list[Finding]:
    """``prov.bulk-import``: commits that created many files at once whose surviving lines are material.

    A commit qualifies when the files it *created* (status A; not binary, not vendored, generated or
    excluded) hold at least ``bulk_import_min_lines`` added lines across at least ``bulk_import_min_files``
    files, and the lines blame still gives to it are not de minimis (materiality in rules/findings.yaml).
    Renames and copies git detected are moves, not additions; merges carry no changes; a change to a file
    that existed is an edit, however large (a reformatting is not an import). Severity from the facts, never
    from the size: high when the author had no assignment in force on the commit's day (roster: none, or
    one signed later), when the commit predates incorporation or the author's start date, or when the
    created files name copyright holders that are not the company; medium otherwise.
    """
    if changes.empty or commits.empty:
        return []
    from .materiality import _settings, is_de_minimis
    min_lines = int(_threshold(rules, "bulk_import_min_lines", 1000))
    min_files = int(_threshold(rules, "bulk_import_min_files", 10))
    excluded = excluded_paths(rules, company, files)
    created: dict[str, list[tuple[str, int]]] = {}
    for sha, path, status, added, binary in zip(changes["sha"].tolist(), changes["path"].tolist(),
                                                changes["status"].tolist(), changes["added"].tolist(),
                                                changes["binary"].tolist()):
        if status == "A" and not binary and int(added) > 0 and not excluded(path):
            created.setdefault(sha, []).append((path, int(added)))
    cand = {sha: fl for sha, fl in created.items()
            if len(fl) >= min_files and sum(n for _, n in fl) >= min_lines}
    if not cand:
        return []
    total = int(blame["lines"].sum()) if len(blame) else 0
    held: dict[str, dict[str, int]] = {}
    for path, sha, n in zip(blame["path"].tolist(), blame["sha"].tolist(), blame["lines"].tolist()):
        if sha in cand:
            held.setdefault(sha, {})[path] = held.setdefault(sha, {}).get(path, 0) + int(n)
    mat = _settings(rules)
    by_sha = commits.set_index("sha", drop=False)
    person_of = people.set_index("person_id", drop=False) if len(people) else people
    subjects = dict(zip(messages["sha"].tolist(), messages["subject"].tolist())) if messages is not None and len(messages) else {}
    holders_of: dict[str, list[str]] = {}
    license_of: dict[str, str] = {}
    if licenses is not None and len(licenses):
        from .licenses import is_company
        for path, hs, spdx in zip(licenses["path"].tolist(), licenses["holders"].tolist(),
                                  licenses["license_spdx"].tolist()):
            foreign = [h for h in (hs if isinstance(hs, list) else []) if isinstance(h, str) and not is_company(h, company)]
            if foreign:
                holders_of[path] = foreign
            if isinstance(spdx, str) and spdx:
                license_of[path] = spdx
    out: list[Finding] = []
    for sha, created_files in cand.items():
        kept = held.get(sha, {})
        lines = sum(kept.values())
        if is_de_minimis(lines, total, mat["min_lines"], mat["min_share"]):
            continue
        c = by_sha.loc[sha]
        day = c.get("author_day")
        pid = c.get("person_id")
        p = person_of.loc[pid] if isinstance(pid, str) and pid in person_of.index else None
        person = str(c.get("person")) if isinstance(c.get("person"), str) else str(c.get("author_name_raw"))
        ptype = str(p["type"]) if p is not None else "unknown"
        facts_high: list[str] = []
        facts: list[str] = []
        unknown: list[str] = []
        inc = company.incorporation_date
        if inc is not None and isinstance(day, dt.date):
            if day < inc:
                facts_high.append(f"before incorporation ({inc.isoformat()})")
        elif inc is None:
            unknown.append("the incorporation date (no company profile date)")
        ip_status = "no roster" if not roster_given else "not on the roster"
        if p is not None and bool(p.get("in_roster", False)):
            start = p.get("start_date")
            if _is_date(start) and isinstance(day, dt.date) and day < start:
                facts_high.append(f"before the author's start date ({start.isoformat()})")
            sig, sig_date = p.get("ip_assignment"), p.get("ip_assignment_date")
            if ptype in ("bot", "ai-assistant"):
                ip_status = "not a person"
            elif sig == "not_required":
                ip_status = "assignment not required"
            elif sig != "signed":
                ip_status = f"assignment {sig or 'missing'}"
                facts_high.append(f"no IP assignment in force on that day ({ip_status})")
            elif _is_date(sig_date) and isinstance(day, dt.date) and sig_date > day:
                ip_status = f"assignment signed {sig_date.isoformat()}, after the commit"
                facts_high.append(f"no IP assignment in force on that day (signed later, {sig_date.isoformat()})")
            else:
                ip_status = "assignment signed" + (f" {sig_date.isoformat()}" if _is_date(sig_date) else "")
        elif roster_given:
            facts_high.append("the author is not on the roster (no assignment known)")
        else:
            unknown.append("the author's IP assignment (no roster)")
        paths_now = sorted(kept.items(), key=lambda kv: (-kv[1], kv[0]))
        foreign = sorted({h for path in kept for h in holders_of.get(path, [])})
        if foreign:
            facts_high.append("copyright holders that are not the company in those files: " + ", ".join(foreign[:5])
                              + (" …" if len(foreign) > 5 else ""))
        own_lic = company.outbound_license
        other_lic = sorted({license_of[path] for path in kept if path in license_of
                            and license_of[path].lower() != str(own_lic).lower()})
        if other_lic:
            facts.append("license headers other than the product's (" + str(own_lic) + "): " + ", ".join(other_lic[:5]))
        urls, others = _header_facts(repo, files, [pth for pth, _ in paths_now[:10]], company) if repo else ([], [])
        if urls:
            facts.append("source URLs in comments: " + ", ".join(urls[:3]))
        if others and not foreign:
            facts.append("names another organisation: " + ", ".join(others[:3]))
        severity = "high" if facts_high else "medium"
        added_total = sum(n for _, n in created_files)
        subject_line = subjects.get(sha, "")
        evidence = (f"Commit {sha[:12]} by {person} ({ptype}; {ip_status}) on "
                    f"{day.isoformat() if isinstance(day, dt.date) else 'an unknown day'} created {len(created_files)} "
                    f"files with {added_total} lines at once; {lines} of its lines survive "
                    f"({lines / total:.1%} of the code) in {len(kept)} files: {fmt_files(paths_now[:5])}. "
                    f"Message: \"{subject_line}\". "
                    + ("What makes it suspicious: " + "; ".join(facts_high + facts) + ". " if facts_high or facts else "")
                    + ("Not known: " + "; ".join(unknown) + "." if unknown else "")).strip()
        rec = finding(rules, "prov.bulk-import", person, evidence, rules.rule("prov.bulk-import")["remediation"],
                      lines_at_stake=lines, id_extra=sha, person=person, commits=1,
                      first_commit=day if isinstance(day, dt.date) else None,
                      last_commit=day if isinstance(day, dt.date) else None, first_sha=sha, last_sha=sha,
                      files=[p for p, _ in paths_now[:10]])   # a list of paths, as every finding's files
        over = rules.get("findings", {}).get("severities", {})
        rec["severity"] = str(over["prov.bulk-import"]) if "prov.bulk-import" in over else severity
        out.append(rec)
    return out


def _threshold(rules: Rules, name: str, default: float) -> float:
    return float(rules.get("findings", {}).get("thresholds", {}).get(name, default))


def _is_date(v) -> bool:
    return isinstance(v, dt.date) and not pd.isna(v)


# A legal entity's name: capitalised words ending in a company form ("Nucleus Systems Corp.", "Initrode GmbH").
_ENTITY = re.compile(r"\b((?:[A-Z][\w&-]*[ ,]+){1,4}(?:Inc|Corp|Corporation|Ltd|Limited|LLC|GmbH|AG|S\.A|B\.V|Pty|PLC)\b\.?)")


def _header_facts(repo: str, files: pd.DataFrame, paths: list[str], company: Company) -> tuple[list[str], list[str]]:
    """Near the top of these files at the ref: URLs in comments (other than the company's own domains) and
    names of organisations that are not the company."""
    from .. import gitutil
    from .licenses import is_company
    blob_of = dict(zip(files["path"].tolist(), files["blob"].tolist())) if len(files) else {}
    specs = [blob_of[p] for p in paths if p in blob_of]
    found: list[str] = []
    others: list[str] = []
    try:
        for _, data in gitutil.iter_objects(repo, specs):
            if not data:
                continue
            for line in data[:20000].decode("utf-8", "replace").splitlines()[:_HEAD_LINES]:
                for e in _ENTITY.findall(line):
                    name = " ".join(e.replace(",", " ").split())
                    if not is_company(name, company) and name not in others:
                        others.append(name)
                m = _URL_IN_COMMENT.match(line)
                if m:
                    url = m["url"].rstrip(".,;:")
                    host = url.split("/")[2].lower() if url.count("/") >= 2 else ""
                    if any(host == d or host.endswith("." + d) for d in company.domains):
                        continue
                    if url not in found:
                        found.append(url)
    except gitutil.GitError:
        pass
    return found, others


# ------------------------------------------------------------------ prov.copied-code
_COPIED_COLUMNS = ["path", "lines", "reference", "reference_path", "reference_lines", "similarity", "matched_lines",
                   "committed_by", "committed_sha", "committed_date", "surviving_lines"]


@dataclass
class RepoPrints:
    """The scanned repository's code at the ref, fingerprinted once (collect/fingerprints.py), and per file
    who committed most of its surviving lines: (person, sha, day, surviving lines). ``copied_code`` looks
    these up in the reference corpora; ``scan-many`` compares repositories of different companies with them
    (analyze/shared_code.py)."""

    corpus: Any
    owners: list[tuple[str | None, str | None, dt.date | None, int]]


def target_prints(repo: str, files: pd.DataFrame, blame: pd.DataFrame, commits: pd.DataFrame,
                  name: str = "") -> RepoPrints:
    """Every text file at the ref (not vendored, generated or excluded) with a code extension, fingerprinted
    like a reference."""
    from .. import gitutil
    from ..collect import fingerprints as fp
    if files.empty:
        return RepoPrints(fp.build_corpus(name, []), [])
    excluded = set(files.loc[files["category"] != "text", "path"].tolist())
    targets = [(p, b) for p, b in zip(files["path"].tolist(), files["blob"].tolist())
               if p not in excluded and fp._is_code(p)]

    def printed():
        for (path, _), (_, data) in zip(targets, gitutil.iter_objects(repo, [b for _, b in targets])):
            if data is None or len(data) > fp.MAX_FILE_BYTES:
                continue
            text = fp._decode(data)
            if text is None:
                continue
            th, ts, te = fp.fingerprints(text, path)
            if len(th):
                yield path, text.count("\n") + (0 if text.endswith("\n") else 1), th, ts, te
    corpus = fp.build_corpus(name, printed())
    corpus.reader = fp.GitReader(repo, blobs=dict(targets))     # (to extend a match exactly: copy_extent.py)
    by_file: dict[str, dict[str, int]] = {}
    for path, sha, n in zip(blame["path"].tolist(), blame["sha"].tolist(), blame["lines"].tolist()):
        by_file.setdefault(path, {})[sha] = by_file.setdefault(path, {}).get(sha, 0) + int(n)
    commit_of = commits.set_index("sha") if len(commits) else commits
    owners: list[tuple[str | None, str | None, dt.date | None, int]] = []
    for path in corpus.paths:
        held = by_file.get(path, {})
        top = max(held.items(), key=lambda kv: (kv[1], kv[0]))[0] if held else None
        who = when = None
        if top is not None and top in commit_of.index:
            c = commit_of.loc[top]
            who = c.get("person") if isinstance(c.get("person"), str) else c.get("author_name_raw")
            when = c.get("author_day") if isinstance(c.get("author_day"), dt.date) else None
        owners.append((str(who) if isinstance(who, str) else None, top, when, sum(held.values())))
    return RepoPrints(corpus, owners)


def per_file(corpus) -> list[tuple]:
    """(hashes, first lines, last lines) of each file of a corpus, in file order."""
    import numpy as np
    order = np.argsort(corpus.file, kind="stable")
    counts = np.bincount(corpus.file, minlength=len(corpus.paths)) if len(corpus.file) else np.zeros(len(corpus.paths), int)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    h, a, b = corpus.hashes[order], corpus.start[order], corpus.end[order]
    return [(h[bounds[i]:bounds[i + 1]], a[bounds[i]:bounds[i + 1]], b[bounds[i]:bounds[i + 1]])
            for i in range(len(corpus.paths))]


def copied_code(rules: Rules, corpora: list, repo: str, files: pd.DataFrame, blame: pd.DataFrame,
                commits: pd.DataFrame, prints: RepoPrints | None = None) -> tuple[list[Finding], pd.DataFrame]:
    """``prov.copied-code``: one finding per target file whose code matches a reference corpus.

    Every text file at the ref (not vendored, generated or excluded) with a code extension is fingerprinted
    like the references (collect/fingerprints.py) and looked up in each reference's index (sorted by
    hash). The reported pairs are extended to their exact extent (copy_extent.py). A target file is
    reported when its matched code covers at least ``copied_min_lines`` lines; similarity = matched
    fingerprints / the file's fingerprints. Fingerprints found in more than
    ``copied_max_ref_files`` reference files are boilerplate (license headers,
    ``if __name__ == "__main__":``) and ignored. Returns the findings and one row per (target file,
    reference file) match for the tables.
    """
    if not corpora or files.empty:
        return [], pd.DataFrame(columns=_COPIED_COLUMNS)
    prints = prints or target_prints(repo, files, blame, commits)
    findings: list[Finding] = []
    rows: list[dict] = []
    for fi, (th, ts, te) in enumerate(per_file(prints.corpus)):
        got = copied_file(rules, prints, fi, th, ts, te, len(th), corpora)
        if got is not None:
            findings.append(got[0])
            rows += got[1]
    return findings, pd.DataFrame(rows, columns=_COPIED_COLUMNS)


def copied_file(rules: Rules, target: RepoPrints, fi: int, th, ts, te, n_prints: int, corpora: list,
                others: list[RepoPrints] | None = None, intro: str = "matches reference code",
                id_extra: str = "") -> tuple[Finding, list[dict]] | None:
    """The ``prov.copied-code`` finding of the target's file *fi* (its fingerprints *th*, *ts*, *te*, of
    *n_prints* in all) against *corpora*, and its table rows; None when it matches too little. With
    *others* (one per corpus: another repository of the portfolio), each match also says who committed the
    matching code there and when."""
    import numpy as np
    min_lines = int(_threshold(rules, "copied_min_lines", 8))
    max_ref = int(_threshold(rules, "copied_max_ref_files", 20))
    # Each target fingerprint's occurrences in every corpus (sorted by hash: a binary search each).
    occurs: dict[int, list[tuple[int, int, int, int]]] = {}
    for ci, c in enumerate(corpora):
        lo = np.searchsorted(c.hashes, th, side="left")
        hi = np.searchsorted(c.hashes, th, side="right")
        for i in np.flatnonzero((hi > lo) & ((hi - lo) <= max_ref * 4)).tolist():
            occurs.setdefault(i, []).extend((ci, int(c.file[j]), int(c.start[j]), int(c.end[j]))
                                            for j in range(int(lo[i]), int(hi[i])))
    # Per reference file: which target fingerprints matched it, and the reference lines they cover.
    per_ref: dict[tuple[int, int], tuple[set[int], list[tuple[int, int]]]] = {}
    for i, occ in occurs.items():
        if len({(ci, f) for ci, f, _, _ in occ}) > max_ref:
            continue        # boilerplate: in too many reference files to say where it came from
        for ci, f, a, b in occ:
            tset, rr = per_ref.setdefault((ci, f), (set(), []))
            tset.add(i)
            rr.append((a, b))
    if not per_ref:
        return None
    ranked = sorted(per_ref.items(), key=lambda kv: (-len(kv[1][0]), kv[0]))
    all_hit = set().union(*(v[0] for v in per_ref.values()))
    # The reported pairs' exact extents (copy_extent.py): each match extended token by token in both files;
    # a pair whose files cannot be read again keeps its fingerprints' ranges.
    exact = _extents(target, fi, th, ranked[:3], corpora)
    t_ranges = _merge([(int(ts[i]), int(te[i])) for i in sorted(all_hit)]
                      + [r for got in exact.values() for r in got[0]])
    covered = sum(b - a + 1 for a, b in t_ranges)
    if covered < min_lines:
        return None
    path = target.corpus.paths[fi]
    n_lines = int(target.corpus.lines[fi])
    who, top_sha, when, surviving = target.owners[fi] if fi < len(target.owners) else (None, None, None, 0)
    similarity = round(len(all_hit) / n_prints, 3)
    rows: list[dict] = []
    refs_txt = []
    for (ci, rfi), (tset, rr) in ranked[:3]:
        corpus = corpora[ci]
        if (ci, rfi) in exact:
            m_ranges, r_ranges = exact[(ci, rfi)]
        else:
            m_ranges, r_ranges = _merge([(int(ts[i]), int(te[i])) for i in sorted(tset)]), _merge(sorted(rr))
        rows.append(dict(path=path, lines=n_lines, reference=corpus.name, reference_path=corpus.paths[rfi],
                         reference_lines=_fmt_ranges(r_ranges), similarity=round(len(tset) / n_prints, 3),
                         matched_lines=_fmt_ranges(m_ranges),
                         committed_by=who, committed_sha=top_sha, committed_date=when, surviving_lines=surviving))
        there = ""
        if others is not None:
            o_who, o_sha, o_when, _ = others[ci].owners[rfi]
            if o_who:
                there = (f", committed there by {o_who} in {str(o_sha)[:12]}"
                         + (f" on {o_when.isoformat()}" if isinstance(o_when, dt.date) else ""))
        refs_txt.append(f"{corpus.name}:{corpus.paths[rfi]} lines {_fmt_ranges(r_ranges, 4)} "
                        f"({len(tset) / n_prints:.0%} of the file's fingerprints{there})")
    evidence = (f"{path} {intro}: lines {_fmt_ranges(t_ranges, 6)} ({covered} of {n_lines} lines; "
                f"similarity {similarity:.0%}) match " + "; ".join(refs_txt)
                + (f". Most of its {surviving} surviving lines were committed by {who} in {str(top_sha)[:12]}"
                   + (f" on {when.isoformat()}" if isinstance(when, dt.date) else "") if who else "") + ".")
    rec = finding(rules, "prov.copied-code", path, evidence, rules.rule("prov.copied-code")["remediation"],
                  path=path, lines_at_stake=min(covered, surviving) if surviving else covered, id_extra=id_extra,
                  person=who, first_sha=top_sha, last_sha=top_sha, first_commit=when,
                  line=t_ranges[0][0], end_line=t_ranges[-1][1])
    return rec, rows


def _extents(target: RepoPrints, fi: int, th, pairs: list, corpora: list) -> dict[tuple[int, int], tuple[list, list]]:
    """(target ranges, reference ranges) of each of *pairs* ((corpus, reference file), (matched target
    fingerprints, ...)) extended exactly; a pair absent when either file cannot be read again."""
    from .copy_extent import extend
    t_reader = getattr(target.corpus, "reader", None)
    t_stream = t_reader.tokens(target.corpus.paths[fi]) if t_reader is not None else None
    out: dict[tuple[int, int], tuple[list, list]] = {}
    if t_stream is None:
        return out
    for (ci, rfi), (tset, _) in pairs:
        reader = getattr(corpora[ci], "reader", None)
        r_stream = reader.tokens(corpora[ci].paths[rfi]) if reader is not None else None
        if r_stream is None:
            continue
        got = extend(t_stream[0], t_stream[1], r_stream[0], r_stream[1], th[sorted(tset)])
        if got is not None:
            out[(ci, rfi)] = got
    return out


def _merge(ranges: list[tuple[int, int]], gap: int = 1) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + gap:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _fmt_ranges(ranges: list[tuple[int, int]], n: int | None = None) -> str:
    shown = ranges if n is None else ranges[:n]
    txt = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in shown)
    return txt + (f" … (+{len(ranges) - n} more)" if n is not None and len(ranges) > n else "")
