"""References such as "See LICENSE.txt for details" followed to the file they mean, beside the file, beside
its package's manifest, or at the root. The truth is ScanCode's own command line (`scancode -clip`) run on
the same tree, except where a vendored copy sits inside another package (see the second test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ddkit import gitutil
from ddkit.collect.licenses import scan_licenses
from ddkit.collect.tree import list_files
from ddkit.config import load_company, load_rules

SCANCODE = Path(sys.executable).parent / "scancode"


def license_text(key: str) -> str:
    """A license's full text from ScanCode's own license data."""
    import licensedcode
    text = (Path(licensedcode.__file__).parent / "data" / "licenses" / f"{key}.LICENSE").read_text()
    return text.split("---", 2)[2].lstrip() if text.startswith("---") else text


def header(who: str) -> str:
    return f"# Copyright (c) 2020 {who}.\n# See LICENSE.txt for details.\n\n\ndef f():\n    return 1\n"


LAYOUT = {
    "LICENSE.txt": license_text("mit"),
    "top.py": header("Top Authors"),
    # An npm package in a subfolder: its files mean its own LICENSE.txt, beside package.json.
    "packages/foo/package.json": json.dumps({"name": "foo", "version": "1.0.0"}),
    "packages/foo/LICENSE.txt": license_text("apache-2.0"),
    "packages/foo/src/index.js": header("Foo Authors"),
    # A Python package (setup.py, read as a syntax tree) with the file two folders down.
    "sub/pkg/setup.py": 'from setuptools import setup\nsetup(name="subpkg", version="1.0")\n',
    "sub/pkg/LICENSE.txt": license_text("isc"),
    "sub/pkg/a/b/y.py": header("Sub Authors"),
    # A vendored copy with its own LICENSE.txt beside the file and no manifest.
    "vendor/lib/LICENSE.txt": license_text("bsd-new"),
    "vendor/lib/x.py": header("Lib Authors"),
    # A folder that is no package: the root's LICENSE.txt.
    "docs/LICENSE.txt": license_text("gpl-2.0"),
    "docs/src/conf.py": header("Docs Authors"),
}


def ddkit_pairs(path: Path) -> dict[str, str]:
    info = gitutil.open_repo(path)
    rules = load_rules()
    files = list_files(info.path, info.commit, rules, load_company(None))
    df, _ns, warnings, _st = scan_licenses(info.path, info.commit, files, rules.get("licenses", {}), [], jobs=1)
    assert not warnings
    return {p: e for p, e in zip(df["path"], df["license_expression"]) if isinstance(e, str)}


def scancode_pairs(path: Path, out: Path) -> dict[str, str]:
    subprocess.run([str(SCANCODE), "-clip", "-n", "1", "--quiet", "--json", str(out), "--ignore", ".git", str(path)],
                   check=True)
    data = json.loads(out.read_text())
    return {f["path"].split("/", 1)[1]: f["detected_license_expression"] for f in data["files"]
            if f["type"] == "file" and f.get("detected_license_expression")}


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    from gitrepo import Repo
    root = tmp_path_factory.mktemp("refs")
    bare = Repo(root / "plain")
    bare.commit(LAYOUT)
    # The same tree with a package manifest at the root (the project is a package itself).
    rooted = Repo(root / "rooted")
    rooted.commit({**LAYOUT, "package.json": json.dumps({"name": "app", "version": "1.0.0"})})
    return root, bare.path, rooted.path


@pytest.fixture(scope="module")
def scancode_plain(trees):
    root, plain, _ = trees
    return scancode_pairs(plain, root / "plain.json")


def test_references_resolve_as_scancode_does(trees, scancode_plain):
    """Every (file, expression) pair ScanCode gives is ddkit's, including the files whose reference
    ScanCode resolves through their package's manifest (packages/foo, sub/pkg), and nothing more."""
    _, plain, _ = trees
    sc = scancode_plain
    ours = ddkit_pairs(plain)
    assert ours == sc
    # The layout does exercise all three: beside the file, beside the manifest, at the root.
    assert sc["vendor/lib/x.py"] == sc["vendor/lib/LICENSE.txt"]
    assert sc["packages/foo/src/index.js"] == sc["packages/foo/LICENSE.txt"] != sc["LICENSE.txt"]
    assert sc["sub/pkg/a/b/y.py"] == sc["sub/pkg/LICENSE.txt"] != sc["LICENSE.txt"]
    assert sc["docs/src/conf.py"] == sc["LICENSE.txt"]


def test_a_vendored_copy_keeps_its_own_license_inside_a_packaged_project(trees, scancode_plain):
    """With a manifest at the root, ScanCode puts every file in the root package and sends their
    "See LICENSE.txt" to the root's LICENSE.txt, even for a vendored copy whose own LICENSE.txt sits
    beside the file (and for packages/foo, a package of its own). ddkit keeps each file's nearest:
    the expressions ScanCode itself finds in those LICENSE.txt files (computed on the plain tree)."""
    _, _, rooted = trees
    sc = scancode_plain
    ours = ddkit_pairs(rooted)
    assert ours["vendor/lib/x.py"] == sc["vendor/lib/LICENSE.txt"]
    assert ours["packages/foo/src/index.js"] == sc["packages/foo/LICENSE.txt"]
    assert ours["sub/pkg/a/b/y.py"] == sc["sub/pkg/LICENSE.txt"]
    assert ours["top.py"] == ours["docs/src/conf.py"] == sc["LICENSE.txt"]


def test_same_license_as_the_package_is_the_root_license(make_repo, tmp_path):
    """gettext's .po header "distributed under the same license as the Git package" (ScanCode:
    INHERIT_LICENSE_FROM_PACKAGE). ScanCode with its package step (`-clip -p`) resolves it to the root's
    license file when there is no package; ddkit gives the same expression (git/git: 55 po files were
    lic.unknown-license)."""
    r = make_repo()
    r.commit({"COPYING": license_text("gpl-2.0"),
              "po/ca.po": "# Catalan translations for Git.\n# This file is distributed under the same license as "
                          "the Git package.\n# Alex <alex@example.com>, 2014.\nmsgid \"\"\nmsgstr \"\"\n"})
    out = tmp_path / "sc.json"
    subprocess.run([str(SCANCODE), "-clip", "-p", "-n", "1", "--quiet", "--json", str(out), "--ignore", ".git",
                    str(r.path)], check=True)
    sc = {f["path"].split("/", 1)[1]: f["detected_license_expression"] for f in json.loads(out.read_text())["files"]
          if f["type"] == "file" and f.get("detected_license_expression")}
    ours = ddkit_pairs(r.path)
    assert sc["po/ca.po"] == sc["COPYING"] == "gpl-2.0"
    assert ours["po/ca.po"] == sc["po/ca.po"]
