"""Running git: one place that knows how ddkit talks to the git command.

ddkit reads git's raw bytes (names and paths are not always UTF-8) and never lets git open a pager,
ask for a password or read a user's configuration that would change its output.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from .errors import InputError

# ddkit treats a scanned repository as untrusted input (README, "Threat model"): its configuration,
# attributes and hooks come from the other side of a deal, and git would happily run programs they name
# (a textconv or filter driver, an fsmonitor hook, a pager...). Every git command ddkit runs is built here
# so that none can forget the defences below.

# Environment: git reads the user's shell too. Nothing inherited that starts with GIT_ reaches git (a
# stray GIT_DIR, GIT_EXTERNAL_DIFF or GIT_CONFIG_PARAMETERS would redirect it), except the few that only
# say how to reach a remote the user chose to scan.
_KEEP_ENV = {"GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_SSL_NO_VERIFY"}
_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",              # empty, not unset: git then skips core.askPass and SSH_ASKPASS too
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "LC_ALL": "C",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,  # neither the machine's nor the user's configuration changes a result
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",  # the objects as they are: refs/replace cannot rewrite who wrote what
    "GIT_OPTIONAL_LOCKS": "0",      # read-only: never refresh the scanned repository's index
    # Transports a scan may use (portfolio URLs); ext:: and fd:: run programs and are refused.
    "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
}

# Options that keep git's output stable whatever the configuration says, and close every configuration
# key of fixed name that names a program. Command-line configuration wins over the repository's own.
_GIT_OPTS = ("--no-pager",
             "-c", "core.quotepath=off", "-c", "log.showSignature=false", "-c", "color.ui=never",
             "-c", "diff.noprefix=false", "-c", "log.mailmap=false", "-c", "core.precomposeunicode=false",
             "-c", "i18n.logOutputEncoding=UTF-8", "-c", "blame.ignoreRevsFile=", "-c", "diff.orderFile=" + os.devnull,
             "-c", "core.fsmonitor=false", "-c", "core.hooksPath=" + os.devnull, "-c", "core.pager=cat",
             "-c", "core.sshCommand=ssh", "-c", "core.askPass=", "-c", "credential.helper=",
             "-c", "core.alternateRefsCommand=", "-c", "core.gitProxy=", "-c", "diff.external=",
             "-c", "gpg.program=", "-c", "core.editor=true", "-c", "sequence.editor=true",
             "-c", "protocol.ext.allow=never", "-c", "protocol.fd.allow=never",
             "-c", "gc.auto=0", "-c", "maintenance.auto=false", "-c", "core.attributesFile=" + os.devnull)

# Keys of free name that name a program: diff.<driver>.textconv, filter.<driver>.process, ... A
# repository's .gitattributes can attach any of them to any path, so each one found in its configuration
# (includes followed) is overridden with an empty value, which git takes as "no program".
_PROGRAM_KEY = re.compile(r"^(?:[^.]+\..+\.(?:textconv|command|cmd|clean|smudge|process|driver|program|helper|"
                          r"uploadpack|receivepack|vcs|sshcommand)|pager\..+|alias\..+)$", re.IGNORECASE)

# Subcommands that can show a diff: never through a textconv driver or an external diff program.
_DIFF_COMMANDS = {"log", "show", "diff", "diff-tree", "diff-index", "diff-files", "whatchanged", "blame",
                  "format-patch"}


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") or k in _KEEP_ENV}
    env.pop("SSH_ASKPASS", None)
    env.update(_GIT_ENV)
    if extra:
        env.update(extra)
    return env


@functools.lru_cache(maxsize=64)
def _repo_overrides(repo: str, stamp: tuple) -> tuple[str, ...]:
    """``-c KEY=`` for every program-naming key of free name in *repo*'s configuration.

    Reading configuration runs nothing (``git config`` never executes a value). A key that cannot be
    written as ``-c key=`` (its subsection holds '=') cannot be overridden, so the scan is refused.
    """
    proc = subprocess.run(["git", "-C", repo, "--no-pager", "config", "--list", "-z", "--includes"],
                          capture_output=True, env=git_env())
    out: list[str] = []
    for entry in proc.stdout.split(b"\0"):
        key = entry.split(b"\n", 1)[0].decode("utf-8", "surrogateescape")
        if key and _PROGRAM_KEY.match(key):
            if "=" in key:
                raise InputError(f"{repo}: refusing to scan: its git configuration names a program under a key "
                                 f"ddkit cannot override ({key!r})")
            out += ["-c", f"{key}="]
            if key.lower().startswith("filter."):
                out += ["-c", key.rsplit(".", 1)[0] + ".required=false"]
    return tuple(out)


def _config_stamp(repo: str) -> tuple:
    # Re-read the overrides when the repository's configuration file changes (tests and long-lived
    # notebooks scan the same path more than once).
    stamps = []
    for name in (".git/config", "config", ".git/config.worktree"):
        try:
            st = os.stat(os.path.join(repo, name))
            stamps.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            pass
    return tuple(stamps)


def git_cmd(repo: str | os.PathLike | None, *args: str) -> list[str]:
    """The argument list of a git command on *repo* (None: no repository, e.g. a clone)."""
    args_l = list(args)
    if args_l and args_l[0] in _DIFF_COMMANDS:
        args_l[1:1] = ["--no-textconv", "--no-ext-diff"]
    if repo is None:
        return ["git", *_GIT_OPTS, *args_l]
    r = str(repo)
    return ["git", "-C", r, *_repo_overrides(r, _config_stamp(r)), *_GIT_OPTS, *args_l]


def popen(repo: str | os.PathLike | None, *args: str, env: dict[str, str] | None = None,
          **kwargs) -> subprocess.Popen:
    """Start git with the defences above; *env* adds variables (e.g. an object directory of ddkit's)."""
    return subprocess.Popen(git_cmd(repo, *args), env=git_env(env), **kwargs)


def run(repo: str | os.PathLike | None, *args: str, check: bool = True, input: bytes | None = None,
        env: dict[str, str] | None = None, timeout: float | None = None) -> bytes:
    """Run git and return its standard output as bytes."""
    proc = subprocess.run(git_cmd(repo, *args), input=input, capture_output=True, env=git_env(env), timeout=timeout)
    if check and proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


def _grow_pipe(fd: int, size: int) -> None:
    """Let git write up to *size* bytes ahead of the reader (Linux; a pipe holds 64 KiB by default): git
    then goes on producing while the caller parses the previous chunk, instead of waiting for it."""
    try:
        import fcntl
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError):
        pass        # another system, or above /proc/sys/fs/pipe-max-size: the default pipe


