"""Build small git repositories with fixed authors and dates for tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def ddkit_cli(*args, cwd=None, env=None, timeout=None) -> subprocess.CompletedProcess:
    """The command line as a user runs it (`python -m ddkit …`), its output captured as text."""
    return subprocess.run([sys.executable, "-m", "ddkit", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


class Repo:
    def __init__(self, path: Path, branch: str = "main"):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.home = self.path.parent / (self.path.name + ".home")
        self.home.mkdir(exist_ok=True)
        self.git("init", "-q", "-b", branch)
        self._n = 0

    def env(self, name: bytes | str = "Test", email: str = "test@example.com", date: str = "2020-01-01T12:00:00+00:00",
            committer: tuple[str, str] | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, HOME=str(self.home),
                   GIT_AUTHOR_EMAIL=email, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date,
                   GIT_COMMITTER_NAME=(committer or ("Test", "t@example.com"))[0],
                   GIT_COMMITTER_EMAIL=(committer or ("Test", "t@example.com"))[1])
        env = {k: v for k, v in env.items()}
        benv = {os.fsencode(k): os.fsencode(v) for k, v in env.items()}
        benv[b"GIT_AUTHOR_NAME"] = name if isinstance(name, bytes) else name.encode()
        return benv

    def git(self, *args: str, env=None, check: bool = True) -> str:
        e = env or self.env()
        out = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=self.path, env=e,
                             capture_output=True)
        if check and out.returncode != 0:
            raise RuntimeError(out.stderr.decode(errors="replace"))
        return out.stdout.decode(errors="replace").strip()

    def write(self, rel: str, content: str | bytes) -> None:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)

    def commit(self, files: dict[str, str | bytes | None] | None = None, *, name: bytes | str = "Test",
               email: str = "test@example.com", date: str = "2020-01-01T12:00:00+00:00", msg: str | None = None,
               allow_empty: bool = False, committer: tuple[str, str] | None = None) -> str:
        for rel, content in (files or {}).items():
            if content is None:
                self.git("rm", "-q", rel)
            else:
                self.write(rel, content)
                self.git("add", rel)
        self._n += 1
        args = ["commit", "-q", "-m", msg or f"commit {self._n}"]
        if allow_empty:
            args.append("--allow-empty")
        self.git(*args, env=self.env(name, email, date, committer=committer))
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def workbook_parts(path) -> dict[str, bytes]:
    """Every part of an .xlsx, with the modification time openpyxl stamps from the clock taken out."""
    import re
    import zipfile
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["docProps/core.xml"] = re.sub(rb"<dcterms:modified[^<]*</dcterms:modified>", b"", parts["docProps/core.xml"])
    return parts
