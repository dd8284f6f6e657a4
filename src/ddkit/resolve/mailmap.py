"""git's .mailmap, resolved by git itself at the scanned ref.

``git check-mailmap`` applies exactly the rules git applies (every form git accepts, case rules,
name-only lines), so ddkit keeps no parser of its own. The .mailmap is read from the scanned commit
(``mailmap.blob=<commit>:.mailmap``) with the repository opened bare, so neither the work tree's
.mailmap nor a user's ``mailmap.file`` changes the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .. import gitutil


@dataclass
class Mailmap:
    # (commit name, commit email) -> (proper name, proper email), only for identities the .mailmap changes
    mapped: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.mapped)

    def map(self, name: str, email: str) -> tuple[str, str]:
        return self.mapped.get((name, email), (name, email))


def _contact(line: str) -> tuple[str, str] | None:
    line = line.rstrip("\n")
    if not line.endswith(">") or "<" not in line:
        return None
    i = line.rindex("<")
    return line[:i].rstrip(" "), line[i + 1:-1]


def read_mailmap(repo: str, commit: str | None, identities: Iterable[tuple[str, str]] = ()) -> Mailmap:
    """Map every (name, email) pair in *identities* through the .mailmap of *commit*."""
    pairs = [(n, e) for n, e in dict.fromkeys(identities) if "\n" not in n + e and "<" not in n + e and ">" not in e]
    if commit is None or not pairs or gitutil.read_blob(repo, f"{commit}:.mailmap") is None:
        return Mailmap()
    gitdir = gitutil.run(repo, "rev-parse", "--absolute-git-dir").decode("utf-8", "surrogateescape").strip()
    stdin = "".join(f"{n} <{e}>\n" for n, e in pairs).encode("utf-8", "surrogateescape")
    try:
        out = gitutil.run(gitdir, "--bare", "-c", f"mailmap.blob={commit}:.mailmap", "-c", "mailmap.file=" + _devnull(),
                          "check-mailmap", "--stdin", input=stdin)
    except gitutil.GitError as err:
        return Mailmap(warnings=[f".mailmap at the scanned commit could not be applied ({err}); identities are "
                                 "resolved without it"])
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    mm = Mailmap()
    if len(lines) != len(pairs):
        mm.warnings.append(f".mailmap: git answered {len(lines)} lines for {len(pairs)} identities; ignored")
        return mm
    for (n, e), line in zip(pairs, lines):
        c = _contact(line)
        if c is not None and c != (n, e):
            mm.mapped[(n, e)] = c
    return mm


def _devnull() -> str:
    import os
    return os.devnull