def stream(repo: str | os.PathLike, *args: str, bufsize: int = 1 << 20) -> Iterator[bytes]:
    """Stream git's standard output in chunks; raise GitError if git fails."""
    proc = popen(repo, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=bufsize)
    assert proc.stdout is not None
    _grow_pipe(proc.stdout.fileno(), bufsize)
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


# A user name, password or token before the host of a URL: everything up to the last "@" before the path.
# (A scheme starts where no scheme character precedes it and is at most 32 long: a long run of letters
# before "://" is then tried once, not once per letter, which was quadratic.)
_CRED_RE = re.compile(r"(?<![a-zA-Z0-9+.-])(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]{0,31}://)[^/?#\s'\"<>]*@")
# scp-like and scheme-less forms with a password: "user:secret@host:path", "user:secret@host/x". Looked for
# token by token (text between spaces, quotes, brackets and slashes), each matched from its start: a
# pattern free to start anywhere was quadratic on "a:a:a:…@".
_TOKEN_SPLIT = re.compile(r"([\s/'\"<>()\[\]]+)")
_USERPASS_TOKEN = re.compile(r"[^@:]+:[^@]+@([\w.-]+)(:|$)")
# A URL inside any text (git's error messages quote them): up to whitespace, a quote or a bracket.
_URL_IN_TEXT = re.compile(r"(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]{0,31}://[^\s'\"<>]+")
# A query string anywhere, URL or not (git quotes a file:// URL's path with its "?private_token=…").
_QUERY_IN_TEXT = re.compile(r"\?(?:[^\s'\"<>#?:]|:(?!\s|$))+")
# Query parameters that carry credentials: GitLab's private_token, GitHub's access_token, ?token=,
# API keys, signed-URL signatures and credentials (X-Amz-Signature, X-Amz-Credential, sig=), passwords.
_SECRET_PARAM = re.compile(r"token|key|secret|passw|pwd|auth|sig|credential|session", re.I)
# The same outside a query string ("password=hunter2" in a message): only a name one of whose parts
# (split at "_", "-" or ".") says so, so that ordinary words such as "author=" or "design=" stay.
_SECRET_ASSIGN = re.compile(
    r"(?<![\w.-])(?P<name>(?:[A-Za-z0-9]+[_.-])*(?:[A-Za-z0-9]*(?:token|secret|passw(?:or)?d|pwd|apikey|api[_-]?key|"
    r"credentials?|signature|auth(?:orization)?)|key|sig|session|pass)(?:[_.-][A-Za-z0-9]+)*)"
    r"(?P<sep>=|:\s?)(?P<value>(?:(?:bearer|basic|token)\s+)?[^\s&;'\"<>,]+)", re.I)
