"""Issue 23, parts 1 and 2 (no git): one input path for rosters and company profiles, ISO-only dates,
misspelt roster columns refused, unknown is not good (departed unconfirmed, materiality for everyone,
partial scores never green). Each misuse case has a positive control: the bad behaviour is possible
without the check."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from ddkit import roster as roster_mod
from ddkit.analyze import materiality
from ddkit.analyze.findings import finding
from ddkit.analyze.people import people_table
from ddkit.config import Company, load_company, load_rules
from ddkit.errors import InputError
from ddkit.isodate import parse_iso_date
from ddkit.pipeline import _as_of
from ddkit.roster import check_roster, load_roster, roster_gaps
from ddkit.score import not_assessed, readiness
from ddkit.triage import load_triage

ROSTER = """person,emails,type,vendor,start_date,end_date,ip_assignment,ip_assignment_date,ip_document,github,git_commits
Alice Founder,alice@acme.example; ALICE.F@gmail.com,founder,,2019-01-01,2022-03-31,signed,2019-06-01,TA-1,alicef,12
Eve Agency,eve@codeforge.example,vendor,CodeForge Ltd,,,,,,,3
Dan,dan@x.example; dan2@x.example,Contractor,,2020-02-01,,pending,,,,
Ivy Intern,ivy@acme.example,intern,,,,not_required,,,ivy,0
"""


@pytest.fixture(scope="module")
def rules():
    return load_rules(None)


def _csv(tmp_path, text=ROSTER, name="roster.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _xlsx(tmp_path, text=ROSTER):
    """The same roster as an Excel file would hold it: dates as date cells, numbers as numbers."""
    import csv
    rows = list(csv.reader(io.StringIO(text)))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(rows[0])
    for r in rows[1:]:
        cells: list = []
        for h, v in zip(rows[0], r):
            if v and h.endswith("_date"):
                cells.append(dt.datetime.fromisoformat(v))
            elif v and h == "git_commits":
                cells.append(int(v))
            else:
                cells.append(v or None)
        ws.append(cells)
    p = tmp_path / "roster.xlsx"
    wb.save(p)
    return p


# -- one input path: a file, an Excel file, a DataFrame, a list of dicts, a dict: the same roster --------

def test_every_kind_of_roster_gives_the_same_rows(tmp_path):
    path = _csv(tmp_path)
    want = load_roster(path)
    assert want.iloc[0]["emails"] == ["alice@acme.example", "alice.f@gmail.com"]
    kinds = {
        "xlsx": _xlsx(tmp_path),
        "read_csv": pd.read_csv(path),                                   # NaN cells, int and float columns
        "read_csv str": pd.read_csv(path, dtype=str),
        "read_csv str dtype": pd.read_csv(path, dtype="str"),             # pandas 3's string dtype
        "read_csv no NA": pd.read_csv(path, keep_default_na=False),       # '' cells
        "dates parsed": pd.read_csv(path, parse_dates=["start_date", "end_date", "ip_assignment_date"]),
        "dates as Timestamps": pd.read_csv(path).assign(
            end_date=lambda d: pd.to_datetime(d["end_date"]), ip_assignment_date=lambda d: pd.to_datetime(
                d["ip_assignment_date"]).to_numpy()),
        "read_excel": pd.read_excel(_xlsx(tmp_path)),
        "records": pd.read_csv(path).to_dict("records"),
        "dict of columns": pd.read_csv(path, keep_default_na=False).to_dict("list"),
        "lists of addresses": pd.read_csv(path).assign(
            emails=lambda d: [[a.strip() for a in e.split(";")] for e in d["emails"]]),
        "ddkit's own roster": want,
    }
    for kind, source in kinds.items():
        got = load_roster(source)
        assert list(got.columns) == list(want.columns), kind
        pd.testing.assert_frame_equal(got, want, obj=kind)
        assert got.attrs == want.attrs, kind
    # One person as a dict of cells.
    one = load_roster({"person": "Alice", "emails": "a@x.example; b@x.example", "type": "employee"})
    assert one.iloc[0]["emails"] == ["a@x.example", "b@x.example"] and list(one["row"]) == [2]


def test_raw_frame_is_not_a_roster_positive_control(tmp_path):
    """Without the one input path a DataFrame's e-mail cell is a string: iterated, it gives characters,
    which is how `ddkit.scan(roster=pd.read_csv(...))` matched nobody."""
    raw = pd.read_csv(_csv(tmp_path))
    assert isinstance(raw.iloc[0]["emails"], str)
    assert list(raw.iloc[0]["emails"])[:3] == ["a", "l", "i"]
    assert load_roster(raw).iloc[0]["emails"] == ["alice@acme.example", "alice.f@gmail.com"]


@pytest.mark.parametrize("bad", [42, 3.5, {"a", "b"}, b"person,emails,type\n", ["not a dict"], ("person",),
                                 {"person": ["A", "B"], "emails": ["a@x.example"]},
                                 {"person": ["A"], "emails": "a@x.example"}])
def test_anything_else_is_an_input_error(bad):
    with pytest.raises(InputError) as e:
        load_roster(bad)
    assert "\n" not in str(e.value) and "roster" in str(e.value)


def test_problems_of_data_name_the_kind_and_row():
    df = pd.DataFrame({"person": ["A", "B"], "emails": ["a@x.example", "b@x.example"], "type": ["employee", "x"]})
    with pytest.raises(InputError, match=r"^roster \(DataFrame\), row 3: type 'x' is not one of"):
        load_roster(df)
    with pytest.raises(InputError, match=r"^roster \(list of dicts\), row 2: end_date '31/12/2020'"):
        load_roster([{"person": "A", "emails": "a@x.example", "type": "employee", "end_date": "31/12/2020"}])


def test_company_profile_as_a_path_a_dict_or_a_company(tmp_path):
    p = tmp_path / "company.yaml"
    p.write_text("name: Acme\ndomains: [Acme.example]\nincorporation_date: 2019-06-01\n"
                 "vendors: {CodeForge: [codeforge.example]}\n")
    from_file = load_company(p)
    from_dict = load_company({"name": "Acme", "domains": ["Acme.example"], "incorporation_date": "2019-06-01",
                              "vendors": {"CodeForge": ["codeforge.example"]}})
    from_obj = load_company(from_file)
    for c in (from_dict, from_obj):
        assert (c.name, c.domains, c.incorporation_date, c.vendors, c.legal_names) == (
            from_file.name, from_file.domains, from_file.incorporation_date, from_file.vendors, from_file.legal_names)
    assert from_dict.incorporation_date == dt.date(2019, 6, 1)
    with pytest.raises(InputError, match=r"unknown key 'incoporation_date' \(did you mean 'incorporation_date'\?\)"):
        load_company({"incoporation_date": "2019-06-01"})
    for bad in (["name"], 42, "not/a/file.yaml"):
        with pytest.raises(InputError):
            load_company(bad)
    # A Company built by hand is checked like a file: a date typed day first is refused, not guessed.
    with pytest.raises(InputError, match="incorporation_date '01/06/2019' is not an ISO date"):
        load_company(Company(incorporation_date="01/06/2019"))  # type: ignore[arg-type]


# -- misspelt roster columns ---------------------------------------------------------------------------

@pytest.mark.parametrize("header, meant", [
    ("ip_asignment_date", "ip_assignment_date"), ("IP Asignment Date", "ip_assignment_date"),
    ("enddate", "end_date"), ("End-Dt", "end_date"), ("startdate", "start_date"), ("vendors", "vendor"),
    ("ip_documents", "ip_document"), ("types", "type"), ("ipassignment", "ip_assignment"),
    ("assignment_date", "ip_assignment_date"),
])
def test_misspelt_column_is_an_error_with_a_suggestion(tmp_path, header, meant):
    p = _csv(tmp_path, f"person,emails,type,{header}\nA,a@x.example,employee,2020-01-01\n")
    df, problems = check_roster(p)
    assert len(problems) == 1 and f"row 1: unknown column '{header}' (did you mean '{meant}'?)" in problems[0]
    assert df.empty
    with pytest.raises(InputError, match="did you mean"):
        load_roster(pd.read_csv(p))      # the same rule for data


def test_misspelt_column_positive_control(tmp_path, monkeypatch):
    """Without the check the misspelt column is kept as an extra column and the real one read as empty:
    the signed date silently gone (every ip.pre-assignment-work finding with it)."""
    p = _csv(tmp_path, "person,emails,type,ip_assignment,ip_asignment_date\nA,a@x.example,employee,signed,2021-01-01\n")
    monkeypatch.setattr(roster_mod, "_near_known", lambda col: None)
    df = load_roster(p)
    assert df.iloc[0]["ip_assignment_date"] is None and df.iloc[0]["ip_asignment_date"] == "2021-01-01"


def test_columns_of_ones_own_are_kept(tmp_path):
    p = _csv(tmp_path, "person,emails,type,github,person_id,vendor_name,department,notes,Unnamed: 9\n"
                       "A,a@x.example,employee,a1,7,,R&D,x,\n")
    df = load_roster(p)
    assert df.iloc[0]["github"] == "a1" and df.iloc[0]["department"] == "R&D"
    assert "person_id (roster)" in df.columns and "vendor_name" in df.columns


# -- ISO dates only ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["26/11/2026", "11/26/2026", "2026/11/26", "20261126", "2026-W48-4", "2026-11",
                                   "26 Nov 2026", "2026-11-26T10:30", "2026-02-30", 46352, 46352.0, "46352", True])
def test_dates_other_than_iso_are_refused(value):
    with pytest.raises(ValueError):
        parse_iso_date(value)


def test_iso_dates_and_date_values_are_taken():
    d = dt.date(2026, 11, 26)
    for v in ("2026-11-26", " 2026-11-26 ", "2026-11-26 00:00:00", "2026-11-26T00:00", d, dt.datetime(2026, 11, 26, 9),
              pd.Timestamp("2026-11-26"), np.datetime64("2026-11-26")):
        assert parse_iso_date(v) == d, v
    for v in (None, "", "  ", float("nan"), pd.NaT, pd.NA, np.datetime64("NaT")):
        assert parse_iso_date(v) is None, v


def test_python_alone_would_take_them_positive_control():
    """Why a parser of ddkit's own: date.fromisoformat reads these (Python 3.11+), and YAML reads an
    unquoted 20190601 as a number that str() turns into one of them."""
    import yaml
    assert dt.date.fromisoformat("20261126") == dt.date(2026, 11, 26)
    assert dt.date.fromisoformat("2026-W48-4") == dt.date(2026, 11, 26)
    assert yaml.safe_load("d: 20190601")["d"] == 20190601


@pytest.mark.parametrize("cell", ["26/11/2026", "20261126", "46352", "2026-W48-4"])
def test_roster_dates_name_file_row_column_and_value(tmp_path, cell):
    p = _csv(tmp_path, f"person,emails,type,end_date\nA,a@x.example,employee,2020-01-01\nB,b@x.example,employee,{cell}\n")
    with pytest.raises(InputError, match=rf"{p}, row 3: end_date '{cell}' is not an ISO date"):
        load_roster(p)
    with pytest.raises(InputError, match=r"row 3: end_date '46352' is not an ISO date"):
        load_roster(pd.DataFrame({"person": ["A", "B"], "emails": ["a@x.example", "b@x.example"],
                                  "type": ["employee"] * 2, "end_date": [None, 46352]}))


def test_excel_serial_number_cell_is_refused_but_date_cell_taken(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["person", "emails", "type", "end_date", "start_date"])
    ws.append(["A", "a@x.example", "employee", 46352, dt.datetime(2020, 1, 1)])
    p = tmp_path / "r.xlsx"
    wb.save(p)
    with pytest.raises(InputError, match=r"row 2: end_date '46352' is not an ISO date"):
        load_roster(p)
    ws["D2"] = dt.datetime(2026, 11, 26)
    wb.save(p)
    assert load_roster(p).iloc[0]["end_date"] == dt.date(2026, 11, 26)


@pytest.mark.parametrize("text", ["incorporation_date: 20190601\n", "incorporation_date: '01/06/2019'\n",
                                  "incorporation_date: 2019-W22-6\n", "incorporation_date: 43617\n"])
def test_company_dates(tmp_path, text):
    p = tmp_path / "company.yaml"
    p.write_text(text)
    with pytest.raises(InputError, match=rf"{p}: incorporation_date '.*' is not an ISO date"):
        load_company(p)


def test_triage_and_as_of_dates(tmp_path):
    t = tmp_path / "triage.yaml"
    t.write_text("findings:\n  abc:\n    status: accepted\n    date: 26/11/2026\n")
    with pytest.raises(InputError, match=r"finding abc: date '26/11/2026' is not an ISO date"):
        load_triage(t)
    t.write_text("findings:\n  abc:\n    status: accepted\n    date: 20261126\n")
    with pytest.raises(InputError, match="is not an ISO date"):
        load_triage(t)
    t.write_text("findings:\n  abc:\n    status: accepted\n    date: 2026-11-26\n")
    assert load_triage(t)["abc"]["date"] == dt.date(2026, 11, 26)
    for bad in ("20261126", "26/11/2026", "2026-W48-4"):
        with pytest.raises(InputError, match=f"--as-of '{bad}' is not an ISO date"):
            _as_of(bad)
    assert _as_of("2026-11-26") == dt.date(2026, 11, 26)


# -- unknown is not good -------------------------------------------------------------------------------

def _people(rows):
    cols = ["person_id", "person", "type", "vendor", "emails", "is_bot", "in_roster", "end_date", "names"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


def test_blank_end_date_and_no_recent_commit_is_departed_unconfirmed():
    as_of = dt.date(2026, 1, 1)
    people = _people([
        ("p1", "Old Blank", "employee", None, [], False, True, None, []),          # roster, blank, inactive
        ("p2", "Recent Blank", "employee", None, [], False, True, None, []),       # roster, blank, active
        ("p3", "Left", "employee", None, [], False, True, dt.date(2020, 1, 1), []),
        ("p4", "Engaged", "employee", None, [], False, True, dt.date(2027, 1, 1), []),   # inactive, end in future
        ("p5", "Passer-by", "unknown", None, [], False, False, None, []),
        ("p6", "bot", "bot", None, [], True, False, None, []),
    ])
    commits = pd.DataFrame({"sha": list("abcdef"), "person_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
                            "author_day": [dt.date(2018, 5, 1), dt.date(2025, 12, 1), dt.date(2019, 1, 1),
                                           dt.date(2018, 1, 1), dt.date(2017, 1, 1), dt.date(2016, 1, 1)]})
    t = people_table(people, commits, as_of, 365).set_index("person")
    assert t.loc["Old Blank", "departed"] and t.loc["Old Blank", "departed_status"] == "unconfirmed"
    assert not t.loc["Recent Blank", "departed"] and t.loc["Recent Blank", "departed_status"] is None
    assert t.loc["Left", "departed"] and t.loc["Left", "departed_status"] == "confirmed"
    assert not t.loc["Engaged", "departed"]
    assert t.loc["Passer-by", "departed_status"] == "unconfirmed"
    assert not t.loc["bot", "departed"]


def test_gap_list_puts_blank_end_dates_that_count_as_departures_first(tmp_path):
    p = _csv(tmp_path, "person,emails,type,ip_assignment,end_date,git_surviving_lines,git_last_commit\n"
                       "Big,big@x.example,employee,,,900,2026-06-01\n"        # active: no end_date needed
                       "Gone,gone@x.example,employee,signed,,5,2015-01-01\n"  # inactive, blank end_date
                       "Told,told@x.example,employee,,2019-01-01,800,2015-01-01\n")
    r = load_roster(p)
    g = roster_gaps(r, as_of=dt.date(2026, 7, 1))
    assert list(g["person"]) == ["Gone", "Big", "Told"]
    assert g.iloc[0]["cells"][0] == "end_date" and "departed (unconfirmed)" in g.iloc[0]["detail"]
    # From a scan's people table: its departed_status decides.
    people = pd.DataFrame({"person": ["Big", "Gone", "Told"], "surviving_lines": [900, 5, 800],
                           "departed_status": ["unconfirmed", None, "confirmed"]})
    g = roster_gaps(r, people)
    assert list(g["person"]) == ["Big", "Told", "Gone"]
    assert g.iloc[0]["cells"][0] == "end_date"


def test_materiality_applies_to_roster_people(rules):
    people = pd.DataFrame({"person": ["Rosa Roster", "Big Roster"], "in_roster": [True, True]})

    def rec(rule, who, lines):
        return finding(rules, rule, who, "e", "r", lines_at_stake=lines, person=who)
    recs = [rec("ip.pre-incorporation-work", "Rosa Roster", 0), rec("ip.pre-incorporation-work", "Big Roster", 500),
            rec("ip.contractor-no-assignment", "Rosa Roster", 0), rec("ip.contractor-no-assignment", "Other", 0)]
    assert {r["severity"] for r in recs[:3]} == {"high"}            # positive control: each is high alone
    out = materiality.roll_up(rules, recs, people, total_lines=1000)
    by = {(r["rule"], r["subject"]): r for r in out}
    assert by[("ip.pre-incorporation-work", "Big Roster")]["severity"] == "high"
    assert ("ip.pre-incorporation-work", "Rosa Roster") not in by     # no surviving line: not a high finding
    rolled = [r for r in out if r.get("rolled_up")]
    assert {r["rule"] for r in rolled} == {"ip.pre-incorporation-work", "ip.contractor-no-assignment"}
    assert all(r["severity"] == "low" for r in rolled)
    assert sorted(s for r in rolled for s in r["subjects"]) == ["Other", "Rosa Roster", "Rosa Roster"]
    # A vendor's finding (its staff together) by the same measure: none of its staff's lines survive.
    vend = [finding(rules, "ip.contractor-no-assignment", "CodeForge", "e", "r", lines_at_stake=0, vendor="CodeForge"),
            finding(rules, "ip.contractor-no-assignment", "BigVendor", "e", "r", lines_at_stake=400, vendor="BigVendor")]
    out = materiality.roll_up(rules, vend, people, total_lines=1000)
    assert [(r["subject"], r["severity"]) for r in out if not r.get("rolled_up")] == [("BigVendor", "high")]
    assert [r["subjects"] for r in out if r.get("rolled_up")] == [["CodeForge"]]


# -- not assessed, partial scores ----------------------------------------------------------------------

def _findings(rows):
    return pd.DataFrame(rows, columns=["rule", "area", "severity"])


def test_partial_score_is_never_green(rules, tmp_path):
    clean = _findings([])
    full = readiness(clean, rules, rules.areas())
    assert full["rating"] == "green" and full["readiness_score"] == 100   # positive control
    part = readiness(clean, rules, [a for a in rules.areas() if a != "security"], partial=True,
                     areas_not_assessed=["security"])
    assert part["rating"] == "amber" and part["readiness_score"] == 79 and part["capped_by"] == "partial"
    assert part["areas"]["security"] == {"score": None, "rating": "not assessed", "findings": 0}
    # Only assessed areas count: a finding in an area not assessed costs nothing.
    sec = _findings([("sec.secret-in-tree", "security", "critical")])
    assert readiness(sec.iloc[0:0], rules, ["ip"])["readiness_score"] == 100
    # An overlay cannot make a partial score green.
    d = tmp_path / "rules"
    d.mkdir()
    (d / "score.yaml").write_text("caps: {partial: 100}\n")
    over = readiness(clean, load_rules(d), ["ip"], partial=True)
    assert over["rating"] == "amber" and over["readiness_score"] == 79


def test_not_assessed_says_what_and_why():
    people = pd.DataFrame({"is_bot": [False, True]})
    roster = pd.DataFrame({"person": ["A"]})
    with_date = Company(incorporation_date=dt.date(2019, 1, 1), outbound_license_source="company profile")
    assert not_assessed(with_date, roster, people, licenses=True, secrets=True) == []
    got = dict(not_assessed(Company(), pd.DataFrame(), people, licenses=False, secrets=False))
    assert got["pre-incorporation work (no incorporation date)"] == ()
    assert got["IP assignments and engagement dates (no roster)"] == ()
    assert [a for a in got.values() if a] == [("license",), ("security",)]
    assert any("dependency licenses judged as for a proprietary product" in k for k in got)
    assert dict(not_assessed(None, roster, people, licenses=True, secrets=True)) == {
        "pre-incorporation work (no incorporation date)": ()}
    # A roster with blank cells that matter is partial too (so it never beats the no-roster scan's cap).
    got = not_assessed(with_date, roster, people, licenses=True, secrets=True, roster_rows_to_complete=3)
    assert got == [("IP assignments and engagement dates of 3 roster rows with blank cells "
                    "(`ddkit roster check` lists them)", ())]
