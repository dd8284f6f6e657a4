"""Bounded work on hostile input files (issue #23, part 5): YAML, JSON, XLSX, manifests, disk full.

Each test refuses (or reads in bounded time) an input built to ask a parser for far more than it is, and
has a positive control showing that the input really asks for it: without the limit, the bad behaviour
(an expansion of millions of nodes, a RecursionError, gigabytes inflated, quadratic time) happens.
"""

from __future__ import annotations

import copy
import errno
import json
import random
import re
import sys
import time
from pathlib import Path

import pytest
import yaml

import hostile_inputs as H  # tests/ (on the path: tests/conftest.py)
from ddkit import limits
from ddkit.errors import InputError


# ----------------------------------------------------------------------------- YAML
@pytest.mark.parametrize("text,needle", [
    (H.yaml_laughs(), "expands to more than"),
    (H.yaml_merge_bomb(), "expands to more than"),
    (H.yaml_deep(3000), "nest"),
    (H.yaml_deep(200), "nests more than 64"),
    (H.yaml_recursive(), "recursive alias"),
])
def test_yaml_bombs_refused_quickly(text, needle):
    t = time.perf_counter()
    with pytest.raises(InputError, match=needle) as e:
        limits.load_yaml_text(text, "f.yaml")
    assert str(e.value).startswith("f.yaml"), e.value
    assert time.perf_counter() - t < 5


def test_yaml_bombs_positive_control():
    """Without the limits: PyYAML builds the bombs at once (shared nodes), and whatever walks them walks
    the expansion; deep nesting overflows the pure-Python composer; a recursive alias loads as a cycle."""
    cap = 10 * limits.MAX_YAML_NODES
    assert H.expanded_nodes(yaml.safe_load(H.yaml_laughs()), cap) > cap
    assert H.expanded_nodes(yaml.safe_load(H.yaml_merge_bomb()), cap) > cap
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)     # the interpreter's default (a library in this process may have raised it)
    try:
        with pytest.raises(RecursionError):
            yaml.safe_load(H.yaml_deep(3000))
    finally:
        sys.setrecursionlimit(limit)
    rec = yaml.safe_load(H.yaml_recursive())["name"]
    assert rec[1] is rec
    with pytest.raises(ValueError, match="Circular"):
        json.dumps(rec)


def test_yaml_within_limits_reads_as_safe_load():
    """The bounded loader gives what yaml.safe_load gives: ddkit's own rules files, aliases, merge keys."""
    from ddkit.config import data_dir
    for p in sorted(data_dir("rules").glob("*.yaml")):
        text = p.read_text(encoding="utf-8")
        assert limits.load_yaml_text(text, p) == yaml.safe_load(text), p
    text = "a: &a {x: 1, y: [1, 2]}\nb: {<<: *a, z: 3}\nc: [*a, *a]\nd: 2024-01-02\n"
    assert limits.load_yaml_text(text, "f") == yaml.safe_load(text)
    # just below the expansion limit: accepted
    ok = "a0: &a0 x\n" + "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 6))
    assert H.expanded_nodes(limits.load_yaml_text(ok, "f"), 10 ** 7) > 100_000


def test_every_yaml_input_goes_through_the_limits(tmp_path):
    """A rules overlay, a company profile and a triage file: the same refusal, exit-2 errors naming the file."""
    from ddkit.config import load_company, load_rules
    from ddkit.triage import load_triage
    overlay, company, triage, deep = H.write_yaml_bombs(tmp_path)
    for load, path in ((load_rules, overlay), (load_company, company), (load_triage, triage),
                       (load_company, deep), (load_triage, deep)):
        t = time.perf_counter()
        with pytest.raises(InputError) as e:
            load(path)
        assert str(path if path != overlay else overlay / "findings.yaml") in str(e.value)
        assert time.perf_counter() - t < 5


def test_yaml_too_large_refused_before_reading(tmp_path):
    p = tmp_path / "big.yaml"
    with open(p, "wb") as fh:
        fh.truncate(limits.MAX_YAML_BYTES + 1)
    with pytest.raises(InputError, match="more than ddkit reads"):
        limits.read_yaml(p)


def test_license_statement_bomb_is_plain_text():
    """A manifest's license statement is the scanned repository's text: an alias bomb there is not expanded."""
    from ddkit.collect.dep_licenses import statement_to_spdx
    t = time.perf_counter()
    out = statement_to_spdx("license:\n" + H.yaml_laughs(key="  x").replace("\n  ", "\n    "))
    assert time.perf_counter() - t < 5
    assert out is None or out.startswith("LicenseRef-")