# After a colon ("Authorization: Bearer …") only a name that cannot be an ordinary word ("unknown key: x").
_STRONG_NAME = re.compile(r"token|secret|passw|pwd|api[_-]?key|authorization|credential", re.I)


def _redact_assignment(m: re.Match) -> str:
    if m.group("value") == "[removed]" or (m.group("sep").startswith(":") and not _STRONG_NAME.search(m.group("name"))):
        return m.group()
    return m.group("name") + m.group("sep") + "[removed]"


def _strip_query(url: str) -> str:
    base, q, rest = url.partition("?")
    if not q:
        return url
    query, h, fragment = rest.partition("#")
    kept = [p for p in re.split(r"[&;]", query)
            if p and not _SECRET_PARAM.search(urllib.parse.unquote(p.split("=", 1)[0]))]
    return base + ("?" + "&".join(kept) if kept else "") + (h + fragment)


def _strip_userpass(text: str) -> str:
    parts = _TOKEN_SPLIT.split(text)
    for i in range(0, len(parts), 2):              # the tokens (the separators are between them)
        tok = parts[i]
        if "@" in tok and ":" in tok:
            m = _USERPASS_TOKEN.match(tok)
            if m and (m.group(2) == ":" or (i + 1 < len(parts) and parts[i + 1].startswith("/"))):
                parts[i] = tok[m.start(1):]
    return "".join(parts)


def _strip_text_query(m: re.Match) -> str:
    params = re.split(r"[&;]", m.group()[1:])
    if not any("=" in p for p in params):
        return m.group()                  # a question mark in a sentence, not a query string
    return _strip_query("x" + m.group())[1:]


