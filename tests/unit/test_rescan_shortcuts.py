"""The one-commit re-scan's shortcuts (issue 17), each against the way it replaced: the workbook's rows
serialised by ddkit (xlsx_save) and its table cells made directly (xlsx_layout.DIRECT) give the file
openpyxl's own writer and public calls give, byte for byte; plain and json_value's fast paths; the
security checklist's globs; and the rewrite scope, people table and bus factor table in plain Python
against their pandas versions, on random inputs."""

from __future__ import annotations

import datetime as dt
import random
import re
import zipfile

import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from ddkit.analyze import bus_factor as B
from ddkit.analyze import people as P
from ddkit.analyze import retention as R
from ddkit.analyze.remediation import whole_work_rules
from ddkit.config import load_rules
from ddkit.report import xlsx_layout as L
from ddkit.report import xlsx_save

# The row writer against the openpyxl it is checked with: with another release it is off (xlsx_save.VERIFIED)
# and these tests, which turn it on, say whether it still writes what openpyxl writes once it is enabled there.
needs_verified = pytest.mark.skipif(not xlsx_save.VERIFIED, reason="xlsx_save's row writer is off with this openpyxl")


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    # openpyxl stamps the time of saving, to the second, in the document properties
    parts["docProps/core.xml"] = re.sub(rb"<dcterms:modified[^<]*</dcterms:modified>", b"",
                                        parts["docProps/core.xml"])
    return parts


def _saved_both_ways(build, tmp_path, monkeypatch, fast_sheets: int = 2) -> tuple[dict, dict]:
    """The workbook *build* makes, saved with FAST on and off; *fast_sheets* must have had their rows
    serialised by ddkit (else the comparison would test openpyxl against itself)."""
    done: list[str] = []
    real = xlsx_save._SheetWriter._rows_xml

    def spy(self):
        xml = real(self)              # raises for a sheet left to openpyxl
        done.append(self.ws.title)
        return xml
    monkeypatch.setattr(xlsx_save._SheetWriter, "_rows_xml", spy)
    out = {}
    for fast in (True, False):
        monkeypatch.setattr(xlsx_save, "FAST", fast)
        wb = build()
        wb.properties.created = dt.datetime(2024, 6, 30)
        path = tmp_path / f"{fast}.xlsx"
        xlsx_save.save(wb, path)
        out[fast] = _parts(path)
        if fast:
            assert len(done) == fast_sheets, done
    return out[True], out[False]


TEXTS = ["plain", "", " lead", "trail ", "a & b < c > d \" e ' f", "cr\r\nlf\n", "tab\there", "é ü — 漢字",
         "emoji \U0001F600", "]]>", "=1+1", "#N/A", "x" * 3000, "\u00a0nbsp\u00a0"]


def _mixed_workbook():
    rng = random.Random(5)
    wb = Workbook()
    ws = wb.active
    ws.title = "Mixed"
    fonts = [Font(name="Arial", size=10), Font(name="Arial", bold=True, color="FFFFFF"), None]
    fills = [PatternFill("solid", fgColor="1F3864"), None]
    for r in range(1, 120):
        for c in range(1, 12):
            kind = rng.randrange(9)
            cell = ws.cell(row=r, column=c)
            if kind == 0:
                cell.value = rng.choice([t for t in TEXTS if not t.startswith("=")])   # "=..." is a formula
            elif kind == 1:
                cell.value = rng.randint(-10**18, 10**18)
            elif kind == 2:
                cell.value = rng.random() * 10 ** rng.randint(-5, 20)
            elif kind == 3:
                cell.value = rng.random() < 0.5
            elif kind == 4:
                cell.value = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(0, 9000))
            elif kind == 5:
                cell.value = dt.datetime(2020, 5, 6, rng.randint(0, 23), rng.randint(0, 59), 7, 123)
            elif kind == 6:
                cell.value = rng.choice(TEXTS)
                cell.data_type = "s"         # as set_cell stores repository text
                cell.quotePrefix = rng.random() < 0.5
            elif kind == 7:
                pass                          # a styled empty cell, or no cell at all
            else:
                cell.value = rng.choice([t for t in TEXTS if not t.startswith("=")])
                cell.hyperlink = f"https://example.com/{r}/{c}?a=1&b=2"
            font, fill = rng.choice(fonts), rng.choice(fills)
            if font is not None:
                cell.font = font
            if fill is not None:
                cell.fill = fill
            if rng.random() < 0.3:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if rng.random() < 0.2:
                cell.number_format = rng.choice(["0%", "#,##0", "yyyy-mm-dd"])
        if rng.random() < 0.5:
            ws.row_dimensions[r].height = rng.choice([12.75, 15.75, 400.0])
        if rng.random() < 0.1:
            ws.row_dimensions[r].hidden = True
    ws.row_dimensions[200].height = 30          # a row with a height and no cells
    second = wb.create_sheet("Second")
    second["B2"] = "after the first sheet's styles"
    second["B2"].font = Font(name="Arial", italic=True)
    for j, v in enumerate([0.0, -0.0, 0, False, "0", 1, 1.0, True, "1", float("nan"), 1e300], start=1):
        second.cell(row=3, column=j, value=v)      # equal as keys, not as text
    return wb


