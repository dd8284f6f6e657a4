"""Extending a winnowed match to its exact extent (analyze/copy_extent.py): the truth is where each test put
the copied lines, not what ddkit computes."""

from __future__ import annotations

import io
import tarfile
import zipfile

from ddkit.analyze.copy_extent import extend
from ddkit.collect import fingerprints as fp

FUNC = [
    "def compute(values, factor=3, path='data.txt'):",
    "    total = 0",
    "    result = []",
    "    for index, value in enumerate(values):",
    "        if value % 7 == 2:",
    "            total -= value",
    "        while value > 40:",
    "            value //= 3",
    "        result.append((value, index))",
    "        total ^= index << 5",
    "    return {'total': total, 'count': len(values)}",
]
RENAMED = [line.replace("values", "xs").replace("total", "acc").replace("value", "v").replace("index", "i")
           .replace("result", "out").replace("compute", "calc") for line in FUNC]
REFORMATTED = ["def compute(values,", "            factor=3,", "            path='data.txt'):",
               "  total = 0", "", "  result = []",
               "  for index, value in enumerate(values):",
               "    if value % 7 == 2: total -= value",
               "    while value > 40:", "      value //= 3",
               "    result.append(", "      (value, index))",
               "", "    total ^= index << 5",
               "  return {'total': total,", "          'count': len(values)}"]
# Code around the copies whose normalised tokens differ from each other's at the boundaries.
REF_BEFORE = ["import os", "", "class Holder:", "    pass", ""]
REF_AFTER = ["", "raise SystemExit"]
TGT_BEFORE = ["# ours", "x = [1, 2]", "print(x)", ""]
TGT_AFTER = ["", "while True:", "    break"]
OTHER = ["", "async def other(a, b):", "    await a", "    yield b", ""]


def _stream(lines: list[str]) -> tuple[list[str], list[int]]:
    return fp.tokens("\n".join(lines) + "\n", "x.py")