# ----------------------------------------------------------------------------- JSON / SBOM
def test_json_depth_matches_a_recursive_count():
    rnd = random.Random(7)

    def gen(d):
        if d == 0 or rnd.random() < 0.2:
            return rnd.choice([1, "s[{", None, "a\\\"]"])
        return [gen(d - 1) for _ in range(rnd.randint(0, 3))] if rnd.random() < 0.5 else \
            {f"k{i}": gen(d - 1) for i in range(rnd.randint(0, 3))}

    def depth(v):
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    for _ in range(300):
        v = gen(rnd.randint(0, 8))
        assert limits.json_depth(json.dumps(v)) == depth(v)


def test_deep_sbom_refused(tmp_path):
    from ddkit.collect.dep_licenses import read_sbom
    p = tmp_path / "deep.cdx.json"
    p.write_text(H.deep_sbom(3000))
    assert H.json_overflows(p.read_text())      # positive control: Python's own parser overflows on it
    with pytest.raises(InputError, match=r"deep.cdx.json: --sbom: the JSON nests 3,001 levels deep \(more than"):
        read_sbom(p)
    # the same when another library raised the interpreter's recursion limit (mypy does)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    try:
        with pytest.raises(InputError, match=r"the JSON nests 3,001 levels deep \(more than 1,000\)"):
            read_sbom(p)
    finally:
        sys.setrecursionlimit(limit)


_WRONG = [None, 0, 2.5, True, "text", [], [1, "x"], {}, {"a": 1}]