@needs_verified
def test_rows_serialised_as_openpyxl_does(tmp_path, monkeypatch):
    fast, slow = _saved_both_ways(_mixed_workbook, tmp_path, monkeypatch)
    assert fast.keys() == slow.keys()
    for name in slow:
        assert fast[name] == slow[name], name


@needs_verified
def test_sheets_zipped_as_from_openpyxls_temporary_files(tmp_path, monkeypatch):
    """The sheets are written in memory, not to temporary files read back into the zip: each entry still has
    the attributes, compression method, CRC and size of the one openpyxl makes (its compressed bytes
    differ: ddkit deflates at the fastest level)."""
    entries = {}
    packed = {}
    for fast in (True, False):
        monkeypatch.setattr(xlsx_save, "FAST", fast)
        wb = _mixed_workbook()
        path = tmp_path / f"{fast}.xlsx"
        xlsx_save.save(wb, path)
        with zipfile.ZipFile(path) as z:
            entries[fast] = [(i.filename, i.compress_type, i.external_attr, i.create_system, i.create_version,
                              i.extract_version, i.flag_bits, i.CRC, i.file_size)
                             for i in z.infolist() if i.filename != "docProps/core.xml"]
            packed[fast] = sum(i.compress_size for i in z.infolist())
    assert entries[True] == entries[False]
    assert packed[True] > packed[False]         # the fastest level: a little larger


@needs_verified
@pytest.mark.parametrize("extra", ["formula", "comment", "rich"])
def test_sheets_the_writer_does_not_reproduce_are_left_to_openpyxl(tmp_path, monkeypatch, extra):
    def build():
        wb = _mixed_workbook()
        ws = wb["Second"]
        if extra == "formula":
            ws["C3"] = "=SUM(1,2)"
        elif extra == "comment":
            ws["C3"] = "noted"
            ws["C3"].comment = Comment("a note", "ddkit")
        else:
            ws["C3"] = CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold")])
        return wb
    fast, slow = _saved_both_ways(build, tmp_path, monkeypatch, fast_sheets=1)   # "Second" left to openpyxl
    assert fast == slow


