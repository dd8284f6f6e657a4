"""Bad input on the command line: exit code 2, one clear line on stderr, no traceback."""

from gitrepo import ddkit_cli as ddkit


def _one_line_error(p, *needles):
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_not_a_repository(tmp_path):
    _one_line_error(ddkit("scan", tmp_path), "not a git repository")
    _one_line_error(ddkit("scan", tmp_path / "missing"), "no such file")


def test_malformed_roster_refused_before_scanning(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.txt": "1\n"})
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type\nA,a@x.example,employee\nB,b@x.example,freelancer\n")
    _one_line_error(ddkit("scan", r.path, "--roster", roster), str(roster), "row 3", "freelancer")
    # Refused before scanning: even for a path that is not a repository, the roster error comes first.
    _one_line_error(ddkit("scan", tmp_path, "--roster", roster), "row 3")


def test_bad_options(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.txt": "1\n"})
    _one_line_error(ddkit("scan", r.path, "--as-of", "31.12.2024"), "ISO date")
    _one_line_error(ddkit("scan", r.path, "--ref", "nope"), "does not name a commit")
    p = ddkit("scan", r.path, "--fail-on", "severe")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    bad_company = tmp_path / "c.yaml"
    bad_company.write_text("domains: {a: 1}\n")
    _one_line_error(ddkit("scan", r.path, "--company", bad_company), "domains must be a list")


def test_scan_ok_and_version(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.txt": "1\n"})
    p = ddkit("scan", r.path, "--quiet", "--json", tmp_path / "r.json", "--no-licenses")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and p.stderr == ""
    assert (tmp_path / "r.json").exists()
    v = ddkit("--version")
    assert v.returncode == 0 and "ddkit" in v.stdout
