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

from .errors import DdkitError, InputError

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
    "GIT_GRAFT_FILE": os.devnull,   # ... nor can .git/info/grafts (one line cuts the history; open_repo warns)
    # Never fetch a missing object from a promisor remote (a partial clone's server, which the repository
    # names): open_repo refuses partial clones, and this stops any lazy fetch that would remain (git
    # 2.39.4 and later; older versions ignore it, the refusal still holds).
    "GIT_NO_LAZY_FETCH": "1",
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

# Subcommands that can show a diff: never through a textconv driver or an external diff program, and never
# reading .gitmodules: a diff that meets a submodule (a gitlink) reads the work tree's .gitmodules, and one
# that git cannot parse (`update = !cmd`, a syntax error) stops the command. A submodule is another
# repository (the files stage lists it, not scanned), so its pointer changes are never counted as code.
_DIFF_COMMANDS = {"log", "show", "diff", "diff-tree", "diff-index", "diff-files", "whatchanged", "blame",
                  "format-patch"}
_DIFF_OPTS = ("--no-textconv", "--no-ext-diff", "--ignore-submodules=all")


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") or k in _KEEP_ENV}
    env.pop("SSH_ASKPASS", None)
    env.update(_GIT_ENV)
    if extra:
        env.update(extra)
    return env


@functools.lru_cache(maxsize=64)
def _repo_overrides(repo: str, stamp: tuple, safe: tuple[str, ...] = ()) -> tuple[str, ...]:
    """``-c KEY=`` for every program-naming key of free name in *repo*'s configuration.

    Reading configuration runs nothing (``git config`` never executes a value). A key that cannot be
    written as ``-c key=`` (its subsection holds '=') cannot be overridden, so the scan is refused. So is
    a partial clone: git would fetch the objects it lacks from the remote the repository names.
    *safe*: the safe.directory options, part of the cache key: git lists nothing of a repository another
    user owns until it is allowed, and the overrides must then be listed again.
    """
    proc = subprocess.run(["git", "-C", repo, *safe, "--no-pager", "config", "--list", "-z", "--includes"],
                          capture_output=True, env=git_env())
    entries = [e.decode("utf-8", "surrogateescape").partition("\n")[::2] for e in proc.stdout.split(b"\0") if e]
    promisor = _promisor(entries)
    if promisor:
        raise InputError(f"{repo}: refusing to scan a partial clone (its promisor remote {promisor}): git would "
                         f"fetch the objects it lacks from there during the scan; scan a full clone "
                         f"(git clone without --filter)")
    out: list[str] = []
    for key, _value in entries:
        if key and _PROGRAM_KEY.match(key):
            if "=" in key:
                raise InputError(f"{repo}: refusing to scan: its git configuration names a program under a key "
                                 f"ddkit cannot override ({key!r})")
            out += ["-c", f"{key}="]
            if key.lower().startswith("filter."):
                out += ["-c", key.rsplit(".", 1)[0] + ".required=false"]
    return tuple(out)


_FALSE = {"false", "no", "off", "0"}


def _promisor(entries: list[tuple[str, str]]) -> str | None:
    """The remote a partial clone fetches missing objects from ("origin (https://host/x.git)"), when the
    configuration makes one (extensions.partialClone names it, remote.<name>.promisor marks it), or None."""
    urls = {k.lower(): v for k, v in entries if k.lower().startswith("remote.") and k.lower().endswith(".url")}
    for key, value in entries:
        k = key.lower()
        if k == "extensions.partialclone" and value:
            name = value
        elif k.startswith("remote.") and k.endswith(".promisor") and value.strip().lower() not in _FALSE:
            name = key[len("remote."):-len(".promisor")]
        else:
            continue
        url = urls.get(f"remote.{name}.url".lower())
        return f"{name} ({strip_credentials(url)})" if url else name
    return None


def _config_stamp(repo: str) -> tuple:
    # Re-read the overrides when the repository's configuration file changes (tests and long-lived
    # notebooks scan the same path more than once).
    stamps = []
    for name in (".git/config", "config", ".git/config.worktree"):
        try:
            st = os.stat(os.path.join(repo, name))
            stamps.append((name, st.st_mtime_ns, st.st_size))
        except OSError:   # absent: no such config file
            pass
    return tuple(stamps)


def git_cmd(repo: str | os.PathLike | None, *args: str) -> list[str]:
    """The argument list of a git command on *repo* (None: no repository, e.g. a clone)."""
    _check_git()
    args_l = list(args)
    if args_l and args_l[0] in _DIFF_COMMANDS:
        args_l[1:1] = _DIFF_OPTS
    if repo is None:
        return ["git", *_GIT_OPTS, *args_l]
    r = str(repo)
    safe = _safe_opts()
    return ["git", "-C", r, *safe, *_repo_overrides(r, _config_stamp(r), safe), *_GIT_OPTS, *args_l]


