"""Licenses of dependencies from sources that work offline and that the user points at.

* ``read_environment(path)``: an installed environment: a virtualenv (or its site-packages) through each
  distribution's ``*.dist-info/METADATA`` (``License-Expression``, ``License``, license classifiers), or a
  ``node_modules`` tree through each package's ``package.json``.
* ``read_sbom(path)``: a CycloneDX 1.4–1.6 JSON or SPDX 2.3 JSON document.

Each gives one row per package: ecosystem, name, key (normalized name), version, license_spdx, evidence.
These are the user's own files: a file that cannot be read is an :class:`InputError` (exit 2).
"""

from __future__ import annotations

import json
import os
import re
from email.parser import HeaderParser
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .dependencies import norm_name

LICENSE_ROW_COLUMNS = ["ecosystem", "name", "key", "version", "license_spdx", "evidence"]

# Package metadata license names → SPDX ids (trove classifiers, common free-text names): data, not code.
_NAMES = json.loads((resources.files("ddkit") / "data" / "license_names.json").read_text(encoding="utf-8"))
CLASSIFIERS: dict[str, str] = _NAMES["classifiers"]
ALIASES: dict[str, str] = _NAMES["aliases"]
_NONE = {"", "unknown", "none", "noassertion", "n/a", "na", "see license", "see license file", "other", "license"}


@lru_cache(maxsize=1)
def _licensing():
    from license_expression import get_spdx_licensing
    return get_spdx_licensing()


def normalize_license(text: str | None) -> str | None:
    """An SPDX license expression for a license statement, or None when it names no license.
    Text that is neither an SPDX expression nor a known name becomes ``LicenseRef-<text>`` (unknown)."""
    if not isinstance(text, str):
        return None
    t = " ".join(text.strip().split())
    if t.lower() in _NONE or t.upper() in ("NOASSERTION", "NONE"):
        return None
    if t.lower() in ALIASES:
        return ALIASES[t.lower()]
    if re.fullmatch(r"LicenseRef-[A-Za-z0-9.\-]+", t):
        return t
    if len(t) <= 200 and re.fullmatch(r"[\w.+\- ()]+", t):
        try:
            parsed = _licensing().parse(t, validate=True, strict=False)
            if parsed is not None:
                return str(_licensing().dedup(parsed)) if hasattr(_licensing(), "dedup") else str(parsed)
        except Exception:   # an expression the parser refuses: kept whole as a LicenseRef below
            pass
    first = t.splitlines()[0][:60] if t else t
    return "LicenseRef-" + re.sub(r"[^A-Za-z0-9.\-]+", "-", first).strip("-")


def _from_metadata(msg) -> str | None:
    expr = msg.get("License-Expression")
    if expr:
        return normalize_license(expr)
    lic = msg.get("License")
    if lic and len(lic) < 120 and "\n" not in lic.strip():
        n = normalize_license(lic)
        if n and not n.startswith("LicenseRef-"):
            return n
    cls = [c.split("::")[-1].strip() for c in msg.get_all("Classifier") or [] if c.startswith("License ::")]
    spdx = [CLASSIFIERS[c] for c in cls if c in CLASSIFIERS]
    if spdx:
        return " OR ".join(dict.fromkeys(spdx)) if len(set(spdx)) > 1 else spdx[0]
    if lic and lic.strip():
        return normalize_license(lic.strip().splitlines()[0])
    return None


def _site_packages(root: Path) -> list[Path]:
    if any(root.glob("*.dist-info")) or any(root.glob("*.egg-info")):
        return [root]
    found = []
    for base in (root, root / ".venv", root / "venv"):   # a virtualenv, or a project folder holding one
        found += sorted(base.glob("lib/python*/site-packages")) + sorted(base.glob("lib64/python*/site-packages")) + \
            sorted(base.glob("Lib/site-packages"))
    out: dict[Path, Path] = {}
    for p in found:
        if p.is_dir():
            out.setdefault(p.resolve(), p)
    return list(out.values())


def _node_modules(root: Path) -> list[Path]:
    if root.name == "node_modules":
        return [root]
    nm = root / "node_modules"
    return [nm] if nm.is_dir() else []


