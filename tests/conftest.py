import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # makes `sample_repos` importable

from gitrepo import Repo  # noqa: E402

# Test modules that load the rules at import (collection) time must not write into the user's cache
# either: the whole session has a cache of its own from the start (each test then gets the fixture's).
os.environ["DDKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ddkit-test-cache-")


@pytest.fixture
def make_repo(tmp_path):
    def _make(name: str = "repo") -> Repo:
        return Repo(tmp_path / name)
    return _make


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("DDKIT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ddkit-cache"))


def pytest_collection_modifyitems(config, items):
    """Every test outside tests/unit is end-to-end (git, ScanCode, subprocesses): `-m "not e2e"` runs the
    unit layer alone, in seconds (or `make unit`)."""
    for item in items:
        if "/tests/unit/" not in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