@functools.lru_cache(maxsize=8)
def _git_on_path(path: str | None) -> bool:
    import shutil
    return shutil.which("git", path=path) is not None


def _check_git() -> None:
    """No git on PATH is the user's to fix: one line (exit 2), not a crash in the middle of a scan."""
    if not _git_on_path(os.environ.get("PATH")):
        raise InputError("git not found on PATH: ddkit reads repositories with the git command; install git "
                         "(2.39 or later) or add it to PATH")


# Repositories another user owns that the user asked ddkit to read anyway (--allow-other-owner). git refuses
# them by default ("dubious ownership": their configuration could run programs as the reader); ddkit's
# defences above hold for them too. Passed as -c safe.directory=PATH, for these paths only, on every
# command: the user's own git configuration, where safe.directory usually lives, is never read.
_SAFE_DIRECTORIES: set[str] = set()


def allow_other_owner_of(path: str | os.PathLike) -> None:
    """Let git read the repository at *path* although another user owns it."""
    p = os.path.abspath(path)
    _SAFE_DIRECTORIES.update({p, os.path.realpath(p)})


def _safe_opts() -> tuple[str, ...]:
    return tuple(o for d in sorted(_SAFE_DIRECTORIES) for o in ("-c", f"safe.directory={d}"))


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


class GitError(DdkitError, RuntimeError):
    """A git command failed on the scanned repository: its input (the command line: exit 2, as an InputError)."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str):
        self.git_args = list(args)
        self.returncode = returncode
        self.stderr = stderr.strip()
        first = _first_error(self.stderr) or f"exit code {returncode}"
        if _MISSING_OBJECTS.search(self.stderr):
            first = f"the repository is missing objects or is damaged ({first}); clone it again"
        super().__init__(f"git {' '.join(self.git_args[:2])}: {first}")


# What git says when an object it needs is not in the repository: a damaged or incomplete copy, or a partial
# clone whose promisor remote ddkit will not fetch from (GIT_NO_LAZY_FETCH).
_MISSING_OBJECTS = re.compile(r"unable to read [0-9a-f]{7,}|bad object|missing (?:blob|tree|commit|object)|"
                              r"could not fetch .* from promisor remote|lazy fetching disabled|is corrupt|"
                              r"did not receive expected object|cannot be accessed|object file .* is empty|"
                              r"invalid object|unable to parse object|not a valid object", re.IGNORECASE)


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
    # What the scan must say about the repository itself (a grafts file ignored, a .gitmodules git cannot
    # parse): warnings, added to the scan's.
    notes: tuple[str, ...] = ()


def open_repo(path: str | os.PathLike, ref: str = "HEAD", allow_other_owner: bool = False) -> RepoInfo:
    """Check that *path* is a git repository and resolve *ref*; raise InputError otherwise.

    *allow_other_owner*: read it even though another user owns it (git refuses by default)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file or directory")
    if not p.is_dir():
        raise InputError(f"{path}: not a directory, so not a git repository")
    if allow_other_owner:
        allow_other_owner_of(p)
    # One rev-parse for four answers, each on its line (one git process instead of four): the top folder
    # comes last because git prints the others and then fails on it where there is no work tree (a bare
    # repository, the .git folder itself); nothing at all is printed where there is no repository.
    proc = subprocess.run(git_cmd(p, "rev-parse", "--is-bare-repository", "--is-shallow-repository",
                                  "--path-format=absolute", "--git-common-dir", "--show-toplevel"),
                          capture_output=True, env=git_env())
    answers = proc.stdout.split(b"\n", 3)
    if len(answers) < 4 or answers[0] not in (b"true", b"false"):
        raise InputError(_not_a_repository(path, proc.stderr.decode("utf-8", "replace")))
    is_bare = answers[0] == b"true"
    shallow = answers[1] == b"true"
    common = Path(answers[2].decode("utf-8", "surrogateescape"))
    if not is_bare and proc.returncode == 0:
        toplevel = answers[3].decode("utf-8", "surrogateescape").strip()
        if Path(toplevel).resolve() != p.resolve():
            worktree = run(p, "config", "--get", "core.worktree", check=False).decode("utf-8", "replace").strip()
            if worktree:
                raise InputError(f"{path}: its git configuration sets core.worktree = {worktree}, so git's work "
                                 f"tree is {toplevel}, not this folder; scan a fresh clone of it")
            raise InputError(f"{path}: inside the git repository {toplevel}; give the repository's top directory")
    _check_alternates(path, common)
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
            raise InputError(_unresolved(path, p, ref))
    remote = run(p, "config", "--get", "remote.origin.url", check=False).decode("utf-8", "replace").strip() or None
    notes = [*_grafts_note(common), *(_shallow_note(p, common) if shallow else [])]
    if commit is not None:
        notes += _gitmodules_notes(p, commit, None if is_bare else p)
    return RepoInfo(path=str(p.resolve()), ref=ref, commit=commit, is_bare=is_bare, is_shallow=shallow,
                    remote=strip_credentials(remote), notes=tuple(notes))


