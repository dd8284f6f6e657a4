"""Bounded work and clean failures on the command line (issue #23, part 5): every hostile input gives
exit 2 with one line naming the file (or a recorded warning), within 10 s and 500 MB, never exit 3.

Each test has a positive control: the input really asks for what is refused (the unit layer,
tests/unit/test_limits.py, has the parsers' own controls). benchmarks/bench_hostile_inputs.py
prints the time and peak memory of each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import hostile_inputs as H
from ddkit import limits

LIMIT_S, LIMIT_MB = 10, 500


def run(*args, cwd=None, env=None, timeout=120):
    """``python -m ddkit ARGS``: (completed process, seconds, peak RSS in MB of that one child)."""
    return H.run_measured([sys.executable, "-m", "ddkit", *args], cwd=cwd, env=env, timeout=timeout)


def one_line_error(p, *needles):
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    for n in needles:
        assert str(n) in lines[0], lines[0]


def _repo(make_repo, files=None):
    r = make_repo()
    r.commit({"a.py": "x = 1\n", **(files or {})}, name="Alice", email="alice@example.com")
    return r


SCAN = ("--no-licenses", "--no-secrets", "--as-of", "2024-01-01")


# ----------------------------------------------------------------------------- YAML
def test_yaml_bombs_on_the_command_line(make_repo, tmp_path):
    r = _repo(make_repo)
    rules, company, triage, deep = H.write_yaml_bombs(tmp_path)
    # positive control: loaded without limits, each is a billion-node walk
    cap = 10 * limits.MAX_YAML_NODES
    for f in (rules / "findings.yaml", company, triage):
        assert H.expanded_nodes(yaml.safe_load(f.read_text()), cap) > cap
    for flag, path, named in (("--rules", rules, rules / "findings.yaml"), ("--company", company, company),
                              ("--triage", triage, triage), ("--company", deep, deep), ("--triage", deep, deep)):
        p, seconds, mb = run("scan", r.path, *SCAN, flag, path)
        one_line_error(p, named)
        assert seconds < LIMIT_S and mb < LIMIT_MB, (flag, seconds, mb)


def test_wrong_typed_fields_name_the_field(make_repo, tmp_path):
    r = _repo(make_repo)
    company = tmp_path / "company.yaml"
    for text, needle in (("name: [Acme]\n", "name must be a text"),
                         ("outbound_license: {id: MIT}\n", "outbound_license must be a text"),
                         ("excludes: [{glob: [a], reason: x}]\n", "excludes[0].glob must be a text")):
        company.write_text(text)
        p, _s, _mb = run("scan", r.path, *SCAN, "--company", company)
        one_line_error(p, company, needle)
    triage = tmp_path / "triage.yaml"
    triage.write_text("findings:\n  abc: {status: accepted, reason: {why: x}}\n")
    p, _s, _mb = run("scan", r.path, *SCAN, "--triage", triage)
    one_line_error(p, triage, "finding abc: reason must be a text")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "findings.yaml").write_text("thresholds: [1, 2]\n")
    p, _s, _mb = run("scan", r.path, *SCAN, "--rules", rules)
    one_line_error(p, rules / "findings.yaml", "thresholds")


# ----------------------------------------------------------------------------- SBOM
def test_malformed_sboms_exit_2(make_repo, tmp_path):
    r = _repo(make_repo)
    deep = tmp_path / "deep.json"
    deep.write_text(H.deep_sbom(3000))
    assert H.json_overflows(deep.read_text())       # positive control
    cases = [(deep, "the JSON nests 3,001 levels deep")]
    for i, (key, value, needle) in enumerate([
            ("metadata", [1], "metadata must be an object (found a list)"),
            ("components", "x", "components must be a list (found a string)"),
            (("components", 0, "name"), 7, "components[0].name must be a string (found the number 7)")]):
        doc = H.valid_cyclonedx()
        if isinstance(key, tuple):
            doc[key[0]][key[1]][key[2]] = value
        else:
            doc[key] = value
        f = tmp_path / f"bom{i}.json"
        f.write_text(json.dumps(doc))
        cases.append((f, needle))
    for f, needle in cases:
        p, seconds, mb = run("scan", r.path, *SCAN, "--sbom", f)
        one_line_error(p, f"{f}: --sbom: {needle}")
        assert seconds < LIMIT_S and mb < LIMIT_MB


# ----------------------------------------------------------------------------- XLSX
def test_roster_and_triage_zip_bombs(make_repo, tmp_path):
    import openpyxl
    r = _repo(make_repo)
    src = H.roster_xlsx(tmp_path / "ok.xlsx", [["Alice", "alice@example.com", "employee"]])
    bomb = H.sheet_bomb(src, tmp_path / "roster.xlsx", megabytes=300)
    cap = limits.ROSTER_XLSX.part
    assert H.inflated_bytes(bomb, "xl/worksheets/sheet1.xml", cap) > cap    # positive control
    p, seconds, mb = run("roster", "check", bomb)
    assert p.returncode == 2 and "inflates to 300 MB" in p.stdout and "Traceback" not in p.stderr, (p.stdout, p.stderr)
    assert seconds < LIMIT_S and mb < LIMIT_MB
    p, seconds, mb = run("scan", r.path, *SCAN, "--roster", bomb)
    one_line_error(p, bomb, "inflates to 300 MB")
    assert seconds < LIMIT_S and mb < LIMIT_MB
    wb = openpyxl.Workbook()
    wb.active.title = "Findings"
    wb.active.append(["ID", "Status"])
    wb.active.append(["abc", "accepted"])
    wb.save(tmp_path / "w.xlsx")
    tbomb = H.sheet_bomb(tmp_path / "w.xlsx", tmp_path / "triage.xlsx", megabytes=300)
    p, seconds, mb = run("triage", "import", tbomb, "--triage", tmp_path / "t.yaml")
    one_line_error(p, tbomb, "inflates to 300 MB")
    assert seconds < LIMIT_S and mb < LIMIT_MB and not (tmp_path / "t.yaml").exists()


# ----------------------------------------------------------------------------- manifests
def test_one_line_package_json_scans_in_linear_time(make_repo, tmp_path):
    r = _repo(make_repo, {"package.json": H.one_line_package_json(20_000)})
    out = tmp_path / "r.json"
    p, seconds, mb = run("scan", r.path, *SCAN, "--json", out, "--quiet", timeout=600)
    assert p.returncode == 0, p.stderr
    deps = json.loads(out.read_text())["dependencies"]
    rows = deps if isinstance(deps, list) else deps.get("inventory", deps.get("rows", []))
    assert len(rows) == 20_000 and {d["line"] for d in rows} == {1}
    # ScanCode itself reads the 20,000 dependencies in a few seconds; the bound leaves room for a busy machine
    assert seconds < 6 * LIMIT_S and mb < LIMIT_MB, (seconds, mb)


def test_pom_entity_bomb_is_a_warning(make_repo, tmp_path):
    r = _repo(make_repo, {"pom.xml": H.pom_with_entities(levels=5, fan=100)})
    out = tmp_path / "r.json"
    p, seconds, mb = run("scan", r.path, *SCAN, "--json", out, "--quiet")
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    assert any("pom.xml declares XML entities" in w for w in doc["warnings"]), doc["warnings"]
    assert seconds < 6 * LIMIT_S and mb < LIMIT_MB
    # positive control: the same pom without the entity declares the dependency
    plain = H.pom_with_entities(levels=5, fan=100).replace("&l5;", "commons-lang3")
    r2 = make_repo("plain")
    r2.commit({"pom.xml": plain.split("<!DOCTYPE")[0] + plain.split("]>", 1)[1]}, name="A", email="a@example.com")
    p = run("scan", r2.path, *SCAN, "--json", out, "--quiet")[0]
    assert p.returncode == 0 and "commons-lang3" in out.read_text()


def test_yaml_manifest_bomb_in_the_repository(make_repo, tmp_path):
    r = _repo(make_repo, {"app/pubspec.yaml": H.pubspec_bomb()})
    cap = 10 * limits.MAX_YAML_NODES      # positive control: it expands to billions of nodes
    assert H.expanded_nodes(yaml.safe_load(H.pubspec_bomb()), cap) > cap
    out = tmp_path / "r.json"
    p, seconds, mb = run("scan", r.path, *SCAN, "--json", out, "--quiet")
    assert p.returncode == 0, p.stderr
    warnings = json.loads(out.read_text())["warnings"]
    assert any(w.startswith("dependencies: app/pubspec.yaml, line") and "not read" in w for w in warnings), warnings
    assert seconds < LIMIT_S and mb < LIMIT_MB, (seconds, mb)


# ----------------------------------------------------------------------------- disk full
@pytest.fixture
def full_fs(tmp_path):
    """A 256 kB tmpfs, mounted for the test (root only; skipped elsewhere)."""
    mnt = tmp_path / "small-fs"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(mnt: Path) -> None:
    with pytest.raises(OSError) as e, open(mnt / "fill", "wb") as fh:   # positive control: ENOSPC is real
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()
    assert e.value.errno == 28


def test_disk_full_on_output(make_repo, full_fs):
    r = _repo(make_repo)
    _fill(full_fs)
    for flag, name in (("--out", "r.xlsx"), ("--json", "r.json"), ("--sarif", "r.sarif")):
        target = full_fs / name
        p, _s, _mb = run("scan", r.path, *SCAN, flag, target, "--quiet")
        one_line_error(p, target, "cannot write the report (No space left on device)")
    assert sorted(x.name for x in full_fs.iterdir()) == ["fill"]     # no partial or temporary file left


def test_disk_full_on_cache(make_repo, full_fs, tmp_path):
    r = _repo(make_repo, {".git-blame-ignore-revs": "# none\n"})
    cache = full_fs / "cache"
    cache.mkdir()
    _fill(full_fs)
    out = tmp_path / "r.json"
    env = {**os.environ, "DDKIT_CACHE_DIR": str(cache)}
    p, _s, _mb = run("scan", r.path, "--no-licenses", "--as-of", "2024-01-01", "--json", out, "--quiet", env=env)
    assert p.returncode == 0, p.stderr
    assert "ddkit: warning: cache:" in p.stderr and "could not be written (No space left on device)" in p.stderr
    assert "Traceback" not in p.stderr
    want = run("scan", r.path, "--no-licenses", "--as-of", "2024-01-01", "--json", tmp_path / "w.json", "--quiet")[0]
    assert want.returncode == 0
    a, b = json.loads(out.read_text()), json.loads((tmp_path / "w.json").read_text())
    assert a["findings"] == b["findings"] and a["people"] == b["people"]


# ----------------------------------------------------------------------------- closed pipe
def test_closed_pipe_exits_quietly(make_repo, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("person,emails,type\n" + "".join(f"P{i},not-an-address-{i},employee\n" for i in range(3000)))
    full = run("roster", "check", roster)[0]
    assert len(full.stdout.splitlines()) == 3000 and len(full.stdout) > 1 << 17   # more than a pipe holds
    # `ddkit roster check roster.csv | head -1`: one line read, then the pipe closed
    p = subprocess.Popen([sys.executable, "-m", "ddkit", "roster", "check", str(roster)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert first.decode().startswith(f"{roster}, row 2:")
    assert p.returncode == 2, (p.returncode, err)       # the command's own status: the roster has problems
    assert err.strip() == f"ddkit: error: {roster}: 3000 problems in the roster", err
    # a scan whose reader is gone before the summary: the reports are written, exit 0, nothing on stderr
    r = _repo(make_repo)
    out = tmp_path / "r.json"
    p = subprocess.Popen([sys.executable, "-m", "ddkit", "scan", str(r.path), *SCAN, "--json", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert p.returncode == 0 and err == "" and json.loads(out.read_text())["findings"] is not None, err


# ----------------------------------------------------------------------------- messages that name the cause
def test_core_worktree_and_missing_alternates_named(make_repo, tmp_path):
    r = _repo(make_repo)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r.git("config", "core.worktree", str(elsewhere))
    # positive control: git itself puts the work tree elsewhere (what gave "inside the git repository ...")
    top = subprocess.run(["git", "-C", str(r.path), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    assert Path(top.stdout.strip()).resolve() == elsewhere.resolve()
    p, _s, _mb = run("scan", r.path, *SCAN)
    one_line_error(p, r.path, "its git configuration sets core.worktree")
    src = _repo(lambda: make_repo("src"))
    clone = tmp_path / "shared"
    subprocess.run(["git", "clone", "-q", "--shared", str(src.path), str(clone)], check=True)
    moved = tmp_path / "moved"
    src.path.rename(moved)
    # positive control: git no longer finds the commit (what gave "ref 'HEAD' does not name a commit")
    assert subprocess.run(["git", "-C", str(clone), "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
                          capture_output=True).returncode != 0
    p, _s, _mb = run("scan", clone, *SCAN)
    one_line_error(p, clone, "objects/info/alternates borrows objects from", "which does not exist")