@overload
def strip_credentials(url: str) -> str: ...
@overload
def strip_credentials(url: None) -> None: ...
def strip_credentials(url: str | None) -> str | None:
    """Remove credentials from a URL, a path, or every URL and path in a text: a user name, password or
    token before the host ('https://tok@host/x' -> 'https://host/x', 'u:pw@host:x' -> 'host:x'), query
    parameters that carry one ('https://host/x.git?private_token=t&ref=main' -> 'https://host/x.git?ref=main',
    also in a path or a file:// URL git quotes without its scheme), and the value of a credential-named
    assignment anywhere ('password=hunter2' -> 'password=[removed]')."""
    if not url:
        return url
    # Each expression only where its marker is (reports pass long evidence texts through here).
    if "://" in url:
        url = _CRED_RE.sub(lambda m: m.group("scheme"), url)
        url = _URL_IN_TEXT.sub(lambda m: _strip_query(m.group()), url)
    if "?" in url:
        url = _QUERY_IN_TEXT.sub(_strip_text_query, url)
    if "@" in url and ":" in url:
        url = _strip_userpass(url)
    if "=" in url or _STRONG_NAME.search(url):
        url = _SECRET_ASSIGN.sub(_redact_assignment, url)
    return url


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
    # One rev-parse for three answers, each on its line (one git process instead of three): the top folder
    # comes last because git prints the others and then fails on it where there is no work tree (a bare
    # repository, the .git folder itself); nothing at all is printed where there is no repository.
    proc = subprocess.run(git_cmd(p, "rev-parse", "--is-bare-repository", "--is-shallow-repository",
                                  "--show-toplevel"), capture_output=True, env=git_env())
    answers = proc.stdout.split(b"\n", 2)
    if len(answers) < 3 or answers[0] not in (b"true", b"false"):
        raise InputError(f"{path}: not a git repository")
    is_bare = answers[0] == b"true"
    shallow = answers[1] == b"true"
    if not is_bare and proc.returncode == 0:
        toplevel = answers[2].decode("utf-8", "surrogateescape").strip()
        if Path(toplevel).resolve() != p.resolve():
            if (p / ".git").exists():   # the top of a repository whose configuration moves its work tree
                raise InputError(f"{path}: the repository's core.worktree setting puts its work tree at {toplevel}; "
                                 "unset it (git config --unset core.worktree) or scan a clone")
            raise InputError(f"{path}: inside the git repository {toplevel}; give the repository's top directory")
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
            missing = _missing_alternates(p)
            if missing:   # what git says (no such commit) hides the cause: borrowed objects are gone
                raise InputError(f"{path}: the repository borrows its objects from {missing[0]} "
                                 "(objects/info/alternates), which does not exist; restore it, or clone the "
                                 "repository again without --shared/--reference")
            raise InputError(f"{path}: ref '{ref}' does not name a commit")
    remote = run(p, "config", "--get", "remote.origin.url", check=False).decode("utf-8", "replace").strip() or None
    return RepoInfo(path=str(p.resolve()), ref=ref, commit=commit, is_bare=is_bare, is_shallow=shallow,
                    remote=strip_credentials(remote))


def _missing_alternates(p: Path) -> list[str]:
    """The object folders listed in the repository's objects/info/alternates that do not exist."""
    out = []
    for git_dir in (p / ".git", p):
        f = git_dir / "objects" / "info" / "alternates"
        try:
            lines = f.read_text(encoding="utf-8", errors="replace").splitlines() if f.is_file() else []
        except OSError:
            continue
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                alt = Path(line) if os.path.isabs(line) else git_dir / "objects" / line
                if not alt.is_dir():
                    out.append(line)
    return out


def read_blob(repo: str | os.PathLike, spec: str) -> bytes | None:
    """Contents of REV:PATH, or None when it does not exist."""
    proc = subprocess.run(git_cmd(repo, "cat-file", "blob", spec), capture_output=True, env=git_env())
    return proc.stdout if proc.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def git_version() -> str:
    """git's version, for the Methodology sheet ("2.39.5")."""
    out = run(None, "--version", check=False).decode("utf-8", "replace").strip()
    return out.rsplit(" ", 1)[-1] if out else "unknown"


def iter_objects(repo: str | os.PathLike, specs: Sequence[bytes | str]) -> Iterator[tuple[str, bytes | None]]:
    """(type, content) for each object spec (a blob id, or ``REV:PATH`` with any path bytes), streamed
    through one ``git cat-file --batch -z``: requests are NUL-separated, so a path may hold a newline, and a
    feeder thread writes while this reads, so neither side waits on a full pipe. A missing object gives
    ("missing", None)."""
    if not specs:
        return
    proc = popen(repo, "cat-file", "--batch", "-z", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def feed() -> None:
        try:
            for s in specs:
                stdin.write((s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s) + b"\0")
        except BrokenPipeError:
            pass
        finally:
            try:
                stdin.close()
            except BrokenPipeError:
                pass

    import threading
    t = threading.Thread(target=feed, daemon=True)
    t.start()
    try:
        for _ in specs:
            header = stdout.readline().rstrip(b"\n").split(b" ")
            if len(header) < 3:          # "<spec> missing" (or ambiguous): nothing follows
                yield "missing", None
                continue
            size = int(header[-1])
            data = stdout.read(size + 1)[:size]
            yield header[-2].decode(), data
    finally:
        t.join()
        stdout.close()
        proc.wait()
