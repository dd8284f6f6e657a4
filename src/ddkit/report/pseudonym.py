"""Pseudonymized reports for data rooms: people become "Contributor 07", e-mail addresses disappear.

Types and vendors are kept (they are what the reader needs); the mapping is stable for the same input
(ordered by surviving lines, then commits, then name) and written to a separate key file only when asked.

How identities are replaced (README: Pseudonymized reports; docs/outputs.md):

* **By field and value.** A column that holds a person (``person``, ``author``, ``added_by``,
  ``possible_roster_match``, ``person_id``, a finding's ``subject`` when the finding is about that person,
  the keys of ``current_staff_who_know``…) has a cell equal to a known name, alias or address replaced by
  the pseudonym, whatever that name is (even ``unknown`` or ``high``); other columns are never rewritten
  by value, so a contributor called ``high`` leaves the severity ``high`` alone.
* **In free text** (evidence, remediation, warnings, top authors…) a known name is replaced only as a
  whole token: not next to a letter, digit, ``_``, ``@``, ``/``, ``-``, ``+`` or a ``.`` that continues a
  word, longest name first, in one pass (a replacement is never rewritten again). A name that is also a
  word of ddkit's own vocabulary (rule ids and their parts, severities, types, statuses, areas, module,
  vendor and dependency names, the words of the rules files) is replaced by field only: rewriting it in
  free text would garble the report (``ip.unknown-contributor``) and the word identifies nobody.
* **Every address form** is removed from text: ``a@b.example``, ``user@localhost`` (no dot),
  ``12345+x@users.noreply.github.com``, ``mailto:``, quoted local parts, ``[IP]`` domains and ``%40``;
  ``name@1.2.3`` (a package version) is not an address. Every known address is also removed as it is.
* Lists of names and addresses (``emails``, ``names``, ``roster_emails``) are emptied; the raw git
  identity columns are dropped; roster columns the contract does not define (a ``github`` handle, a
  phone) are dropped from every table; ``ip_document`` (often a file name with the person's name) becomes
  ``[on file]``.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..fsutil import atomic_write

if TYPE_CHECKING:
    from ..model import Portfolio, Scan

EMAIL_REMOVED = "[e-mail removed]"
DOCUMENT_ON_FILE = "[on file]"

# Every address form: an RFC local part (or a quoted one), "@" (or "%40"), then a domain (with or without
# a dot: user@localhost) or an address literal; an optional "mailto:" before it.
# (A local part starts where none of its characters precedes it: a long run is tried once, not once per
# character.)
_EMAIL = re.compile(r"""(?:mailto:)?(?:"[^"\n@]+"|(?<![\w.!#$%&*+/=?^~-])[\w.!#$%&*+/=?^~-]+)(?:@|%40)"""
                    r"""(?P<domain>\[[^\]\s]+\]|[\w-]+(?:\.[\w-]+)*)""", re.IGNORECASE)
# name@1.2.3, x@v2: a package at a version, not an address (an IPv4 address literal is one).
_VERSION = re.compile(r"v?\d+(?:\.\d+)*(?:[-+.][\w.]+)?", re.IGNORECASE)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
# Whole tokens: what may not touch a name on either side.
_BEFORE = r"(?<![\w@/+\-.])"
_AFTER = r"(?![\w@/+\-]|\.\w)"

# Columns whose cells are a person (or a list of people): replaced by value.
IDENTITY_COLUMNS = frozenset({
    "person", "author", "added_by", "contact", "possible_roster_match", "introduced_by", "person_id",
    "author_name", "author_name_raw", "committer_name", "committer_name_raw", "name_raw",
    "current_staff_who_know", "owners", "people", "top_owner", "scenario",
})
# Tables in which "name" is a person (elsewhere, e.g. dependencies, it is a package).
_NAME_IS_PERSON = frozenset({"identities", "commits", "people"})
# Columns holding ddkit's own vocabulary (never a person by value): their words protect free text.
VOCABULARY_COLUMNS = ("rule", "rules", "area", "severity", "type", "vendor", "module", "status", "category",
                      "classification", "scope", "subject_type", "ecosystem", "license_spdx", "license_source",
                      "kind", "tier", "detector", "check", "gap", "added_by_type", "introducer_type",
                      "introducer_ip_status", "added_by_ip_status", "ip_assignment", "domain_class", "matched_by",
                      "rating")
