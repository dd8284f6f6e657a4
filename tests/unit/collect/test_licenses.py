"""Which file a "see LICENSE.txt" reference resolves to (collect.licenses._reference_target), without
ScanCode or git: results and packages are stubs, the answers worked out by hand from the layout."""

from __future__ import annotations

from ddkit.collect.dependencies import vendored_component
from ddkit.collect.licenses import _reference_target

DET = [{"license_expression": "x"}]


class Packages:
    """Stands in for collect.licenses.PackageDirs: the directories holding a named package manifest."""

    def __init__(self, dirs: set[str]):
        self.dirs = dirs
        self.asked: list[str] = []

    def is_package(self, directory: str) -> bool:
        self.asked.append(directory)
        return directory in self.dirs


def results(*paths: str) -> dict:
    return {p: {"raw_detections": DET} for p in paths}


def test_beside_the_file_first():
    r = results("LICENSE.txt", "pkg/LICENSE.txt", "pkg/src/LICENSE.txt", "pkg/src/a.py")
    assert _reference_target("pkg/src/a.py", "LICENSE.txt", r, Packages({"pkg"})) == "pkg/src/LICENSE.txt"


def test_beside_the_package_manifest_before_the_root():
    r = results("LICENSE.txt", "pkg/LICENSE.txt", "pkg/src/deep/a.py")
    assert _reference_target("pkg/src/deep/a.py", "LICENSE.txt", r, Packages({"pkg"})) == "pkg/LICENSE.txt"
    # The nearest package first.
    r = results("LICENSE.txt", "a/LICENSE.txt", "a/b/LICENSE.txt", "a/b/c/x.py")
    assert _reference_target("a/b/c/x.py", "LICENSE.txt", r, Packages({"a", "a/b"})) == "a/b/LICENSE.txt"


def test_a_directory_without_a_package_is_not_a_package_sibling():
    r = results("LICENSE.txt", "docs/LICENSE.txt", "docs/src/a.py")
    assert _reference_target("docs/src/a.py", "LICENSE.txt", r, Packages(set())) == "LICENSE.txt"
    assert _reference_target("docs/src/a.py", "LICENSE.txt", r, None) == "LICENSE.txt"


def test_a_vendored_copy_does_not_take_the_enclosing_package_license():
    r = results("LICENSE.txt", "src/app/LICENSE.txt", "src/app/_vendor/lib/sub/m.py",
                "src/app/_vendor/lib/LICENSE.txt")
    pk = Packages({"src/app", "src/app/_vendor/lib"})
    # Its own package's file (the vendored directory holds a manifest) ...
    assert _reference_target("src/app/_vendor/lib/sub/m.py", "LICENSE.txt", r, pk) == "src/app/_vendor/lib/LICENSE.txt"
    # ... never the enclosing project's package (src/app): without its own, the root, as ScanCode's local step.
    r.pop("src/app/_vendor/lib/LICENSE.txt")
    assert _reference_target("src/app/_vendor/lib/sub/m.py", "LICENSE.txt", r, pk) == "LICENSE.txt"
    assert "src/app" not in pk.asked


def test_unresolvable_references():
    r = results("pkg/a.py")
    assert _reference_target("pkg/a.py", "COPYING", r, Packages({"pkg"})) is None
    assert _reference_target("pkg/a.py", "INHERIT_LICENSE_FROM_PACKAGE", r, Packages({""})) is None
    # A file does not resolve to itself, and a file without detections is no target.
    r = {"LICENSE": {"raw_detections": DET}, "x/LICENSE": {"raw_detections": []}}
    assert _reference_target("LICENSE", "LICENSE", r, None) is None
    assert _reference_target("x/a.c", "LICENSE", r, Packages({"x"})) == "LICENSE"


def test_vendored_component():
    assert vendored_component("src/pip/_vendor/distlib/util.py") == ("src/pip/_vendor/distlib", "distlib")
    assert vendored_component("node_modules/@s/p/lib/x.js") == ("node_modules/@s/p", "@s/p")
    assert vendored_component("vendor/github.com/o/r/x.go") == ("vendor/github.com/o/r", "github.com/o/r")
    assert vendored_component("src/x.py") is None


def test_same_license_as_the_package():
    """"distributed under the same license as the Git package" (ScanCode: INHERIT_LICENSE_FROM_PACKAGE): the
    license file of the enclosing package, else the root's, as ScanCode's package step does (its root
    sibling license files when there is no package)."""
    r = results("COPYING", "README.md", "po/ca.po")
    assert _reference_target("po/ca.po", "INHERIT_LICENSE_FROM_PACKAGE", r, Packages(set())) == "COPYING"
    r = results("COPYING", "LICENSE", "po/ca.po")
    assert _reference_target("po/ca.po", "INHERIT_LICENSE_FROM_PACKAGE", r, None) == "LICENSE"
    # An enclosing package with its own license file wins; one without falls through to the root.
    r = results("COPYING", "gui/LICENSE.txt", "gui/po/de.po", "lib/po/fr.po")
    pk = Packages({"gui", "lib"})
    assert _reference_target("gui/po/de.po", "INHERIT_LICENSE_FROM_PACKAGE", r, pk) == "gui/LICENSE.txt"
    assert _reference_target("lib/po/fr.po", "INHERIT_LICENSE_FROM_PACKAGE", r, pk) == "COPYING"
    # A vendored copy never inherits the project's license.
    r = results("COPYING", "vendor/x/po/de.po")
    assert _reference_target("vendor/x/po/de.po", "INHERIT_LICENSE_FROM_PACKAGE", r, Packages(set())) is None
