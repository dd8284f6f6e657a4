"""The layers hold (pyproject.toml ``[tool.importlinter]``: collect -> resolve -> analyze -> score -> report ->
pipeline -> interfaces, the model and the shared modules below): no module imports a layer above its own,
not even under ``if TYPE_CHECKING:`` or inside a function, and no circle of imports among a package's
modules. The same check runs in ``make test`` (``lint-imports``).

Positive controls: a copy of the source with one planted upward import (type-only, function-local, an
unplaced new module, a circle between two report modules) is refused, the offending import named, so the
check is seen to be able to fail on each kind of violation it exists for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: the tree under test, not wherever ddkit is installed from; no cache written into the tree
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    return subprocess.run([str(LINT), "--no-cache", "--no-logo", str(root / "pyproject.toml")], cwd=root, env=env,
                          capture_output=True, text=True)


def test_the_layers_hold():
    p = lint(ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "ddkit layers KEPT" in p.stdout and "no import circles among siblings KEPT" in p.stdout


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "src" / "ddkit", tmp_path / "src" / "ddkit",
                    ignore=shutil.ignore_patterns("__pycache__", "data", "schemas"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


# path, code appended, what the check must say: each kind of violation the check exists for
PLANTED = [
    # the circle issue #26 found: the model naming a report's type, for the type checker only
    ("model.py", "\nif TYPE_CHECKING:\n    from .report.interface import Reporter\n",
     "ddkit.model is not allowed to import ddkit.report"),
    # a collector reaching up into an analysis from inside a function
    ("collect/tree.py", "\n\ndef _planted():\n    from ..analyze import findings\n    return findings\n",
     "ddkit.collect is not allowed to import ddkit.analyze"),
    # a shared low module importing the model
    ("gitutil.py", "\n\ndef _planted_model():\n    from .model import Scan\n    return Scan\n",
     "ddkit.gitutil is not allowed to import ddkit.model"),
    # a circle between two modules of one package (one layer)
    ("report/paths.py", "\n\ndef _planted():\n    from . import redact\n    return redact\n",
     "No cycles are allowed in ddkit.report"),
    ("report/redact.py", "\n\ndef _planted():\n    from . import paths\n    return paths\n", None),
]


def test_planted_violations_are_each_refused(tmp_path):
    shutil.copytree(ROOT / "src" / "ddkit", tmp_path / "src" / "ddkit",
                    ignore=shutil.ignore_patterns("__pycache__", "data", "schemas"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert lint(tmp_path).returncode == 0                 # the copy itself passes
    for rel, code, _ in PLANTED:
        with open(tmp_path / "src" / "ddkit" / rel, "a", encoding="utf-8") as f:
            f.write(code)
    # a new top-level module nobody placed in a layer (the contract is exhaustive)
    (tmp_path / "src" / "ddkit" / "planted.py").write_text('"""A module nobody placed."""\n')
    p = lint(tmp_path)
    assert p.returncode != 0
    for expected in [e for _, _, e in PLANTED if e] + ["ddkit.planted"]:
        assert expected in p.stdout, (expected, p.stdout + p.stderr)
