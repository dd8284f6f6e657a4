"""Inputs that steer a scan: the rules (policy as data) and the company profile."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError


def data_dir(name: str) -> Path:
    """A data folder shipped with ddkit: ``rules`` or ``sample_repos``.

    In a source checkout (editable install) it is the folder at the repository's top; in a wheel it is
    packaged as ``ddkit/_data/<name>``.
    """
    packaged = resources.files("ddkit") / "_data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    here = Path(__file__).resolve().parents[2] / name
    if here.is_dir():
        return here
    raise InputError(f"ddkit's {name} folder is missing from this installation")


def _load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{path}{where}: invalid YAML: {problem}") from None


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


@dataclass
class Rules:
    """The policy in force: every ``rules/*.yaml`` file, keyed by file stem."""

    data: dict[str, Any]
    sources: list[str]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def sha256(self) -> str:
        blob = json.dumps(self.data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()

    def severity(self, rule_id: str) -> str:
        sev = self.data.get("findings", {}).get("severities", {})
        if rule_id in sev:
            return sev[rule_id]
        raise KeyError(f"no severity for rule {rule_id} in rules/findings.yaml")

    def threshold(self, name: str) -> Any:
        return self.data.get("findings", {}).get("thresholds", {})[name]


def load_rules(override: str | Path | None = None) -> Rules:
    """Load ddkit's default rules, then overlay the YAML files of *override* (key by key)."""
    base = data_dir("rules")
    files = {p.stem: p for p in sorted(base.glob("*.yaml"))}
    data: dict[str, Any] = {}
    sources = []
    for stem, p in files.items():
        data[stem] = _load_yaml(p) or {}
        sources.append(str(p))
    if override is not None:
        od = Path(override)
        if not od.is_dir():
            raise InputError(f"{override}: --rules must be a folder of YAML files")
        found = sorted(od.glob("*.yaml")) + sorted(od.glob("*.yml"))
        if not found:
            raise InputError(f"{override}: no .yaml files in the rules folder")
        for p in found:
            content = _load_yaml(p) or {}
            if not isinstance(content, dict):
                raise InputError(f"{p}: a rules file must be a mapping")
            data[p.stem] = _deep_merge(data.get(p.stem, {}), content)
            sources.append(str(p))
    _validate_rules(data)
    return Rules(data, sources)


_SEVERITIES = ("critical", "high", "medium", "low", "info")


def _validate_rules(data: dict) -> None:
    sev = data.get("findings", {}).get("severities", {})
    for rule, s in sev.items():
        if s not in _SEVERITIES:
            raise InputError(f"rules: severity of {rule} is '{s}', expected one of {', '.join(_SEVERITIES)}")
    ident = data.get("identities", {})
    if not isinstance(ident.get("inactivity_days", 365), int):
        raise InputError("rules: identities.inactivity_days must be a whole number of days")


SEVERITIES = _SEVERITIES


def severity_rank(s: str) -> int:
    """0 for critical … 4 for info (lower is worse)."""
    return _SEVERITIES.index(s)


# ---------------------------------------------------------------- company profile

@dataclass
class Company:
    name: str | None = None
    legal_names: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    incorporation_date: dt.date | None = None
    outbound_license: str = "proprietary"
    vendors: dict[str, list[str]] = field(default_factory=dict)   # vendor name -> e-mail domains
    modules: dict[str, list[str]] = field(default_factory=dict)   # module -> path globs
    vendored: list[str] = field(default_factory=list)             # extra vendored globs
    excludes: list[dict] = field(default_factory=list)            # [{glob, reason}]
    extra: dict[str, Any] = field(default_factory=dict)
    source: str | None = None


def _as_date(value: Any, what: str, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"{where}: {what} '{value}' is not an ISO date (YYYY-MM-DD)") from None


def _str_list(value: Any, what: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise InputError(f"{where}: {what} must be a list of strings")


def load_company(path: str | Path | None) -> Company:
    if path is None:
        return Company()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: company profile not found")
    data = _load_yaml(p)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{path}: the company profile must be a YAML mapping")
    where = str(path)
    known = {"name", "legal_names", "domains", "incorporation_date", "outbound_license", "vendors",
             "modules", "vendored", "excludes"}
    vendors_raw = data.get("vendors") or {}
    if not isinstance(vendors_raw, dict):
        raise InputError(f"{where}: vendors must map a vendor name to its e-mail domains")
    modules_raw = data.get("modules") or {}
    if not isinstance(modules_raw, dict):
        raise InputError(f"{where}: modules must map a module name to path globs")
    excludes = data.get("excludes") or []
    if not isinstance(excludes, list) or not all(isinstance(e, dict) and "glob" in e for e in excludes):
        raise InputError(f"{where}: excludes must be a list of {{glob, reason}} entries")
    name = data.get("name")
    legal = _str_list(data.get("legal_names"), "legal_names", where)
    if name and name not in legal:
        legal = [str(name), *legal]
    return Company(
        name=str(name) if name is not None else None,
        legal_names=legal,
        domains=[d.lower().lstrip("@") for d in _str_list(data.get("domains"), "domains", where)],
        incorporation_date=_as_date(data.get("incorporation_date"), "incorporation_date", where),
        outbound_license=str(data.get("outbound_license") or "proprietary"),
        vendors={str(k): [d.lower().lstrip("@") for d in _str_list(v, f"vendors.{k}", where)]
                 for k, v in vendors_raw.items()},
        modules={str(k): _str_list(v, f"modules.{k}", where) for k, v in modules_raw.items()},
        vendored=_str_list(data.get("vendored"), "vendored", where),
        excludes=[{"glob": str(e["glob"]), "reason": str(e.get("reason") or "excluded by the company profile")}
                  for e in excludes],
        extra={k: v for k, v in data.items() if k not in known},
        source=str(p),
    )
