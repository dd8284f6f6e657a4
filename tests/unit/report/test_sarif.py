"""Where a repository-level SARIF result points (GitHub needs a location for every result)."""

import pandas as pd

from ddkit.report.sarif import module_anchors, repository_anchor


def _files(*paths, lines=None):
    return pd.DataFrame({"path": list(paths), "module": [p.split("/")[0] if "/" in p else "(root)" for p in paths],
                         "lines": lines or [1] * len(paths)})


def test_the_roster_in_the_repository_first(tmp_path):
    files = _files("README.md", "LICENSE", "people/roster.csv", "src/a.py")
    assert repository_anchor(files, tmp_path / "people" / "roster.csv", None, root=str(tmp_path)) == "people/roster.csv"
    # a roster outside the repository (or not tracked) is no location: the README is
    assert repository_anchor(files, "/elsewhere/roster.csv", None, root=str(tmp_path)) == "README.md"
    assert repository_anchor(files, tmp_path / "untracked.csv", None, root=str(tmp_path)) == "README.md"


def test_readme_then_license_then_any_root_file_then_any_file():
    assert repository_anchor(_files("src/a.py", "readme.rst", "LICENSE")) == "readme.rst"
    assert repository_anchor(_files("src/a.py", "COPYING", "setup.py")) == "COPYING"
    assert repository_anchor(_files("src/a.py", "setup.py", "Makefile")) == "Makefile"
    assert repository_anchor(_files("src/b.py", "src/a.py")) == "src/a.py"
    assert repository_anchor(_files()) is None
    assert repository_anchor(_files("docs/README.md", "x.txt")) == "x.txt"     # only the root's README counts


def test_module_anchor_is_the_largest_file():
    files = _files("core/a.py", "core/b.py", "api/x.py", lines=[10, 30, 5])
    assert module_anchors(files) == {"core": "core/b.py", "api": "api/x.py", }
