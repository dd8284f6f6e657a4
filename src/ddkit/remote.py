"""Remote repositories: URLs are cloned once into the cache (a bare mirror) and fetched on later runs.

Credentials in a URL (https://user:token@host/…) are used for git but never written to a report or a
log: every place that shows a URL shows it through :func:`ddkit.gitutil.strip_credentials`.
"""

from __future__ import annotations

import hashlib
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
    return cache_dir("repos") / f"{hashlib.sha256(safe.encode()).hexdigest()[:16]}-{tail}"


def materialize(spec: str, timeout: float | None = None) -> str:
    """A local path for *spec*: the path itself, or the cached bare mirror of a URL (cloned or fetched)."""
    if not is_url(spec):
        return spec
    dest = clone_dir(spec)
    shown = gitutil.strip_credentials(spec)
    try:
        if (dest / "HEAD").exists():
            args = ["-C", str(dest), "fetch", "--quiet", "--prune", "--tags", "--force", "origin",
                    "+refs/heads/*:refs/heads/*"]
        else:
            tmp = dest.with_name(dest.name + ".partial")
            if tmp.exists():
                import shutil
                shutil.rmtree(tmp)
            # --template= : no sample hooks in the mirror; the source's configuration is never copied.
            args = ["clone", "--quiet", "--bare", "--template=", "--", spec, str(tmp)]
        proc = subprocess.run(gitutil.git_cmd(None, *args), capture_output=True, env=gitutil.git_env(),
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InputError(f"{shown}: clone or fetch timed out") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = next((m for m in msg if m.startswith("fatal:")), msg[0] if msg else f"exit code {proc.returncode}")
        raise InputError(f"{shown}: cannot clone or fetch: {gitutil.strip_credentials(first)}")
    if not (dest / "HEAD").exists():
        tmp.rename(dest)  # only a complete clone takes the cache's name
    return str(dest)
