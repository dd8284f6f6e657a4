"""Inputs that steer a scan: the rules (policy as data) and the company profile."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .cache import json_codec, pickle_codec
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
    from .limits import yaml_text
    return _parse_yaml(yaml_text(path), path)


def _parse_yaml(text: str, path: Path) -> Any:
    """``yaml.safe_load(text)``, kept in the cache per text (SHA-256): the rules files are read at every run
    and PyYAML's pure-Python parser took 30 ms of each (a tenth of a re-scan's time outside imports). An entry
    is a pickle in the cache's sealed format (:func:`ddkit.cache.load`: nothing this user's ddkit did not
    write is unpickled); a missing, damaged, unreadable or unsealed entry is parsed again
    (``tests/unit/test_rules_and_model.py``)."""
    from . import cache
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    entry: Path | None = None
    try:
        key = cache.entry_key(digest, getattr(yaml, "__with_libyaml__", ""), tools=("PyYAML",))
        entry = cache.cache_dir("yaml") / f"{key}.pkl"
    except InputError:   # no usable cache folder (a scan reports it itself): parse
        pass
    data = cache.load(entry, YAML_CODEC)
    if data is not None:
        return data[0]
    data = _safe_load(text, path)
    cache.save(entry, YAML_CODEC, (data,))   # a value that cannot be pickled is not kept: only the time
    return data


# The cache's codecs for this module (ddkit.cache). A parse is kept as a 1-tuple, so that an empty document
# (None) is still a hit; a validation is remembered as ``true``.
YAML_CODEC = pickle_codec("yaml", lambda v: isinstance(v, tuple) and len(v) == 1)
VALIDATED_CODEC = json_codec("rules-validated", lambda v: v is True)


def _safe_load(text: str, path: Path) -> Any:
    # Every YAML input goes through the one bounded loader (aliases, depth, size: ddkit.limits).
    from .limits import load_yaml_text
    return load_yaml_text(text, path)


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

    @property
    def catalogue(self) -> dict[str, dict[str, Any]]:
        """Rule id -> {area, severity, title, meaning, remediation, and the optional words: document,
        document_needed, gap, whole_work, rollup_noun, summary} (rules/findings.yaml)."""
        return self.data.get("findings", {}).get("rules", {})

    def rule(self, rule_id: str) -> dict[str, Any]:
        try:
            return self.catalogue[rule_id]
        except KeyError:
            raise KeyError(f"rule {rule_id} is not in the rule catalogue (rules/findings.yaml)") from None

    def severity(self, rule_id: str) -> str:
        """The severity in force: a `severities:` override, else the catalogue's."""
        override = self.data.get("findings", {}).get("severities", {})
        if rule_id in override:
            return str(override[rule_id])
        return str(self.rule(rule_id)["severity"])

    def area(self, rule_id: str) -> str:
        return str(self.rule(rule_id)["area"])

    def areas(self) -> list[str]:
        """Every area, in the catalogue's order."""
        return list(dict.fromkeys(str(r["area"]) for r in self.catalogue.values()))

    def threshold(self, name: str) -> Any:
        return self.data.get("findings", {}).get("thresholds", {})[name]


def load_rules(override: str | os.PathLike[str] | None = None) -> Rules:
    """Load ddkit's default rules, then overlay the YAML files of *override* (key by key)."""
    base = data_dir("rules")
    files = {p.stem: p for p in sorted(base.glob("*.yaml"))}
    data: dict[str, Any] = {}
    sources = []
    for stem, p in files.items():
        # ddkit's own rules are checked against their schemas by the test suite
        # (tests/unit/test_rules_and_model.py), not at every scan: importing jsonschema costs 1-3 s when
        # rfc3987-syntax is installed (it compiles 38 grammars at import), a large part of a cold scan.
        # Overlays (--rules) are user input and are always validated.
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
            validate_rules_file(p.stem, content, p)
            data[p.stem] = _deep_merge(data.get(p.stem, {}), content)
            sources.append(str(p))
    _validate_rules(data)
    return Rules(data, sources)


def _schema_dir():
    return resources.files("ddkit") / "schemas" / "rules"


def _schema(stem: str) -> dict | None:
    f = _schema_dir() / f"{stem}.schema.json"
    return json.loads(f.read_text(encoding="utf-8")) if f.is_file() else None