def _not_a_repository(path: str | os.PathLike, stderr: str) -> str:
    """Why git found no repository at *path*, in words that say what to do."""
    if "dubious ownership" in stderr:
        owner = "another user"
        try:
            import pwd
            # The folder, or its .git, whichever another user owns (git checks both).
            uids = [os.stat(x).st_uid for x in (path, os.path.join(path, ".git")) if os.path.exists(x)]
            uid = next(u for u in uids if u != os.geteuid())
            owner = f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
        except (OSError, KeyError, ImportError, StopIteration, AttributeError):   # the owner's name unknown: the message says so
            pass
        return (f"{path}: owned by {owner}, not by you, and git refuses to read another user's repository "
                f"(its configuration could run programs); if you trust it, scan it with --allow-other-owner "
                f"(library: allow_other_owner=True): git's safe.directory for this path only, and ddkit's own "
                f"defences still apply")
    if "core.worktree" in stderr or "cannot chdir" in stderr:
        return (f"{path}: its git configuration sets core.worktree to a folder git cannot use "
                f"({_first_error(stderr)}); scan a fresh clone of it")
    if "repository format" in stderr or "unknown repository extension" in stderr:
        return f"{path}: git cannot read this repository ({_first_error(stderr)})"
    return f"{path}: not a git repository"


def _first_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    first = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[0] if lines else "")
    return first.removeprefix("fatal: ").removeprefix("error: ")


def _check_alternates(path: str | os.PathLike, common: Path) -> None:
    """Refuse a repository that borrows objects from a folder that is gone (objects/info/alternates, written
    by `git clone --shared` or `--reference`): the commits and files kept there are missing, and the scan
    would fail part way or miss them."""
    objects = common / "objects"
    try:
        text = _head(objects / "info" / "alternates").decode("utf-8", "surrogateescape")
    except OSError:
        return
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith('"') and line.endswith('"'):
            line = line[1:-1]
        where = objects / line
        if not where.is_dir():
            raise InputError(f"{path}: its objects/info/alternates borrows objects from {line}, which does not "
                             f"exist, so objects are missing; clone the repository again (without --shared or "
                             f"--reference) or restore that folder")


def _unresolved(path: str | os.PathLike, p: Path, ref: str) -> str:
    """Why *ref* names no commit: it names nothing, or an object missing from the repository."""
    res = subprocess.run(git_cmd(p, "rev-parse", "--verify", "--quiet", "--end-of-options", ref),
                         capture_output=True, env=git_env())
    sha = res.stdout.decode("ascii", "replace").strip()
    if res.returncode == 0 and sha:
        kind = subprocess.run(git_cmd(p, "cat-file", "-t", sha), capture_output=True, env=git_env())
        if kind.returncode != 0:
            return (f"{path}: ref '{ref}' names {sha}, which is missing from the repository (an incomplete or "
                    f"damaged copy); clone it again")
    return f"{path}: ref '{ref}' does not name a commit"


# The repository's own small files ddkit reads itself (grafts, shallow, alternates): at most this much of
# each, so that a huge or endless one (a FIFO, /dev/zero behind a symlink) cannot hold the scan.
_SMALL_FILE_MAX = 1 << 20


def _head(path: Path, limit: int = _SMALL_FILE_MAX) -> bytes:
    """The first *limit* bytes of a regular file; OSError for anything else."""
    import stat
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(f"{path}: not a regular file")
    with open(path, "rb") as fh:
        return fh.read(limit)


def _grafts_note(common: Path) -> list[str]:
    grafts = common / "info" / "grafts"
    try:
        n = sum(1 for ln in _head(grafts).splitlines() if ln.strip() and not ln.startswith(b"#"))
    except OSError:
        return []
    if not n:
        return []
    return [f"the repository has a grafts file ({grafts}, {n} line{'s' if n != 1 else ''}): ignored, as replace "
            f"refs are; it would give commits other parents, cutting or splicing the history (who wrote what is "
            f"read from the commits as they are)"]


