"""The scanned repository is the other side's input (issue 23, part 3; docs/threat-model.md).

Its files are evidence, never instructions: a triage file it carries is listed as its claims and applied
only when the user names it; git's own ways of rewriting or completing a repository (grafts, a partial
clone's promisor remote, alternates, core.worktree, .gitmodules) cannot change the answer, reach the
network or stop the scan; and a machine without git, a date git stores but pandas cannot hold, or another
user's repository give one clear line, never a crash. Each test first shows the bad behaviour is possible
without the defence (a positive control), then that ddkit does not show it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from openpyxl import Workbook, load_workbook

import ddkit
import ddkit.triage as ddkit_triage
import gitrepo

ROOT = Path(__file__).resolve().parents[1]
COMMON = ["--as-of", "2020-06-30", "--no-licenses", "--no-secrets", "--quiet"]


def child_env(**extra) -> dict:
    """The environment for a child Python: the ddkit under test wherever the child's cwd is."""
    src = str(Path(ddkit.__file__).resolve().parents[1])
    pp = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([src] + ([pp] if pp else [])), **extra}


def cli(*args, cwd=None, env=None, timeout=180):
    return gitrepo.ddkit_cli(*args, cwd=cwd, env=env or child_env(), timeout=timeout)


def one_line_error(p, *needles, code=2):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def plain_git(*args, cwd=None, check=False, **kw) -> subprocess.CompletedProcess:
    """git as a user runs it: none of ddkit's defences (only no system or global configuration)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_AUTHOR_NAME="T",
               GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="T", GIT_COMMITTER_EMAIL="t@example.com",
               **kw.pop("env", {}))
    return subprocess.run(["git", *map(str, args)], cwd=cwd, env=env, capture_output=True, check=check, **kw)


def _seller(make_repo, name="seller"):
    """Three people's code: Alice (the company), Bob (outside), Carl (a contractor without an assignment)."""
    r = make_repo(name)
    r.commit({"app.py": "".join(f"a{i}\n" for i in range(50))}, name="Alice Main", email="alice@acme.example",
             date="2020-01-01T10:00:00+00:00")
    r.commit({"lib.py": "".join(f"b{i}\n" for i in range(40))}, name="Bob Outside", email="bob@else.example",
             date="2020-02-01T10:00:00+00:00")
    r.commit({"x.py": "".join(f"c{i}\n" for i in range(30))}, name="Carl Contract", email="carl@acme.example",
             date="2020-03-01T10:00:00+00:00")
    return r


def _all_false_positive(ids) -> str:
    return yaml.safe_dump({"findings": {i: {"status": "false-positive", "reason": "not a problem", "by": "Seller",
                                            "date": "2020-05-01"} for i in ids}})


def _scan_json(r, out: Path, *extra, cwd=None):
    p = cli("scan", r.path, *COMMON, "--json", out, *extra, cwd=cwd)
    return p, (json.loads(out.read_text()) if out.exists() else None)


