"""git's .mailmap, read from the scanned ref so that the result does not depend on the work tree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import gitutil
from ..text import decode_name

_ENTRY = re.compile(r"^\s*(?P<n1>[^<#]*?)\s*<(?P<e1>[^>]*)>\s*(?:(?P<n2>[^<#]*?)\s*<(?P<e2>[^>]*)>)?\s*(?:#.*)?$")


@dataclass
class Mailmap:
    # (commit email, commit name or None) -> (proper name or None, proper email or None)
    entries: dict[tuple[str, str | None], tuple[str | None, str | None]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.entries)

    def map(self, name: str, email: str) -> tuple[str, str]:
        key = email.strip().lower()
        hit = self.entries.get((key, name.strip().lower())) or self.entries.get((key, None))
        if not hit:
            return name, email
        pn, pe = hit
        return (pn or name), (pe or email)


def parse_mailmap(text: str, source: str = ".mailmap") -> Mailmap:
    mm = Mailmap()
    for n, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = _ENTRY.match(s)
        if not m:
            mm.warnings.append(f"{source}, line {n}: not understood, ignored: {s[:80]}")
            continue
        n1, e1, n2, e2 = (m.group("n1") or None), m.group("e1").strip(), (m.group("n2") or None), m.group("e2")
        if e2 is None:
            # "Proper Name <commit@email>": only the name is replaced.
            mm.entries[(e1.lower(), None)] = (n1, None)
        else:
            mm.entries[(e2.strip().lower(), n2.strip().lower() if n2 else None)] = (n1, e1 or None)
    return mm


def read_mailmap(repo: str, commit: str | None) -> Mailmap:
    if commit is None:
        return Mailmap()
    blob = gitutil.read_blob(repo, f"{commit}:.mailmap")
    if blob is None:
        return Mailmap()
    return parse_mailmap(decode_name(blob))
