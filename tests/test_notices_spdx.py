"""The attribution pack (--notices-out) and the SPDX 2.3 document (--spdx-out) on a sample repository built
here: every component of the Dependencies table and every third-party holder of the Licenses table is in
the pack, unknown licenses first; the SPDX document validates with spdx-tools' own parser and validator, and
ntia-conformance-checker agrees with ddkit's NTIA minimum-elements check."""

from __future__ import annotations

import json

import pytest

import ddkit
from gitrepo import Repo, ddkit_cli

MIT_HEADER = """# Copyright (c) 2015 Jane Roe
#
# Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
# associated documentation files (the "Software"), to deal in the Software without restriction, including
# without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
# copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
# following conditions: The above copyright notice and this permission notice shall be included in all
# copies or substantial portions of the Software.
#
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
def helper():
    return 1
"""
LOCK = {"name": "web", "version": "1.0.0", "lockfileVersion": 2, "requires": True,
        "packages": {"": {"name": "web", "version": "1.0.0", "dependencies": {"left-pad": "^1.3.0"}},
                     "node_modules/left-pad": {"version": "1.3.0", "license": "WTFPL"},
                     "node_modules/tiny": {"version": "0.1.0", "license": "MIT"}},
        "dependencies": {"left-pad": {"version": "1.3.0"}, "tiny": {"version": "0.1.0"}}}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    r = Repo(tmp_path_factory.mktemp("notices") / "repo")
    r.commit({"requirements.txt": "mystery-pkg>=1.0\n", "app/util.py": MIT_HEADER, "app/main.py": "print('hi')\n",
              "package.json": '{\n  "name": "web",\n  "version": "1.0.0",\n  "dependencies": {"left-pad": "^1.3.0"}\n}\n',
              "package-lock.json": json.dumps(LOCK, indent=2) + "\n"},
             name="Alice", email="alice@acme.example", date="2022-01-10T10:00:00+00:00")
    s = ddkit.scan(r.path, as_of="2024-03-01", secrets=False)
    return r, s


def test_notices_list_every_component_and_holder_unknown_first(scanned, tmp_path):
    _r, s = scanned
    text = s.to_notices(tmp_path / "NOTICES.md")
    assert (tmp_path / "NOTICES.md").read_text() == text == s.notices
    names = {n for n, src in zip(s.dependencies["name"], s.dependencies["license_source"]) if src != "first-party"}
    assert names == {"mystery-pkg", "left-pad", "tiny"}
    for n in names:
        assert n in text
    holders = {h for hs in s.licenses["holders"] for h in hs}
    assert "Jane Roe" in holders
    for h in holders:
        assert h in text
    # Unknown licenses first ("to be resolved"), then one section per license with its text.
    unknown = text.index("To be resolved")
    assert unknown < text.index("mystery-pkg") < text.index("## License: ")
    assert "## License: MIT" in text and "## License: WTFPL" in text
    assert "Permission is hereby granted" in text                      # ScanCode's MIT text
    mit = text.index("## License: MIT")
    assert text.index("app/util.py") > mit and text.index("tiny") > mit
    assert "Transitive dependencies" in text                           # tiny is locked, not declared
    plain = s.to_notices(tmp_path / "NOTICES.txt")
    assert "## " not in plain and "To be resolved" in plain and "mystery-pkg" in plain


def test_spdx_validates_and_matches_the_dependencies(scanned, tmp_path):
    _r, s = scanned
    out = tmp_path / "sbom.spdx.json"
    s.to_spdx(out)
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    doc = parse_file(str(out))
    assert validate_full_spdx_document(doc) == []
    assert doc.creation_info.spdx_version == "SPDX-2.3"
    pkgs = {p.name: p for p in doc.packages}
    assert set(pkgs) == {"mystery-pkg", "left-pad", "tiny", doc.packages[0].name}   # and the project
    assert pkgs["left-pad"].version == "1.3.0" and str(pkgs["left-pad"].license_declared) == "WTFPL"
    assert pkgs["mystery-pkg"].version is None
    refs = [r.locator for r in pkgs["tiny"].external_references]
    assert refs == ["pkg:npm/tiny@0.1.0"]
    # NTIA minimum elements: ddkit's own check and ntia-conformance-checker on the same document.
    ntia = s.summary["sbom_ntia"]
    assert ntia["components"] == 3 and ntia["missing_version"] == ["mystery-pkg"]
    assert sorted(ntia["missing_supplier"]) == ["left-pad", "mystery-pkg", "tiny"]
    from ntia_conformance_checker.sbom_checker import SbomChecker
    checker = SbomChecker(str(out)).output_json()
    assert checker["componentVersions"]["nonconformantComponents"] == ["mystery-pkg"]
    assert set(checker["componentSuppliers"]["nonconformantComponents"]) >= {"left-pad", "mystery-pkg", "tiny"}
    assert checker["authorNameProvided"] and checker["timestampProvided"] and checker["dependencyRelationshipsProvided"]


def test_cli_writes_both_and_scan_many_refuses(scanned, tmp_path):
    r, _s = scanned
    p = ddkit_cli("scan", r.path, "--no-secrets", "--as-of", "2024-03-01", "--spdx-out", tmp_path / "a.spdx.json",
                  "--notices-out", tmp_path / "N.txt", "--quiet")
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "a.spdx.json").read_text())["spdxVersion"] == "SPDX-2.3"
    assert "mystery-pkg" in (tmp_path / "N.txt").read_text()
    (tmp_path / "list.txt").write_text(f"{r.path}\n")
    p = ddkit_cli("scan-many", tmp_path / "list.txt", "--no-secrets", "--notices-out", tmp_path / "M.md", "--quiet")
    assert p.returncode == 2 and "per repository" in p.stderr