def _shallow_note(p: Path, common: Path) -> list[str]:
    """A shallow file is a graft git offers no way to ignore: a shallow clone writes one where it stopped
    fetching, but anyone can write one to cut the history. Where the parents it hides are present, the
    reader is told the cut was made by hand (the scan's shallow-clone warning says what it costs)."""
    try:
        shas = _head(common / "shallow").decode("ascii", "replace").split()
    except OSError:
        return []
    parents: list[str] = []
    for raw in iter_objects(p, shas[:100]):
        if raw[0] == "commit" and raw[1] is not None:
            head = raw[1].split(b"\n\n", 1)[0]
            parents += [ln[7:].decode("ascii", "replace") for ln in head.split(b"\n") if ln.startswith(b"parent ")]
    present = sum(1 for typ, _ in iter_objects(p, parents) if typ == "commit") if parents else 0
    if not present:
        return []
    many = present != 1
    return [f"the repository's shallow file ({common / 'shallow'}) hides {present} parent commit{'s' if many else ''} "
            f"although the repository holds {'them' if many else 'it'}: the history was cut by hand, not by a "
            f"shallow clone, and git offers no way to read past it; scan a fresh full clone"]


# .gitmodules values git refuses with a fatal error when it reads the file (submodule-config.c): an update
# command ('!cmd': git never runs one from .gitmodules), an unknown update mode, and values that must be
# booleans (fetchRecurseSubmodules also takes on-demand).
_UPDATE_MODES = {"checkout", "rebase", "merge", "none"}
_BOOL = {"true", "false", "yes", "no", "on", "off", ""}
_GITMODULES_MAX = 1 << 20      # a real one is a few lines per submodule


def _gitmodules_notes(p: Path, commit: str, worktree: Path | None) -> list[str]:
    """A warning for each .gitmodules git could not parse: the scanned commit's and the work tree's. The
    scan does not need them (diffs ignore submodules), but the reader is told."""
    sources = []
    blob = read_blob(p, f"{commit}:.gitmodules", max_size=_GITMODULES_MAX)
    if blob is not None:
        sources.append(("the scanned commit's .gitmodules", blob))
    if worktree is not None:
        try:
            text: bytes | None = _head(worktree / ".gitmodules", _GITMODULES_MAX + 1)
        except OSError:
            text = None
        if text is not None and text != blob:
            sources.append(("the work tree's .gitmodules", text))
    out = []
    for where, data in sources:
        problem = (f"larger than {_GITMODULES_MAX >> 20} MB, not read" if len(data) > _GITMODULES_MAX
                   else _gitmodules_problem(data))
        if problem:
            out.append(f"{where} cannot be parsed by git ({problem}): submodule changes are skipped "
                       f"(ddkit never counts a submodule's pointer changes as code, nor reads its history)")
    return out


def _gitmodules_problem(data: bytes) -> str | None:
    proc = subprocess.run(git_cmd(None, "config", "--file", "-", "--list", "-z"), input=data, capture_output=True,
                          env=git_env())
    if proc.returncode != 0:
        return _first_error(proc.stderr.decode("utf-8", "replace")) or f"git config exit code {proc.returncode}"
    for entry in proc.stdout.split(b"\0"):
        key, _, value = entry.decode("utf-8", "replace").partition("\n")
        k = key.lower()
        if not k.startswith("submodule."):
            continue
        v = value.strip().lower()
        if k.endswith(".update") and (v.startswith("!") or v not in _UPDATE_MODES):
            return f"{key} = {value}"
        if k.endswith(".shallow") and v not in _BOOL and not v.lstrip("-").isdigit():
            return f"{key} = {value}"
        if k.endswith(".fetchrecursesubmodules") and v not in _BOOL | {"on-demand"} and not v.lstrip("-").isdigit():
            return f"{key} = {value}"
    return None


def work_tree_of(path: str | os.PathLike) -> str | None:
    """The top folder of the git work tree *path* lies in, or None."""
    proc = subprocess.run(git_cmd(path, "rev-parse", "--show-toplevel"), capture_output=True, env=git_env())
    top = proc.stdout.decode("utf-8", "surrogateescape").strip()
    return top if proc.returncode == 0 and top else None


def read_blob(repo: str | os.PathLike, spec: str, max_size: int | None = None) -> bytes | None:
    """Contents of REV:PATH, or None when it does not exist; with *max_size*, at most its first
    *max_size* + 1 bytes (a longer result means "too large": the rest is never read into memory)."""
    if max_size is None:
        proc = subprocess.run(git_cmd(repo, "cat-file", "blob", spec), capture_output=True, env=git_env())
        return proc.stdout if proc.returncode == 0 else None
    p = popen(repo, "cat-file", "blob", spec, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert p.stdout is not None
    data = p.stdout.read(max_size + 1)
    if len(data) > max_size:
        p.kill()
    p.stdout.close()
    rc = p.wait()
    return data if len(data) > max_size or rc == 0 else None


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
        except BrokenPipeError:   # git stopped reading: its exit status says why
            pass
        finally:
            try:
                stdin.close()
            except BrokenPipeError:   # git stopped reading: its exit status says why
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