# (and the tables the workbook's writer is not sent: every format must see the same vocabulary)
_VOCABULARY_TABLES_EXCLUDED = frozenset({"people", "identities", "commits", "roster", "changes", "blame", "doa"})
_NOT_PERSONAL = ("purl",)   # deps: "pkg:npm/x@1.0.0" is a package, not an e-mail address
# Raw identities (as git wrote them) are never shown in a pseudonymised report.
_RAW_COLUMNS = ("email_raw", "email", "email_key", "author_email_raw", "committer_email_raw", "author_email",
                "committer_email")
_LIST_COLUMNS = ("emails", "names", "roster_emails")
# Fields of a Scan that are not about people (or are code and configuration): left as they are.
_SKIP_FIELDS = frozenset({"repo", "as_of", "rules", "company", "options", "versions", "timings", "cache_key"})


def mapping(people: pd.DataFrame) -> dict[str, str]:
    humans = people[~people["is_bot"].astype(bool)] if len(people) else people
    order = humans.sort_values(["surviving_lines", "commits", "person"], ascending=[False, False, True], kind="stable")
    width = max(2, len(str(len(order))))
    return {p: f"Contributor {i:0{width}d}" for i, p in enumerate(order["person"], start=1)}


def _trie_pattern(words: Iterable[str]) -> str:
    """One regular expression matching any of *words* (longest first where they share a start): a trie,
    so that matching thousands of names costs about what matching one does."""
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict[str, Any]) -> str:
        # A chain of single children is one literal, walked in a loop: a name thousands of characters
        # long does not nest (nor recurse) once per character.
        lit = []
        while "" not in node and len(node) == 1:
            ch, node = next(iter(node.items()))
            lit.append(re.escape(ch))
        end = "" in node
        branches = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch != ""]
        if not branches:
            return "".join(lit)
        alt = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "".join(lit) + (f"(?:{alt})?" if end else alt)
    return build(trie)


def _any_of(words: Iterable[str], flags: int = 0) -> re.Pattern:
    """Whole-token matches of any of *words*: the trie, or where names nest too deep for it (a hostile
    "a", "aa", "aaa"…), a flat alternation, longest first."""
    words = list(words)
    try:
        return re.compile(_BEFORE + "(?:" + _trie_pattern(words) + ")" + _AFTER, flags)
    except (RecursionError, re.error, OverflowError):
        flat = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return re.compile(_BEFORE + "(?:" + flat + ")" + _AFTER, flags)


def _strings(obj: Any, out: list[str], depth: int = 0) -> None:
    """Every string in a nested structure of dicts and lists (keys too)."""
    if depth > 50:
        return
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _strings(k, out, depth + 1)
            _strings(v, out, depth + 1)
    elif isinstance(obj, (list, tuple, set)):
        for v in obj:
            _strings(v, out, depth + 1)


def _present(v: Any) -> bool:
    if v is None or isinstance(v, (list, dict, tuple, set)):
        return isinstance(v, (list, dict, tuple, set)) and len(v) > 0
    try:
        return not bool(pd.isna(v)) and str(v).strip() != ""
    except (TypeError, ValueError):
        return True


def roster_extra_columns(columns: Iterable[str]) -> list[str]:
    """Columns a roster brought that the contract does not define (handles, phone numbers…)."""
    from ..roster import _RESERVED, ROSTER_COLUMNS
    known = set(_RESERVED) | set(ROSTER_COLUMNS)
    return [c for c in columns if c not in known]


