"""The exact extent of a copy, once winnowing has found one (``--reference``, ``scan-many``'s shared code).

Winnowing keeps one k-gram in each window of W, so a shared run of normalised tokens is found but its ends
are not: up to W - 1 tokens may be missed at each end, and k-grams found in too many reference files are
dropped as boilerplate, so a copy whose first lines are a common prologue was reported from after it. Here,
for one matched pair (target file, reference file) only, both files' normalised token streams are compared
directly: every matched fingerprint is a seed (a k-gram present in both, its tokens checked equal), and each
seed is extended token by token in both directions as far as the two streams stay equal. The result is the
maximal identical run around each seed, whatever winnowing or the boilerplate rule kept inside it.

Cost: linear in the two files' tokens (one k-gram hash pass each, numpy) plus the length of the runs; a seed
already inside a run on the same alignment is not extended again, and a k-gram repeated within a file
pairs at most ``_MAX_PAIRS`` times. Overlapping runs are tiled greedily, longest first (a run whose target
tokens are all inside longer runs adds nothing), so a snippet repeated in the reference does not add its
second place to the reference's ranges.
"""

from __future__ import annotations

import numpy as np

from ..collect import fingerprints as fp

_MAX_PAIRS = 8      # occurrences of one k-gram considered on each side


def extend(t_toks: list[str], t_lines: list[int], r_toks: list[str], r_lines: list[int],
           seeds) -> tuple[list[tuple[int, int]], list[tuple[int, int]]] | None:
    """(target line ranges, reference line ranges) of the maximal identical normalised-token runs of the two
    token streams that contain a k-gram whose hash is in *seeds*; None when no seed is found in both (the
    text read is not what was fingerprinted)."""
    K = fp.K
    if len(t_toks) < K or len(r_toks) < K:
        return None
    want = np.unique(np.asarray(seeds, np.uint64))
    kt, kr = fp.kgram_hashes(t_toks), fp.kgram_hashes(r_toks)
    pt = np.flatnonzero(np.isin(kt, want))
    pr = np.flatnonzero(np.isin(kr, want))
    in_ref: dict[int, list[int]] = {}
    for q in pr.tolist():
        got = in_ref.setdefault(int(kr[q]), [])
        if len(got) < _MAX_PAIRS:
            got.append(q)
    seen_t: dict[int, int] = {}
    runs: list[tuple[int, int, int, int]] = []          # target tokens [a, e), reference tokens [b, f)
    done: dict[int, list[tuple[int, int]]] = {}          # per alignment (p - q): target runs found
    nt, nr = len(t_toks), len(r_toks)
    for p in pt.tolist():
        h = int(kt[p])
        if seen_t.get(h, 0) >= _MAX_PAIRS:
            continue
        seen_t[h] = seen_t.get(h, 0) + 1
        for q in in_ref.get(h, ()):
            d = p - q
            if any(a <= p < e for a, e in done.get(d, ())):
                continue
            if t_toks[p:p + K] != r_toks[q:q + K]:
                continue        # a hash collision
            a, b = p, q
            while a > 0 and b > 0 and t_toks[a - 1] == r_toks[b - 1]:
                a, b = a - 1, b - 1
            e, f = p + K, q + K
            while e < nt and f < nr and t_toks[e] == r_toks[f]:
                e, f = e + 1, f + 1
            done.setdefault(d, []).append((a, e))
            runs.append((a, e, b, f))
    if not runs:
        return None
    covered = np.zeros(nt, bool)
    t_ranges, r_ranges = [], []
    for a, e, b, f in sorted(runs, key=lambda r: (r[0] - r[1], r[0], r[2])):
        if covered[a:e].all():
            continue
        covered[a:e] = True
        t_ranges.append((t_lines[a], t_lines[e - 1]))
        r_ranges.append((r_lines[b], r_lines[f - 1]))
    return merge(t_ranges), merge(r_ranges)


def merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or adjacent line ranges as one."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
