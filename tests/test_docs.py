"""The documentation holds together: the README stays a short user's page, every relative link between the
README and docs/ reaches a file and a heading that exist, every option of every command is documented, and
every rule id the docs name is one the catalogue defines. Each check is run on a planted defect first, so a
checker that cannot fail is caught (the positive controls)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = (["scan"], ["scan-many"], ["diff"], ["roster", "init"], ["roster", "check"], ["triage", "import"],
            ["demo"], [])
RULE_ID = re.compile(r"\b(?:ip|own|lic|kn|sec|dep|prov|ai)\.(?!(?:py|yaml|json|md)\b)[a-z][a-z-]*[a-z]\b")
EXAMPLE_RULES = {"ip.moonlighting-work"}     # the worked example of a new rule (docs/architecture.md)


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def anchors(text: str) -> set[str]:
    out: set[str] = set()
    seen: dict[str, int] = {}
    for line in re.sub(r"```.*?```", "", text, flags=re.S).splitlines():
        m = re.match(r"#{1,6} (.*)", line)
        if m:
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
    return out


def broken_links(path: Path, text: str) -> list[str]:
    """Relative links of *text* (the file at *path*) whose file or #anchor does not exist."""
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"```.*?```", "", text, flags=re.S)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):      # http:, https:, mailto: are not checked here
            continue
        name, _, anchor = target.partition("#")
        dest = (path.parent / name).resolve() if name else path
        if not dest.exists():
            bad.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text(encoding="utf-8")):
            bad.append(target)
    return bad


def options(args: list[str]) -> set[str]:
    p = subprocess.run([sys.executable, "-m", "ddkit", *args, "--help"], capture_output=True, text=True, check=True)
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", p.stdout)) - {"--help"}


def test_readme_is_a_short_page():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


def test_relative_links_resolve():
    planted = "[a](README.md#no-such-heading) [b](no-such-file.md) [c](README.md#ddkit) [d](https://x.example/)"
    assert broken_links(ROOT / "README.md", planted) == ["README.md#no-such-heading", "no-such-file.md"]
    bad = {str(p.relative_to(ROOT)): broken_links(p, p.read_text(encoding="utf-8")) for p in DOCS}
    assert {k: v for k, v in bad.items() if v} == {}


def test_every_command_option_is_documented():
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS)
    documented = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", text))
    assert "--no-such-option" not in documented and {"--roster", "--vuln-db", "--dask"} <= options(["scan"]) | options(["scan-many"])
    missing = {" ".join(c) or "ddkit": sorted(options(c) - documented) for c in COMMANDS}
    assert {k: v for k, v in missing.items() if v} == {}


def test_rule_ids_named_in_the_docs_exist():
    catalogue = set(yaml.safe_load((ROOT / "rules" / "findings.yaml").read_text(encoding="utf-8"))["rules"])
    assert RULE_ID.findall("a typo: ip.unknown-contributer") == ["ip.unknown-contributer"]
    named = {r for p in DOCS for r in RULE_ID.findall(p.read_text(encoding="utf-8"))}
    assert not named - catalogue - EXAMPLE_RULES
    assert catalogue <= named          # and every rule of the catalogue is documented somewhere
