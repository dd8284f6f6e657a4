"""What makes a re-scan after one commit fast (issue 17) gives exactly what the slow way gives.

Each shortcut is checked against the way it replaced: the dependency parses kept per (path, blob), the
manifest patterns kept per ScanCode version, the compiled Hyperscan screen, the workbook's reused cell
styles and memoised line counts, the plain-Python groupings of people, IP windows and file ownership.
A damaged cache file is recomputed, never trusted.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import pickle
import posixpath
import random

import pandas as pd
import pytest
from openpyxl import Workbook

import ddkit
from ddkit import cache as cache_mod
from ddkit.collect import dependencies as deps_mod
from ddkit.collect import manifests as manifests_mod
from ddkit.report import xlsx_layout as L
from ddkit.report.xlsx_tables import ownership_by_file

AS_OF = "2024-06-30"


# ----------------------------------------------------------------------------- dependencies
def _json(repo, cache, monkeypatch, tmp_path, label):
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(cache))
    s = ddkit.scan(str(repo.path), as_of=AS_OF, licenses=False, secrets=False)
    out = tmp_path / f"{label}.json"
    s.to_json(out)
    return s, out.read_text()


def _deps_repo(make_repo):
    r = make_repo()
    r.commit({"requirements.txt": "flask==2.0.1\nrequests>=2\n",
              "web/package.json": '{"name": "web", "version": "1.0.0", "dependencies": {"left-pad": "1.3.0"}}',
              "app.py": "print(1)\n"}, name="Ann", email="ann@acme.com", date="2021-01-01T10:00:00+00:00")
    return r


def test_rescan_equals_cold_when_manifests_change(make_repo, tmp_path, monkeypatch):
    r = _deps_repo(make_repo)
    warm = tmp_path / "warm"
    _json(r, warm, monkeypatch, tmp_path, "first")
    r.commit({"requirements.txt": "flask==2.0.2\nrequests>=2\nattrs\n"}, name="Bob", email="bob@acme.com",
             date="2021-02-01T10:00:00+00:00")
    r.commit({"app.py": "print(2)\n"}, name="Ann", email="ann@acme.com", date="2021-03-01T10:00:00+00:00")
    parsed = []
    real = deps_mod.parse_manifest
    monkeypatch.setattr(deps_mod, "parse_manifest", lambda path, data, *a: parsed.append(path) or real(path, data, *a))
    s_w, j_w = _json(r, warm, monkeypatch, tmp_path, "warm")
    # Only the manifest's new version is parsed: once at the ref, once for its history.
    assert parsed == ["requirements.txt", "requirements.txt"]
    parsed.clear()
    s_c, j_c = _json(r, tmp_path / "cold", monkeypatch, tmp_path, "cold")
    assert sorted(parsed) == ["requirements.txt", "requirements.txt", "requirements.txt", "web/package.json",
                              "web/package.json"]
    assert j_w == j_c
    assert "attrs" in set(s_w.dependencies["name"]) and "left-pad" in set(s_w.dependencies["name"])
    pd.testing.assert_frame_equal(s_w.dependencies, s_c.dependencies)


@pytest.mark.parametrize("damage", ["garbage", "wrong-shape"])
def test_corrupt_manifest_entry_is_recomputed(make_repo, tmp_path, monkeypatch, damage):
    r = _deps_repo(make_repo)
    cache = tmp_path / "c"
    s0, j0 = _json(r, cache, monkeypatch, tmp_path, "first")
    entries = sorted((cache / "incremental").rglob("manifests-at-ref/*.pkl"))
    assert len(entries) == 1
    p = entries[0]
    raw = p.read_bytes()
    if damage == "garbage":
        p.write_bytes(raw[:-10] + b"0123456789")
    else:     # a well-formed entry (header and checksum right) holding rows of another shape
        kind, body = cache_mod.inspect(p)
        payload = pickle.loads(body)
        key = next(iter(payload))
        payload[key] = ([{"purl": "pkg:pypi/evil"}], {}, [])
        cache_mod.save(p, cache_mod.pickle_codec(kind), payload)
    # The scan result itself is cached too: drop it, so the dependencies stage runs again.
    for q in (cache / "incremental").rglob("scan/*.pkl"):
        q.unlink()
    parsed = []
    real = deps_mod.parse_manifest
    monkeypatch.setattr(deps_mod, "parse_manifest", lambda path, data, *a: parsed.append(path) or real(path, data, *a))
    s1, j1 = _json(r, cache, monkeypatch, tmp_path, "again")
    assert sorted(parsed) == ["requirements.txt", "web/package.json"]      # both parsed again at the ref
    assert j1 == j0
    assert "pkg:pypi/evil" not in set(s1.dependencies["purl"])


@pytest.mark.parametrize("damage", ["garbage", "wrong shape"])
def test_manifest_path_flags_kept_and_equal_to_matching_each_path(make_repo, tmp_path, monkeypatch, damage):
    """manifest_paths keeps is_manifest_path per path: the kept answers are the function's, only new paths
    are matched, and a damaged entry is matched again, never trusted."""
    r = _deps_repo(make_repo)
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    paths = ["requirements.txt", "web/package.json", "app.py", "Cargo.lock", "a/b/setup.py", "pom.xml",
             "docs/requirements.txt", ".npmrc", "x/.package-lock.json", "README.md", "go.mod", "weird name.gemspec"]
    calls: list[str] = []
    real = deps_mod.is_manifest_path
    monkeypatch.setattr(deps_mod, "is_manifest_path", lambda p: calls.append(p) or real(p))
    want = {p: real(p) for p in paths}
    assert any(want.values()) and not all(want.values())
    assert deps_mod.manifest_paths(str(r.path), paths + paths[:3]) == want
    assert sorted(calls) == sorted(paths)                       # each distinct path matched once
    calls.clear()
    assert deps_mod.manifest_paths(str(r.path), paths[:5]) == {p: want[p] for p in paths[:5]}
    assert calls == []                                          # all kept
    assert deps_mod.manifest_paths(str(r.path), ["new/package.json", *paths]) == {"new/package.json": True, **want}
    assert calls == ["new/package.json"]                        # only the new one
    entries = sorted((tmp_path / "c" / "incremental").rglob("manifest-paths/*.pkl"))
    assert len(entries) == 1
    raw = entries[0].read_bytes()
    if damage == "garbage":
        entries[0].write_bytes(raw[:-10] + b"0123456789")
    else:     # sealed with this cache's key, a payload of another shape (a path's answer not a bool)
        kind, body = cache_mod.inspect(entries[0])
        cache_mod.save(entries[0], cache_mod.pickle_codec(kind), {p: "yes" for p in pickle.loads(body)})
    calls.clear()
    assert deps_mod.manifest_paths(str(r.path), paths) == want
    assert sorted(calls) == sorted(paths)                       # matched again


def test_manifest_patterns_cached_and_matched_like_fnmatch(tmp_path, monkeypatch):
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    manifests_mod._pattern_sets.cache_clear()
    manifests_mod._matchers.cache_clear()
    try:
        hs = manifests_mod.handlers()
        every = sorted({p for h in hs for p in h.path_patterns})
        lock = {p for h in hs if h.datasource_id in manifests_mod.LOCKFILE_IDS for p in h.path_patterns}
        man = {p for h in hs if h.datasource_id in manifests_mod.MANIFEST_IDS for p in h.path_patterns}
        assert manifests_mod._patterns() == tuple(every)
        files = list((tmp_path / "c" / "packagedcode").glob("patterns-*.json"))
        assert len(files) == 1
        # A damaged file is read again from ScanCode (and rewritten).
        for bad in ("{not json", '{"manifest": [], "lockfile": ["*.lock"]}', '{"manifest": [1], "lockfile": []}'):
            files[0].write_text(bad)
            manifests_mod._pattern_sets.cache_clear()
            assert manifests_mod._patterns() == tuple(every)
        manifests_mod._pattern_sets.cache_clear()
        manifests_mod._matchers.cache_clear()
        paths = ["package.json", "a/package-lock.json", ".package-lock.json", "x/yarn.lock", "go.sum", "go.mod",
                 "Cargo.lock", "Cargo.toml", "requirements-dev.txt", "requirements/base.txt", "setup.py", "setup.cfg",
                 "Pipfile", "Pipfile.lock", "composer.lock", "a/b/pom.xml", "build.gradle", "foo.gemspec",
                 "Gemfile.lock", "README.md", "src/app.py", ".hidden/package.json", "docs/requirements.txt",
                 "pyproject.toml", "poetry.lock", "x/.npmrc", "vendor/x/composer.json", "[weird]/setup.py"]
        for p in paths:
            name = posixpath.basename(p)
            want = not (name.startswith(".") and name != ".package-lock.json") and any(
                fnmatch.fnmatchcase("/" + p, pat) for pat in every)
            assert deps_mod.is_manifest_path(p) == want, p
            want_lock = any(fnmatch.fnmatchcase("/" + p, pat) for pat in lock) and not any(
                fnmatch.fnmatchcase("/" + p, pat) for pat in man)
            assert deps_mod.is_lockfile_path(p) == want_lock, p
    finally:
        manifests_mod._pattern_sets.cache_clear()
        manifests_mod._matchers.cache_clear()


# ----------------------------------------------------------------------------- secrets screen
def test_hyperscan_database_cached_and_corrupt_file_recompiled(tmp_path, monkeypatch):
    pytest.importorskip("hyperscan")
    from ddkit.collect.secrets.detectors import DetectorSet
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    text = b"x = 1\nexport API_TOKEN=abcdefgh12345\npassword = 'Zq8!vLm2Rt7wXp'\n"
    starts = [0]
    for line in text.split(b"\n"):
        starts.append(starts[-1] + len(line) + 1)
    want = DetectorSet(screen=True).candidates(text, starts)
    assert want
    # two screens: the detectors for every file, and those restricted to file names (credential files)
    files = sorted((tmp_path / "c" / "hyperscan").glob("*.hsdb"))
    assert len(files) == 2
    assert DetectorSet(screen=True).candidates(text, starts) == want          # loaded from the files
    for f in files:
        raw = f.read_bytes()
        for bad in (raw[:-100] + b"x" * 100, raw[:64], b"", raw[:64] + raw[64:200]):
            f.write_bytes(bad)
            assert DetectorSet(screen=True).candidates(text, starts) == want  # compiled again
            assert f.read_bytes() == raw or cache_mod.inspect(f) is not None   # rewritten, sealed


# ----------------------------------------------------------------------------- workbook
def _old_text_lines(text, width, bold=False, size=L.FONT_SIZE):
    """The measure as it was before memoising (the reference)."""
    def units(ch):
        return L._char_units(ch) * (1.08 if bold else 1.0)
    if not text:
        return 1
    avail = max(1.0, (width - 1.0) * L.FONT_SIZE / size * 0.97)
    total = 0
    for para in str(text).split("\n"):
        lines, cur = 1, 0.0
        for word in para.split(" "):
            w = sum(units(c) for c in word)
            space = L._char_units(" ") if cur > 0 else 0.0
            if cur + space + w <= avail:
                cur += space + w
                continue
            if cur > 0:
                lines += 1
                cur = 0.0
            while w > avail:
                lines += 1
                w -= avail
            cur = w
        total += lines
    return total


def test_memoised_text_measure_equals_the_plain_one():
    rng = random.Random(17)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:'!|()[]/\\-mwMW@%é漢\n"
    assert L._SPACE == L.char_units(" ")
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        width, bold, size = rng.choice([5, 9, 12.5, 30, 44, 110]), rng.random() < 0.3, rng.choice([8, 10])
        assert L.text_lines(text, width, bold, size) == _old_text_lines(text, width, bold, size)
        assert L.char_units(text[:1] or "a", bold) == L._char_units(text[:1] or "a") * (1.08 if bold else 1.0)


def test_table_cells_styled_as_one_by_one():
    """write_table reuses each cell's style: every cell must carry exactly what set_cell, the alignment and the
    number format would have given it, and the workbook's style table must be the one the plain way builds."""
    df = pd.DataFrame({
        "text": ["plain", "=1+1", "+cmd", None, "two\nlines", "x" * 5000],
        "n": [1, 2.0, None, 4, 5, 6], "share": [0.5, None, 1, 0.25, 0.1, 0.0],
        "day": [dt.date(2021, 1, 1), None, "2021-02-03", "not a date", dt.datetime(2021, 1, 2, 3, 4), None],
        "when": [dt.datetime(2021, 1, 2, 3, 4), None, None, None, None, dt.date(2020, 1, 1)],
        "flag": [True, False, None, True, False, True], "rule": ["a.b"] * 6, "sha": ["0123456789abcdef"] * 6,
    })
    cols = [L.Col("text", "Text", 20), L.Col("n", "N", 8, "int"), L.Col("share", "Share", 8, "pct"),
            L.Col("day", "Day", 10.5, "date"), L.Col("when", "When", 12), L.Col("flag", "Flag", 6, "bool"),
            L.Col("n", "Num", 8, "num"), L.Col("sha", "Commit", 11, "sha"), L.Col("rule", "Rule id", 14, "id")]
    wb = Workbook()
    ws = wb.active
    L.write_table(ws, df, "T", cols, link=lambda sha: f"https://example.com/{sha}")

    ref = Workbook()
    rs = ref.active
    for j in range(1, len(cols) + 1):
        rs.cell(row=1, column=j)           # the header is not under test here
    for r, rec in enumerate(df.to_dict(orient="records"), start=2):
        for j, c in enumerate(cols, start=1):
            v = L.cell_value(c, rec)
            size = 8 if c.kind == "id" else L.FONT_SIZE
            if isinstance(v, str):
                v = L.fit_text(v, c.width, max_lines=c.max_lines, size=size)
            cell = L.set_cell(rs, r, j, v, L.SMALL_FONT if c.kind == "id" else None)
            cell.alignment = L.WRAP if isinstance(v, str) else L.TOP
            if c.kind == "date" and isinstance(v, (dt.date, dt.datetime)):
                cell.number_format = "yyyy-mm-dd"
            elif c.kind == "pct" and isinstance(v, (int, float)):
                cell.number_format = "0%"
            elif c.kind in ("int", "num") and isinstance(v, (int, float)):
                cell.number_format = "#,##0" if c.kind == "int" else "#,##0.0"
            if c.kind == "sha":
                cell.font = L.LINK_FONT
            got = ws.cell(row=r, column=j)
            assert (got.value, got.data_type) == (cell.value, cell.data_type), (r, c.key)
            assert copy.copy(got.font) == copy.copy(cell.font), (r, c.key)     # (the proxies do not compare)
            assert copy.copy(got.alignment) == copy.copy(cell.alignment), (r, c.key)
            assert got.number_format == cell.number_format, (r, c.key)
            assert got.quotePrefix == cell.quotePrefix, (r, c.key)
    assert ws.cell(row=3, column=1).quotePrefix and ws.cell(row=4, column=1).quotePrefix
    assert ws.cell(row=2, column=4).number_format == "yyyy-mm-dd"