class Pseudonymizer:
    """The identities of *people* (a scan's or a portfolio's) and how each kind of cell is rewritten."""

    def __init__(self, people: pd.DataFrame, vocabulary: Iterable[str] = (), names: dict[str, str] | None = None):
        self.names = names if names is not None else mapping(people)
        exact: dict[str, str] = {}
        addresses: dict[str, str] = {}
        documents: set[str] = set()
        for r in people.to_dict("records") if len(people) else []:
            person = r.get("person")
            if not isinstance(person, str):
                continue
            pseudo = self.names.get(person)
            for col in ("emails", "roster_emails"):
                for e in r.get(col) if isinstance(r.get(col), (list, tuple)) else []:
                    if isinstance(e, str) and e.strip():
                        addresses[e.strip().lower()] = pseudo or EMAIL_REMOVED
            doc = r.get("ip_document")
            if isinstance(doc, str) and len(doc.strip()) >= 3:
                documents.add(doc.strip())
            if pseudo is None:
                continue                      # a bot: kept by name
            exact[person] = pseudo
            pid = r.get("person_id")
            if isinstance(pid, str) and pid:
                exact[pid] = f"pseudonym:{pseudo}"
            for n in r.get("names") if isinstance(r.get("names"), (list, tuple)) else []:
                if isinstance(n, str) and n.strip():
                    exact.setdefault(n, pseudo)
        # Names that people hold in a foreign column (possible_roster_match names a roster person).
        for person, pseudo in self.names.items():
            exact.setdefault(person, pseudo)
        for a, pseudo in addresses.items():
            exact.setdefault(a, pseudo)
        self.exact = exact
        self._addresses = addresses
        # Free text: every identity string, but those ddkit's own vocabulary uses as a word.
        candidates = {k: v for k, v in exact.items() if len(k) >= 2 and not k.startswith(("roster:", "id:", "bot:"))}
        candidates.update({d: DOCUMENT_ON_FILE for d in documents if d not in candidates})
        # An "address" git was given without an "@" ("unknown", "none") is a word: like a name, replaced in
        # free text only when it is not one of ddkit's.
        candidates.update({a: EMAIL_REMOVED for a in addresses if "@" not in a and len(a) >= 2 and a not in candidates})
        addresses = {a: v for a, v in addresses.items() if "@" in a}
        self._free: dict[str, str] = {}
        if candidates:
            probe = _any_of(candidates)
            common = {m.group() for m in probe.finditer("\n".join(vocabulary))}
            self._free = {k: v for k, v in candidates.items() if k not in common}
            self.common = common
        else:
            self.common = set()
        self._rx = _any_of(self._free) if self._free else None
        # Known addresses in any case, also where the general pattern would not see one ("weird" <weird>).
        self._addr_rx = _any_of(sorted(addresses), re.IGNORECASE) if addresses else None
        self._memo: dict[str, str] = {}

    # -- cells
    def text(self, v: str) -> str:
        """Free text: addresses removed, distinctive names and documents replaced as whole tokens."""
        hit = self._memo.get(v)
        if hit is not None:
            return hit
        out = _EMAIL.sub(_email_sub, v) if "@" in v or "%40" in v else v
        if self._addr_rx is not None:
            out = self._addr_rx.sub(EMAIL_REMOVED, out)
        if self._rx is not None:
            out = self._rx.sub(lambda m: self._free[m.group()], out)
        if len(self._memo) < 200_000:
            self._memo[v] = out
        return out

    def value(self, v: str) -> str:
        """A cell that is a person: the pseudonym when it is one of theirs, else as free text."""
        hit = self.exact.get(v)
        if hit is None and "@" in v:
            hit = self.exact.get(v.strip().lower())
        return hit if hit is not None else self.text(v)

    def walk(self, v: Any, leaf: Callable[[str], str]) -> Any:
        if isinstance(v, str):
            return leaf(v)
        if isinstance(v, list):
            return [self.walk(x, leaf) for x in v]
        if isinstance(v, tuple):
            return tuple(self.walk(x, leaf) for x in v)
        if isinstance(v, (set, frozenset)):
            return {self.walk(x, leaf) for x in v}
        if isinstance(v, dict):
            return {self.walk(k, leaf): self.walk(x, leaf) for k, x in v.items()}
        if hasattr(v, "tolist") and getattr(v, "ndim", 0) == 1:      # a numpy array of names
            return [self.walk(x, leaf) for x in v.tolist()]
        return v

    # -- tables
    def frame(self, df: pd.DataFrame | None, table: str = "") -> pd.DataFrame | None:
        """Every text cell of *df* rewritten, whatever its dtype (object, str, string, category)."""
        if df is None or not isinstance(df, pd.DataFrame):
            return df
        drop = [c for c in _RAW_COLUMNS if c in df.columns]
        if table in ("people", "roster"):
            drop += roster_extra_columns(df.columns) if table == "people" else \
                [c for c in df.columns if c not in _roster_columns()]
        df = df.drop(columns=drop) if drop else df.copy()
        if df.empty:
            return df
        for c in df.columns:
            if not isinstance(c, str) or c in _NOT_PERSONAL:
                continue
            col = df[c]
            if not _textual(col):
                continue
            if c in _LIST_COLUMNS and table in ("people", "roster", ""):
                df[c] = [[] for _ in range(len(df))]
            elif c == "ip_document":
                df[c] = [DOCUMENT_ON_FILE if _present(v) else v for v in col.tolist()]
            elif c == "subject":
                df[c] = self._subjects(df)
            elif c in IDENTITY_COLUMNS or (c == "name" and table in _NAME_IS_PERSON) or (
                    c == "person" or c.endswith("_person")):
                df[c] = _map_column(col, lambda v: self.walk(v, self.value))
            else:
                df[c] = _map_column(col, lambda v: self.walk(v, self.text))
        return df

    def _subjects(self, df: pd.DataFrame) -> list[Any]:
        """A subject is a person (replaced by value) when the row says so: its person column names the same
        person, or its subject type is a person's type; else (a module, a vendor, a file) free text."""
        from ..roster import TYPES
        persons = df["person"].tolist() if "person" in df.columns else [None] * len(df)
        kinds = df["subject_type"].tolist() if "subject_type" in df.columns else [None] * len(df)
        out = []
        for subj, person, kind in zip(df["subject"].tolist(), persons, kinds):
            # (person may be pd.NA in the typed tables: compared only when it is text)
            if isinstance(subj, str) and ((isinstance(person, str) and subj == person)
                                          or (kind in TYPES and kind != "vendor")):
                out.append(self.value(subj))
            else:
                out.append(self.walk(subj, self.text))
        return out

    def people_frame(self, people: pd.DataFrame) -> pd.DataFrame:
        out = self.frame(people, "people")
        assert out is not None
        return out


