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


# ------------------------------------------------------------------ every JSON report matches the schema
# schemas/report.schema.json declares every key ddkit writes (additionalProperties: false). Each report the
# suite writes in this process is checked as it is written, and each report file a subprocess wrote (the
# command line) is checked when the session ends: an undeclared key or a wrong type fails the run.
REPORT_SCHEMA_PATH = ROOT / "schemas" / "report.schema.json"


def report_schema_errors(doc) -> list[str]:
    import json

    import jsonschema
    validator = jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA_PATH.read_text(encoding="utf-8")))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


@pytest.fixture(autouse=True)
def _json_reports_match_the_schema(monkeypatch):
    import json

    from ddkit.report import json_report
    from ddkit.report.cells import json_bytes
    write = json_report.write_json

    def checked(data, path):
        errors = report_schema_errors(json.loads(json_bytes(data)))   # exactly what is written
        assert not errors, "JSON report does not match schemas/report.schema.json:\n" + "\n".join(errors[:20])
        return write(data, path)
    monkeypatch.setattr(json_report, "write_json", checked)


def _report_files(base: Path):
    import json
    for f in base.rglob("*.json"):
        try:
            if not f.is_file() or f.is_symlink() or f.stat().st_size > 200_000_000:
                continue
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):   # the hostile tests' inputs (deep JSON) are not reports
            continue
        if isinstance(doc, dict) and "schema_version" in doc and "ddkit_version" in doc:
            yield f, doc


def pytest_sessionfinish(session, exitstatus):
    factory = getattr(session.config, "_tmp_path_factory", None)
    base = getattr(factory, "_basetemp", None) if factory is not None else None
    if base is None or not Path(base).is_dir():
        return
    bad = []
    for f, doc in _report_files(Path(base)):
        errors = report_schema_errors(doc)
        if errors:
            bad.append(f"{f}:\n  " + "\n  ".join(errors[:10]))
    if bad:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        msg = "JSON reports written during the tests do not match schemas/report.schema.json:\n" + "\n".join(bad)
        if tr is not None:
            tr.write_line(msg, red=True)
        session.exitstatus = 1
