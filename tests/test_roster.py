"""Roster and company profile loading: valid files load, malformed ones are refused with file, row and reason."""

import datetime as dt

import openpyxl
import pytest

from ddkit.config import load_company
from ddkit.errors import InputError
from ddkit.roster import load_roster

GOOD = """Emails,PERSON,Type,vendor,start_date,end_date,ip_assignment,ip_assignment_date,ip_document,Github
alice@acme.example; ALICE.F@gmail.com,Alice Founder,founder,,2019-01-01,2022-03-31,signed,2019-06-01,TA-1,alice
eve@codeforge.example,Eve Agency,vendor,CodeForge Ltd,,,,,,
dan@x.example,Dan,Contractor,,,,pending,,,
"""


def test_good_csv(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text(GOOD, encoding="utf-8")
    r = load_roster(p)
    assert list(r["person"]) == ["Alice Founder", "Eve Agency", "Dan"]
    alice = r.iloc[0]
    assert alice["emails"] == ["alice@acme.example", "alice.f@gmail.com"]
    assert alice["type"] == "founder" and alice["end_date"] == dt.date(2022, 3, 31)
    assert alice["ip_assignment_date"] == dt.date(2019, 6, 1) and alice["ip_document"] == "TA-1"
    assert alice["Github"] == "alice"  # unknown columns are kept
    assert r.iloc[1]["ip_assignment"] == "missing"  # empty means missing
    assert r.iloc[1]["vendor"] == "CodeForge Ltd"
    assert r.iloc[2]["type"] == "contractor" and r.iloc[2]["ip_assignment"] == "pending"
    assert list(r["row"]) == [2, 3, 4]


def test_good_xlsx(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["person", "emails", "type", "end_date", "ip_assignment"])
    ws.append(["Alice", "a@x.example;b@x.example", "employee", dt.datetime(2023, 1, 31), "signed"])
    ws.append([None, None, None, None, None])
    ws.append(["Bob", "bob@x.example", "intern", None, None])
    p = tmp_path / "roster.xlsx"
    wb.save(p)
    r = load_roster(p)
    assert list(r["person"]) == ["Alice", "Bob"]
    assert r.iloc[0]["end_date"] == dt.date(2023, 1, 31)
    assert r.iloc[0]["emails"] == ["a@x.example", "b@x.example"]
    assert list(r["row"]) == [2, 4]


@pytest.mark.parametrize("content, message", [
    ("person,type\nA,employee\n", r"row 1: missing required column 'emails'"),
    ("person,emails,type\nA,a@x.example,emplyee\n", r"row 2: type 'emplyee' is not one of"),
    ("person,emails,type\nA,a@x.example,employee\nB,,employee\n", r"row 3: emails is empty"),
    ("person,emails,type\nA,not-an-address,employee\n", r"row 2: 'not-an-address' is not an e-mail address"),
    ("person,emails,type,end_date\nA,a@x.example,employee,31/01/2023\n", r"row 2: end_date '31/01/2023' is not an ISO date"),
    ("person,emails,type\nA,a@x.example,vendor\n", r"row 2: type is vendor but the vendor column is empty"),
    ("person,emails,type\nA,a@x.example,employee\nB,A@X.example,employee\n", r"row 3: e-mail a@x.example also belongs to 'A' on row 2"),
    ("person,emails,type\nA,a@x.example,employee\nA,b@x.example,employee\n", r"row 3: person 'A' is already on row 2"),
    ("person,emails,type,ip_assignment\nA,a@x.example,employee,yes\n", r"row 2: ip_assignment 'yes' is not one of"),
    ("person,emails,type,start_date,end_date\nA,a@x.example,employee,2020-01-01,2019-01-01\n", r"row 2: end_date 2019-01-01 is before start_date"),
    ("person,person,emails,type\n", r"row 1: column 'person' appears twice"),
    ("", r"empty"),
])
def test_malformed_roster(tmp_path, content, message):
    p = tmp_path / "roster.csv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as e:
        load_roster(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_roster_not_utf8(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_bytes(b"person,emails,type\nJos\xe9,j@x.example,employee\n")
    with pytest.raises(InputError, match=r"row 2: not UTF-8"):
        load_roster(p)


def test_roster_missing_or_wrong_kind(tmp_path):
    with pytest.raises(InputError, match="roster not found"):
        load_roster(tmp_path / "none.csv")
    bad = tmp_path / "roster.xlsx"
    bad.write_bytes(b"this is not a zip")
    with pytest.raises(InputError, match="cannot open as an Excel workbook"):
        load_roster(bad)


def test_company_profile(tmp_path):
    p = tmp_path / "company.yaml"
    p.write_text("name: Acme Payments Inc.\nlegal_names: [Acme Payments]\ndomains: [Acme.example]\n"
                 "incorporation_date: 2019-06-01\noutbound_license: proprietary\n"
                 "vendors: {CodeForge Ltd: [codeforge.example]}\n")
    c = load_company(p)
    assert c.legal_names == ["Acme Payments Inc.", "Acme Payments"]
    assert c.domains == ["acme.example"] and c.incorporation_date == dt.date(2019, 6, 1)
    assert c.vendors == {"CodeForge Ltd": ["codeforge.example"]}
    # A typo must not silently drop every pre-incorporation finding: unknown keys are errors naming the
    # key, its line and the key meant.
    p.write_text("name: Acme\nincoporation_date: 2019-06-01\n")
    with pytest.raises(InputError, match=r"line 2: unknown key 'incoporation_date' \(did you mean 'incorporation_date'\?\)"):
        load_company(p)
    p.write_text("incorporation_date: 2019-06-31\n")
    with pytest.raises(InputError, match="invalid value"):
        load_company(p)
    p.write_text("")
    with pytest.raises(InputError, match="empty"):
        load_company(p)
    p.write_text("incorporation_date: June 2019\n")
    with pytest.raises(InputError, match="incorporation_date 'June 2019' is not an ISO date"):
        load_company(p)
    p.write_text("name: [unclosed\n")
    with pytest.raises(InputError, match="invalid YAML"):
        load_company(p)
