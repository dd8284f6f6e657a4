"""Remote repositories: URLs are cloned once into the cache (a bare mirror) and fetched on later runs.

Credentials in a URL (https://user:token@host/…, ?private_token=…) are used for git but never written to
a report, a log or the disk: every place that shows a URL shows it through
:func:`ddkit.gitutil.strip_credentials`, and the cached mirror records only the credential-free URL. The
credential URL is handed to each clone or fetch in git's environment (an ``url.<credential URL>.insteadOf
= <clean URL>`` rewrite, read only by that git process and not visible in the process list), so a token
changed in the portfolio list is the one used on the next fetch. Cache folders are private (0700).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

from . import gitutil
from .cache import cache_dir
from .errors import InputError

_URL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|[^/\s]+@[^/\s:]+:)")


def is_url(spec: str) -> bool:
    return bool(_URL.match(spec))


def clone_dir(url: str) -> Path:
    safe = gitutil.strip_credentials(url) or url
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", safe.rstrip("/").rsplit("/", 1)[-1])[:40] or "repo"
    repos = cache_dir("repos")
    try:
        os.chmod(repos, 0o700)   # mirrors of private repositories: readable by their owner only
    except OSError:
        pass                     # not ours to change (a shared cache): the mirrors themselves are 0700
    return repos / f"{hashlib.sha256(safe.encode()).hexdigest()[:16]}-{tail}"


def credential_env(url: str) -> dict[str, str]:
    """Extra git environment that makes the credential-free form of *url* fetch from *url* itself.

    Appended after any configuration gitutil already passes through the environment (GIT_CONFIG_COUNT).
    """
    clean = gitutil.strip_credentials(url) or url
    if clean == url:
        return {}
    n = int(gitutil.git_env().get("GIT_CONFIG_COUNT") or 0)
    return {"GIT_CONFIG_COUNT": str(n + 1), f"GIT_CONFIG_KEY_{n}": f"url.{url}.insteadOf",
            f"GIT_CONFIG_VALUE_{n}": clean}


def materialize(spec: str, timeout: float | None = None) -> str:
    """A local path for *spec*: the path itself, or the cached bare mirror of a URL (cloned or fetched)."""
    if not is_url(spec):
        return spec
    dest = clone_dir(spec)
    shown = gitutil.strip_credentials(spec) or spec
    env = credential_env(spec)   # git fetches from *spec*, but only *shown* is ever written down
    try:
        if (dest / "HEAD").exists():
            # A mirror made by an older ddkit may hold the token in its config: record the clean URL.
            gitutil.run(dest, "config", "remote.origin.url", shown, check=False)
            args = ["-C", str(dest), "fetch", "--quiet", "--prune", "--tags", "--force", "origin",
                    "+refs/heads/*:refs/heads/*"]
        else:
            tmp = dest.with_name(dest.name + ".partial")
            if tmp.exists():
                import shutil
                shutil.rmtree(tmp)
            # --template= : no sample hooks in the mirror; the source's configuration is never copied.
            args = ["clone", "--quiet", "--bare", "--template=", "--", shown, str(tmp)]
        proc = subprocess.run(gitutil.git_cmd(None, *args), capture_output=True, env=gitutil.git_env(env),
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InputError(f"{shown}: clone or fetch timed out") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = next((m for m in msg if m.startswith("fatal:")), msg[0] if msg else f"exit code {proc.returncode}")
        raise InputError(f"{shown}: cannot clone or fetch: {gitutil.strip_credentials(first)}")
    if not (dest / "HEAD").exists():
        os.chmod(tmp, 0o700)
        tmp.rename(dest)  # only a complete clone takes the cache's name
    return str(dest)