def test_table_columns_named_from_the_header(tmp_path, monkeypatch):
    """write_table names the table's columns itself (openpyxl would build every cell of the table to read the
    header row): the names are the header cells', and the saved table reads back with them."""
    from openpyxl import load_workbook
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    cols = [L.Col("a", "Surviving lines", 8, "int"), L.Col("b", "Owners & <co>", 20)]
    wb = Workbook()
    ws = wb.active
    L.write_table(ws, df, "T", cols)
    from openpyxl.worksheet.worksheet import Worksheet

    def no_range(self, key):
        raise AssertionError(f"the writer fetched {key}")
    with monkeypatch.context() as m:
        m.setattr(Worksheet, "__getitem__", no_range)
        wb.save(tmp_path / "t.xlsx")
    t = load_workbook(tmp_path / "t.xlsx").active.tables["T"]
    assert [c.name for c in t.tableColumns] == ["Surviving lines", "Owners & <co>"]


def _old_ownership_by_file(own):
    """The pandas version (the reference)."""
    rows = []
    for (path, module), g in own.groupby(["path", "module"], sort=True):
        g = g.sort_values(["lines", "person"], ascending=[False, True], kind="stable")
        total = int(g["lines"].sum())
        top = g.head(6)
        owners = "; ".join(f"{p} ({int(n)})" for p, n in zip(top["person"], top["lines"]))
        if len(g) > 6:
            owners += f"; {len(g) - 6} others ({int(g['lines'].iloc[6:].sum())})"
        gone = int(g.loc[g["departed"].astype(bool), "lines"].sum())
        out = int(g.loc[g["type"].isin(["contractor", "vendor"]), "lines"].sum())
        rows.append(dict(path=path, module=module, lines=total, owners=owners,
                         top_owner_classification=g["classification"].iloc[0],
                         departed_share=round(gone / total, 4) if total else 0.0,
                         outsourced_share=round(out / total, 4) if total else 0.0, people=len(g)))
    return pd.DataFrame(rows, columns=["path", "module", "lines", "owners", "top_owner_classification",
                                       "departed_share", "outsourced_share", "people"])