def test_table_cells_made_directly_as_through_openpyxl(tmp_path, monkeypatch):
    """write_table's direct cells (DIRECT) against openpyxl's ws.cell() and value setter, saved by openpyxl."""
    rng = random.Random(11)
    n = 300
    df = pd.DataFrame({
        "text": [rng.choice(TEXTS + [None]) for _ in range(n)],
        "n": [rng.choice([1, 2.0, None, 4, 10**12, 0.5]) for _ in range(n)],
        "share": [rng.choice([0.5, None, 1, 0.25]) for _ in range(n)],
        "day": [rng.choice([dt.date(2021, 1, 1), None, "2021-02-03", "not a date", dt.datetime(2021, 1, 2, 3, 4)])
                for _ in range(n)],
        "flag": [rng.choice([True, False, None]) for _ in range(n)],
        "severity": [rng.choice(["critical", "high", "low", None]) for _ in range(n)],
        "sha": ["0123456789abcdef"] * n, "rule": ["a.b"] * n,
    })
    cols = [L.Col("text", "Text", 20), L.Col("n", "N", 8, "int"), L.Col("share", "Share", 8, "pct"),
            L.Col("day", "Day", 10.5, "date"), L.Col("flag", "Flag", 6, "bool"), L.Col("flag", "Raw flag", 6),
            L.Col("n", "Num", 8, "num"), L.Col("n", "Raw n", 8),
            L.Col("severity", "Severity", 9), L.Col("sha", "Commit", 11, "sha"), L.Col("rule", "Rule id", 14, "id"),
            L.Col("text", "=Formula-like header", 12), L.Col("text", "+Another", 12), L.Col("n", "Last", 8)]

    def style(cell, col, rec):                  # like the workbook's severity colours
        if col.key == "severity" and rec.get("severity") == "critical":
            cell.fill = PatternFill("solid", fgColor="C00000")
            cell.font = Font(name="Arial", size=10, bold=True, color="FFFFFF")

    def build():
        wb = Workbook()
        ws = wb.active
        ws["A1"] = "a title above the table"
        ws.cell(row=3, column=2).font = Font(name="Arial", italic=True)     # a header cell styled beforehand
        L.write_table(ws, df, "T", cols, start_row=3, link=lambda sha: f"https://example.com/{sha}", style=style)
        L.write_table(wb.create_sheet("Empty"), df.iloc[:0], "E", cols)
        return wb

    monkeypatch.setattr(xlsx_save, "FAST", False)
    out = {}
    for direct in (True, False):
        monkeypatch.setattr(L, "DIRECT", direct)
        wb = build()
        assert wb.active._current_row == 3 + n
        wb.properties.created = dt.datetime(2024, 6, 30)
        path = tmp_path / f"{direct}.xlsx"
        xlsx_save.save(wb, path)
        out[direct] = _parts(path)
    assert out[True] == out[False]


class _Text(str):
    pass


def _table_frame(n: int = 300, seed: int = 11) -> pd.DataFrame:
    rng = random.Random(seed)
    return pd.DataFrame({
        "text": [rng.choice(TEXTS + [None, _Text("a str subclass"), _Text("=1+2")]) for _ in range(n)],
        "n": [rng.choice([1, 2.0, None, 4, 10**12, 0.5, -0.0, -7, 10**15 - 1, 10**15, -10**15, 10**18]) for _ in range(n)],
        "share": [rng.choice([0.5, None, 1, 0.25]) for _ in range(n)],
        "day": [rng.choice([dt.date(2021, 1, 1), None, "2021-02-03", "not a date", dt.datetime(2021, 1, 2, 3, 4),
                            pd.Timestamp("2022-03-04 05:06")]) for _ in range(n)],
        "flag": [rng.choice([True, False, None]) for _ in range(n)],
        "severity": [rng.choice(["critical", "high", "low", None]) for _ in range(n)],
        "sha": [rng.choice(["0123456789abcdef", None, "fedcba9876543210"]) for _ in range(n)],
        "rule": ["a.b"] * n, "material": [rng.choice(["Yes", "No"]) for _ in range(n)],
    })


TABLE_COLS = [L.Col("text", "Text", 20), L.Col("n", "N", 8, "int"), L.Col("share", "Share", 8, "pct"),
              L.Col("day", "Day", 10.5, "date"), L.Col("flag", "Flag", 6, "bool"), L.Col("flag", "Raw flag", 6),
              L.Col("n", "Num", 8, "num"), L.Col("n", "Raw n", 8), L.Col("severity", "Severity", 9),
              L.Col("sha", "Commit", 11, "sha"), L.Col("text", "Hidden text", 9, hidden=True),
              L.Col("rule", "Rule id", 14, "id"), L.Col("material", "Material", 8)]


def _severity(cell, col, rec):                  # like the workbook's severity colours
    if col.key == "severity" and rec.get("severity") in ("critical", "high"):
        cell.fill = PatternFill("solid", fgColor="C00000" if rec["severity"] == "critical" else "FF6B6B")
        cell.font = Font(name="Arial", size=10, bold=True, color="FFFFFF")