# ------------------------------------------------------------------ 1. the repository's own triage file
@pytest.mark.parametrize("where", ["committed", "work tree"])
def test_repository_triage_file_is_a_claim_not_a_decision(make_repo, tmp_path, where):
    r = _seller(make_repo)
    (r.path / ".ddkit").mkdir()
    own = r.path / ".ddkit" / "triage.yaml"
    if where == "committed":
        # Commit a placeholder, learn the ids the scan finds at that commit, then write them all into the
        # same commit (amended with the same author and date: the findings' ids do not change).
        r.commit({".ddkit/triage.yaml": "findings: {}\n"}, name="Alice Main", email="alice@acme.example",
                 date="2020-04-01T10:00:00+00:00")
        _, first = _scan_json(r, tmp_path / "first.json")
        own.write_text(_all_false_positive(f["id"] for f in first["findings"]))
        r.git("add", ".ddkit/triage.yaml")
        r.git("commit", "-q", "--amend", "--no-edit",
              env=r.env("Alice Main", "alice@acme.example", "2020-04-01T10:00:00+00:00"))
    else:
        _, first = _scan_json(r, tmp_path / "first.json")
        own.write_text(_all_false_positive(f["id"] for f in first["findings"]))
    empty = tmp_path / "empty.yaml"
    empty.write_text("findings: {}\n")

    # Truth, independent of the default: the same commit with no decision at all (an empty file, named).
    p_truth, truth = _scan_json(r, tmp_path / "truth.json", "--triage", empty, "--fail-on", "low")
    assert p_truth.returncode == 1 and truth["findings"], p_truth.stderr
    # Positive control: the seller's file, named by the user, is applied and clears everything.
    p_named, named = _scan_json(r, tmp_path / "named.json", "--triage", own, "--fail-on", "low")
    assert p_named.returncode == 0, p_named.stderr
    assert {f["status"] for f in named["findings"]} == {"false-positive"}
    # (The readiness score itself is capped below green without a vulnerability database: the counts and
    # the exit code show the file's effect.)
    assert named["summary"]["findings"] == 0 and named["summary"]["findings_triaged"] == len(named["findings"])
    assert named["triage_claims"] == []            # named: the user's decision, not a claim

    # Not named (from another folder, and from inside the repository itself): nothing changes.
    for cwd in (tmp_path, r.path):
        out = tmp_path / f"default-{cwd == r.path}.json"
        p = cli("scan", r.path, *COMMON, "--json", out, "--out", out.with_suffix(".xlsx"),
                "--fail-on", "low", cwd=cwd)
        assert p.returncode == 1, p.stderr         # --fail-on low still fails
        got = json.loads(out.read_text())
        assert got["summary"]["readiness_score"] == truth["summary"]["readiness_score"] < 100
        assert got["summary"]["findings"] == truth["summary"]["findings"]
        assert [(f["id"], f["status"]) for f in got["findings"]] == [(f["id"], "open") for f in truth["findings"]]
        # ... and the claims are shown: JSON, a warning, the workbook's Triage claims sheet.
        jsonschema.validate(got, json.loads((ROOT / "schemas" / "report.schema.json").read_text()))
        claims = got["triage_claims"]
        assert {c["id"] for c in claims} == {f["id"] for f in first["findings"]}
        assert {c["status"] for c in claims} == {"false-positive"}
        assert all(c["finding_status"] == "open" for c in claims if c["finding_rule"])
        assert where.split()[0] in claims[0]["source"]
        w = [x for x in got["warnings"] if "own triage file" in x]
        assert len(w) == 1 and "NOT applied" in w[0] and "--triage" in w[0], got["warnings"]
        wb = load_workbook(out.with_suffix(".xlsx"), read_only=True)
        names = wb.sheetnames
        assert names.index("Triage claims") == names.index("Triaged") + 1
        rows = list(wb["Triage claims"].iter_rows(values_only=True))
        k = rows[0].index("Finding id")
        assert {row[k] for row in rows[1:]} == {c["id"] for c in claims}
        rows = list(wb["Findings"].iter_rows(values_only=True))
        assert len(rows) - 1 == len(truth["findings"])
        header = load_workbook(out.with_suffix(".xlsx"))["Triaged"].oddHeader.center.text
        assert f"claims {len(claims)} decisions, not applied: Triage claims sheet" in header
    # The library: the same rule (the default is the current folder's file, never the repository's).
    s = ddkit.scan(r.path, as_of="2020-06-30", licenses=False, secrets=False)
    assert set(s.findings["status"]) == {"open"} and len(s.triage_claims) == len(first["findings"])
    s = ddkit.scan(r.path, as_of="2020-06-30", licenses=False, secrets=False, triage=own)
    assert set(s.findings["status"]) == {"false-positive"} and s.triage_claims.empty


def test_unreadable_repository_triage_file_does_not_stop_the_scan(make_repo, tmp_path):
    """The repository's file is evidence: a malformed one is a warning (a named one is an input error)."""
    r = _seller(make_repo)
    r.commit({".ddkit/triage.yaml": "findings:\n  abc: {status: maybe}\n"})
    p, got = _scan_json(r, tmp_path / "r.json")
    assert p.returncode == 0, p.stderr
    assert any("own triage file cannot be read" in w and "maybe" in w for w in got["warnings"]), got["warnings"]
    one_line_error(cli("scan", r.path, *COMMON, "--triage", r.path / ".ddkit" / "triage.yaml"), "maybe")


