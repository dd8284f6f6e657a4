"""The attribution pack (``--notices-out FILE``, ``Scan.to_notices()``): what notices the product must ship.

Per third-party component (the Dependencies table: one entry per package, its versions, direct or
transitive) and per third-party file the license stage found (a file whose copyright holders are not the
company, or a vendored file), its license, its copyright holders and, once per license, the license text
from ScanCode's license data (``licensedcode``, offline). Grouped by license; within a license, direct
dependencies, then transitive ones, then files. Components and files whose license is not known come first,
under "To be resolved": an attribution pack cannot be complete until they are.

Markdown when the file name ends in ``.md``, plain text otherwise (``.txt``).
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..collect.dependencies import norm_name
from ..fsutil import atomic_write

if TYPE_CHECKING:
    from ..model import Portfolio, Scan

UNKNOWN = "(license not known)"


@functools.lru_cache(maxsize=1)
def _spdx_to_key() -> dict[str, str]:
    """lower-case SPDX id -> ScanCode license key (from ScanCode's cached license database summary)."""
    from ..collect.licenses import license_db_summary
    out: dict[str, str] = {}
    for key, v in license_db_summary().items():
        spdx = v.get("spdx")
        if isinstance(spdx, str) and spdx and spdx.lower() not in out:
            out[spdx.lower()] = key
    return out


def license_text(spdx_id: str) -> str | None:
    """The text of one license (an SPDX id or a LicenseRef-scancode-* id) from ScanCode's license data."""
    import licensedcode
    sid = spdx_id.strip()
    key = _spdx_to_key().get(sid.lower())
    if key is None and sid.lower().startswith("licenseref-scancode-"):
        key = sid[len("LicenseRef-scancode-"):].lower()
    if key is None or not re.fullmatch(r"[a-z0-9][a-z0-9._+-]*", key):
        return None
    f = Path(os.path.dirname(licensedcode.__file__)) / "data" / "licenses" / f"{key}.LICENSE"
    try:
        text = f.read_text(encoding="utf-8")
    except OSError:
        return None
    if text.startswith("---"):           # YAML front matter, then the text
        end = text.find("\n---", 3)
        text = text[end + 4:] if end >= 0 else text
    return text.strip("\n") or None


def _symbols(expression: str) -> list[str]:
    try:
        from license_expression import get_spdx_licensing
        return sorted({str(k) for k in get_spdx_licensing().license_keys(expression)})
    except Exception:   # an expression the parser refuses: keep it whole
        return [expression]


def _unknown(expr: Any) -> bool:
    return not isinstance(expr, str) or not expr or "unknown" in expr.lower()


def collect(s: Scan) -> dict[str, Any]:
    """{'components': [...], 'files': [...]} for the pack (also what the tests check against the tables)."""
    from ..analyze.dependencies import vendored_components
    from ..analyze.licenses import is_company
    lic = s.licenses if s.licenses is not None else pd.DataFrame()
    holders_of_file: dict[str, list[str]] = {}
    files = []
    if len(lic):
        for r in lic.to_dict(orient="records"):
            cat = str(r.get("category") or "")
            if "company's own notice" in cat or "mentioned in documentation" in cat:
                continue
            hs = [h for h in (r.get("holders") if isinstance(r.get("holders"), list) else []) if not is_company(h, s.company)]
            holders_of_file[r["path"]] = hs
            if hs or r.get("vendored") or isinstance(r.get("license_spdx"), str):
                files.append(dict(path=r["path"], license=r.get("license_spdx") if isinstance(r.get("license_spdx"), str)
                                  else None, holders=hs, vendored=bool(r.get("vendored")),
                                  copyrights=[c for c in (r.get("copyrights") or []) if isinstance(c, str)]))
    vc = vendored_components(lic if len(lic) else None)
    vend_files = {r["key"]: r["files"] for r in vc.to_dict(orient="records")}
    comps: dict[tuple[str, str], dict] = {}
    deps = s.dependencies if s.dependencies is not None else pd.DataFrame()
    for r in deps.to_dict(orient="records") if len(deps) else []:
        if r.get("license_source") == "first-party":
            continue
        k = (r["ecosystem"], norm_name(r["ecosystem"], r["name"]))
        c = comps.setdefault(k, dict(name=r["name"], ecosystem=r["ecosystem"], versions=[], direct=False, license=None,
                                     license_source="none", holders=[], purl=r.get("purl"), manifests=[]))
        v = r.get("version")
        if isinstance(v, str) and v and v not in c["versions"]:
            c["versions"].append(v)
        c["direct"] = c["direct"] or bool(r.get("direct"))
        if c["license"] is None and isinstance(r.get("license_spdx"), str) and r["license_spdx"]:
            c["license"], c["license_source"] = r["license_spdx"], r.get("license_source")
        if r["manifest"] not in c["manifests"]:
            c["manifests"].append(r["manifest"])
    for c in comps.values():
        for f in vend_files.get(norm_name("pypi", c["name"]), []):
            for h in holders_of_file.get(f, []):
                if h not in c["holders"]:
                    c["holders"].append(h)
    return {"components": sorted(comps.values(), key=lambda c: (c["name"].lower(), c["ecosystem"])),
            "files": sorted(files, key=lambda f: f["path"])}


def render(s: Scan, markdown: bool = True) -> str:
    data = collect(s)
    comps, files = data["components"], data["files"]
    name = s.company.name or posixpath.basename(str(s.repo.path).rstrip("/"))
    out: list[str] = []

    def h(level: int, text: str) -> None:
        out.append(("#" * level + " " + text) if markdown else (text + "\n" + ("=" if level == 1 else "-") * len(text)))
        out.append("")

    def item(text: str) -> None:
        out.append(("- " if markdown else "  * ") + text)

    def comp_line(c: dict) -> str:
        ver = ", ".join(c["versions"]) or "version not stated"
        who = f"; copyright {'; '.join(c['holders'])}" if c["holders"] else ""
        src = f" (license from the {c['license_source']})" if c["license"] else ""
        return f"{c['name']} {ver} ({c['ecosystem']}){src}{who}"

    def file_line(f: dict) -> str:
        who = "; ".join(f["copyrights"] or f["holders"]) or "no copyright notice found"
        return f"{f['path']}{' (vendored)' if f['vendored'] else ''}: {who}"
    h(1, f"Third-party notices: {name}")
    out.append(f"Repository {s.repo.remote or s.repo.path} at commit {s.repo.commit or '(empty)'} (ref {s.repo.ref}), as of "
               f"{s.as_of.isoformat()}. Generated by ddkit from the dependency inventory and the license scan; "
               f"license texts from ScanCode's license data. {len(comps)} components, {len(files)} third-party files.")
    out.append("")
    if not s.options.get("licenses", True):
        out.append("The license scan was not run (--no-licenses): third-party files are not listed.")
        out.append("")
    unknown_c = [c for c in comps if _unknown(c["license"])]
    unknown_f = [f for f in files if _unknown(f["license"])]
    h(2, "To be resolved: license not known")
    if not unknown_c and not unknown_f:
        out.append("None.")
    for c in unknown_c:
        item(f"{comp_line(c)}; {'direct' if c['direct'] else 'transitive'}; declared in {', '.join(c['manifests'][:3])}")
    for f in unknown_f:
        item(file_line(f))
    out.append("")
    groups: dict[str, dict[str, list]] = {}
    for c in comps:
        if not _unknown(c["license"]):
            groups.setdefault(c["license"], {"direct": [], "transitive": [], "files": []})[
                "direct" if c["direct"] else "transitive"].append(c)
    for f in files:
        if not _unknown(f["license"]):
            groups.setdefault(f["license"], {"direct": [], "transitive": [], "files": []})["files"].append(f)
    symbols: list[str] = []
    for lic in sorted(groups, key=str.lower):
        g = groups[lic]
        h(2, f"License: {lic}")
        for label, key in (("Direct dependencies", "direct"), ("Transitive dependencies", "transitive")):
            if g[key]:
                out.append(f"{label}:" if not markdown else f"**{label}**")
                out.append("")
                for c in g[key]:
                    item(comp_line(c))
                out.append("")
        if g["files"]:
            out.append("Third-party files:" if not markdown else "**Third-party files**")
            out.append("")
            for f in g["files"]:
                item(file_line(f))
            out.append("")
        for sym in _symbols(lic):
            if sym not in symbols:
                symbols.append(sym)
    h(2, "License texts")
    for sym in symbols:
        h(3, sym)
        text = license_text(sym)
        if text is None:
            out.append(f"(the text of {sym} is not in ScanCode's license data: include it from the component)")
        elif markdown:
            out += ["```text", text, "```"]
        else:
            out.append(text)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_notices(s: Scan, path: Path | None) -> str:
    text = render(s, markdown=path is None or str(path).lower().endswith((".md", ".markdown")))
    if path is not None:
        atomic_write(path, text)
    return text


class NoticesReporter:
    format = "notices"

    def scan(self, s: Scan, path: Path | None) -> str:
        return write_notices(s, path)

    def portfolio(self, p: Portfolio, path: Path | None) -> str:
        from ..errors import InputError
        raise InputError("--notices-out is written per repository: run ddkit scan for each one")


REPORTER = NoticesReporter()