def _tables_workbook():
    """Tables as the workbook writes them (deferred), with real cells around them and on their rows."""
    df = _table_frame()
    link = lambda sha: f"https://example.com/{sha}?a=1&b=2" if sha.startswith("0") else None
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "a title above the table"
    ws["A1"].font = Font(name="Arial", bold=True, size=16)
    L.write_table(ws, df, "T", TABLE_COLS, start_row=3, link=link, style=_severity, style_cols=("severity",),
                  show_only=("material", "Yes"), deferred=True)
    ws.cell(row=10, column=len(TABLE_COLS) + 2, value="beside a table row").font = Font(name="Arial", italic=True)
    ws.cell(row=len(df) + 6, column=2, value="under the table").hyperlink = "https://example.com/under"
    # the style callback on every cell (no style_cols), and a second table on its own sheet
    L.write_table(wb.create_sheet("Every cell"), df.iloc[::3], "U", TABLE_COLS, link=link, style=_severity,
                  deferred=True)
    L.write_table(wb.create_sheet("Empty"), df.iloc[:0], "E", TABLE_COLS, deferred=True)
    last = wb.create_sheet("Changed")             # a table whose cells are changed after it is written
    L.write_table(last, df.iloc[:40], "C", TABLE_COLS, deferred=True)
    L.materialize(last)
    for r in range(2, 42):
        last.cell(row=r, column=4).number_format = "yyyy-mm-dd"
    return wb


def test_row_writer_on_only_with_the_openpyxl_it_is_checked_against():
    import openpyxl
    assert xlsx_save.VERIFIED == (openpyxl.__version__.split(".")[:2] == ["3", "1"])
    assert xlsx_save.FAST == xlsx_save.VERIFIED


@needs_verified
def test_deferred_table_rows_saved_as_their_cells(tmp_path, monkeypatch):
    """write_table(deferred=True) keeps the rows as values and xlsx_save serialises them: the file is the one
    the table's cells give, saved by ddkit's row writer or openpyxl's own (DEFERRED off: the cells)."""
    out = {}
    for deferred, fast in ((True, True), (False, True), (True, False), (False, False)):
        monkeypatch.setattr(L, "DEFERRED", deferred)
        monkeypatch.setattr(xlsx_save, "FAST", fast)
        wb = _tables_workbook()
        assert bool(L.deferred_tables(wb.active)) == deferred
        wb.properties.created = dt.datetime(2024, 6, 30)
        path = tmp_path / f"{deferred}-{fast}.xlsx"
        xlsx_save.save(wb, path)
        out[deferred, fast] = _parts(path)
    ref = out[False, False]          # cells, written by openpyxl
    assert b"<hyperlink " in ref["xl/worksheets/sheet1.xml"] and b'hidden="1"' in ref["xl/worksheets/sheet1.xml"]
    for key, parts in out.items():
        assert parts.keys() == ref.keys(), key
        for name in ref:
            assert parts[name] == ref[name], (key, name)


def test_cell_made_over_a_deferred_row_is_refused(tmp_path):
    wb = Workbook()
    ws = wb.active
    L.write_table(ws, _table_frame(5), "T", TABLE_COLS, deferred=True)
    ws.cell(row=3, column=2).number_format = "0%"       # without materialize(ws) first
    with pytest.raises(RuntimeError, match="materialize"):
        xlsx_save.save(wb, tmp_path / "t.xlsx")


