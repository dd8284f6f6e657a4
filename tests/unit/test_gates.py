"""Gates a maintainer can lean on (#26), each with a list of today's exceptions that can only shrink:

- unit tests mirror ``src/``: the test of ``src/ddkit/a/b.py`` is ``tests/unit/a/test_b.py`` (of a package's
  ``__init__.py``, ``tests/unit/a/test_<package>.py``); ``UNTESTED`` lists the modules without one;
- no handler that swallows an exception silently: an ``except`` whose body only passes, continues or breaks,
  or an ``except Exception``/``BaseException``/bare ``except`` that neither raises nor uses the exception,
  says why nothing is lost in a comment on its lines (or records a warning, or is narrowed);
- the exceptions of ruff's complexity rule (C901) and of mypy's ``disallow_untyped_defs`` listed in
  pyproject.toml are still needed: a line for a file that is clean now must be deleted.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "ddkit"
UNIT = ROOT / "tests" / "unit"

# Modules without a unit test at their mirrored path when the rule came (#26). Only shrinks: write the test
# (tests/unit/<package>/test_<module>.py), then delete the line. The end-to-end tests (tests/*.py, git and
# subprocesses) are named by feature, not by module, and do not count.
UNTESTED = {
    "ddkit._version", "ddkit.analyze.bus_factor", "ddkit.analyze.dependencies", "ddkit.analyze.findings",
    "ddkit.analyze.ip", "ddkit.analyze.materiality", "ddkit.analyze.ownership", "ddkit.analyze.people",
    "ddkit.analyze.provenance", "ddkit.analyze.remediation", "ddkit.analyze.retention", "ddkit.analyze.security",
    "ddkit.analyze.shared_code", "ddkit.analyze.vuln_versions", "ddkit.analyze.vulnerabilities",
    "ddkit.cli", "ddkit.collect.blame", "ddkit.collect.dep_history", "ddkit.collect.dep_licenses",
    "ddkit.collect.incremental", "ddkit.collect.messages", "ddkit.collect.secrets",
    "ddkit.collect.secrets.detectors", "ddkit.collect.secrets.history", "ddkit.collect.secrets.kingfisher_engine",
    "ddkit.collect.tree", "ddkit.collect.vulndb", "ddkit.config", "ddkit.fsutil", "ddkit.gitutil", "ddkit.globs",
    "ddkit.model", "ddkit.pipeline", "ddkit.portfolio", "ddkit.progress", "ddkit.remote",
    "ddkit.report", "ddkit.report.ai_sheet", "ddkit.report.cells", "ddkit.report.console",
    "ddkit.report.cyclonedx_vulns", "ddkit.report.diff", "ddkit.report.interface", "ddkit.report.json_report",
    "ddkit.report.notices", "ddkit.report.paths", "ddkit.report.pseudonym", "ddkit.report.redact",
    "ddkit.report.sbom", "ddkit.report.spdx", "ddkit.report.vulnerability_sheet", "ddkit.report.xlsx_layout",
    "ddkit.report.xlsx_render", "ddkit.report.xlsx_save", "ddkit.report.xlsx_text", "ddkit.resolve.identities",
    "ddkit.resolve.mailmap", "ddkit.roster", "ddkit.roster_init", "ddkit.samples", "ddkit.score", "ddkit.severity",
    "ddkit.text", "ddkit.triage", "ddkit.values", "ddkit.workerpool",
    # (came with #26's layers, written beside this gate)
    "ddkit.operations", "ddkit.resolve.ai_tools", "ddkit.collect.manifests", "ddkit.report.methodology_sheet",
    "ddkit.report.summary_sheet", "ddkit.report.xlsx_sheet", "ddkit.report.xlsx_tables", "ddkit.commands.common",
    "ddkit.commands.demo", "ddkit.commands.diff", "ddkit.commands.roster", "ddkit.commands.scan",
    "ddkit.commands.scan_many", "ddkit.commands.triage",
    # (the stage modules of #26's stage seam, tested through the scans for now)
    "ddkit.stages.analyses", "ddkit.stages.dependencies", "ddkit.stages.files", "ddkit.stages.history", "ddkit.stages.identities", "ddkit.stages.interface",
    "ddkit.stages.knowledge", "ddkit.stages.licenses", "ddkit.stages.overlap", "ddkit.stages.ownership", "ddkit.stages.provenance", "ddkit.stages.runner", "ddkit.stages.secrets",
}


def _module(f: Path) -> str:
    return ".".join(f.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")


def _mirrored_test(f: Path) -> Path | None:
    rel = f.relative_to(SRC)
    if rel.name == "__main__.py" or rel == Path("__init__.py"):
        return None                       # the entry point and the facade: tested through the command line
    if rel.name == "__init__.py":
        return UNIT / rel.parent.parent / f"test_{rel.parent.name}.py"
    return UNIT / rel.parent / f"test_{rel.stem}.py"


def _has_code(f: Path) -> bool:
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
               for n in ast.parse(f.read_text(encoding="utf-8")).body)


def test_unit_tests_mirror_src():
    modules = {_module(f): _mirrored_test(f) for f in sorted(SRC.rglob("*.py")) if _has_code(f)}
    modules = {m: t for m, t in modules.items() if t is not None}
    assert len(modules) > 50                  # the walk found src
    untested = {m for m, t in modules.items() if not t.exists()}
    new = sorted(untested - UNTESTED)
    assert not new, f"modules without a unit test at their mirrored path: {[(m, str(modules[m].relative_to(ROOT))) for m in new]}"
    done = sorted(UNTESTED - untested)
    assert not done, f"delete from UNTESTED (tested now, or gone): {done}"


def test_unit_test_folders_are_packages():
    # Two test files of one name (collect/test_licenses.py, analyze/test_licenses.py) need their folders to be
    # packages, or pytest refuses the second one.
    missing = [str(d.relative_to(ROOT)) for d in UNIT.rglob("*") if d.is_dir() and d.name != "__pycache__"
               and any(d.glob("test_*.py")) and not (d / "__init__.py").exists()]
    assert not missing


# ------------------------------------------------------------------------------------------ silent excepts
_BROAD = {"Exception", "BaseException", None}


def _caught(t: ast.expr | None) -> set[str | None]:
    if t is None:
        return {None}
    if isinstance(t, ast.Tuple):
        return set().union(*(_caught(e) for e in t.elts))
    return {t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else "?"}


def _only(body: list[ast.stmt], values: bool) -> bool:
    """Whether *body* does nothing but pass/continue/break (and, if *values*, return or assign a constant)."""
    for st in body:
        if isinstance(st, (ast.Pass, ast.Continue, ast.Break)):
            continue
        if values and isinstance(st, ast.Return) and (st.value is None or isinstance(st.value, ast.Constant)):
            continue
        if values and isinstance(st, ast.Assign) and isinstance(st.value, ast.Constant):
            continue
        return False
    return True


def silent_handlers(source: str) -> list[int]:
    """Lines of the handlers in *source* that swallow an exception without a comment saying why."""
    comments = {t.start[0] for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT}
    out = []
    for n in ast.walk(ast.parse(source)):
        if not isinstance(n, ast.ExceptHandler):
            continue
        if any(isinstance(x, ast.Raise) for x in ast.walk(n)):
            continue
        if n.name and any(isinstance(x, ast.Name) and x.id == n.name for x in ast.walk(n)):
            continue                      # the exception is used: reported, kept or handed on
        broad = bool(_caught(n.type) & _BROAD)
        if not (_only(n.body, values=False) or (broad and _only(n.body, values=True))):
            continue
        if not any(line in comments for line in range(n.lineno, (n.end_lineno or n.lineno) + 1)):
            out.append(n.lineno)
    return out


def test_the_silent_handler_check_can_fail():
    # Positive control: each kind is found without its comment, and not with one.
    bad = ("try:\n    f()\nexcept Exception:\n    pass\n"
           "try:\n    f()\nexcept OSError:\n    continue\n"
           "try:\n    f()\nexcept:\n    x = None\n")
    assert silent_handlers(bad) == [3, 7, 11]
    good = ("try:\n    f()\nexcept Exception:   # why\n    pass\n"
            "try:\n    f()\nexcept OSError:\n    continue  # why\n"
            "try:\n    f()\nexcept ValueError:\n    return None\n"         # a narrow handler giving a value
            "try:\n    f()\nexcept Exception as e:\n    warn(e)\n")
    assert silent_handlers(good) == []


def test_no_handler_swallows_an_exception_silently():
    found = [f"{f.relative_to(ROOT)}:{line}" for f in sorted(SRC.rglob("*.py"))
             for line in silent_handlers(f.read_text(encoding="utf-8"))]
    assert not found, "say why nothing is lost (a comment), record a warning, or narrow the exception: " + ", ".join(found)


# ------------------------------------------------------------------------------------- the shrinking lists
def _pyproject() -> str:
    return (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def _c901_exceptions() -> list[str]:
    section = _pyproject().split("[tool.ruff.lint.per-file-ignores]", 1)[1].split("\n[", 1)[0]
    return re.findall(r'^"([^"]+)"\s*=\s*\[[^\]]*"C901"', section, re.M)


def test_complexity_exceptions_are_still_needed():
    listed = _c901_exceptions()
    assert listed and all(f.endswith(".py") for f in listed)          # the parse found the list
    missing = [f for f in listed if not (ROOT / f).exists()]
    assert not missing, f"delete from pyproject.toml's C901 exceptions (no such file): {missing}"
    p = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", "C901", "--config",
                        "lint.mccabe.max-complexity=15", "--output-format", "concise", *listed],
                       cwd=ROOT, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        pytest.skip(f"ruff did not run: {p.stderr[-300:]}")
    still = {line.split(":", 1)[0] for line in p.stdout.splitlines() if "C901" in line}
    clean = sorted(set(listed) - still)
    assert not clean, f"delete from pyproject.toml's C901 exceptions (no function over 15 now): {clean}"


def _untyped_defs(source: str) -> int:
    """Functions mypy's disallow_untyped_defs refuses: a parameter (not self/cls) or the return not annotated
    (``__init__`` may leave out its return when a parameter is annotated)."""
    n = 0
    for f in ast.walk(ast.parse(source)):
        if not isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        a = f.args
        params = [*a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x)]
        if params and params[0].arg in ("self", "cls"):
            params = params[1:]
        bare = [p for p in params if p.annotation is None]
        no_return = f.returns is None and not (f.name == "__init__" and len(bare) < len(params))
        n += bool(bare or no_return)
    return n


def test_untyped_def_exceptions_are_still_needed():
    section = _pyproject().split("[[tool.mypy.overrides]]", 1)[1]
    assert "disallow_untyped_defs = false" in section.split("\n[", 1)[0]
    listed = re.findall(r'^\s*"(ddkit[\w.]*)",', section.split("]", 1)[0], re.M)
    assert listed and all(m.startswith("ddkit") for m in listed)      # the parse found the list
    clean, missing = [], []
    for m in listed:
        parts = m.split(".")[1:]
        f = SRC.joinpath(*parts).with_suffix(".py") if parts else SRC / "__init__.py"
        if not f.exists():
            f = SRC.joinpath(*parts, "__init__.py")
        if not f.exists():
            missing.append(m)
        elif not _untyped_defs(f.read_text(encoding="utf-8")):
            clean.append(m)
    assert not missing, f"delete from pyproject.toml's mypy overrides (no such module): {missing}"
    assert not clean, f"delete from pyproject.toml's mypy overrides (every function annotated now): {clean}"