def test_ownership_by_file_equals_the_grouped_frame():
    rng = random.Random(3)
    recs = []
    for _ in range(400):
        path = f"m{rng.randint(0, 3)}/f{rng.randint(0, 40)}.py"
        typ = rng.choice(["employee", "contractor", "vendor", "unknown"])
        recs.append(dict(path=path, module=path.split("/")[0] if rng.random() > 0.02 else None,
                         person=rng.choice("ABCDEFGHIJ"), type=typ, vendor=None, classification=typ,
                         departed=rng.choice([True, False]), lines=rng.choice([0, 1, 1, 2, 3, 10, 50]),
                         share_of_file=0.1))
    own = pd.DataFrame(recs).drop_duplicates(["path", "person"])
    pd.testing.assert_frame_equal(ownership_by_file(own), _old_ownership_by_file(own))


# ----------------------------------------------------------------------------- people
def test_person_names_most_commits_first_then_by_name(make_repo):
    r = make_repo()
    for name, day in (("Zed Q", 1), ("Anna Q", 2), ("Zed Q", 3), ("Anna Q", 4), ("Bea Q", 5)):
        r.commit({f"f{day}.txt": "x\n"}, name=name, email="q@acme.com", date=f"2021-01-0{day}T10:00:00+00:00")
    s = ddkit.scan(r.path, licenses=False, secrets=False, as_of=AS_OF)
    row = s.people[s.people["emails"].map(lambda e: "q@acme.com" in e)]
    assert len(row) == 1
    assert list(row["names"].iloc[0]) == ["Anna Q", "Zed Q", "Bea Q"]      # 2, 2 (tie: by name), 1
    assert row["person"].iloc[0] == "Anna Q"


