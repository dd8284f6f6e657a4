"""Running git: one place that knows how ddkit talks to the git command.

ddkit reads git's raw bytes (names and paths are not always UTF-8) and never lets git open a pager,
ask for a password or read a user's configuration that would change its output.
"""

from __future__ import annotations

import os
import re
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from .errors import InputError

_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "LC_ALL": "C",
    "GIT_CONFIG_NOSYSTEM": "1",
}

# Options that keep git's output stable whatever the user's configuration says.
_GIT_OPTS = ("-c", "core.quotepath=off", "-c", "log.showSignature=false", "-c", "color.ui=never",
             "-c", "diff.noprefix=false", "-c", "log.mailmap=false", "-c", "core.precomposeunicode=false")


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(_GIT_ENV)
    return env


def git_cmd(repo: str | os.PathLike, *args: str) -> list[str]:
    return ["git", "-C", str(repo), *_GIT_OPTS, *args]


def run(repo: str | os.PathLike, *args: str, check: bool = True, input: bytes | None = None) -> bytes:
    """Run git and return its standard output as bytes."""
    proc = subprocess.run(git_cmd(repo, *args), input=input, capture_output=True, env=git_env())
    if check and proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


def stream(repo: str | os.PathLike, *args: str, bufsize: int = 1 << 20) -> Iterator[bytes]:
    """Stream git's standard output in chunks; raise GitError if git fails."""
    proc = subprocess.Popen(git_cmd(repo, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=git_env(), bufsize=bufsize)
    assert proc.stdout is not None
    try:
        while True:
            chunk = proc.stdout.read(bufsize)
            if not chunk:
                break
            yield chunk
    finally:
        proc.stdout.close()
        err = proc.stderr.read() if proc.stderr else b""
        if proc.stderr:
            proc.stderr.close()
        rc = proc.wait()
    if rc != 0:
        raise GitError(args, rc, err.decode("utf-8", "replace"))


class GitError(RuntimeError):
    def __init__(self, args: Sequence[str], returncode: int, stderr: str):
        self.git_args = list(args)
        self.returncode = returncode
        self.stderr = stderr.strip()
        first = self.stderr.splitlines()[0] if self.stderr else f"exit code {returncode}"
        super().__init__(f"git {' '.join(self.git_args[:2])}: {first}")


_CRED_RE = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
# A URL inside any text (git's error messages quote them): up to whitespace, a quote or a bracket.
_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
# Query parameters that carry credentials: GitLab's private_token, GitHub's access_token, ?token=,
# API keys, signed-URL signatures and credentials (X-Amz-Signature, X-Amz-Credential, sig=), passwords.
_SECRET_PARAM = re.compile(r"token|key|secret|passw|pwd|auth|sig|credential|session", re.I)


def _strip_query(url: str) -> str:
    base, q, rest = url.partition("?")
    if not q:
        return url
    query, h, fragment = rest.partition("#")
    kept = [p for p in re.split(r"[&;]", query)
            if p and not _SECRET_PARAM.search(urllib.parse.unquote(p.split("=", 1)[0]))]
    return base + ("?" + "&".join(kept) if kept else "") + (h + fragment)


def strip_credentials(url: str | None) -> str | None:
    """Remove credentials from a URL, or from every URL in a text: a user name or token before the host
    ('https://tok@host/x' -> 'https://host/x') and query parameters that carry one
    ('https://host/x.git?private_token=t&ref=main' -> 'https://host/x.git?ref=main')."""
    if not url:
        return url
    url = _CRED_RE.sub(lambda m: m.group("scheme"), url)
    return _URL_IN_TEXT.sub(lambda m: _strip_query(m.group()), url)


@dataclass(frozen=True)
class RepoInfo:
    """What ddkit knows about the repository it scans."""

    path: str
    ref: str
    commit: str | None          # None for an empty repository
    is_bare: bool
    is_shallow: bool
    remote: str | None          # origin URL without credentials


def open_repo(path: str | os.PathLike, ref: str = "HEAD") -> RepoInfo:
    """Check that *path* is a git repository and resolve *ref*; raise InputError otherwise."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file or directory")
    if not p.is_dir():
        raise InputError(f"{path}: not a directory, so not a git repository")
    proc = subprocess.run(git_cmd(p, "rev-parse", "--is-bare-repository"), capture_output=True, env=git_env())
    if proc.returncode != 0:
        raise InputError(f"{path}: not a git repository")
    is_bare = proc.stdout.strip() == b"true"
    if not is_bare:
        top = subprocess.run(git_cmd(p, "rev-parse", "--show-toplevel"), capture_output=True, env=git_env())
        if top.returncode == 0:
            toplevel = top.stdout.decode("utf-8", "surrogateescape").strip()
            if Path(toplevel).resolve() != p.resolve():
                raise InputError(f"{path}: inside the git repository {toplevel}; give the repository's top directory")
    shallow = run(p, "rev-parse", "--is-shallow-repository", check=False).strip() == b"true"
    commit: str | None
    res = subprocess.run(git_cmd(p, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"),
                         capture_output=True, env=git_env())
    if res.returncode == 0:
        commit = res.stdout.decode().strip()
    else:
        has_any = subprocess.run(git_cmd(p, "rev-parse", "--verify", "--quiet", "HEAD"),
                                 capture_output=True, env=git_env()).returncode == 0
        any_refs = run(p, "for-each-ref", "--count=1", check=False).strip()
        if ref == "HEAD" and not has_any and not any_refs:
            commit = None  # an empty repository: nothing committed yet
        else:
            raise InputError(f"{path}: ref '{ref}' does not name a commit")
    remote = run(p, "config", "--get", "remote.origin.url", check=False).decode("utf-8", "replace").strip() or None
    return RepoInfo(path=str(p.resolve()), ref=ref, commit=commit, is_bare=is_bare, is_shallow=shallow,
                    remote=strip_credentials(remote))


def read_blob(repo: str | os.PathLike, spec: str) -> bytes | None:
    """Contents of REV:PATH, or None when it does not exist."""
    proc = subprocess.run(git_cmd(repo, "cat-file", "blob", spec), capture_output=True, env=git_env())
    return proc.stdout if proc.returncode == 0 else None