def _roster_columns() -> list[str]:
    from ..roster import ROSTER_COLUMNS
    return list(ROSTER_COLUMNS)


def _email_sub(m: re.Match) -> str:
    dom = m.group("domain")
    if _VERSION.fullmatch(dom) and not _IPV4.fullmatch(dom):
        return m.group()                  # a package at a version
    return EMAIL_REMOVED


def _textual(col: pd.Series) -> bool:
    dt = col.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return True
    return pd.api.types.is_object_dtype(dt) or pd.api.types.is_string_dtype(dt)


def _map_column(col: pd.Series, fn: Callable[[Any], Any]) -> Any:
    """*fn* over the column's cells, each distinct text once; the dtype kept (a categorical's categories
    are rewritten, its order kept)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = [fn(c) for c in col.cat.categories]
        if len(set(cats)) == len(cats):
            return col.cat.rename_categories(cats)
        return col.astype(object).map(lambda v: fn(v) if _present(v) else v).astype("category")
    values = col.tolist()
    memo: dict[str, Any] = {}
    out = []
    for v in values:
        if isinstance(v, str):
            r = memo.get(v)
            if r is None:
                r = memo[v] = fn(v)
            out.append(r)
        else:
            out.append(fn(v))
    if col.dtype != object:
        try:
            return pd.Series(out, index=col.index, dtype=col.dtype)
        except (TypeError, ValueError):   # a dtype the new values do not fit: kept as objects
            pass
    return pd.Series(out, index=col.index, dtype=object)


def vocabulary(rules: Any, frames: dict[str, pd.DataFrame | None]) -> list[str]:
    """ddkit's own words: the rules files' text and the vocabulary columns of the result's tables."""
    from ..roster import IP_STATUSES, TYPES
    from ..severity import SEVERITIES
    words: list[str] = [*SEVERITIES, *TYPES, *IP_STATUSES]
    data = getattr(rules, "data", rules)
    if data is None:
        from ..config import load_rules
        data = load_rules(None).data
    _strings(data, words)
    for name, df in frames.items():
        if name in _VOCABULARY_TABLES_EXCLUDED or df is None or not isinstance(df, pd.DataFrame) or df.empty:
            continue
        for c in VOCABULARY_COLUMNS + (("name",) if name == "dependencies" else ()):
            if c in df.columns:
                _strings([v for v in pd.unique(df[c].astype(object)) if isinstance(v, (str, list, dict))], words)
    for w in list(words):            # a rule id's parts: "ip.unknown-contributor" protects "ip" and "unknown"
        if "." in w or "-" in w:
            words.extend(p for p in re.split(r"[.\-]", w) if p)
    return words