def _paths(v, prefix=()):
    """Every path (tuple of keys and indexes) in a JSON value."""
    yield prefix
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _paths(x, prefix + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _paths(x, prefix + (i,))


def _set(doc, path, value):
    d = copy.deepcopy(doc)
    cur = d
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return d


@pytest.mark.parametrize("make", [H.valid_cyclonedx, H.valid_spdx])
def test_sbom_fuzz_wrong_types(tmp_path, make):
    """Every field of a valid SBOM set to every JSON type: exit 2 naming the file and field, or rows of
    the right types; never another exception (the command line's exit 3)."""
    from ddkit.collect.dep_licenses import read_sbom
    from ddkit.values import is_missing
    base = make()
    p = tmp_path / "s.json"
    p.write_text(json.dumps(base))
    good = read_sbom(p)
    assert len(good) >= 2
    refused = accepted = crashed_naively = 0
    for path in list(_paths(base))[1:]:
        for value in _WRONG:
            doc = _set(base, path, value)
            p.write_text(json.dumps(doc))
            try:
                df = read_sbom(p)
            except InputError as e:
                msg = str(e)
                assert msg.startswith(f"{p}: --sbom: ") and "\n" not in msg, msg
                refused += 1
                continue
            accepted += 1
            for col in ("name", "key", "evidence"):
                assert all(isinstance(x, str) for x in df[col]), (path, value, df[col].tolist())
            for col in ("version", "license_spdx", "ecosystem"):
                assert all(is_missing(x) or isinstance(x, str) for x in df[col]), (path, value, df[col].tolist())
        # positive control: the old reader's expressions on such a document raise (exit 3 before)
        doc = _set(base, path, 5)
        try:
            for c in doc.get("components", doc.get("packages")) or []:
                c.get("name").strip()
                (doc.get("metadata") or {}).get("component")
        except (AttributeError, TypeError):
            crashed_naively += 1
    assert refused > 50 and accepted > 10 and crashed_naively > 3, (refused, accepted, crashed_naively)


def test_sbom_wrong_type_messages(tmp_path):
    from ddkit.collect.dep_licenses import read_sbom
    p = tmp_path / "bom.json"
    cases = [
        (_set(H.valid_cyclonedx(), ("metadata",), []), "metadata must be an object (found a list)"),
        (_set(H.valid_cyclonedx(), ("components", 1, "name"), 42), "components[1].name must be a string (found the number 42)"),
        (_set(H.valid_cyclonedx(), ("components",), {"a": 1}), "components must be a list (found an object)"),
        (_set(H.valid_cyclonedx(), ("components", 0, "components", 0, "licenses", 0, "expression"), ["MIT"]),
         "components[0].components[0].licenses[0].expression must be a string"),
        (_set(H.valid_spdx(), ("packages", 0, "externalRefs", 0), "purl"), "packages[0].externalRefs[0] must be an object"),
    ]
    for doc, needle in cases:
        p.write_text(json.dumps(doc))
        with pytest.raises(InputError) as e:
            read_sbom(p)
        assert str(e.value) == f"{p}: --sbom: {needle}" or str(e.value).startswith(f"{p}: --sbom: {needle}"), e.value


def test_lockfile_and_environment_json_nested_deep(tmp_path):
    """The scanned repository's lockfile and an installed package's package.json: no RecursionError."""
    from ddkit.collect.dep_licenses import read_environment
    from ddkit.collect.manifests import _lock_licenses
    deep = ('{"packages": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}").encode()
    assert H.json_overflows(deep.decode())      # positive control
    assert _lock_licenses("package-lock.json", deep) == {}
    nm = tmp_path / "node_modules"
    (nm / "ok").mkdir(parents=True)
    (nm / "ok" / "package.json").write_text('{"name": "ok", "version": "1.0.0", "license": "MIT"}')
    (nm / "deep").mkdir()
    (nm / "deep" / "package.json").write_bytes(deep)
    df = read_environment(nm)
    assert df["name"].tolist() == ["ok"]


# ----------------------------------------------------------------------------- XLSX
def test_roster_zip_bomb_refused_before_inflating(tmp_path):
    from ddkit.roster import check_roster
    src = H.roster_xlsx(tmp_path / "ok.xlsx", [["Alice", "alice@example.com", "employee"]])
    bomb = H.sheet_bomb(src, tmp_path / "roster.xlsx", megabytes=300)
    assert bomb.stat().st_size < 2 << 20
    # positive control: the sheet really inflates beyond the limit
    cap = limits.ROSTER_XLSX.part
    assert H.inflated_bytes(bomb, "xl/worksheets/sheet1.xml", cap) > cap
    t = time.perf_counter()
    df, problems = check_roster(bomb)
    assert time.perf_counter() - t < 5
    assert len(problems) == 1 and problems[0].startswith(f"{bomb}: part xl/worksheets/sheet1.xml inflates to 300 MB")
    # a bomb below the size limit is refused by its ratio
    small = H.sheet_bomb(src, tmp_path / "small.xlsx", megabytes=12)
    _df, problems = check_roster(small)
    assert len(problems) == 1 and "times (more than 100); refused as a zip bomb" in problems[0], problems


def test_roster_wide_rows_refused(tmp_path):
    """A 6 kB sheet whose rows each end in column XFD reads as millions of cells: refused by the cell count."""
    import openpyxl

    from ddkit.roster import check_roster
    src = H.roster_xlsx(tmp_path / "ok.xlsx", [["Alice", "alice@example.com", "employee"]])
    wide = H.wide_rows_sheet(src, tmp_path / "wide.xlsx", rows=200)
    assert wide.stat().st_size < 20_000
    wb = openpyxl.load_workbook(wide, read_only=True)   # positive control: what openpyxl makes of it
    assert sum(len(r) for r in wb.worksheets[0].iter_rows(values_only=True)) == 200 * 16384
    wb.close()
    _df, problems = check_roster(wide)
    assert len(problems) == 1 and "more than 2,000,000 cells to read" in problems[0], problems


def test_roster_stale_dimension_reads_every_column(tmp_path):
    """A <dimension> that says A1:A1 (written by a program) must not cut the columns off."""
    import zipfile

    from ddkit.roster import check_roster
    src = H.roster_xlsx(tmp_path / "ok.xlsx", [["Alice", "alice@example.com", "employee"]])
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(stale, "w") as zout:
        for i in zin.infolist():
            data = zin.read(i.filename)
            if i.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:A1"/>', data)
                assert n == 1
            zout.writestr(i, data)
    df, problems = check_roster(stale)
    assert problems == [] and df["person"].tolist() == ["Alice"] and df["type"].tolist() == ["employee"]


def test_roster_formula_without_value_named(tmp_path):
    import openpyxl

    from ddkit.roster import check_roster
    p = H.roster_xlsx(tmp_path / "roster.xlsx", [["Alice", "alice@example.com", "employee"],
                                                 [None, "bob@example.com", "employee"]],
                      formulas={"A3": '=UPPER("bob")'})
    # positive control: a reader of saved values sees an empty cell (before: "row 3: person is empty")
    wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    assert [r[0] for r in wb.worksheets[0].iter_rows(values_only=True)] == ["person", "Alice", None]
    wb.close()
    _df, problems = check_roster(p)
    assert problems == [f"{p}: cell A3 holds a formula without a saved value: open and save the file in Excel "
                        "(or type the values in)"]
    # a text cell that merely starts with '=' is a value, not a formula
    wb = openpyxl.Workbook()
    wb.active.append(H.ROSTER_HEADER)
    wb.active.append(["x", "alice@example.com", "employee"])
    wb.active["A2"].value, wb.active["A2"].data_type = "=Alice", "s"
    q = tmp_path / "text.xlsx"
    wb.save(q)
    df, problems = check_roster(q)
    assert problems == [] and df["person"].tolist() == ["=Alice"]


def test_triage_workbook_bomb_refused(tmp_path):
    import openpyxl

    from ddkit.triage import import_workbook
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Findings"
    ws.append(["ID", "Status"])
    ws.append(["abc", "accepted"])
    src = tmp_path / "ok.xlsx"
    wb.save(src)
    assert import_workbook(src)[1] == 1
    bomb = H.sheet_bomb(src, tmp_path / "findings.xlsx", megabytes=300)
    assert H.inflated_bytes(bomb, "xl/worksheets/sheet1.xml", limits.TRIAGE_XLSX.part) > limits.TRIAGE_XLSX.part
    t = time.perf_counter()
    with pytest.raises(InputError, match=r"findings.xlsx: part xl/worksheets/sheet1.xml inflates to 300 MB"):
        import_workbook(bomb)
    assert time.perf_counter() - t < 5


# ----------------------------------------------------------------------------- manifests
def _old_line_of(text_lines, ecosystem, name, kind):
    """The line lookup before (one search per line per dependency): the reference for the answers."""
    core = re.escape(name)
    if ecosystem == "pypi":
        core = "[-_.]+".join(re.escape(p) for p in re.split(r"[-_.]+", name))
    pats = []
    if ecosystem == "npm" and kind == "lockfile":
        pats.append(re.compile(r'node_modules/' + core + r'"'))
        pats.append(re.compile(r'^"?' + core + r'@', re.M))
    pats.append(re.compile(r'(?<![\w.@/-])' + core + r'(?![\w-])', re.I))
    if "/" in name or ":" in name:
        pats.append(re.compile(re.escape(name.split(":")[-1].split("/")[-1]), re.I))
    for pat in pats:
        for i, line in enumerate(text_lines, start=1):
            if pat.search(line):
                return i
    return None


def test_line_lookup_same_answers_as_line_by_line():
    from ddkit.collect.manifests import _line_of, _Lines
    rnd = random.Random(3)
    words = ["foo", "Foo-Bar", "foo_bar", "foo.bar", "@scope/pkg", "pkg", "org.x:art", "art", "bar", "x"]
    seps = [" ", "\n", "\r\n", "\r", '"', "/", ".", "@", ":", "-", "\u2028", "\x0c", "node_modules/", '"\n']
    for _ in range(400):
        text = "".join(rnd.choice(words) + rnd.choice(seps) for _ in range(rnd.randint(0, 30)))
        lines = _Lines(text)
        for eco in ("npm", "pypi", "maven"):
            for kind in ("manifest", "lockfile"):
                for name in words:
                    assert _line_of(lines, eco, name, kind) == _old_line_of(text.splitlines(), eco, name, kind), \
                        (text, eco, name, kind)


def test_one_line_package_json_is_linear():
    """20,000 dependencies on one line (0.4 MB): the line lookup was one search of the line per
    dependency (285 s for the whole scan); now linear, with every line number right."""
    from ddkit.collect.manifests import _SEARCH_BUDGET, _line_of, _Lines, _token_index, parse_manifest
    data = H.one_line_package_json(20_000)
    t = time.perf_counter()
    rows, _own, warnings = parse_manifest("package.json", data)
    elapsed = time.perf_counter() - t
    assert len(rows) == 20_000 and {r["line"] for r in rows} == {1} and not warnings
    assert elapsed < 60, elapsed
    # pretty-printed: each dependency on its own line, found where the text has it
    doc = json.loads(data)
    pretty = json.dumps(doc, indent=2)
    want = {m.group(1): i for i, line in enumerate(pretty.splitlines(), start=1)
            if (m := re.match(r'\s+"(pkg-\d+)":', line))}
    rows, _own, _w = parse_manifest("package.json", pretty.encode())
    assert {r["name"]: r["line"] for r in rows} == want
    # positive control: the old lookup's work grows as the square (2,000 dependencies: 0.05 MB searched
    # 2,000 times), the new one's as the text
    small = H.one_line_package_json(2000).decode()
    names = [f"pkg-{i:05d}" for i in range(2000)]
    t = time.perf_counter()
    old = [_old_line_of(small.splitlines(), "npm", n, "manifest") for n in names]
    t_old = time.perf_counter() - t
    t = time.perf_counter()
    lines = _Lines(small)
    index = _token_index(small.splitlines()) if len(names) * len(small) > _SEARCH_BUDGET else None
    new = [_line_of(lines, "npm", n, "manifest", index) for n in names]
    t_new = time.perf_counter() - t
    assert index is not None and old == new == [1] * 2000
    assert t_old > 0.2 and t_old > 10 * t_new, (t_old, t_new)


@pytest.mark.parametrize("where", ["artifactId", "description"])
def test_pom_entity_bomb_warned_not_expanded(where):
    from lxml import etree

    from ddkit.collect.manifests import parse_manifest
    text = H.pom_with_entities(levels=5, fan=100, where=where)     # 10**10 "lol"s if expanded
    # positive control: an expanding parser reads the (small) entity as the dependency's name
    small = H.pom_with_entities(levels=2, fan=3).encode()
    root = etree.fromstring(small, etree.XMLParser(resolve_entities=True))
    assert "lollollol" in "".join(root.itertext())
    t = time.perf_counter()
    rows, own, warnings = parse_manifest("sub/pom.xml", text.encode())
    assert time.perf_counter() - t < 30
    assert len(warnings) == 1 and warnings[0].startswith("dependencies: sub/pom.xml declares XML entities"), warnings
    assert own.get("name") == "demo"
    names = [r["name"] for r in rows]
    assert names == ([] if where == "artifactId" else ["org.apache.commons:commons-lang3"])
    assert "lollol" not in repr((rows, own))


def test_pom_external_entity_not_read():
    from ddkit.collect.manifests import parse_manifest
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").is_file() else None
    rows, own, warnings = parse_manifest("pom.xml", H.pom_with_entities(levels=0).encode())
    assert warnings and "declares XML entities" in warnings[0]
    if hostname:
        assert hostname not in repr((rows, own))


# ----------------------------------------------------------------------------- disk full
def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_report_on_a_full_disk_is_an_input_error(tmp_path):
    """A report writer that hits a full disk: on the command line exit 2 naming the path, not an internal
    error (exit 3); the library still raises the OSError (tests/test_hostile.py)."""
    from ddkit.commands.common import RunOptions, write_reports

    def full(fmt, result, path, pseudonymize=False):
        _enospc()

    with pytest.raises(OSError):           # positive control: the writer fails as a full disk makes it
        full("json", None, tmp_path / "r.json")
    o = RunOptions(inputs={}, outputs={"json": str(tmp_path / "r.json")})
    with pytest.raises(InputError) as e:
        write_reports(o, full, None)
    assert str(e.value) == f"{tmp_path / 'r.json'}: cannot write the report (No space left on device)"


def test_cache_on_a_full_disk_is_a_warning(tmp_path, monkeypatch):
    from ddkit import cache
    from ddkit.collect import incremental
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path / "c"))
    cache.take_write_failures()
    store = incremental.Store("t", str(tmp_path), {}, lambda v: True)
    store.save("abc", {"x": 1})
    assert store.load("abc") == {"x": 1} and cache.take_write_failures() is None
    monkeypatch.setattr("ddkit.fsutil.atomic_write", _enospc)
    with pytest.raises(OSError):              # positive control: every write now fails as a full disk
        from ddkit import fsutil
        fsutil.atomic_write(tmp_path / "c" / "z", b"x")
    store.save("def", {"x": 2})               # no exception: only time is lost
    assert store.load("def") is None
    cache.write_sealed(tmp_path / "c" / "y", b"body")
    msg = cache.take_write_failures()
    assert msg is not None and msg.startswith("cache: 2 cache entries could not be written (No space left on device)")
    assert cache.take_write_failures() is None