def test_repository_triage_file_links_and_fifos_not_followed(make_repo, tmp_path):
    """The work tree's .ddkit/triage.yaml is read only as a regular file inside the repository: not through
    a symbolic link to the consultant's own files, and not from a FIFO (which would never end)."""
    r = _seller(make_repo)
    outside = tmp_path / "consultant.yaml"
    outside.write_text("findings:\n  0123456789abcdef: {status: accepted, reason: private note}\n")
    assert ddkit_triage.load_triage(outside)          # a readable triage file: following the link would read it
    (r.path / ".ddkit").mkdir()
    (r.path / ".ddkit" / "triage.yaml").symlink_to(outside)
    s = ddkit.scan(r.path, as_of="2020-06-30", licenses=False, secrets=False)
    assert s.triage_claims.empty and not [w for w in s.warnings if "private note" in w]
    (r.path / ".ddkit" / "triage.yaml").unlink()
    os.mkfifo(r.path / ".ddkit" / "triage.yaml")
    os.mkfifo(r.path / ".gitmodules")
    p = cli("scan", r.path, *COMMON, timeout=120)
    assert p.returncode == 0, p.stderr


# ------------------------------------------------------------------ 2. triage import: where, what, dates
def _counsel_workbook(make_repo, tmp_path):
    """A scan run from the consultant's folder, its workbook, and the finding ids."""
    r = _seller(make_repo)
    work = tmp_path / "deal"
    work.mkdir()
    p = cli("scan", r.path, *COMMON, "--out", "wb.xlsx", "--json", "a.json", cwd=work)
    assert p.returncode == 0, p.stderr
    return r, work, json.loads((work / "a.json").read_text())


def _type_into(path: Path, fid: str, **cells) -> None:
    wb = load_workbook(path)
    ws = wb["Findings"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("Finding id")].value == fid:
            for label, value in cells.items():
                row[header.index(label.replace("_", " "))].value = value
    wb.save(path)


def test_triage_import_writes_where_the_scan_reads(make_repo, tmp_path):
    r, work, before = _counsel_workbook(make_repo, tmp_path)
    fid = before["findings"][0]["id"]
    _type_into(work / "wb.xlsx", fid, Status="accepted", Triage_reason="in the MSA")
    p = cli("triage", "import", "wb.xlsx", cwd=work)
    assert p.returncode == 0, p.stderr
    written = work / ".ddkit" / "triage.yaml"
    assert str(written.resolve()) in p.stdout and written.is_file()
    assert yaml.safe_load(written.read_text())["findings"][fid]["status"] == "accepted"
    # A scan run from the same folder applies it, with no option ...
    p = cli("scan", r.path, *COMMON, "--json", "b.json", cwd=work)
    assert p.returncode == 0, p.stderr
    after = {f["id"]: f for f in json.loads((work / "b.json").read_text())["findings"]}
    assert after[fid]["status"] == "accepted" and after[fid]["triage"]["reason"] == "in the MSA"
    # ... one run from elsewhere does not (the default is the current folder's file).
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    p = cli("scan", r.path, *COMMON, "--json", "c.json", cwd=elsewhere)
    assert {f["id"]: f["status"] for f in json.loads((elsewhere / "c.json").read_text())["findings"]}[fid] == "open"
    # Imported from inside the scanned repository, the file is that repository's: the import says so, and a
    # scan from there lists it as a claim instead of applying it.
    shutil.copy(work / "wb.xlsx", r.path / "wb.xlsx")
    p = cli("triage", "import", "wb.xlsx", cwd=r.path)
    assert p.returncode == 0 and "inside the git repository" in p.stdout and "--triage" in p.stdout, p.stdout
    p = cli("scan", ".", *COMMON, "--json", tmp_path / "d.json", cwd=r.path)
    got = json.loads((tmp_path / "d.json").read_text())
    assert {f["id"]: f["status"] for f in got["findings"]}[fid] == "open"
    assert [c["id"] for c in got["triage_claims"]] == [fid]


