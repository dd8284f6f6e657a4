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


def read_mailmap(repo: str, commit: str | None, identities: Iterable[tuple[str, str]] = (),
                 tree: dict[str, tuple[str, str]] | None = None) -> Mailmap:
    """Map every (name, email) pair in *identities* through the .mailmap of *commit*.

    *tree*: {path: (object type, object id)} of the entries at *commit* when the caller has listed them
    (the scan's files stage has): git is then not asked where the .mailmap is."""
    pairs = [(n, e) for n, e in dict.fromkeys(identities) if "\n" not in n + e and "<" not in n + e and ">" not in e]
    if commit is None or not pairs:
        return Mailmap()
    if tree is not None:
        typ, blob = tree.get(".mailmap", ("", ""))
    else:
        entry = gitutil.run(repo, "ls-tree", "-z", "--end-of-options", commit, "--", ".mailmap").split(b"\0")[0].split()
        typ, blob = (entry[1].decode(), entry[2].decode()) if len(entry) >= 3 else ("", "")
    if typ != "blob":
        return Mailmap()          # no .mailmap file at the commit
    # What git answers for a pair depends only on the .mailmap's content (and git): kept per blob, so a
    # re-scan asks git only about identities it has not seen with this .mailmap.
    from ..collect import incremental
    store = incremental.Store("mailmap", repo, {"blob": blob, "git": gitutil.git_version()}, _valid_answers)
    known: dict[tuple[str, str], tuple[str, str] | None] = store.load("answers") or {}
    todo = [p for p in pairs if p not in known]
    if todo:
        stdin = "".join(f"{n} <{e}>\n" for n, e in todo).encode("utf-8", "surrogateescape")
        gitdir = gitutil.run(repo, "rev-parse", "--absolute-git-dir").decode("utf-8", "surrogateescape").strip()
        try:
            raw = gitutil.run(gitdir, "--bare", "-c", f"mailmap.blob={blob}", "-c", "mailmap.file=" + _devnull(),
                              "check-mailmap", "--stdin", input=stdin)
        except gitutil.GitError as err:
            return Mailmap(warnings=[f".mailmap at the scanned commit could not be applied ({err}); identities are "
                                     "resolved without it"])
        lines = raw.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) != len(todo):
            return Mailmap(warnings=[f".mailmap: git answered {len(lines)} lines for {len(todo)} identities; ignored"])
        for (n, e), line in zip(todo, lines):
            c = _contact(line)
            known[(n, e)] = c if c is not None and c != (n, e) else None
        store.save("answers", known)
    mm = Mailmap()
    for p in pairs:
        c = known[p]
        if c is not None:
            mm.mapped[p] = c
    return mm


def _valid_answers(v) -> bool:
    def pair(x) -> bool:
        return isinstance(x, tuple) and len(x) == 2 and all(isinstance(y, str) for y in x)
    return isinstance(v, dict) and all(pair(k) and (x is None or pair(x)) for k, x in v.items())


def _devnull() -> str:
    import os
    return os.devnull