def _line_of(path: Path, keys: list[Any]) -> int | None:
    """The line of the YAML node at *keys* in *path* (1-based), for error messages."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for k in keys:
        if isinstance(node, yaml.MappingNode):
            nxt = next(((kn, vn) for kn, vn in node.value if kn.value == str(k)), None)
            if nxt is None:
                break
            line, node = nxt[0].start_mark.line + 1, nxt[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(k, int) and k < len(node.value):
            node = node.value[k]
            line = node.start_mark.line + 1
        else:
            break
    return line


def validate_rules_file(stem: str, content: Any, path: Path) -> None:
    """Check one rules file (or overlay) against its JSON Schema: an unknown key or a wrong type is an
    input error naming the file, the key and its line.

    A (content, schema) pair that passed once is remembered in the cache (importing jsonschema alone
    costs about a second, most of a re-scan with nothing changed); a failure is never remembered.
    """
    schema = _schema(stem)
    if schema is None:
        raise InputError(f"{path}: unknown rules file '{stem}.yaml' (known: "
                         + ", ".join(sorted(q.name.split(".")[0] for q in _schema_dir().iterdir()))
                         + ")")
    from . import cache
    marker = _validated_marker(content, schema)
    if cache.load(marker, VALIDATED_CODEC):
        return
    import jsonschema
    err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(content))
    if err is None:
        cache.save(marker, VALIDATED_CODEC, True)
        return
    keys = list(err.absolute_path)
    if err.validator == "additionalProperties":
        extra = [k for k in (err.instance or {}) if k not in err.schema.get("properties", {})]
        keys += extra[:1]
        what = f"unknown key '{'.'.join(map(str, keys))}'"
    else:
        what = f"{'.'.join(map(str, keys)) or 'top level'}: {err.message}"
    line = _line_of(path, keys)
    raise InputError(f"{path}{f', line {line}' if line else ''}: {what}")


def _validated_marker(content: Any, schema: dict) -> Path | None:
    """Where a rules file's content that passed *schema* is remembered (an entry holding ``true``)."""
    from .cache import cache_dir, entry_key
    try:
        blob = json.dumps([content, schema], sort_keys=True, default=repr).encode()
        return cache_dir("rules-validated") / entry_key(hashlib.sha256(blob).hexdigest(), tools=("jsonschema",))
    except Exception:   # no usable cache (the scan reports it itself) or an unserialisable value: validate
        return None


def _validate_rules(data: dict) -> None:
    _validate_secret_patterns((data.get("security") or {}).get("secrets") or {})
    for rule, entry in data.get("findings", {}).get("rules", {}).items():
        missing = [k for k in ("area", "severity", "title", "meaning", "remediation") if k not in entry]
        if missing:
            raise InputError(f"rules: rule {rule} in the catalogue lacks {', '.join(missing)}")
        _validate_rule_words(rule, entry)
    catalogue = data.get("findings", {}).get("rules", {})
    for rule in data.get("findings", {}).get("severities", {}):
        if rule not in catalogue:
            raise InputError(f"rules: severities names rule '{rule}', which is not in the rule catalogue")
    materiality = data.get("findings", {}).get("materiality", {}) or {}
    for key in ("rules", "module_rules", "subject_rules"):   # a typo would silently stop a roll-up
        for rule in materiality.get(key, []) or []:
            if rule not in catalogue:
                raise InputError(f"rules: materiality.{key} names rule '{rule}', which is not in the rule catalogue")


def _validate_rule_words(rule: str, entry: dict) -> None:
    """The catalogue's optional words, checked after an overlay is merged (an overlay may give one half):
    a Remediation row needs its gap, and the Summary's sentence needs both halves and only the
    placeholders the report fills in (a typo would otherwise fail when the workbook is written)."""
    if "document_needed" in entry and "gap" not in entry:
        raise InputError(f"rules: rule {rule} in the catalogue has a document_needed but no gap")
    summary = entry.get("summary")
    if summary is None:
        return
    for part in ("problem", "fix"):
        if part not in summary:
            raise InputError(f"rules: rule {rule}'s summary lacks {part}")
        try:
            str(summary[part]).format(who="", subject="", lines=0)
        except (KeyError, IndexError, ValueError, AttributeError) as e:
            raise InputError(f"rules: rule {rule}'s summary.{part} has a placeholder other than {{who}}, "
                             f"{{subject}} or {{lines}} ({type(e).__name__}: {e})") from None


def _validate_secret_patterns(sec: dict) -> None:
    """Every regular expression of the secrets settings compiles, and each credential-file pattern names the
    ``secret`` group the fingerprint is taken from: a bad one is an input error naming its key."""
    import re
    checks: list[tuple[str, Any, bool]] = []
    for key in ("placeholder_patterns", "hash_context"):
        checks += [(f"secrets.{key}[{i}]", p, False) for i, p in enumerate(sec.get(key) or [])]
    if sec.get("call_pattern"):
        checks.append(("secrets.call_pattern", sec["call_pattern"], False))
    for i, c in enumerate(sec.get("credential_files") or []):
        if isinstance(c, dict):
            checks += [(f"secrets.credential_files[{i}] ({c.get('id')}).patterns[{j}]", p, True)
                       for j, p in enumerate(c.get("patterns") or [])]
    for where, pat, needs_group in checks:
        try:
            rx = re.compile(str(pat).encode())
        except (re.error, OverflowError) as e:
            raise InputError(f"rules: security.yaml {where}: not a regular expression ({e})") from None
        if needs_group and "secret" not in rx.groupindex:
            raise InputError(f"rules: security.yaml {where}: needs a (?P<secret>...) group")