def read_environment(path: str | os.PathLike) -> pd.DataFrame:
    """Installed packages and their declared licenses, from a virtualenv or a node_modules tree."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"{path}: --environment: no such file or directory")
    if not root.is_dir():
        raise InputError(f"{path}: --environment must be a virtualenv, a site-packages folder or a node_modules tree")
    rows: list[dict] = []
    for sp in _site_packages(root):
        for meta in sorted(list(sp.glob("*.dist-info/METADATA")) + list(sp.glob("*.egg-info/PKG-INFO"))):
            try:
                msg = HeaderParser().parsestr(meta.read_text(encoding="utf-8", errors="replace"))
            except OSError:   # unreadable: its license comes from the other sources
                continue
            name = msg.get("Name")
            if not name:
                continue
            rows.append(dict(ecosystem="pypi", name=name, key=norm_name("pypi", name), version=msg.get("Version"),
                             license_spdx=_from_metadata(msg), evidence=str(meta)))
    for nm in _node_modules(root):
        for pj in sorted(nm.rglob("package.json")):
            rel = pj.relative_to(nm).parts
            # node_modules/<name>/package.json, node_modules/@scope/<name>/package.json, nested node_modules.
            if len(rel) < 2 or any(p.startswith(".") for p in rel):
                continue
            if not (len(rel) == 2 or (len(rel) == 3 and rel[0].startswith("@")) or rel[-3] == "node_modules"
                    or (len(rel) >= 4 and rel[-4] == "node_modules" and rel[-3].startswith("@"))):
                continue
            try:
                doc = json.loads(pj.read_text(encoding="utf-8", errors="replace"))
            except (OSError, ValueError, RecursionError):   # a package's own file: any content
                continue
            if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
                continue
            lic = doc.get("license")
            if isinstance(lic, dict):
                lic = lic.get("type")
            if not lic and isinstance(doc.get("licenses"), list):
                types = [str(x["type"]) for x in doc["licenses"] if isinstance(x, dict) and x.get("type")]
                lic = " OR ".join(types) if types else None
            rows.append(dict(ecosystem="npm", name=doc["name"], key=norm_name("npm", doc["name"]),
                             version=doc.get("version"), license_spdx=normalize_license(lic) if isinstance(lic, str) else None,
                             evidence=str(pj)))
    if not rows:
        raise InputError(f"{path}: --environment: no installed packages found (looked for *.dist-info in "
                         f"site-packages and for node_modules/*/package.json)")
    return pd.DataFrame(rows, columns=LICENSE_ROW_COLUMNS)


# ----------------------------------------------------------------------------- SBOMs
def _purl_parts(purl: str | None):
    if not isinstance(purl, str) or not purl.startswith("pkg:"):
        return None
    try:
        from packageurl import PackageURL
        p = PackageURL.from_string(purl)
    except ValueError:
        return None
    from .dependencies import display_name
    return p.type, display_name(p.type, p.namespace, p.name), p.version


class _Fields:
    """Typed access to an SBOM's fields: a field ddkit reads that holds the wrong JSON type is an input
    error naming the file and the field (``components[3].licenses[0].license.id must be a string``);
    a missing field or ``null`` reads as absent."""

    _KIND: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}

    def __init__(self, path: str | os.PathLike):
        self.path = path

    def get(self, obj: dict, key: str, typ: type, where: str):
        v = obj.get(key)
        if v is None:
            return None
        if not isinstance(v, typ):
            raise InputError(f"{self.path}: --sbom: {where}{'.' if where else ''}{key} must be {self._KIND[typ]} "
                             f"(found {_json_kind(v)})")
        return v

    def items(self, obj: dict, key: str, where: str):
        """(where, item) of the list at *key*, every item an object."""
        here = f"{where}{'.' if where else ''}{key}"
        for i, item in enumerate(self.get(obj, key, list, where) or []):
            if not isinstance(item, dict):
                raise InputError(f"{self.path}: --sbom: {here}[{i}] must be an object (found {_json_kind(item)})")
            yield f"{here}[{i}]", item


def _json_kind(v) -> str:
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, (int, float)):
        return f"the number {v}"
    return _Fields._KIND.get(type(v), type(v).__name__)


def _cdx_license(f: _Fields, c: dict, where: str) -> str | None:
    parts = []
    for here, entry in f.items(c, "licenses", where):
        expr = f.get(entry, "expression", str, here)
        lic = f.get(entry, "license", dict, here)
        if expr:
            parts.append(normalize_license(expr))
        elif lic is not None:
            lhere = f"{here}.license"
            parts.append(normalize_license(f.get(lic, "id", str, lhere) or f.get(lic, "name", str, lhere) or ""))
    kept: list[str] = [p for p in parts if p]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else " AND ".join(f"({p})" if " " in p else p for p in dict.fromkeys(kept))


def _walk_cdx(f: _Fields, parent: dict, where: str):
    """(where, component) of every component, nested ones included (depth-first, in document order)."""
    todo = [iter(list(f.items(parent, "components", where)))]
    while todo:
        nxt = next(todo[-1], None)
        if nxt is None:
            todo.pop()
            continue
        yield nxt
        todo.append(iter(list(f.items(nxt[1], "components", nxt[0]))))


def read_sbom(path: str | os.PathLike) -> pd.DataFrame:
    """Packages and licenses from a CycloneDX (1.4–1.6) or SPDX (2.3) JSON document.

    Read within ddkit's limits (size, nesting depth: ``ddkit.limits``); every field read is checked for
    its JSON type (:class:`_Fields`)."""
    from ..limits import MAX_JSON_BYTES, load_json_text
    p = Path(path)
    try:
        if p.stat().st_size > MAX_JSON_BYTES:
            raise InputError(f"{path}: --sbom: larger than ddkit reads ({MAX_JSON_BYTES >> 20} MB)")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: --sbom: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: --sbom: cannot read: {e}") from None
    doc = load_json_text(text, path, "--sbom: ")
    if not isinstance(doc, dict):
        raise InputError(f"{path}: --sbom: not a CycloneDX or SPDX JSON document")
    f = _Fields(path)
    rows: list[dict] = []
    if doc.get("bomFormat") == "CycloneDX":
        spec = str(doc.get("specVersion", ""))
        if spec not in ("1.4", "1.5", "1.6"):
            raise InputError(f"{path}: --sbom: CycloneDX {spec or '(no specVersion)'} is not supported (1.4–1.6)")
        meta = f.get(doc, "metadata", dict, "")
        if meta is not None:
            f.get(meta, "component", dict, "metadata")   # not read, but a wrong type means a wrong document
        for where, c in _walk_cdx(f, doc, ""):
            parts = _purl_parts(f.get(c, "purl", str, where))
            name, version = f.get(c, "name", str, where), f.get(c, "version", str, where)
            eco, name, pversion = parts if parts else (None, name, version)
            if not name:
                continue
            rows.append(dict(ecosystem=eco, name=name, key=norm_name(eco or "", name), version=version or pversion,
                             license_spdx=_cdx_license(f, c, where), evidence=f"{p.name} (CycloneDX {spec})"))
    elif isinstance(doc.get("spdxVersion"), str) and doc["spdxVersion"].startswith("SPDX-"):
        ver = str(doc["spdxVersion"])
        if ver not in ("SPDX-2.2", "SPDX-2.3"):
            raise InputError(f"{path}: --sbom: {ver} is not supported (SPDX 2.3 JSON)")
        for where, pk in f.items(doc, "packages", ""):
            purl = next((f.get(r, "referenceLocator", str, rw) for rw, r in f.items(pk, "externalRefs", where)
                         if f.get(r, "referenceType", str, rw) == "purl"), None)
            parts = _purl_parts(purl)
            name, version = f.get(pk, "name", str, where), f.get(pk, "versionInfo", str, where)
            eco, name, pversion = parts if parts else (None, name, version)
            if not name:
                continue
            lic = None
            for k in ("licenseConcluded", "licenseDeclared"):
                lic = normalize_license(f.get(pk, k, str, where))
                if lic:
                    break
            rows.append(dict(ecosystem=eco, name=name, key=norm_name(eco or "", name),
                             version=version or pversion, license_spdx=lic, evidence=f"{p.name} ({ver})"))
    else:
        raise InputError(f"{path}: --sbom: not a CycloneDX (bomFormat) or SPDX (spdxVersion) JSON document")
    return pd.DataFrame(rows, columns=LICENSE_ROW_COLUMNS)


def read_sboms(paths) -> pd.DataFrame:
    frames = [read_sbom(p) for p in (paths or [])]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LICENSE_ROW_COLUMNS)


def statement_to_spdx(stmt) -> str | None:
    """ScanCode's ``extracted_license_statement`` of a package manifest (a string, a list, or YAML text such
    as ``license: MIT`` / ``classifiers: [...]``) as an SPDX expression."""
    if stmt is None:
        return None
    if isinstance(stmt, (list, tuple)):
        found = [statement_to_spdx(x) for x in stmt]
        kept = [p for p in found if p]
        return " AND ".join(dict.fromkeys(kept)) if kept else None
    if isinstance(stmt, dict):
        for k in ("license", "type", "name", "id"):
            if stmt.get(k):
                return statement_to_spdx(stmt[k])
        cls = [c.split("::")[-1].strip() for c in stmt.get("classifiers") or [] if isinstance(c, str)]
        spdx = [CLASSIFIERS[c] for c in cls if c in CLASSIFIERS]
        return spdx[0] if spdx else None
    if not isinstance(stmt, str):
        return None
    if "\n" in stmt or stmt.lstrip().startswith(("license:", "classifiers:", "- ")):
        try:   # text from the scanned repository's manifest: the bounded loader (aliases, depth)
            from ..limits import load_yaml_text
            doc = load_yaml_text(stmt, "license statement")
        except Exception:   # not YAML: read as a license name below
            doc = None
        if isinstance(doc, (dict, list)):
            return statement_to_spdx(doc)
    return normalize_license(stmt)