def test_diff_report_wrong_types(tmp_path):
    """`ddkit diff` reads two JSON reports: a wrong-typed finding field is exit 2 naming it."""
    from ddkit.report.diff import diff_reports, load_report
    good = {"schema_version": 1, "findings": [{"id": "a1", "rule": "ip.x", "severity": "high", "subject": None,
                                               "path": None, "lines_at_stake": 3, "evidence": "e"}]}
    p = tmp_path / "r.json"
    p.write_text(json.dumps(good))
    assert diff_reports(load_report(p), load_report(p)).empty
    for key, value, needle in (("id", 5, "findings[0].id must be a text"),
                               ("evidence", [[["x"]]], "findings[0].evidence must be a text"),
                               ("lines_at_stake", "3", "findings[0].lines_at_stake must be a number"),
                               ("triage", ["x"], "findings[0].triage must be an object")):
        bad = copy.deepcopy(good)
        bad["findings"][0][key] = value
        p.write_text(json.dumps(bad))
        with pytest.raises(InputError) as e:
            load_report(p)
        assert str(e.value) == f"{p}: {needle}" or str(e.value).startswith(f"{p}: {needle}"), e.value
    # positive control: the comparison itself trusts the types (a triage that is a list: AttributeError)
    after = copy.deepcopy(good)
    after["findings"][0].update(status="accepted", triage=["x"])
    with pytest.raises(AttributeError):
        diff_reports(good, after)
    p.write_text('{"schema_version": 1, "findings": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(InputError, match="nests 5,001 levels deep"):
        load_report(p)


def test_damaged_sheet_is_an_input_error(tmp_path):
    """A sheet whose XML breaks off (or whose part fails its checksum) is exit 2 naming the file."""
    import openpyxl

    from ddkit.roster import check_roster
    src = H.roster_xlsx(tmp_path / "ok.xlsx", [["Alice", "alice@example.com", "employee"]] * 3)
    broken = H._replace_part(src, tmp_path / "broken.xlsx", "xl/worksheets/sheet1.xml",
                             lambda fh: fh.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                                                 b'2006/main"><dimension ref="A1:C4"/><sheetData><row r="1"><c r="A1" '
                                                 b't="inlineStr"><is><t>x'))
    wb = openpyxl.load_workbook(broken, read_only=True)   # positive control: openpyxl raises while reading
    with pytest.raises(Exception) as e:
        list(wb.worksheets[0].iter_rows(values_only=True))
    assert not isinstance(e.value, InputError)
    wb.close()
    _df, problems = check_roster(broken)
    assert len(problems) == 1 and problems[0].startswith(f"{broken}, sheet Sheet: cannot read the sheet ("), problems


