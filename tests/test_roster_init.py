"""The roster workflow: `roster init` writes a roster to fill in, `roster check` lists every problem,
a scan says which cells are still blank; the reader takes what Excel and HR systems export."""

import csv
import datetime as dt
import json

import openpyxl
import pandas as pd
import pytest
from sample_repos.generate import HERE, build

import ddkit
from ddkit.roster import check_roster, format_gaps, load_roster, roster_gaps
from ddkit.roster_init import INFO_COLUMNS, init_roster
from gitrepo import ddkit_cli

CONTRACT = ["person", "emails", "type", "vendor", "start_date", "end_date", "ip_assignment",
            "ip_assignment_date", "ip_document"]




@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    root = tmp_path_factory.mktemp("acme")
    repo = build("acme", root)
    ans = json.loads((HERE / "acme" / "answers.json").read_text(encoding="utf-8"))
    truth_scan = ddkit.scan(repo, roster=HERE / "acme" / "roster.csv", company=HERE / "acme" / "company.yaml",
                            as_of=ans["as_of"], licenses=False, secrets=False)
    return repo, ans, truth_scan, root


# -- roster init --------------------------------------------------------------------------------------

def _sheet_rows(path):
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = rows[0]
    return wb, ws, header, [dict(zip(header, r)) for r in rows[1:] if any(v is not None for v in r)]


def test_init_xlsx_rows(acme):
    repo, ans, _, root = acme
    out = root / "roster.xlsx"
    df, notes = init_roster(repo, out, company=HERE / "acme" / "company.yaml")
    assert notes == []
    wb, ws, header, rows = _sheet_rows(out)
    assert list(header) == [*CONTRACT, *INFO_COLUMNS]
    # One row per resolved person, bots left out, most surviving lines first.
    people = {p["person"]: p for p in ans["people"]}
    bots = {p["person"] for p in ans["people"] if p["is_bot"]}
    names = [r["person"] for r in rows]
    assert not set(names) & bots
    lines = [r["git_surviving_lines"] for r in rows]
    assert lines == sorted(lines, reverse=True)
    by = {r["person"]: r for r in rows}
    # Suggested types: company domain -> employee; vendor domain -> vendor with the vendor's name; else unknown.
    assert by["Alice Founder"]["type"] == "employee"          # the truth says founder: the user corrects it
    assert by["Eve Agency"]["type"] == "vendor" and by["Eve Agency"]["vendor"] == "CodeForge Ltd"
    assert by["Dan Freelancer"]["type"] == "unknown"           # gmail only
    assert by["Ivan Outsider"]["type"] == "unknown"
    assert by["Alice Founder"]["emails"] == "alice.f@gmail.com; alice@acme.example"
    # Bob's old address committed under another name is its own row, with a hint to merge it.
    assert by["Robert Engineer"]["possibly_same_as"].startswith("Bob Engineer (row ")
    assert names.index("Bob Engineer") + 2 == int(by["Robert Engineer"]["possibly_same_as"].split("row ")[1].split(")")[0])
    assert by["Alice Founder"]["possibly_same_as"] is None
    assert by["Alice Founder"]["git_first_commit"].date() == dt.date.fromisoformat(people["Alice Founder"]["first_commit"])
    assert by["Alice Founder"]["git_commits"] == people["Alice Founder"]["commits"]
    assert by["Alice Founder"]["git_surviving_lines"] == people["Alice Founder"]["surviving_lines"]
    for r in rows:  # the contract's columns to fill are left empty
        assert all(r[c] is None for c in ("start_date", "end_date", "ip_assignment", "ip_assignment_date",
                                          "ip_document")), r
    # Dropdowns for type and ip_assignment, date checks for the dates, frozen header, notes.
    col = {h: openpyxl.utils.get_column_letter(i) for i, h in enumerate(header, start=1)}
    dvs = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    assert dvs[f"{col['type']}2"].type == "list" and "contractor" in dvs[f"{col['type']}2"].formula1
    assert dvs[f"{col['ip_assignment']}2"].type == "list" and "not_required" in dvs[f"{col['ip_assignment']}2"].formula1
    for c in ("start_date", "end_date", "ip_assignment_date"):
        assert dvs[f"{col[c]}2"].type == "date"
    assert ws.freeze_panes == "B2"
    assert ws[f"{col['ip_assignment']}1"].comment is not None
    assert wb.sheetnames == ["Roster", "Instructions"]
    assert any("roster check" in (c.value or "") for c in wb["Instructions"]["A"])
    # Read back unchanged: the informational columns are unknown columns, kept.
    r = load_roster(out)
    assert list(r["person"]) == names
    assert r.set_index("person").loc["Bob Engineer", "emails"] == ["bob.engineer@gmail.com", "bob@acme.example"]
    assert "git_surviving_lines" in r.columns