# ---------------------------------------------------------------- company profile

@dataclass
class Company:
    name: str | None = None
    legal_names: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    incorporation_date: dt.date | None = None
    outbound_license: str = "proprietary"
    # Where outbound_license came from: "company profile", "default" (no profile set it), or the repository's
    # own root license file when the scan read it (pipeline: licenses stage).
    outbound_license_source: str = "default"
    vendors: dict[str, list[str]] = field(default_factory=dict)   # vendor name -> e-mail domains
    modules: dict[str, list[str]] = field(default_factory=dict)   # module -> path globs
    vendored: list[str] = field(default_factory=list)             # extra vendored globs
    excludes: list[dict] = field(default_factory=list)            # [{glob, reason}]
    source: str | None = None


def _as_date(value: Any, what: str, where: str) -> dt.date | None:
    from .isodate import parse_date
    return parse_date(value, what, where)


def _str_list(value: Any, what: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise InputError(f"{where}: {what} must be a list of strings")


COMPANY_KEYS = ("name", "legal_names", "domains", "incorporation_date", "outbound_license", "vendors", "modules",
                "vendored", "excludes")


def load_company(source: str | os.PathLike[str] | dict | Company | None) -> Company:
    """The company profile: a YAML file (a path), or the same mapping as data (a dict, or a :class:`Company`).
    Every kind goes through the same checks and gives the same profile."""
    if source is None:
        return Company()
    if isinstance(source, Company):
        # Checked again from its fields, as a profile file's keys would be (a Company built by hand may hold
        # a date as text, or a string where a list belongs).
        data = {k: getattr(source, k) for k in COMPANY_KEYS}
        out = _company_from(data, "company profile (Company)", None)
        return dataclasses.replace(out, source=source.source, outbound_license_source=source.outbound_license_source)
    if isinstance(source, dict):
        if not source:
            raise InputError("company profile (dict): the company profile is empty")
        return _company_from(source, "company profile (dict)", None)
    if not isinstance(source, (str, os.PathLike)):
        raise InputError(f"the company profile must be a path to a YAML file or a dict, not {type(source).__name__}")
    p = Path(source)
    if not p.is_file():
        raise InputError(f"{source}: company profile not found")
    data = _load_yaml(p)
    if data is None:
        raise InputError(f"{source}: the company profile is empty")
    return _company_from(data, str(source), p)


def _company_from(data: Any, where: str, p: Path | None) -> Company:
    """Check a profile's mapping (*where* names it in messages; *p*, its YAML file, gives line numbers)."""
    path = where
    if not isinstance(data, dict):
        raise InputError(f"{path}: the company profile must be a YAML mapping")
    known = set(COMPANY_KEYS)
    for k in data:
        if k not in known:
            import difflib
            near = difflib.get_close_matches(str(k), sorted(known), n=1)
            line = _line_of(p, [k]) if p is not None else None
            raise InputError(f"{path}{f', line {line}' if line else ''}: unknown key '{k}'"
                             + (f" (did you mean '{near[0]}'?)" if near else "")
                             + "; known keys: " + ", ".join(sorted(known)))
    vendors_raw = data.get("vendors") or {}
    if not isinstance(vendors_raw, dict):
        raise InputError(f"{where}: vendors must map a vendor name to its e-mail domains")
    modules_raw = data.get("modules") or {}
    if not isinstance(modules_raw, dict):
        raise InputError(f"{where}: modules must map a module name to path globs")
    excludes = data.get("excludes") or []
    if not isinstance(excludes, list) or not all(isinstance(e, dict) and "glob" in e for e in excludes):
        raise InputError(f"{where}: excludes must be a list of {{glob, reason}} entries")
    for i, e in enumerate(excludes):
        for k in ("glob", "reason"):
            if e.get(k) is not None and not isinstance(e[k], str):
                raise InputError(f"{where}: excludes[{i}].{k} must be a text (found {type(e[k]).__name__})")
    for k in ("name", "outbound_license"):   # a list or a mapping here would be read as its Python repr
        if data.get(k) is not None and not isinstance(data[k], (str, int, float)):
            raise InputError(f"{where}: {k} must be a text (found {type(data[k]).__name__})")
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
        outbound_license_source="company profile" if data.get("outbound_license") else "default",
        vendors={str(k): [d.lower().lstrip("@") for d in _str_list(v, f"vendors.{k}", where)]
                 for k, v in vendors_raw.items()},
        modules={str(k): _str_list(v, f"modules.{k}", where) for k, v in modules_raw.items()},
        vendored=_str_list(data.get("vendored"), "vendored", where),
        excludes=[{"glob": str(e["glob"]), "reason": str(e.get("reason") or "excluded by the company profile")}
                  for e in excludes],
        source=str(p) if p is not None else where,
    )
