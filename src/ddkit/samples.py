"""The bundled sample company repositories (built by ``sample_repos/generate.py``)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .cache import cache_dir
from .config import data_dir
from .errors import InputError


@dataclass(frozen=True)
class SamplePaths:
    name: str
    repo: Path
    roster: Path
    company: Path
    answers: Path
    as_of: str | None          # None (no answers.json): the scan defaults to today
    reference: Path | None = None   # the code the sample copied from (hooli's previous employer), for --reference


def _generator():
    root = data_dir("sample_repos")
    spec = importlib.util.spec_from_file_location("ddkit_sample_generate", root / "generate.py")
    if spec is None or spec.loader is None:
        raise InputError(f"{root}: sample generator missing")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return root, mod


def build_sample(name: str = "acme", dest: Path | None = None) -> SamplePaths:
    root, gen = _generator()
    if name not in getattr(gen, "SAMPLES", (name,)):
        raise InputError(f"no bundled sample named '{name}'")
    dest = dest or cache_dir("samples")
    target = Path(dest) / name
    if target.exists():
        shutil.rmtree(target)
    repo = Path(gen.build(name, Path(dest)))
    answers = root / name / "answers.json"
    as_of = json.loads(answers.read_text(encoding="utf-8")).get("as_of") if answers.exists() else None
    reference = Path(gen.build_reference(Path(dest))) if name == "hooli" and hasattr(gen, "build_reference") else None
    return SamplePaths(name, repo, root / name / "roster.csv", root / name / "company.yaml", answers, as_of,
                       reference)