def test_triage_import_refuses_what_it_cannot_read(make_repo, tmp_path):
    r, work, before = _counsel_workbook(make_repo, tmp_path)
    written = work / ".ddkit" / "triage.yaml"
    # Not a ddkit workbook.
    other = Workbook()
    other.active.title = "Data"
    other.active.append(["Name", "Amount"])
    other.active.append(["x", 1])
    other.save(work / "other.xlsx")
    one_line_error(cli("triage", "import", "other.xlsx", cwd=work), "not a ddkit workbook")
    # A ddkit workbook with no decision typed in.
    one_line_error(cli("triage", "import", "wb.xlsx", cwd=work), "no triage decision")
    # A date that is not ISO: named with its row and value, never dropped.
    fid = before["findings"][1]["id"]
    _type_into(work / "wb.xlsx", fid, Status="resolved", Triage_date="26/11/2026")
    line = one_line_error(cli("triage", "import", "wb.xlsx", cwd=work), "26/11/2026", "row ", "Findings", fid)
    assert "ISO" in line
    assert not written.exists()            # nothing written by a refused import


def test_triage_import_reads_past_a_stale_dimension(make_repo, tmp_path):
    """A workbook whose sheets claim to be one cell (<dimension ref="A1"/>, as some programs leave it):
    read-only openpyxl trusts that and reads nothing else; the import reads every row and column."""
    r, work, before = _counsel_workbook(make_repo, tmp_path)
    fid = before["findings"][-1]["id"]
    _type_into(work / "wb.xlsx", fid, Status="false-positive")
    stale = work / "stale.xlsx"
    import re
    with zipfile.ZipFile(work / "wb.xlsx") as zin, zipfile.ZipFile(stale, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1"/>', data)
            zout.writestr(item, data)
    # Positive control: trusting the dimension, the Findings sheet has no Status column at all.
    rows = list(load_workbook(stale, read_only=True)["Findings"].iter_rows(values_only=True))
    assert rows and all(len(row) == 1 for row in rows)
    p = cli("triage", "import", "stale.xlsx", cwd=work)
    assert p.returncode == 0, p.stderr
    assert yaml.safe_load((work / ".ddkit" / "triage.yaml").read_text())["findings"][fid]["status"] == "false-positive"


# ------------------------------------------------------------------ 3. grafts
def test_grafts_are_ignored_with_a_warning(make_repo, tmp_path):
    r = make_repo()
    r.commit({"a.py": "".join(f"c{i}\n" for i in range(100))}, name="Carl Contract", email="carl@else.example",
             date="2020-01-01T10:00:00+00:00")
    r.commit({"b.py": "b = 1\n"}, name="Alice Main", email="alice@acme.example", date="2020-02-01T10:00:00+00:00")
    grafts = r.path / ".git" / "info" / "grafts"
    grafts.write_text(r.head() + "\n")                    # HEAD has no parent, says the file
    # Positive control: git obeys it, the history is one commit and Alice "wrote" Carl's 100 lines.
    assert plain_git("-C", r.path, "rev-list", "HEAD").stdout.decode().split() == [r.head()]
    blame = plain_git("-C", r.path, "blame", "--line-porcelain", "HEAD", "--", "a.py").stdout.decode()
    assert blame.count("author Alice Main") == 100

    s = ddkit.scan(r.path, as_of="2020-06-30", licenses=False, secrets=False)
    assert len(s.commits) == 2
    lines = dict(zip(s.people["person"], s.people["surviving_lines"]))
    assert lines == {"Carl Contract": 100, "Alice Main": 1}
    w = [x for x in s.warnings if "grafts" in x]
    assert len(w) == 1 and "ignored" in w[0], s.warnings


def test_hand_made_shallow_file_is_named(make_repo, tmp_path):
    """A shallow file cuts the history like a graft, and git has no switch to ignore it: where the commits
    it hides are present (written by hand, not by a shallow clone), the scan says so."""
    r = make_repo()
    r.commit({"a.py": "a = 1\n"}, name="Carl Contract", email="carl@else.example", date="2020-01-01T10:00:00+00:00")
    r.commit({"b.py": "b = 1\n"}, name="Alice Main", email="alice@acme.example", date="2020-02-01T10:00:00+00:00")
    (r.path / ".git" / "shallow").write_text(r.head() + "\n")
    assert plain_git("-C", r.path, "rev-list", "HEAD").stdout.decode().split() == [r.head()]   # cut
    s = ddkit.scan(r.path, as_of="2020-06-30", licenses=False, secrets=False)
    assert [w for w in s.warnings if "cut by hand" in w and "1 parent commit" in w]
    # A real shallow clone: the parents are absent, only the shallow-clone warning.
    clone = tmp_path / "clone"
    plain_git("clone", "-q", "--depth", "1", f"file://{r.path}", clone, check=True)
    s = ddkit.scan(clone, as_of="2020-06-30", licenses=False, secrets=False)
    assert not [w for w in s.warnings if "cut by hand" in w] and [w for w in s.warnings if "shallow clone" in w]


# ------------------------------------------------------------------ 4. partial clones, missing objects
def _server(make_repo):
    srv = make_repo("server")
    for i in range(3):
        srv.commit({"a.py": f"v = {i}\n"}, date=f"2020-0{i + 1}-01T10:00:00+00:00")
    srv.git("config", "uploadpack.allowFilter", "true")
    return srv


def _packs(repo: Path) -> set[str]:
    return {p.name for p in (repo / "objects" / "pack").glob("*.pack")}


@pytest.mark.parametrize("how", ["promisor", "extension"])
def test_partial_clone_refused_and_nothing_fetched(make_repo, tmp_path, how):
    srv = _server(make_repo)
    pc = tmp_path / "partial.git"
    plain_git("clone", "-q", "--bare", "--filter=blob:none", f"file://{srv.path}", pc, check=True)
    if how == "extension":      # the other way git knows a promisor remote
        plain_git("-C", pc, "config", "--unset", "remote.origin.promisor", check=True)
        plain_git("-C", pc, "config", "core.repositoryformatversion", "1", check=True)
        plain_git("-C", pc, "config", "extensions.partialClone", "origin", check=True)
    packs = _packs(pc)
    # Positive control: a plain `git log -p` fetches the missing blobs from the server the repository names.
    probe = tmp_path / "probe.git"
    shutil.copytree(pc, probe)
    assert plain_git("-C", probe, "log", "-p").returncode == 0
    assert len(_packs(probe)) > len(packs), "the lazy fetch did not happen; the test proves nothing"

    line = one_line_error(cli("scan", pc, *COMMON), "partial clone", "origin", str(srv.path))
    assert "Traceback" not in line
    assert _packs(pc) == packs                            # nothing fetched
    with pytest.raises(ddkit.InputError, match="partial clone"):
        ddkit.scan(pc, licenses=False, secrets=False)
    assert _packs(pc) == packs


def test_lazy_fetch_off_even_if_detection_missed(make_repo, tmp_path, monkeypatch):
    """The second defence: were a promisor remote not recognised, git still fetches nothing."""
    from ddkit import gitutil
    srv = _server(make_repo)
    pc = tmp_path / "partial.git"
    plain_git("clone", "-q", "--bare", "--filter=blob:none", f"file://{srv.path}", pc, check=True)
    packs = _packs(pc)
    monkeypatch.setattr(gitutil, "_promisor", lambda entries: None)
    gitutil._repo_overrides.cache_clear()
    with pytest.raises((ddkit.InputError, gitutil.GitError), match="missing objects"):
        ddkit.scan(pc, as_of="2020-06-30", licenses=False, secrets=False)
    assert _packs(pc) == packs
    gitutil._repo_overrides.cache_clear()


def test_missing_objects_and_alternates_named(make_repo, tmp_path):
    r = _seller(make_repo)
    # A blob of the history deleted: git cannot read it.
    damaged = tmp_path / "damaged"
    shutil.copytree(r.path, damaged)
    blob = plain_git("-C", damaged, "rev-parse", "HEAD~1:lib.py").stdout.decode().strip()
    (damaged / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    assert plain_git("-C", damaged, "cat-file", "-e", blob).returncode != 0
    one_line_error(cli("scan", damaged, *COMMON), "missing objects")
    # The commit the ref names deleted.
    head = plain_git("-C", damaged, "rev-parse", "HEAD").stdout.decode().strip()
    (damaged / ".git" / "objects" / head[:2] / head[2:]).unlink()
    one_line_error(cli("scan", damaged, *COMMON), head, "missing")
    # A clone borrowing its objects from a folder that is gone (git clone --shared, then the source moved).
    src = tmp_path / "src"
    shutil.copytree(r.path, src)
    shared = tmp_path / "shared"
    plain_git("clone", "-q", "--shared", src, shared, check=True)
    shutil.rmtree(src)
    assert plain_git("-C", shared, "log").returncode != 0          # positive control: git cannot read it
    one_line_error(cli("scan", shared, *COMMON), "alternates", str(src))


# ------------------------------------------------------------------ 5. .gitmodules git cannot parse
@pytest.mark.parametrize("gitmodules", [
    '[submodule "vendor"]\n\tpath = vendor\n\turl = ./vendor\n\tupdate = !touch {marker}\n',
    '[submodule "vendor"\n\tgarbage = = =\n',
    '[submodule "vendor"]\n\tpath = vendor\n\turl = ./vendor\n\tshallow = perhaps\n',
])
def test_unparseable_gitmodules_does_not_stop_the_scan(make_repo, tmp_path, gitmodules):
    marker = tmp_path / "marker"
    good = _seller(make_repo, "good")
    bad = _seller(make_repo, "bad")
    for r, text in ((good, '[submodule "vendor"]\n\tpath = vendor\n\turl = ./vendor\n'),
                    (bad, gitmodules.format(marker=marker))):
        r.write(".gitmodules", text)
        r.git("add", ".gitmodules")
        r.git("update-index", "--add", "--cacheinfo", f"160000,{r.head()},vendor")   # a submodule
        r.commit(name="Alice Main", email="alice@acme.example", date="2020-04-01T10:00:00+00:00")
    # Positive control: git itself stops on the bad one.
    assert plain_git("-C", bad.path, "log", "-p").returncode != 0
    assert plain_git("-C", good.path, "log", "-p").returncode == 0
    sg = ddkit.scan(good.path, as_of="2020-06-30", licenses=False, secrets=False)
    sb = ddkit.scan(bad.path, as_of="2020-06-30", licenses=False, secrets=False)
    assert len(sb.commits) == len(sg.commits) == 4
    assert sorted(sb.changes["path"]) == sorted(sg.changes["path"])
    assert "vendor" not in set(sb.changes["path"])        # a submodule's pointer is not code
    def code_lines(s):      # who wrote what, the .gitmodules files themselves (of different lengths) aside
        own = s.ownership[s.ownership["path"] != ".gitmodules"]
        return own.groupby("person")["lines"].sum().to_dict()
    assert code_lines(sb) == code_lines(sg) == {"Alice Main": 50, "Bob Outside": 40, "Carl Contract": 30}
    assert sorted(sb.findings["id"]) == sorted(sg.findings["id"])
    w = [x for x in sb.warnings if ".gitmodules" in x]
    assert len(w) >= 1 and "submodule changes are skipped" in w[0], sb.warnings
    assert not [x for x in sg.warnings if ".gitmodules" in x]
    assert not marker.exists()
    p = cli("scan", bad.path, *COMMON)
    assert p.returncode == 0, p.stderr


# ------------------------------------------------------------------ 6. git missing, dates, owners, worktree
def test_no_git_on_path(make_repo, tmp_path):
    r = _seller(make_repo)
    empty = tmp_path / "bin"
    empty.mkdir()
    assert shutil.which("git", path=str(empty)) is None            # the child really has no git
    p = cli("scan", r.path, *COMMON, env=child_env(PATH=str(empty)))
    one_line_error(p, "git not found")


def test_author_time_beyond_pandas_is_a_warning(make_repo, tmp_path):
    import pandas as pd
    r = make_repo()
    r.commit({"a.py": "a = 1\n"}, name="Alice", email="alice@example.com")
    raw = plain_git("-C", r.path, "cat-file", "commit", "HEAD", check=True).stdout
    tree = raw.split(b"\n")[0].split()[1].decode()
    body = (f"tree {tree}\nparent {r.head()}\nauthor Mallory <m@example.com> 99999999999999 +0000\n"
            f"committer Mallory <m@example.com> 99999999999999 +0000\n\nfrom the future\n").encode()
    sha = plain_git("-C", r.path, "hash-object", "-t", "commit", "-w", "--literally", "--stdin", input=body,
                    check=True).stdout.decode().strip()
    plain_git("-C", r.path, "update-ref", "refs/heads/main", sha, check=True)
    assert plain_git("-C", r.path, "log", "-1", "--format=%at").stdout.strip() == b"99999999999999"
    # Positive control: pandas cannot hold the date (what made the scan exit 3).
    with pytest.raises(pd.errors.OutOfBoundsDatetime):
        pd.to_datetime(pd.Series([99999999999999]), unit="s", utc=True)
    p = cli("scan", r.path, "--no-licenses", "--json", tmp_path / "r.json", "--quiet")
    assert p.returncode == 0, p.stderr
    w = [x for x in json.loads((tmp_path / "r.json").read_text())["warnings"] if sha[:12] in x]
    assert len(w) == 1 and "after 2262" in w[0], w


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a folder away")
def test_another_users_repository(make_repo, tmp_path):
    import pwd
    markers = tmp_path / "markers"
    markers.mkdir()
    r = _seller(make_repo)
    r.commit({".gitattributes": "*.py diff=evil\n"}, name="Alice Main", email="alice@acme.example", date="2020-04-01T10:00:00+00:00")
    r.git("config", "diff.evil.textconv", f"touch {markers / 'textconv'}; cat")
    nobody = pwd.getpwnam("nobody")
    for d, _, files in os.walk(r.path):
        for x in [d, *(os.path.join(d, f) for f in files)]:
            os.lchown(x, nobody.pw_uid, nobody.pw_gid)
    # Positive control: git refuses it as it is, and reading it as allowed would run its textconv.
    assert b"dubious ownership" in plain_git("-C", r.path, "log", "-1").stderr
    plain_git("-c", f"safe.directory={r.path}", "-C", r.path, "log", "-p")
    assert (markers / "textconv").exists(), "the textconv is not live; the test proves nothing"
    (markers / "textconv").unlink()

    one_line_error(cli("scan", r.path, *COMMON), "owned by nobody", "--allow-other-owner")
    p = cli("scan", r.path, *COMMON, "--allow-other-owner", "--json", tmp_path / "r.json")
    assert p.returncode == 0, p.stderr
    got = json.loads((tmp_path / "r.json").read_text())
    assert {x["person"] for x in got["people"]} >= {"Alice Main", "Bob Outside", "Carl Contract"}
    s = ddkit.scan(r.path, as_of="2020-06-30", licenses=False, secrets=False, allow_other_owner=True)
    assert len(s.commits) == 4
    assert list(markers.iterdir()) == []            # ddkit's defences hold for an allowed repository


def test_core_worktree_elsewhere_named(make_repo, tmp_path):
    r = _seller(make_repo)
    for target in (tmp_path / "elsewhere", tmp_path / "gone"):
        if target.name == "elsewhere":
            target.mkdir()
        plain_git("config", "--file", r.path / ".git" / "config", "core.worktree", target, check=True)
        # Positive control: git takes the other folder for the work tree.
        top = plain_git("-C", r.path, "rev-parse", "--show-toplevel").stdout.decode().strip()
        assert top == str(target)
        one_line_error(cli("scan", r.path, *COMMON), "core.worktree", str(target))


def test_allow_other_owner_is_per_path(monkeypatch):
    """--allow-other-owner passes safe.directory for the repository named, never '*'."""
    from ddkit import gitutil
    monkeypatch.setattr(gitutil, "_SAFE_DIRECTORIES", set())
    gitutil.allow_other_owner_of("/srv/deal/repo")
    cmd = gitutil.git_cmd("/srv/deal/repo", "status")
    assert "safe.directory=/srv/deal/repo" in cmd and not any(c.endswith("=*") for c in cmd)
