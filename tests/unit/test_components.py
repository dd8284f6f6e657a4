"""analyze/components.py: the CycloneDX components a scan's tables make (``Scan.components``), checked against
a small inventory whose answer is worked out by hand below; and the model asks the analysis through the
facade's operations, so ``Scan.components`` is the same table."""

from __future__ import annotations

import pandas as pd

from ddkit.analyze.components import COMPONENT_COLUMNS, cyclonedx_components, vulnerable_components


def _dep(name, version, kind, manifest, line, purl, scope="runtime", direct=True, license_spdx=None,
         license_source="none", ecosystem="pypi"):
    return dict(name=name, version=version, kind=kind, manifest=manifest, line=line, purl=purl, scope=scope,
                direct=direct, license_spdx=license_spdx, license_source=license_source, ecosystem=ecosystem)


DEPS = pd.DataFrame([
    # One package spelt two ways (PEP 503: case, "_" and "." fold to "-"): one component, at the lockfile's version
    _dep("Foo_Bar", ">=1.0", "manifest", "requirements.in", 3, "pkg:pypi/foo-bar", scope="dev"),
    _dep("foo.bar", "1.2.0", "lockfile", "requirements.txt", 7, "pkg:pypi/foo-bar@1.2.0", direct=False,
         license_spdx="MIT", license_source="lockfile"),
    # A package with no version anywhere, vendored too: its vendored files are more of its places
    _dep("six", None, "manifest", "setup.cfg", None, "pkg:pypi/six", license_spdx="MIT", license_source="manifest"),
    _dep("left-pad", "1.3.0", "lockfile", "package-lock.json", 10, "pkg:npm/left-pad@1.3.0", ecosystem="npm"),
])
LICENSES = pd.DataFrame([
    dict(path="vendor/six/six.py", vendored=True, license_spdx="MIT"),
    dict(path="vendor/six/LICENSE", vendored=True, license_spdx="MIT"),
    dict(path="third_party/zlib/zlib.h", vendored=True, license_spdx="Zlib"),
    dict(path="src/app.py", vendored=False, license_spdx="Apache-2.0"),
])


def test_components_group_choose_and_match_vendored_copies():
    got = cyclonedx_components(DEPS, LICENSES)
    assert list(got.columns) == COMPONENT_COLUMNS
    rows = {r["ref"]: r for r in got.to_dict(orient="records")}
    # sorted by (ecosystem, normalised name); the vendored-only directory last
    assert list(rows) == ["npm:left-pad@1.3.0", "pypi:foo-bar@1.2.0", "pypi:six@", "vendored:third_party/zlib"]
    fb = rows["pypi:foo-bar@1.2.0"]
    assert (fb["name"], fb["version"], fb["purl"], fb["scope"], fb["direct"]) == \
        ("Foo_Bar", "1.2.0", "pkg:pypi/foo-bar@1.2.0", "runtime", True)
    assert (fb["license_spdx"], fb["license_source"], fb["key"]) == ("MIT", "lockfile", "foo-bar")
    assert fb["occurrences"] == [("requirements.in", 3), ("requirements.txt", 7)]
    six = rows["pypi:six@"]
    assert six["version"] is None and six["vendored_directory"] is None
    assert six["occurrences"] == [("setup.cfg", None), ("vendor/six/LICENSE", None), ("vendor/six/six.py", None)]
    z = rows["vendored:third_party/zlib"]
    assert (z["name"], z["license_spdx"], z["license_source"], z["vendored_directory"], z["direct"]) == \
        ("zlib", "Zlib", "vendored", "third_party/zlib", True)
    assert z["occurrences"] == [("third_party/zlib/zlib.h", None)]


def test_no_tables_no_components():
    assert cyclonedx_components(None, None).empty
    assert list(cyclonedx_components(None, None).columns) == COMPONENT_COLUMNS


def test_vulnerabilities_point_at_the_component_of_their_package():
    comps = cyclonedx_components(DEPS, LICENSES)
    vulns = pd.DataFrame([
        # the package as the advisory spells it, pinned: its version named
        dict(advisory="GHSA-b", ecosystem="pypi", name="FOO.BAR", version="1.2.0", match="exact", current=True),
        # an unpinned requirement: the range is ddkit's table's, no version named; the same ref once
        dict(advisory="GHSA-b", ecosystem="pypi", name="foo_bar", version=">=1.0", match="range", current=True),
        dict(advisory="GHSA-a", ecosystem="npm", name="left-pad", version="1.3.0", match="exact", current=True),
        # past (fixed since): not in the SBOM; a package the SBOM does not list: no target
        dict(advisory="GHSA-c", ecosystem="pypi", name="six", version="1.0", match="exact", current=False),
        dict(advisory="GHSA-d", ecosystem="pypi", name="zlib", version="1.0", match="exact", current=True),
    ])
    assert vulnerable_components(comps, vulns) == {
        "GHSA-a": [("npm:left-pad@1.3.0", "1.3.0")], "GHSA-b": [("pypi:foo-bar@1.2.0", "1.2.0")], "GHSA-d": []}
    assert vulnerable_components(comps, None) == {}