def _old_json_value(v):
    """cells.json_value before its fast path for str, int, bool and None (the reference)."""
    import math

    import numpy as np
    if isinstance(v, (list, tuple, set)):
        return [_old_json_value(x) for x in v]
    if isinstance(v, dict):
        return {_old_json_value(str(k)): _old_json_value(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return [_old_json_value(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NaT or v is pd.NA:   # pd.NA: the typed tables' missing value (JSON null)
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return v


def _old_plain(v):
    """cells.plain before its fast path for str, int and bool (the reference)."""
    import math

    import numpy as np
    if v is None:
        return None
    if isinstance(v, (list, tuple, set)):
        return "; ".join(str(_old_plain(x)) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_old_plain(x)}" for k, x in v.items())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime().replace(tzinfo=None)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def test_plain_and_json_value_fast_paths_equal_the_full_checks():
    import numpy as np

    from ddkit.report.cells import json_value, plain
    values = [None, "", "ascii", "é漢", "bad \udcff surrogate", "\U0001F600", 0, 1, -5, 10**30, True, False,
              1.5, float("nan"), np.int64(3), np.float64("nan"), np.bool_(True), np.str_("np"), pd.NaT,
              pd.Timestamp("2021-01-02 03:04", tz="UTC"), dt.date(2021, 1, 1), dt.datetime(2021, 1, 1, 1, 1),
              [1, "a", None], ("x", 2.0), {"k": [1, "é"], 2: None}, np.array([1, 2]), pd.NA, -0.0, float("inf"),
              dt.datetime(2021, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))), pd.Timestamp("2021-01-02"),
              dt.time(1, 2), np.datetime64("2021-01-01")]
    def same(a, b):                     # NaN and pd.NA do not compare: their repr does
        return type(a) is type(b) and repr(a) == repr(b)
    for v in values:
        assert same(json_value(v), _old_json_value(v)), v
        if not isinstance(v, np.ndarray):
            assert same(plain(v), _old_plain(v)), v


def test_security_globs_match_as_fnmatchcase():
    import fnmatch

    from ddkit.analyze.security import _glob_regex
    rng = random.Random(23)
    parts = ["SECURITY.md", "security", ".github", "workflows", "ci.yml", "CODEOWNERS", "docs", "a.b", "[x]",
             "package-lock.json", "Pipfile.lock", "x*y", "?", "é", "dir", "LICENSE", "license.txt"]
    globs = ["security*", "*/security.md", ".github/workflows/*.yml", "codeowners", "*/codeowners", "[!a]*",
             "*.lock", "package-lock.json", "[x]", "*[*]*", "?", "docs/**", "licen[cs]e*", "*é*", "", "LICENSE*", "*/SECURITY.md"]
    for _ in range(3000):
        path = "/".join(rng.choice(parts) for _ in range(rng.randint(1, 4)))
        gl = rng.sample(globs, rng.randint(0, 5))
        want = any(fnmatch.fnmatchcase(path.lower(), g.lower()) for g in gl)
        assert (_glob_regex(tuple(gl)).match(path.lower()) is not None) == want, (path, gl)


def test_rewrite_scope_day_fast_path_equals_the_full_check():
    from ddkit.analyze.retention import _day

    def old_day(v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        return str(v)[:10]
    for v in [None, "", "2021-01-02", "2021-01-02T03:04:05+02:00", "short", float("nan"), pd.NaT, pd.NA,
              pd.Timestamp("2021-01-02 03:04"), dt.date(2021, 1, 2), dt.datetime(2021, 1, 2, 3, 4), 20210102]:
        assert repr(_day(v)) == repr(old_day(v)), v


# ----------------------------------------------------------------------------- rewrite scope
# The rules whose gap covers a subject's whole work, as remediation.WHOLE_WORK listed them before they moved
# into the rule catalogue (rules/findings.yaml, whole_work: true).
_WHOLE_WORK = ("ip.contractor-no-assignment", "ip.missing-assignment", "ip.unknown-contributor",
               "ip.unverified-identity", "ip.unclassified-contributor")


def _old_rewrite_scope_table(remediation: pd.DataFrame, findings: pd.DataFrame, blame: pd.DataFrame,
                        commits: pd.DataFrame, people: pd.DataFrame, doa: pd.DataFrame,
                        files: pd.DataFrame) -> pd.DataFrame:
    """rewrite_scope_table as it was, with pandas per subject (the reference)."""
    if remediation is None or remediation.empty or blame is None or blame.empty:
        return pd.DataFrame(columns=R.REWRITE_COLUMNS)
    per_sha = commits[["sha", "person_id", "author_day"]].copy()
    per_sha["day"] = per_sha["author_day"].map(R._day)
    lines = blame.merge(per_sha, on="sha", how="left")
    total = int(blame["lines"].sum()) or 1
    module_of = dict(zip(files["path"], files["module"])) if len(files) else {}
    staff = R.current_staff(people)
    staff_ids = set(staff["person_id"]) if staff is not None and len(staff) else set()
    names = dict(zip(people["person_id"], people["person"]))
    auth = doa[doa["author"]] if doa is not None and len(doa) else pd.DataFrame(columns=["path", "person_id"])
    rule_of = dict(zip(findings["id"], findings["rule"])) if len(findings) else {}
    rows = []
    for subject, g in remediation.groupby("subject", sort=False):
        is_vendor = (g["subject_type"] == "vendor").all()
        sel = people["vendor"] == subject if is_vendor else people["person"] == subject
        ids = set(people.loc[sel, "person_id"])
        mine = lines[lines["person_id"].isin(ids)]
        keep = pd.Series(False, index=mine.index)
        periods = []
        for r in g.itertuples():
            rules = [rule_of.get(i.strip()) for i in str(r.finding_ids).split(",")]
            whole = any(x in _WHOLE_WORK for x in rules)
            start, end = R._day(r.period_start), R._day(r.period_end)
            if whole or start is None or end is None:
                keep |= True
                periods.append(dict(start=start, end=end, whole_work=True))
            else:
                keep |= (mine["day"] >= start) & (mine["day"] <= end)
                periods.append(dict(start=start, end=end, whole_work=False))
        at = mine[keep]
        by_file = at.groupby("path")["lines"].sum().sort_index(kind="stable").sort_values(ascending=False, kind="stable")
        by_mod: dict[str, int] = {}
        for p, n in by_file.items():
            m = module_of.get(p, "(root)")
            by_mod[m] = by_mod.get(m, 0) + int(n)
        knowers: dict[str, int] = {}
        for _path, pid in auth.loc[auth["path"].isin(set(by_file.index)), ["path", "person_id"]].itertuples(index=False):
            if pid in staff_ids and pid not in ids:
                knowers[names[pid]] = knowers.get(names[pid], 0) + 1
        src_files = set(R.source_files(files)["path"]) & set(by_file.index)
        known_files = set(auth.loc[auth["path"].isin(src_files) & auth["person_id"].isin(staff_ids - ids), "path"])
        n = int(by_file.sum())
        uniq = []
        for p in periods:
            if p not in uniq:
                uniq.append(p)
        rows.append(dict(
            subject=subject, subject_type=g["subject_type"].iloc[0], periods=uniq,
            files=[dict(path=p, lines=int(k)) for p, k in by_file.items()], surviving_lines=n,
            share_of_repository=round(n / total, 4),
            modules=dict(sorted(by_mod.items(), key=lambda kv: (-kv[1], kv[0]))),
            current_staff_who_know=dict(sorted(knowers.items(), key=lambda kv: (-kv[1], kv[0]))),
            nobody_on_staff_knows=len(src_files - known_files)))
    df = pd.DataFrame(rows, columns=R.REWRITE_COLUMNS)
    return df.sort_values(["surviving_lines", "subject"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _rewrite_inputs(rng: random.Random):
    n_people = rng.randint(1, 25)
    vendors = ["VendCo", "Other Ltd", None]
    people = pd.DataFrame({
        "person_id": [f"p{i}" for i in range(n_people)], "person": [f"Person {i}" for i in range(n_people)],
        "vendor": [rng.choice(vendors) for _ in range(n_people)],
        "type": [rng.choice(["employee", "founder", "contractor", "vendor"]) for _ in range(n_people)],
        "departed": [rng.random() < 0.3 for _ in range(n_people)], "is_bot": [rng.random() < 0.1 for _ in range(n_people)]})
    day = lambda: rng.choice([dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 3000)), None])
    shas = [f"{i:040x}" for i in range(rng.randint(1, 80))]
    commits = pd.DataFrame({"sha": shas, "person_id": [f"p{rng.randrange(n_people)}" for _ in shas],
                            "author_day": [day() for _ in shas]})
    paths = [f"{rng.choice(['src', 'lib', 'docs', 'vendor'])}/f{i}.py" for i in range(rng.randint(1, 30))]
    files = pd.DataFrame({"path": paths, "module": [p.split("/")[0] for p in paths],
                          "category": [rng.choice(["text", "text", "vendored"]) for _ in paths],
                          "is_source": [rng.random() < 0.8 for _ in paths]})
    blame = pd.DataFrame([(rng.choice(paths), rng.choice(shas + ["f" * 40]), rng.randint(1, 50))
                          for _ in range(rng.randint(1, 200))], columns=["path", "sha", "lines"])
    doa = pd.DataFrame([(rng.choice(paths), f"p{rng.randrange(n_people)}", rng.random() < 0.6)
                        for _ in range(rng.randint(0, 80))], columns=["path", "person_id", "author"])
    rules = list(_WHOLE_WORK) + ["ip.pre-assignment-work", "ip.work-after-end-date", "own.departed-author"]
    findings = pd.DataFrame({"id": [f"f{i}" for i in range(20)], "rule": [rng.choice(rules) for _ in range(20)]})
    rem = []
    for _ in range(rng.randint(1, 12)):
        vendor = rng.random() < 0.3
        subject = rng.choice(["VendCo", "Other Ltd", "Nobody Inc"]) if vendor else f"Person {rng.randrange(n_people + 2)}"
        start = rng.choice([day(), "2016-03-04", "2019-12-31T10:00:00", None])
        end = rng.choice([day(), "2021-06-30", None])
        ids = ", ".join(f"f{rng.randrange(22)}" for _ in range(rng.randint(1, 3)))
        rem.append((subject, "vendor" if vendor else rng.choice(["person", "person", "vendor"]), ids, start, end))
    remediation = pd.DataFrame(rem, columns=["subject", "subject_type", "finding_ids", "period_start", "period_end"])
    return remediation, findings, blame, commits, people, doa, files


def test_rewrite_scope_in_python_equals_the_pandas_version():
    rng = random.Random(31)
    whole = whole_work_rules(load_rules().catalogue)     # the catalogue's, checked against the list above
    assert whole == set(_WHOLE_WORK)
    for _ in range(200):
        args = _rewrite_inputs(rng)
        pd.testing.assert_frame_equal(R.rewrite_scope_table(*args, whole_work=whole), _old_rewrite_scope_table(*args))


# ----------------------------------------------------------------------------- people
def _old_people_table(people: pd.DataFrame, commits: pd.DataFrame, as_of: dt.date, inactivity_days: int) -> pd.DataFrame:
    """people.people_table as it was: pandas groupby and apply (the reference)."""
    if people.empty:
        return pd.DataFrame(columns=P.PEOPLE_COLUMNS)
    stats = commits.groupby("person_id").agg(commits=("sha", "size"), first_commit=("author_day", "min"),
                                            last_commit=("author_day", "max"))
    out = people.merge(stats, left_on="person_id", right_index=True, how="left")
    out["commits"] = out["commits"].fillna(0).astype(int)
    for c in ("start_date", "end_date", "ip_assignment_date", "ip_document", "vendor", "ip_assignment",
              "possible_roster_match", "possible_roster_match_reason"):
        if c not in out:
            out[c] = None
    window_start = as_of - dt.timedelta(days=inactivity_days)

    def departed_status(r):
        # (issue 23: a roster row's blank end date is no answer: inactivity decides, as off the roster)
        if r["is_bot"]:
            return None
        if r["in_roster"] and r["end_date"] is not None and not pd.isna(r["end_date"]):
            return "confirmed" if r["end_date"] <= as_of else None
        last = r["last_commit"]
        return "unconfirmed" if last is None or pd.isna(last) or last <= window_start else None

    status = [departed_status(r) for _, r in out.iterrows()]
    out["departed"] = pd.Series([x is not None for x in status], index=out.index, dtype=bool)
    out["departed_status"] = pd.Series(status, index=out.index, dtype=object)
    if "surviving_lines" not in out:
        out["surviving_lines"] = 0
    rest = [c for c in out.columns if c not in P.PEOPLE_COLUMNS]
    out = out[[*P.PEOPLE_COLUMNS, *rest]]
    return out.sort_values(["is_bot", "commits", "person"], ascending=[True, False, True], kind="stable").reset_index(drop=True)


def test_people_table_in_python_equals_the_pandas_version():
    rng = random.Random(41)
    day = dt.date(2015, 1, 1)
    for case in range(150):
        n = rng.randint(1, 20)
        people = pd.DataFrame({
            "person_id": [f"p{i}" for i in range(n)], "person": [rng.choice(["Ann", "Bob", "Cy", "Di"]) + str(i) for i in range(n)],
            "type": [rng.choice(["employee", "contractor", "unknown"]) for _ in range(n)],
            "emails": [[f"x{i}@a.example"] for i in range(n)], "names": [[f"x{i}"] for i in range(n)],
            "is_bot": [rng.random() < 0.15 for _ in range(n)], "in_roster": [rng.random() < 0.5 for _ in range(n)],
            "end_date": [rng.choice([None, float("nan"), day + dt.timedelta(days=rng.randint(0, 4000))]) for _ in range(n)]})
        if case % 3 == 0:
            people = people.drop(columns=["end_date"])
        m = rng.randint(0, 60)
        commits = pd.DataFrame({"sha": [f"{i:040x}" for i in range(m)],
                                "person_id": [f"p{rng.randrange(n + 2)}" for _ in range(m)],
                                "author_day": [day + dt.timedelta(days=rng.randint(0, 4000)) for _ in range(m)]})
        if case % 5 == 1 and m:      # a day that is not a date: pandas' own grouping
            commits.loc[0, "author_day"] = None
        as_of = day + dt.timedelta(days=rng.randint(0, 4500))
        inactivity = rng.choice([30, 365, 1000])
        pd.testing.assert_frame_equal(P.people_table(people, commits, as_of, inactivity),
                                      _old_people_table(people, commits, as_of, inactivity))


# ----------------------------------------------------------------------------- bus factor
def _old_bus_factor_table(doa: pd.DataFrame, files: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """bus_factor.bus_factor_table as it was: meta.at per author (the reference)."""
    src = B.source_files(files)
    authors = B.authors_by_file(doa, src["path"])
    meta = people.set_index("person_id") if len(people) else pd.DataFrame()
    names = meta["person"].to_dict() if len(meta) else {}
    rows = []
    scopes = [("(repository)", src)] + [(m, g) for m, g in src.groupby("module", sort=True)]
    for scope, g in scopes:
        a = {p: authors[p] for p in g["path"]}
        if not a:
            continue
        tf, _ = B.truck_factor(a, names)
        counts: dict[str, int] = {}
        for s in a.values():
            for p in s:
                counts[p] = counts.get(p, 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], names.get(kv[0], kv[0])))[:5]
        n = len(a)
        vendor_files: dict[str, int] = {}
        contractor = departed = orphaned = 0
        for s in a.values():
            if not s:
                orphaned += 1
                continue
            types = {meta.at[p, "type"] for p in s}
            vendors = {meta.at[p, "vendor"] for p in s}
            if types == {"vendor"} and len(vendors) == 1:
                v = next(iter(vendors))
                vendor_files[v] = vendor_files.get(v, 0) + 1
            if types == {"contractor"}:
                contractor += 1
            if all(bool(meta.at[p, "departed"]) for p in s):
                departed += 1
        vtop = max(vendor_files.items(), key=lambda kv: (kv[1], kv[0])) if vendor_files else (None, 0)
        rows.append(dict(scope=scope, files=n, truck_factor=tf,
                         top_authors=[f"{names.get(p, p)} ({k} files)" for p, k in top],   # a list since the tables issue (#25)
                         vendor_share=round(vtop[1] / n, 4), contractor_share=round(contractor / n, 4),
                         departed_share=round(departed / n, 4), vendor_top=vtop[0], orphaned_files=orphaned))
    return pd.DataFrame(rows, columns=B.BUS_COLUMNS)


def test_bus_factor_table_with_dicts_equals_the_meta_at_version():
    rng = random.Random(53)
    for _ in range(150):
        n = rng.randint(1, 15)
        people = pd.DataFrame({
            "person_id": [f"p{i}" for i in range(n)], "person": [f"Person {rng.randrange(50)}" for i in range(n)],
            "type": [rng.choice(["employee", "contractor", "vendor", "founder"]) for _ in range(n)],
            "departed": [rng.random() < 0.4 for _ in range(n)]})
        # vendor staff always name their vendor (the roster requires it); others may or may not
        people["vendor"] = [rng.choice(["VendCo", "Other"]) if t == "vendor" else rng.choice(["VendCo", None])
                            for t in people["type"]]
        paths = [f"{rng.choice(['src', 'lib', 'app'])}/f{i}.py" for i in range(rng.randint(1, 40))]
        files = pd.DataFrame({"path": paths, "module": [p.split("/")[0] for p in paths],
                              "category": [rng.choice(["text", "text", "vendored"]) for _ in paths],
                              "is_source": [rng.random() < 0.85 for _ in paths]})
        doa = pd.DataFrame([(rng.choice(paths), f"p{rng.randrange(n)}", rng.random() < 0.7)
                            for _ in range(rng.randint(0, 90))], columns=["path", "person_id", "author"])
        pd.testing.assert_frame_equal(B.bus_factor_table(doa, files, people), _old_bus_factor_table(doa, files, people))


def test_table_text_measured_once_per_cell():
    """write_table's row height takes a cell's line count from the memo entry fit_text made (the same
    arguments, positionally): each distinct text is measured once, and the row heights are unchanged."""
    df = pd.DataFrame({"t": [f"text number {i} with a few words to wrap" for i in range(50)]})
    cols = [L.Col("t", "Text", 12)]
    L.text_lines.cache_clear()
    wb = Workbook()
    L.write_table(wb.active, df, "T", cols)
    info = L.text_lines.cache_info()
    assert info.misses == 50 + 1          # each cell once, and the header
    for r, text in enumerate(df["t"], start=2):
        want = L.row_height(L.text_lines(text, cols[0].width))
        assert wb.active.row_dimensions[r].height == want