def test_init_csv_reads_back_and_is_safe(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.py": "1\n2\n3\n"}, name="=HYPERLINK(\"http://x\")", email="mallory@evil.example")
    r.commit({"b.py": "1\n"}, name="Zoë Employee", email="zoe@acme.example")
    r.commit({"c.py": "1\n"}, name="dependabot[bot]", email="49699333+dependabot[bot]@users.noreply.github.com")
    company = tmp_path / "company.yaml"
    company.write_text("name: Acme\ndomains: [acme.example]\n")
    out = tmp_path / "roster.csv"
    df, _ = init_roster(r.path, out, company=company)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the accents right
    assert b"'=HYPERLINK" in raw          # a spreadsheet shows the name instead of running it
    back = load_roster(out)
    assert list(back["person"]) == ['=HYPERLINK("http://x")', "Zoë Employee"]  # bots left out
    assert list(back["type"]) == ["unknown", "employee"]
    xl = tmp_path / "roster.xlsx"
    init_roster(r.path, xl, company=company)
    cell = openpyxl.load_workbook(xl).worksheets[0]["A2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x")'  # text, not a formula
    assert list(load_roster(xl)["person"]) == list(back["person"])
    # --ref: the history up to that ref only.
    first = r.git("rev-parse", "HEAD~2")
    df, _ = init_roster(r.path, tmp_path / "old.csv", company=company, ref=first)
    assert list(df["person"]) == ['=HYPERLINK("http://x")']


def test_init_cli(acme, tmp_path):
    repo, _, _, _ = acme
    out = tmp_path / "r.csv"
    p = ddkit_cli("roster", "init", repo, "--company", HERE / "acme" / "company.yaml", "-o", out)
    assert p.returncode == 0, p.stderr
    assert "12 people" in p.stdout and out.is_file()
    for args, needle in [(("roster", "init", repo, "-o", tmp_path / "r.txt"), ".csv or .xlsx"),
                         (("roster", "init", tmp_path / "missing", "-o", tmp_path / "r.csv"), "missing"),
                         (("roster", "init", repo, "--company", tmp_path / "none.yaml", "-o", tmp_path / "r.csv"),
                          "none.yaml"),
                         (("roster", "init", repo, "-o", tmp_path / "r.csv" / "x.csv"), "not a folder")]:
        if args[-1] == tmp_path / "r.csv" / "x.csv":
            (tmp_path / "r.csv").write_text("a file, not a folder")
        p = ddkit_cli(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr and needle in p.stderr


# -- the acme round trip ------------------------------------------------------------------------------

def _fill_from_truth(rows, truth):
    """Fill the generated rows from the sample's roster, matched by e-mail.

    The generated roster groups addresses per resolved person; the sample's roster may make one person of
    several resolved people. In acme, robert@acme.example (committed as 'Robert Engineer') is Bob Engineer's
    old address: without a roster ddkit cannot know that, so `roster init` gives it its own row, and the user
    merges the two rows (the addresses move into the more material row). Rows matching no one in the
    sample's roster (Ivan Outsider, zed1984) are people the company does not know: deleted, so that the
    scan reports them as unknown contributors, as with the sample's roster.
    """
    by_email = {e: t for t in truth.to_dict("records") for e in t["emails"]}
    filled, merged, dropped = {}, {}, []
    for r in rows:
        emails = [e.strip() for e in r["emails"].split(";")]
        hits = {by_email[e]["person"] for e in emails if e in by_email}
        assert len(hits) <= 1, r
        if not hits:
            dropped.append(r["person"])
            continue
        t = next(by_email[e] for e in emails if e in by_email)
        if t["person"] in filled:  # a second resolved person who is the same roster person: merge
            filled[t["person"]]["emails"] += "; " + r["emails"]
            merged.setdefault(t["person"], []).append(r["person"])
            continue
        new = dict(r)
        new["person"] = t["person"]
        for c in CONTRACT[2:]:
            v = t[c]
            new[c] = None if v is None or (not isinstance(v, str) and pd.isna(v)) else v
        filled[t["person"]] = new
    return list(filled.values()), merged, dropped


def _people(s):
    p = s.people
    return {r["person"]: (r["type"], r["vendor"] if isinstance(r["vendor"], str) else None, bool(r["is_bot"]),
                          sorted(r["emails"]), int(r["commits"]), r["first_commit"], r["last_commit"],
                          bool(r["departed"]), int(r["surviving_lines"]))
            for r in p.to_dict("records")}


def _findings(s):
    cols = ["rule", "severity", "subject", "path", "lines_at_stake", "evidence", "remediation"]
    return sorted(tuple(str(v) for v in r) for r in s.findings[cols].itertuples(index=False, name=None))


def _read_generated(path):
    if path.suffix == ".xlsx":
        return _sheet_rows(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows = [{k: (v if v != "" else None) for k, v in r.items()} for r in rows]
    return None, None, list(rows[0].keys()), rows


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_acme_round_trip(acme, fmt):
    """Generated roster + blanks filled from the sample's truth = the sample's answers, exactly."""
    repo, ans, truth_scan, root = acme
    out = root / f"roundtrip.{fmt}"
    init_roster(repo, out, company=HERE / "acme" / "company.yaml")
    wb, ws, header, rows = _read_generated(out)
    truth = load_roster(HERE / "acme" / "roster.csv")
    filled, merged, dropped = _fill_from_truth(rows, truth)
    assert merged == {"Bob Engineer": ["Robert Engineer"]}
    assert sorted(dropped) == ["Ivan Outsider", "zed1984"]
    if fmt == "xlsx":  # into the generated workbook itself (dropdowns and all), as a user would
        ws.delete_rows(2, ws.max_row)
        for r in filled:
            ws.append([r[h] for h in header])
        wb.save(out)
    else:  # saved again as Excel does in many locales: BOM, ';' between fields, CRLF
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
            w.writerow(header)
            for r in filled:
                w.writerow(["" if r[h] is None else (r[h].isoformat() if hasattr(r[h], "isoformat") else r[h])
                            for h in header])
    assert check_roster(out)[1] == []
    s = ddkit.scan(repo, roster=out, company=HERE / "acme" / "company.yaml", as_of=ans["as_of"],
                   licenses=False, secrets=False)
    assert _people(s) == _people(truth_scan)
    assert _findings(s) == _findings(truth_scan)
    # ... and both are the sample's answers.
    want = sorted((f["rule"], f["subject"], f["lines_at_stake"]) for f in ans["findings"])
    got = s.findings[s.findings["rule"].isin({f["rule"] for f in ans["findings"]})]
    assert sorted(zip(got["rule"], got["subject"], got["lines_at_stake"].astype(int))) == want
    # Nothing left to fill but José Núñez's end date: on the sample's roster without one, and no commit in
    # the year before as_of, he counts as departed (unconfirmed) until the roster says when he left.
    warn = [w for w in s.warnings if w.startswith("roster:")]
    assert len(warn) == 1 and "end_date on 1" in warn[0] and "José Núñez" in warn[0]
    g = roster_gaps(s.roster, s.people)
    assert [(r.person, r.cells) for r in g.itertuples()] == [("José Núñez", ["end_date"])]


# -- what is still missing ----------------------------------------------------------------------------

def test_gaps_as_generated(acme):
    """A scan with the roster as generated says which rows and cells are still blank, material people first."""
    repo, ans, _, root = acme
    out = root / "asis.csv"
    init_roster(repo, out, company=HERE / "acme" / "company.yaml")
    s = ddkit.scan(repo, roster=out, company=HERE / "acme" / "company.yaml", as_of=ans["as_of"],
                   licenses=False, secrets=False)
    g = roster_gaps(s.roster, s.people)
    assert len(g) == 12 and g.iloc[0]["person"] == "Alice Founder" and g.iloc[0]["row"] == 2
    # The blank end dates that count as departures (no commit within the inactivity window before as_of:
    # departed, unconfirmed) first, then the rest; most surviving lines first within each.
    gone = set(s.people.loc[s.people["departed_status"].eq("unconfirmed").fillna(False), "person"])
    ends = [c[0] == "end_date" for c in g["cells"]]
    assert ends == sorted(ends, reverse=True) and sum(ends) == 6
    assert {p for p, e in zip(g["person"], ends) if e} == gone & set(s.roster["person"])
    for part in (g[ends], g[[not e for e in ends]]):
        assert list(part["surviving_lines"]) == sorted(part["surviving_lines"], reverse=True)
    assert g.set_index("person").loc["Dan Freelancer", "cells"] == ["end_date", "ip_assignment", "type"]
    warn = [w for w in s.warnings if w.startswith("roster:")]
    assert len(warn) == 1 and "12 rows" in warn[0] and "type on 3" in warn[0] and "end_date on 6" in warn[0]
    block = format_gaps(g)
    assert len(block) == 12 and block[-1].strip() == "… 2 more" and "row 2: Alice Founder (102 lines)" in block[1]
    # The same block is printed after a scan on the console.
    p = ddkit_cli("scan", repo, "--roster", out, "--company", HERE / "acme" / "company.yaml", "--as-of", ans["as_of"],
                  "--no-licenses", "--no-secrets")
    assert p.returncode == 0, p.stderr
    assert "roster: 12 rows still to complete" in p.stdout and "… 2 more" in p.stdout


def test_gap_rules(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("person,emails,type,vendor,ip_assignment,ip_assignment_date\n"
                 "A,a@x.example,employee,,,\n"             # empty ip_assignment
                 "B,b@x.example,unknown,,missing,\n"       # typed 'missing' is an answer; unknown type is not
                 "C,c@x.example,employee,,signed,\n"       # signed without a date
                 "D,d@x.example,contractor,,signed,2020-01-01\n"   # complete
                 "E,e@x.example,vendor,V Ltd,not_required,\n")    # complete
    g = roster_gaps(load_roster(p), pd.DataFrame({"person": ["C", "A"], "surviving_lines": [50, 10]}))
    assert [(r.person, r.cells) for r in g.itertuples()] == [
        ("C", ["ip_assignment_date"]), ("A", ["ip_assignment"]), ("B", ["type"])]
    # A roster given as a DataFrame (no record of blank cells): vendor without a name is listed too.
    df = load_roster(p)
    df.attrs.clear()
    df.loc[df.person == "E", "vendor"] = None
    g = roster_gaps(df).set_index("person")
    assert g.loc["E", "cells"] == ["vendor"] and g.loc["B", "cells"] == ["ip_assignment", "type"]


# -- roster check -------------------------------------------------------------------------------------

BAD = ("person,emails,type,end_date,ip_assignment\n"
       "A,a@x.example,employee,,\n"
       "B,not-an-address,employee,,\n"
       "C,c@x.example,freelancer,31/01/2023,yes\n"
       "A,a2@x.example,employee,,\n"
       "D,a@x.example,vendor,,\n")


def test_check_lists_every_problem(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text(BAD, encoding="utf-8")
    df, problems = check_roster(p)
    assert list(df["person"]) == ["A"]
    want = [
        "row 3: 'not-an-address' is not an e-mail address",
        "row 4: type 'freelancer' is not one of",
        "row 4: end_date '31/01/2023' is not an ISO date",
        "row 4: ip_assignment 'yes' is not one of",
        "row 5: person 'A' is already on row 2",
        "row 6: e-mail a@x.example also belongs to 'A' on row 2",
        "row 6: type is vendor but the vendor column is empty",
    ]
    assert len(problems) == len(want)
    for w, got in zip(want, problems):
        assert got.startswith(f"{p}, {w}"), (w, got)
    # A scan gives the same first error, and says how many more there are.
    with pytest.raises(ddkit.errors.InputError, match=r"row 3: 'not-an-address'.*and 6 more"):
        load_roster(p)
    cli = ddkit_cli("roster", "check", p)
    assert cli.returncode == 2
    assert cli.stdout.strip().splitlines() == problems
    assert cli.stderr.strip().splitlines() == [f"ddkit: error: {p}: 7 problems in the roster"]


def test_check_shows_control_characters(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text('person,emails,type\nA,a@x.example,"\x1b]0;owned\x07"\n')
    _, problems = check_roster(p)
    assert problems == [f"{p}, row 2: type '\\x1b]0;owned\\x07' is not one of "
                        "employee, founder, contractor, vendor, intern, advisor, unknown"]


def test_check_header_problems_and_ok(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text("Person,PERSON,type\nA,a@x.example,employee\n")
    _, problems = check_roster(p)
    assert [x.split(": ", 1)[1] for x in problems] == ["column 'person' appears twice in the header",
                                                      "missing required column 'emails'"]
    p.write_text("person,emails,type\nA,a@x.example,employee\nB,b@x.example,unknown\n")
    cli = ddkit_cli("roster", "check", p)
    assert cli.returncode == 0 and cli.stdout.splitlines()[0] == "roster OK: 2 people"
    assert "row 3: B" in cli.stdout  # what is still to fill in
    for bad in (tmp_path / "none.csv", tmp_path / "r.pdf"):
        if bad.suffix == ".pdf":
            bad.write_text("x")
        cli = ddkit_cli("roster", "check", bad)
        assert cli.returncode == 2 and "Traceback" not in cli.stderr and str(bad) in cli.stderr


# -- what Excel and HR systems export -----------------------------------------------------------------

def test_bom_semicolon_crlf(tmp_path):
    p = tmp_path / "export.csv"
    text = ("\ufeffPerson;E-mails;Type;Vendor;IP Assignment;IP Assignment Date;Start Date\r\n"
            "Alice;\"alice@x.example; a@gmail.com\";Employee;;signed;2019-06-01;2019-01-01\r\n"
            "Eve;eve@v.example, eve2@v.example;vendor;V Ltd;;;\r\n")
    p.write_bytes(text.encode("utf-8"))
    r = load_roster(p)
    assert list(r["person"]) == ["Alice", "Eve"]
    assert r.iloc[0]["emails"] == ["alice@x.example", "a@gmail.com"]
    assert r.iloc[0]["ip_assignment_date"] == dt.date(2019, 6, 1) and r.iloc[0]["start_date"] == dt.date(2019, 1, 1)
    assert r.iloc[1]["emails"] == ["eve@v.example", "eve2@v.example"] and r.iloc[1]["vendor"] == "V Ltd"
    assert list(r["row"]) == [2, 3]
    # Comma-separated with ';' between addresses, unquoted, still reads as commas.
    p.write_text("person,emails,type\nA,a@x.example;b@x.example,employee\n")
    assert load_roster(p).iloc[0]["emails"] == ["a@x.example", "b@x.example"]
    # Tab-separated.
    p.write_text("person\temails\ttype\nA\ta@x.example\temployee\n")
    assert list(load_roster(p)["person"]) == ["A"]


def test_xlsx_spaces_in_headers_trailing_empties(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([" Person ", "Emails", "TYPE", "IP Assignment", "IP Assignment Date", "End Date", "Badge No", None, None])
    ws.append(["Alice", "a@x.example", "Founder", "Signed", dt.datetime(2019, 6, 1), None, 7, None, None])
    ws.append(["Bob", "b@x.example", "employee", None, None, dt.datetime(2023, 1, 31), None, None, None])
    for _ in range(5):
        ws.append([None] * 9)
    ws["L20"] = None  # a touched cell far away makes the sheet's dimension larger
    ws["L20"].number_format = "yyyy-mm-dd"
    p = tmp_path / "hr.xlsx"
    wb.save(p)
    r = load_roster(p)
    assert list(r["person"]) == ["Alice", "Bob"]
    a, b = r.iloc[0], r.iloc[1]
    assert a["type"] == "founder" and a["ip_assignment"] == "signed" and a["ip_assignment_date"] == dt.date(2019, 6, 1)
    assert a["Badge No"] == "7"  # unknown columns kept under their own name
    assert b["end_date"] == dt.date(2023, 1, 31) and b["ip_assignment"] == "missing"


def test_docs_cover_the_roster():
    from pathlib import Path

    from ddkit.roster import IP_STATUSES, KNOWN, TYPES
    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "inputs.md").read_text(encoding="utf-8")
    for heading in ("## Roster", "## Company profile", "## Rules", "## Triage file"):
        assert f"\n{heading}\n" in doc, heading
    for c in (*KNOWN, *INFO_COLUMNS):
        assert f"`{c}`" in doc, c
    for v in (*TYPES, *IP_STATUSES):
        assert f"`{v}`" in doc, v
    assert "ddkit roster init" in doc and "ddkit roster check" in doc
    assert "docs/inputs.md" in (root / "README.md").read_text(encoding="utf-8")


def test_extra_columns_named_like_computed_ones(acme, tmp_path):
    """A roster's own 'commits' or 'departed' column is kept, renamed, and does not shadow ddkit's."""
    repo, ans, _, _ = acme
    p = tmp_path / "r.csv"
    p.write_text("person,emails,type,Commits,departed,Row\nAlice,alice@acme.example,founder,3,yes,x\n")
    r = load_roster(p)
    assert r.iloc[0]["Commits (roster)"] == "3" and r.iloc[0]["departed (roster)"] == "yes"
    assert r.iloc[0]["Row (roster)"] == "x" and r.iloc[0]["row"] == 2
    s = ddkit.scan(repo, roster=p, as_of=ans["as_of"], licenses=False, secrets=False)
    alice = s.people.set_index("person").loc["Alice"]
    # ddkit's own departed (Alice has no end date and no commit in the last year before as_of: departed,
    # unconfirmed), whatever the roster's 'departed' column says.
    assert int(alice["commits"]) == 7 and bool(alice["departed"]) is True and alice["departed_status"] == "unconfirmed"