def pseudonymizer(s: Scan) -> Pseudonymizer:
    frames = {f.name: getattr(s, f.name) for f in dataclasses.fields(s)
              if isinstance(getattr(s, f.name), pd.DataFrame)}
    people = s.people
    names = mapping(people)
    # Roster people the scan's people table does not hold (none today) still get a pseudonym.
    if s.roster is not None and len(s.roster) and "person" in s.roster.columns:
        extra = [p for p in s.roster["person"].tolist() if isinstance(p, str) and p not in names
                 and p not in set(people.loc[people["is_bot"].astype(bool), "person"])]
        width = max(2, len(str(len(names) + len(extra))))
        for i, p in enumerate(sorted(set(extra)), start=len(names) + 1):
            names[p] = f"Contributor {i:0{width}d}"
        if extra:
            roster_people = s.roster.assign(is_bot=False, names=[[] for _ in range(len(s.roster))])
            people = pd.concat([people, roster_people[roster_people["person"].isin(extra)]], ignore_index=True)
    people = _committers_responsible(s, people, names)
    return Pseudonymizer(people, vocabulary(s.rules, frames), names=names)


def _committers_responsible(s: Scan, people: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """People known only as the committer of a commit an AI tool authored alone (analyze/ai.py names them
    responsible, ip.ai-authored-code): not in the people table (they authored nothing), but people all the same,
    so they get a pseudonym and their address is removed."""
    c = getattr(getattr(s, "ai", None), "commits", None)
    if c is None or not len(c) or "responsible_as" not in c.columns:
        return people
    extra: dict[str, list[str]] = {}
    for person, role, committer in zip(c["person"].tolist(), c["responsible_as"].tolist(), c["committer"].tolist()):
        if role == "committer" and isinstance(person, str) and person not in names:
            m = re.search(r"<([^<>]*)>\s*$", committer) if isinstance(committer, str) else None
            extra.setdefault(person, [])
            if m and m.group(1).strip() and m.group(1) not in extra[person]:
                extra[person].append(m.group(1))
    if not extra:
        return people
    width = max(2, len(str(len(names) + len(extra))))
    for i, p in enumerate(sorted(extra), start=len(names) + 1):
        names[p] = f"Contributor {i:0{width}d}"
    rows = pd.DataFrame([{"person": p, "names": [p], "emails": e, "is_bot": False} for p, e in sorted(extra.items())])
    return pd.concat([people, rows], ignore_index=True)


def pseudonymized(s: Scan) -> Scan:
    """A copy of *s* in which every table, every text cell and every warning is pseudonymised.

    Walks the model's fields generically: any DataFrame field (today's and any added later) has its
    text cells rewritten, and any other field that is text, a list or a dict (warnings, the summary,
    stale triage decisions, the stages' statistics) has its strings rewritten as free text, so a new
    table or field cannot leak names.
    """
    ps = pseudonymizer(s)
    out = copy.copy(s)
    for f in dataclasses.fields(s):
        if f.name in _SKIP_FIELDS:
            continue
        v = getattr(s, f.name)
        if isinstance(v, pd.DataFrame):
            setattr(out, f.name, ps.frame(v, f.name))
        elif hasattr(v, "pseudonymized"):   # a result object holding tables and names (the AI ledger)
            setattr(out, f.name, v.pseudonymized(ps.value, lambda df, name=f.name: ps.frame(df, name)))
        elif isinstance(v, (str, list, dict, tuple)):
            setattr(out, f.name, ps.walk(v, ps.text))
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            setattr(out, f.name, dataclasses.replace(v, **{g.name: ps.walk(getattr(v, g.name), ps.text)
                                                            for g in dataclasses.fields(v)}))
    return out


def console_lines(s: Scan, lines: list[str]) -> list[str]:
    """Lines for the terminal about *s* (warnings, roster gaps) with its people pseudonymised."""
    ps = pseudonymizer(s)
    return [ps.text(ln) for ln in lines]


def pseudonymized_portfolio(p: Portfolio) -> Portfolio:
    """The same portfolio with people replaced by pseudonyms consistent across repositories."""
    names = mapping(p.people)
    frames = [r.people for r in p.results if r.people is not None and len(r.people)]
    allp = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["person", "names", "is_bot"])
    vocab_frames: dict[str, pd.DataFrame | None] = {}
    for name in ("findings", "remediation", "dependencies"):
        parts = [getattr(r, name) for r in p.results if getattr(r, name) is not None and len(getattr(r, name))]
        vocab_frames[name] = pd.concat(parts, ignore_index=True) if parts else None
    # People known only as the committer of code an AI tool authored alone (ip.ai-authored-code's person).
    extra = sorted({x for r in p.results if r.findings is not None and len(r.findings) and "person" in r.findings
                    for x, rule in zip(r.findings["person"].tolist(), r.findings["rule"].astype(str).tolist())
                    if rule == "ip.ai-authored-code" and isinstance(x, str) and x not in names})
    if extra:
        width = max(2, len(str(len(names) + len(extra))))
        for i, x in enumerate(extra, start=len(names) + 1):
            names[x] = f"Contributor {i:0{width}d}"
        allp = pd.concat([allp, pd.DataFrame([{"person": x, "names": [x], "emails": [], "is_bot": False}
                                              for x in extra])], ignore_index=True)
    ps = Pseudonymizer(allp, vocabulary(p.rules, vocab_frames), names=names)
    out = []
    for r in p.results:
        r2 = copy.copy(r)
        r2.people = ps.frame(r.people, "people")
        r2.findings = ps.frame(r.findings, "findings")
        r2.remediation = ps.frame(r.remediation, "remediation")
        r2.dependencies = ps.frame(r.dependencies, "dependencies")   # deps
        r2.warnings = [ps.text(w) for w in r.warnings]
        r2.summary = ps.walk(r.summary, ps.text)
        r2.error = ps.text(r.error) if isinstance(r.error, str) else r.error
        out.append(r2)
    return dataclasses.replace(p, results=out,   # provenance: who committed the shared code, on each side
                               copied_code=ps.frame(p.copied_code, "copied_code"))


def _csv_text(v: str) -> str:
    """A key cell as `roster init` writes a roster's (roster_init._csv_text; the same starts, cells.py):
    text that a spreadsheet would run as a formula gets a leading apostrophe and is shown instead."""
    from .cells import is_formula_like
    return "'" + v if is_formula_like(v) else v


def write_key(people: pd.DataFrame, path: str | Path) -> Path:
    """The pseudonym-to-person key (CSV), for a scan's or a portfolio's people: private (0600, whatever
    the umask), and every cell escaped as `roster init` escapes a roster's (a name or address that looks
    like a formula, ``=HYPERLINK(…)``, is shown as text by a spreadsheet, never run)."""
    import csv
    names = mapping(people)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["pseudonym", "person", "emails"])
    for person, pseudo in names.items():
        row = people[people["person"] == person].iloc[0]
        emails = row["emails"] if isinstance(row["emails"], (list, tuple)) else []
        w.writerow([_csv_text(pseudo), _csv_text(person), _csv_text("; ".join(map(str, emails)))])
    return atomic_write(path, ("\ufeff" + buf.getvalue()).encode("utf-8"), mode=0o600)