def _middle_seed(lines: list[str], first: int, last: int) -> list[int]:
    """One k-gram hash from the middle of lines first..last (what winnowing might keep)."""
    toks, ln = _stream(lines)
    inside = [k for k in range(len(toks) - fp.K + 1) if first <= ln[k] and ln[k + fp.K - 1] <= last]
    return [int(fp.kgram_hashes(toks)[inside[len(inside) // 2]])]


def _run(target: list[str], ref: list[str], seeds):
    t, r = _stream(target), _stream(ref)
    return extend(t[0], t[1], r[0], r[1], seeds)


def test_renamed_identifiers_extend_to_the_whole_copy():
    ref = REF_BEFORE + FUNC + REF_AFTER
    target = TGT_BEFORE + RENAMED + TGT_AFTER
    r0, t0 = len(REF_BEFORE) + 1, len(TGT_BEFORE) + 1
    got = _run(target, ref, _middle_seed(ref, r0, r0 + len(FUNC) - 1))
    assert got == ([(t0, t0 + len(FUNC) - 1)], [(r0, r0 + len(FUNC) - 1)])


def test_reformatted_code_extends_over_its_new_layout():
    ref = REF_BEFORE + FUNC + REF_AFTER
    target = TGT_BEFORE + REFORMATTED + TGT_AFTER
    r0, t0 = len(REF_BEFORE) + 1, len(TGT_BEFORE) + 1
    got = _run(target, ref, _middle_seed(ref, r0, r0 + len(FUNC) - 1))
    assert got == ([(t0, t0 + len(REFORMATTED) - 1)], [(r0, r0 + len(FUNC) - 1)])


def test_copy_at_the_start_and_end_of_both_files():
    ref = FUNC
    target = RENAMED
    got = _run(target, ref, _middle_seed(ref, 1, len(FUNC)))
    assert got == ([(1, len(FUNC))], [(1, len(FUNC))])
    # At the start of one file and the end of the other.
    ref = REF_BEFORE + FUNC
    target = RENAMED + TGT_AFTER
    got = _run(target, ref, _middle_seed(ref, len(REF_BEFORE) + 1, len(ref)))
    assert got == ([(1, len(FUNC))], [(len(REF_BEFORE) + 1, len(ref))])


def test_two_separate_stretches_stay_two():
    second = ["def helper(a):", "    out = []", "    for k in range(a):", "        out.append(k * k + 1)",
              "    return sorted(out, reverse=True)"]
    ref = REF_BEFORE + FUNC + OTHER + second + REF_AFTER
    # (the line before the second copy ends with a number, the reference's with a name: the run stops there)
    target = TGT_BEFORE + RENAMED + ["", "print('between')", "assert x > 1", ""] + second + TGT_AFTER
    r1 = len(REF_BEFORE) + 1
    r2 = r1 + len(FUNC) + len(OTHER)
    t1 = len(TGT_BEFORE) + 1
    t2 = t1 + len(FUNC) + 4
    seeds = _middle_seed(ref, r1, r1 + len(FUNC) - 1) + _middle_seed(ref, r2, r2 + len(second) - 1)
    got = _run(target, ref, seeds)
    assert got == ([(t1, t1 + len(FUNC) - 1), (t2, t2 + len(second) - 1)],
                   [(r1, r1 + len(FUNC) - 1), (r2, r2 + len(second) - 1)])
    # Positive control: one seed finds only its own stretch (the extension does not bridge the gap).
    got = _run(target, ref, seeds[:1])
    assert got == ([(t1, t1 + len(FUNC) - 1)], [(r1, r1 + len(FUNC) - 1)])


def test_a_snippet_repeated_in_the_reference_maps_to_the_copy_only():
    snippet = FUNC[3:9]          # the loop, also present on its own elsewhere in the reference
    ref = ["def elsewhere(values):", "    result = []", "    total = 0"] + snippet + ["", "x = None", ""] + FUNC
    target = TGT_BEFORE + FUNC + TGT_AFTER
    toks, ln = _stream(ref)
    kg = fp.kgram_hashes(toks)
    r0 = len(ref) - len(FUNC) + 1
    seeds = [int(h) for k, h in enumerate(kg) if ln[k] >= 4]    # every k-gram of the loop, both places
    got = _run(target, ref, seeds)
    t0 = len(TGT_BEFORE) + 1
    assert got == ([(t0, t0 + len(FUNC) - 1)], [(r0, len(ref))])


def test_no_seed_in_the_text_read_again():
    # The reference changed since it was fingerprinted: nothing to extend, the caller keeps its ranges.
    assert _run(FUNC, FUNC, [12345]) is None
    assert _run(FUNC[:1], FUNC, _middle_seed(FUNC, 1, len(FUNC))) is None


def test_readers_read_what_the_walk_read(tmp_path):
    text = "\n".join(FUNC) + "\n"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.py").write_text(text)
    (tmp_path / "d" / "link.py").symlink_to(tmp_path / "d" / "a.py")
    r = fp.DirReader(str(tmp_path / "d"))
    assert r.tokens("a.py") == fp.tokens(text, "a.py")
    assert r.tokens("link.py") is None          # links are not followed (as the walk does not)
    assert r.tokens("missing.py") is None
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as z:
        z.writestr("pkg/a.py", text)
    assert fp.ArchiveReader(str(tmp_path / "c.zip")).tokens("pkg/a.py") == fp.tokens(text, "a.py")
    assert fp.ArchiveReader(str(tmp_path / "c.zip")).tokens("pkg/b.py") is None
    with tarfile.open(tmp_path / "c.tar.gz", "w:gz") as t:
        data = text.encode()
        info = tarfile.TarInfo("pkg/a.py")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    tr = fp.ArchiveReader(str(tmp_path / "c.tar.gz"))
    assert tr.tokens("pkg/a.py") == fp.tokens(text, "a.py")
    import pickle
    assert pickle.loads(pickle.dumps(tr)).tokens("pkg/a.py") == fp.tokens(text, "a.py")   # (scan-many's workers)