# ----------------------------------------------------------------------------- files at the ref
def test_file_kinds_kept_per_blob_and_damaged_entry_recomputed(make_repo, tmp_path, monkeypatch):
    from ddkit import gitutil
    from ddkit.collect import tree
    from ddkit.config import load_company, load_rules
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    rules, company = load_rules(None), load_company(None)
    pointer = ("version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 12345\n")
    r = make_repo()
    r.commit({"model.bin": pointer, "gen.py": "# Code generated by protoc. DO NOT EDIT.\nx = 1\n",
              "a.py": "print(1)\n", "ai.txt": "%PDF-1.4 plain text looking\n"})
    reads = []
    real = gitutil.iter_objects
    monkeypatch.setattr(gitutil, "iter_objects", lambda repo, specs: reads.append(list(specs)) or real(repo, specs))

    def kinds(commit):
        df = tree.list_files(str(r.path), commit, rules, company)
        return dict(zip(df["path"], zip(df["category"], df["reason"])))
    head = r.git("rev-parse", "HEAD")
    first = kinds(head)
    assert first["model.bin"][0] == "lfs-pointer" and first["gen.py"][0] == "generated"
    assert first["ai.txt"][0] == "binary" and first["a.py"] == ("text", "")
    assert len(reads[-1]) == 4
    reads.clear()
    assert kinds(head) == first and reads in ([], [[]])                        # nothing read again
    r.commit({"a.py": "# DO NOT EDIT\nprint(2)\n"})
    head2 = r.git("rev-parse", "HEAD")
    reads.clear()
    second = kinds(head2)
    assert [len(x) for x in reads] == [1] and second["a.py"][0] == "generated"   # only the changed blob
    entry = next((tmp_path / "c" / "incremental").rglob("sniff/*.pkl"))
    body = entry.read_bytes()
    entry.write_bytes(body[:-20] + b"x" * 20)
    reads.clear()
    assert kinds(head2) == second and [len(x) for x in reads] == [4]           # damaged: all read again


# ----------------------------------------------------------------------------- the command line's exit
def test_command_line_exit_runs_exit_handlers_and_keeps_the_status(tmp_path):
    """The entry point (run()) ends the process as Python does: the exit handlers run, the output is
    flushed, and the exit status is the command's own."""
    import subprocess
    import sys
    v = subprocess.run([sys.executable, "-m", "ddkit", "--version"], capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.startswith("ddkit, version ")
    bad = subprocess.run([sys.executable, "-m", "ddkit", "scan", str(tmp_path / "missing"), "--quiet"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "error" in bad.stderr
    marker = tmp_path / "handler-ran"
    code = ("import atexit, sys; from pathlib import Path\n"
            f"atexit.register(lambda: Path({str(marker)!r}).write_text('yes'))\n"
            "print('buffered line', end='')\n"
            "sys.argv = ['ddkit', 'scan', '--help']\n"
            "from ddkit.cli import run; run()\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("buffered line") and "Usage:" in p.stdout
    assert marker.read_text() == "yes"
