"""The codebase's shape: the model carries no grab-bag (the layers and import circles: test_layers.py)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

from ddkit.model import Portfolio, Scan

ROOT = Path(__file__).resolve().parents[2]


def test_model_has_explicit_fields_only():
    for cls in (Scan, Portfolio):
        names = {f.name for f in dataclasses.fields(cls)}
        assert "extras" not in names
        for f in dataclasses.fields(cls):
            assert "dict[str, Any]" != str(f.type) or f.name in ("summary", "options", "truck_factors")


def test_command_line_starts_without_heavy_imports():
    """`ddkit --version` / `--help` load neither pandas nor a scanner (start-up time, issue: speed)."""
    code = ("import sys, runpy; sys.argv = ['ddkit', '--version']\n"
            "try:\n    runpy.run_module('ddkit', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pandas', 'numpy', 'openpyxl', 'scancode', 'dask', 'kingfisher') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in p.stdout, p.stdout + p.stderr


def test_public_names_survive_submodule_imports():
    code = ("import ddkit, ddkit.pipeline, ddkit.portfolio, ddkit.model\n"
            "assert callable(ddkit.scan) and ddkit.scan.__module__ == 'ddkit.pipeline'\n"
            "assert callable(ddkit.scan_many) and ddkit.Scan.__name__ == 'Scan'\nprint('OK')")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stdout.strip() == "OK", p.stderr