def test_yaml_manifest_bomb_not_given_to_scancode():
    """A pubspec.yaml in the scanned repository whose description is an alias bomb: ScanCode's reading
    walks the expansion (a scan did not end); it is not read, with a warning naming it."""
    from ddkit.collect.manifests import parse_manifest
    text = H.pubspec_bomb()
    cap = 10 * limits.MAX_YAML_NODES      # positive control: the file expands to billions of nodes
    assert H.expanded_nodes(yaml.safe_load(text), cap) > cap
    t = time.perf_counter()
    rows, own, warnings = parse_manifest("app/pubspec.yaml", text.encode())
    assert time.perf_counter() - t < 5
    assert rows == [] and own == {} and len(warnings) == 1, warnings
    assert warnings[0].startswith("dependencies: app/pubspec.yaml, line ") and "expands to more than" in warnings[0]
    # a large pnpm lockfile without aliases is read whatever its node count (at most one node a byte)
    big = "lockfileVersion: '6.0'\npackages:\n" + "".join(f"  /p{i}@1.0.0:\n    resolution: {{integrity: x}}\n"
                                                          for i in range(60_000))
    rows, _own, warnings = parse_manifest("pnpm-lock.yaml", big.encode())
    assert not [w for w in warnings if "expands" in w], warnings


def test_triage_workbook_formula_without_value_named(tmp_path):
    import openpyxl

    from ddkit.triage import import_workbook
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Findings"
    ws.append(["ID", "Status"])
    ws.append(["abc", None])
    ws["B2"] = '=LOWER("ACCEPTED")'
    p = tmp_path / "w.xlsx"
    wb.save(p)
    # positive control: read as saved values, the status is empty (the decision would be lost silently)
    rb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    assert list(rb["Findings"].iter_rows(values_only=True))[1] == ("abc", None)
    rb.close()
    with pytest.raises(InputError, match=r"w.xlsx, sheet Findings: cell B2 holds a formula without a saved value"):
        import_workbook(p)
