"""ddkit reuses pip-requirements-parser's option parser (one per run, not one per line): the result must be
the same as the library's own per-line parser, including options that accumulate (--hash, -r, -c)."""

from ddkit.collect.manifests import _reuse_requirements_line_parser

REQS = """\
--index-url https://pypi.example.org/simple
--extra-index-url https://mirror.example.org/simple
-r base.txt
-c constraints.txt
requests==2.31.0 --hash=sha256:aaaa --hash=sha256:bbbb
urllib3>=1.26 ; python_version >= "3.8"
-e git+https://github.com/acme/lib.git#egg=acmelib
flask[async]>=2.0 --hash=sha256:cccc
idna --hash=sha256:dddd
"""


def _parse(tmp_path, get_line_parser):
    import pip_requirements_parser as prp
    saved = prp.get_line_parser
    prp.get_line_parser = get_line_parser
    try:
        f = tmp_path / "requirements.txt"
        f.write_text(REQS)
        return prp.RequirementsFile.from_file(str(f), include_nested=False).to_dict()
    finally:
        prp.get_line_parser = saved


def test_reused_parser_gives_the_libraries_result(tmp_path):
    import pip_requirements_parser as prp
    _reuse_requirements_line_parser()
    assert getattr(prp.get_line_parser, "_ddkit", False)
    original = prp._ddkit_original_get_line_parser
    ours = _parse(tmp_path, prp.get_line_parser)
    theirs = _parse(tmp_path, original)
    assert ours == theirs
    reqs = {r["name"]: r for r in ours["requirements"]}
    assert reqs["requests"]["hash_options"] == ["sha256:aaaa", "sha256:bbbb"]
    assert reqs["idna"]["hash_options"] == ["sha256:dddd"]     # nothing accumulated from the lines before


MANIFEST_NAMES = ["package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "requirements.txt",
                  "requirements-dev.txt", "pyproject.toml", "setup.cfg", "setup.py", "Pipfile.lock", "poetry.lock",
                  "uv.lock", "pom.xml", "build.gradle", "go.mod", "go.sum", "Cargo.toml", "Cargo.lock",
                  "composer.json", "composer.lock", "Gemfile.lock", "app.csproj", "packages.config", "README.md",
                  "app.nuspec", "pylock.toml", "environment.yml", "conanfile.py", "Chart.yaml", "deps.edn"]


def _accepts(h, loc):
    try:
        return bool(h.is_datafile(loc))
    except Exception as e:       # some handlers raise on content they cannot classify: same either way
        return type(e).__name__


def test_handler_screen_gives_is_datafiles_answers(tmp_path):
    """The path screen in front of ScanCode's is_datafile drops only handlers that would say no."""
    from ddkit.collect.manifests import _handlers_for, handlers
    for name in MANIFEST_NAMES:
        for body in ("{}\n", "flask==2.0\n"):
            loc = tmp_path / name
            loc.write_text(body)
            every = [(h.datasource_id, _accepts(h, str(loc))) for h in handlers()]
            screened = [(h.datasource_id, _accepts(h, str(loc))) for h in _handlers_for(str(loc))]
            assert [x for x in every if x[1]] == [x for x in screened if x[1]], name
    assert len(_handlers_for(str(tmp_path / "requirements.txt"))) < len(handlers())


def test_requirements_in_a_requirements_folder_are_read():
    """ScanCode recognises requirements/base.txt by its folder (``*requirements/*.txt``): the parse keeps the
    file's folder, and the same text as a bare base.txt (which no pattern names) gives nothing."""
    from ddkit.collect.manifests import parse_manifest
    text = b"requests==2.31.0\nflask==3.0.0\n"
    rows, _own, warnings = parse_manifest("requirements/base.txt", text)
    assert sorted(r["name"] for r in rows) == ["flask", "requests"] and warnings == []
    assert parse_manifest("app/requirements/dev.txt", text)[0]
    assert parse_manifest("base.txt", text)[0] == []
