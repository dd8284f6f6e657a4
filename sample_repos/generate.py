"""Deterministic sample company repositories with known answers.

    python sample_repos/generate.py OUTDIR [--name acme|globex|all] [--synthetic N] [--write-answers]

``build(name, dest)`` creates ``dest/name``, a git repository whose every commit has fixed author and
committer names, e-mails and dates, so that building twice gives the same HEAD sha. The generator keeps
its own model of every file as a list of lines, each tagged with the person and the commit that wrote
it, and of every commit's changes; ``answers(name)`` derives from that bookkeeping (not from running
git blame or ddkit) what a correct scan must report: people, commit counts, surviving lines per file
and person, departed people, IP and ownership findings, licenses, authors per file and truck factors.

``build_synthetic(n, dest)`` writes a large repository (for benchmarks) with ``git fast-import``.

Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = ("acme", "globex", "initech", "hooli")
AS_OF = "2024-06-30"
INACTIVITY_DAYS = 365
VENDORED = ("vendor/", "third_party/")
SOURCE_EXT = {".py", ".c", ".h", ".js", ".ts", ".go", ".java", ".rb", ".sh"}


# --------------------------------------------------------------------------- people of each sample
@dataclass(frozen=True)
class Who:
    person: str          # the person the answers name (roster name, or git name when not on the roster)
    name: bytes          # author name as recorded in the commit (may be non-UTF-8)
    email: str


@dataclass
class Line:
    text: str
    person: str
    commit: int          # index in Model.commits


@dataclass
class Model:
    files: dict[str, list[Line] | bytes] = field(default_factory=dict)
    commits: list[dict] = field(default_factory=list)
    counter: int = 0


class Builder:
    """Writes commits to a real repository and keeps the bookkeeping model in step."""

    def __init__(self, path: Path):
        self.path = path
        self.model = Model()
        self.home = Path(tempfile.mkdtemp(prefix="ddkit-sample-home-"))
        self.pending: list[tuple[str, str, str | None]] = []   # (status, path, old path)
        self.git("init", "-q", "-b", "main")

    # -- git
    def env(self, who: Who, date: str) -> dict[bytes, bytes]:
        env = {k.encode(): v.encode() for k, v in os.environ.items()
               if not k.startswith("GIT_") and k not in ("HOME", "XDG_CONFIG_HOME")}
        stamp = f"{date}T12:00:00+00:00".encode()
        env.update({b"HOME": str(self.home).encode(), b"GIT_CONFIG_NOSYSTEM": b"1",
                    b"GIT_CONFIG_GLOBAL": os.devnull.encode(), b"GIT_AUTHOR_NAME": who.name,
                    b"GIT_AUTHOR_EMAIL": who.email.encode(), b"GIT_AUTHOR_DATE": stamp,
                    b"GIT_COMMITTER_NAME": who.name, b"GIT_COMMITTER_EMAIL": who.email.encode(),
                    b"GIT_COMMITTER_DATE": stamp, b"LC_ALL": b"C"})
        return env

    def git(self, *args: str, env: dict | None = None) -> str:
        e = env or self.env(Who("x", b"x", "x@x"), "2000-01-01")
        proc = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false",
                               "-c", "i18n.commitEncoding=UTF-8", *args], cwd=self.path, env=e, capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode(errors="replace").strip()

    # -- content
    def new_line(self, path: str, who: Who) -> Line:
        self.model.counter += 1
        n = self.model.counter
        stem = Path(path).stem.replace("-", "_").replace(".", "_").upper() or "FILE"
        ext = Path(path).suffix
        if ext == ".py":
            text = f"{stem}_{n} = 'v{n}'"
        elif ext in (".c", ".h"):
            text = f"int {stem.lower()}_{n} = {n};"
        elif ext in (".js", ".ts"):
            text = f"const {stem.lower()}_{n} = {n};"
        elif path.endswith("requirements.txt"):
            text = f"package-{n}=={n % 7}.{n % 5}.0"
        else:
            text = f"Line {n} of {Path(path).name}."
        return Line(text, who.person, len(self.model.commits))

    def _write(self, path: str) -> None:
        p = self.path / path
        p.parent.mkdir(parents=True, exist_ok=True)
        content = self.model.files[path]
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text("".join(l.text + "\n" for l in content), encoding="utf-8")

    def add(self, path: str, who: Who, n: int = 0, text: list[str] | None = None) -> None:
        lines = [Line(t, who.person, len(self.model.commits)) for t in (text or [])]
        lines += [self.new_line(path, who) for _ in range(n)]
        self.model.files[path] = lines
        self._write(path)
        self.pending.append(("A", path, None))

    def add_binary(self, path: str, data: bytes) -> None:
        self.model.files[path] = data
        self._write(path)
        self.pending.append(("A", path, None))

    def append(self, path: str, who: Who, n: int) -> None:
        self.model.files[path] += [self.new_line(path, who) for _ in range(n)]
        self._write(path)
        self.pending.append(("M", path, None))

    def replace(self, path: str, who: Who, start: int, count: int, text: list[str] | None = None) -> None:
        lines = self.model.files[path]
        new = [Line(t, who.person, len(self.model.commits)) for t in text] if text else \
            [self.new_line(path, who) for _ in range(count)]
        lines[start:start + count] = new
        self._write(path)
        self.pending.append(("M", path, None))

    def reindent(self, path: str, start: int, count: int) -> None:
        """A whitespace-only change: under blame -w the lines keep their authors."""
        for l in self.model.files[path][start:start + count]:
            l.text = "    " + l.text
        self._write(path)
        self.pending.append(("M", path, None))

    def requote(self, path: str, start: int, count: int) -> None:
        """A mechanical change (quote style); its commit goes into .git-blame-ignore-revs."""
        for l in self.model.files[path][start:start + count]:
            l.text = l.text.replace("'", '"')
        self._write(path)
        self.pending.append(("M", path, None))

    def rename(self, old: str, new: str) -> None:
        self.model.files[new] = self.model.files.pop(old)
        self.git("mv", old, new)
        self.pending.append(("R", new, old))

    def delete(self, path: str) -> None:
        del self.model.files[path]
        self.git("rm", "-q", path)
        self.pending.append(("D", path, None))

    def commit(self, who: Who, date: str, msg: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", msg, env=self.env(who, date))
        sha = self.git("rev-parse", "HEAD")
        self.model.commits.append(dict(sha=sha, person=who.person, email=who.email.lower(), date=date,
                                       merge=False, changes=list(self.pending)))
        self.pending = []
        return sha

    def merge(self, branch: str, who: Who, date: str, msg: str) -> str:
        self.git("merge", "-q", "--no-ff", "-m", msg, branch, env=self.env(who, date))
        sha = self.git("rev-parse", "HEAD")
        self.model.commits.append(dict(sha=sha, person=who.person, email=who.email.lower(), date=date,
                                       merge=True, changes=[]))
        return sha


# --------------------------------------------------------------------------- license texts
GPL_HEADER = [
    "/* minijson - a small JSON parser",
    " * Copyright (C) 2015 Jane Hacker <jane@hacker.example>",
    " *",
    " * This program is free software; you can redistribute it and/or modify",
    " * it under the terms of the GNU General Public License as published by",
    " * the Free Software Foundation; either version 2 of the License, or",
    " * (at your option) any later version.",
    " *",
    " * This program is distributed in the hope that it will be useful,",
    " * but WITHOUT ANY WARRANTY; without even the implied warranty of",
    " * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the",
    " * GNU General Public License for more details.",
    " */",
]
MIT_HEADER = [
    "# Copyright (c) 2016 Some Other Corp.",
    "#",
    "# Permission is hereby granted, free of charge, to any person obtaining a copy",
    "# of this software and associated documentation files (the \"Software\"), to deal",
    "# in the Software without restriction, including without limitation the rights",
    "# to use, copy, modify, merge, publish, distribute, sublicense, and/or sell",
    "# copies of the Software, and to permit persons to whom the Software is",
    "# furnished to do so, subject to the following conditions:",
    "#",
    "# The above copyright notice and this permission notice shall be included in",
    "# all copies or substantial portions of the Software.",
    "#",
    "# THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR",
    "# IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,",
    "# FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.",
]
AGPL_HEADER = [
    "/* widget.js - embeddable chart widget",
    " * Copyright (C) 2017 Widget Hackers",
    " *",
    " * This program is free software: you can redistribute it and/or modify",
    " * it under the terms of the GNU Affero General Public License as published by",
    " * the Free Software Foundation, either version 3 of the License, or",
    " * (at your option) any later version.",
    " *",
    " * This program is distributed in the hope that it will be useful,",
    " * but WITHOUT ANY WARRANTY; without even the implied warranty of",
    " * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the",
    " * GNU Affero General Public License for more details.",
    " */",
]
LGPL_HEADER = [
    "/* lgpl_helper - numeric helpers",
    " * Copyright (C) 2012 Free Helper Project",
    " *",
    " * This library is free software; you can redistribute it and/or",
    " * modify it under the terms of the GNU Lesser General Public",
    " * License as published by the Free Software Foundation; either",
    " * version 2.1 of the License, or (at your option) any later version.",
    " *",
    " * This library is distributed in the hope that it will be useful,",
    " * but WITHOUT ANY WARRANTY; without even the implied warranty of",
    " * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU",
    " * Lesser General Public License for more details.",
    " */",
]
PNG = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52,
             0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0])
AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


# --------------------------------------------------------------------------- acme
def _acme(b: Builder) -> dict:
    alice_p = Who("Alice Founder", b"Alice", "alice.f@gmail.com")
    alice = Who("Alice Founder", b"Alice Founder", "alice@acme.example")
    bob = Who("Bob Engineer", b"Bob Engineer", "bob@acme.example")
    bob_p = Who("Bob Engineer", b"Bob E", "bob.engineer@gmail.com")
    robert = Who("Bob Engineer", b"Robert Engineer", "robert@acme.example")
    carol = Who("Carol Lead", b"Carol Lead", "carol@acme.example")
    carol_uc = Who("Carol Lead", b"Carol Lead", "CAROL@ACME.EXAMPLE")
    carol_gh = Who("Carol Lead", b"Carol Lead", "12345+carol-gh@users.noreply.github.com")
    dan = Who("Dan Freelancer", b"Dan Freelancer", "dan.freelance@gmail.com")
    eve = Who("Eve Agency", b"Eve Agency", "eve@codeforge.example")
    frank = Who("Frank Agency", b"Frank Agency", "frank@codeforge.example")
    heidi = Who("Heidi Former", b"Heidi Former", "heidi@acme.example")
    jose = Who("José Núñez", "José Núñez".encode("latin-1"), "jose@acme.example")
    ivy = Who("Ivy Intern", b"Ivy Intern", "ivy@acme.example")
    ivan = Who("Ivan Outsider", b"Ivan Outsider", "ivan@outsider.example")
    zed = Who("zed1984", b"zed1984", "zed1984@yahoo.com")
    dependabot = Who("dependabot[bot]", b"dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    gha = Who("github-actions[bot]", b"github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")

    b.add("core/ledger.py", alice_p, 30)
    b.add("README.md", alice_p, 5)
    b.commit(alice_p, "2019-01-10", "Start the ledger")
    b.add("core/util.py", alice_p, 20)
    b.commit(alice_p, "2019-02-15", "Utilities")
    b.append("core/ledger.py", alice_p, 10)
    b.commit(alice_p, "2019-04-20", "Ledger balances")
    b.add("LICENSE", alice, text=["Copyright (c) 2019-2024 Acme Payments Inc. All rights reserved.", "",
                                  "Proprietary and confidential. Unauthorized copying of this software,",
                                  "via any medium, is strictly prohibited."])
    b.add(".mailmap", alice, text=["# Acme identities",
                                   "Alice Founder <alice@acme.example> Alice <alice.f@gmail.com>",
                                   "Bob Engineer <bob@acme.example> Bob E <bob.engineer@gmail.com>"])
    b.add("core/accounts.py", alice, 25)
    b.commit(alice, "2019-06-10", "Accounts, license, mailmap")
    b.add("api/server.py", bob, 30)
    b.add("requirements.txt", bob, 5)
    b.commit(bob, "2019-07-15", "API server")
    b.append("api/server.py", bob_p, 10)
    b.commit(bob_p, "2019-08-05", "Server health check")
    b.add("api/routes.py", carol, 25)
    b.commit(carol, "2019-09-10", "Routes")
    b.add("core/reports.py", heidi, 30)
    b.commit(heidi, "2019-10-01", "Reports")
    b.replace("core/accounts.py", alice, 5, 5)
    b.commit(alice, "2019-11-12", "Account limits")
    b.append("core/ledger.py", heidi, 8)
    b.commit(heidi, "2020-01-20", "Ledger export")
    b.add("vendor/minijson/json.c", bob, 20, text=GPL_HEADER)
    b.add("vendor/minijson/json.h", bob, 10, text=GPL_HEADER)
    b.commit(bob, "2020-02-10", "Vendor minijson")
    b.add_binary("assets/logo.png", PNG)
    b.commit(bob, "2020-03-05", "Logo")
    b.replace("api/routes.py", carol_uc, 10, 4)
    b.commit(carol_uc, "2020-04-01", "Route fixes")
    b.rename("core/util.py", "core/helpers.py")
    b.commit(robert, "2020-05-15", "Rename util to helpers")
    b.add("api/payments.py", dan, 30)
    b.commit(dan, "2020-07-06", "Payments endpoint")
    b.add("api/retry.py", dan, 15, text=MIT_HEADER)
    b.commit(dan, "2020-08-10", "Retry helper")
    b.replace("api/payments.py", dan, 2, 5)
    b.commit(dan, "2020-09-01", "Payments validation")
    b.append("api/payments.py", dan, 10)
    b.commit(dan, "2020-10-05", "Payments refunds")
    b.replace("api/server.py", heidi, 20, 3)
    b.commit(heidi, "2020-11-20", "Server timeouts")
    b.replace("api/retry.py", dan, 20, 2)
    b.commit(dan, "2021-02-10", "Retry jitter")
    b.add("tools/migrate.py", ivan, 12)
    b.commit(ivan, "2021-03-03", "Migration script")
    b.append("tools/migrate.py", ivan, 3)
    b.commit(ivan, "2021-04-14", "Migration dry run")
    b.add("core/fx.py", jose, 20)
    b.commit(jose, "2021-05-10", "Currency conversion")
    b.add("config/settings.py", bob, 3, text=[f'AWS_ACCESS_KEY_ID = "{AWS_ID}"', f'AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"'])
    leak = b.commit(bob, "2021-06-01", "Settings")
    b.replace("config/settings.py", bob, 0, 2, text=["import os",
                                                      "AWS_SECRET_ACCESS_KEY = os.environ['AWS_SECRET_ACCESS_KEY']"])
    b.commit(bob, "2021-06-02", "Read credentials from the environment")
    b.reindent("core/reports.py", 10, 5)
    b.commit(bob, "2021-07-01", "Indentation")
    b.replace("core/ledger.py", alice, 12, 3)
    b.commit(alice, "2021-09-09", "Ledger rounding")
    b.append("core/accounts.py", alice, 5)
    b.commit(alice, "2021-12-01", "Account closing")
    b.requote("core/ledger.py", 0, 5)
    requote = b.commit(carol, "2022-01-10", "Normalize quotes")
    b.add(".git-blame-ignore-revs", carol, text=["# Quote-style normalization", requote])
    b.commit(carol, "2022-01-11", "Ignore the quote normalization in blame")
    b.git("checkout", "-q", "-b", "feature/billing")
    b.add("billing/invoice.py", eve, 40)
    b.commit(eve, "2022-02-01", "Invoices")
    b.add("billing/tax.py", frank, 30)
    b.commit(frank, "2022-02-15", "Tax rules")
    b.append("billing/invoice.py", eve, 10)
    b.commit(eve, "2022-03-01", "Invoice numbering")
    b.git("checkout", "-q", "main")
    b.merge("feature/billing", carol, "2022-03-05", "Merge billing")
    b.append("api/routes.py", carol_gh, 5)
    b.commit(carol_gh, "2022-04-01", "Billing routes")
    b.replace("requirements.txt", dependabot, 1, 1)
    b.commit(dependabot, "2022-05-10", "Bump package")
    b.replace("core/reports.py", heidi, 0, 4)
    b.commit(heidi, "2022-06-01", "Report headers")
    b.replace("billing/tax.py", eve, 5, 5)
    b.commit(eve, "2022-09-01", "Tax rates 2023")
    b.add("billing/reconcile.py", frank, 25)
    b.commit(frank, "2022-11-01", "Reconciliation")
    b.append("core/helpers.py", heidi, 4)
    b.commit(heidi, "2023-01-15", "Helpers for reports")
    b.add("api/schema_pb2.py", bob, 15, text=["# -*- coding: utf-8 -*-",
                                              "# Generated by the protocol buffer compiler.  DO NOT EDIT!"])
    b.commit(bob, "2023-03-01", "Protobuf schema")
    b.add("api/validators.py", ivy, 15)
    b.commit(ivy, "2023-06-15", "Validators")
    b.append("api/validators.py", ivy, 5)
    b.commit(ivy, "2023-07-20", "More validators")
    b.add("CHANGELOG.md", gha, 3)
    b.commit(gha, "2023-09-01", "Update changelog")
    b.replace("billing/invoice.py", eve, 20, 6)
    b.commit(eve, "2023-10-01", "Invoice layout")
    b.append("billing/reconcile.py", frank, 8)
    b.commit(frank, "2024-01-10", "Reconcile refunds")
    b.add("docs/hashes.md", bob, text=[
        "# Release checksums",
        "sha256 of ddkit-sample-1.0.tar.gz: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "Configure with API_KEY=<your-key-here> before running."])
    b.commit(bob, "2024-02-01", "Release checksums")
    b.append("README.md", zed, 2)
    b.commit(zed, "2024-03-12", "Fix typo in README")
    b.append("billing/tax.py", eve, 6)
    b.commit(eve, "2024-04-02", "Tax exemptions")
    b.append("api/server.py", carol, 4)
    b.commit(carol, "2024-05-20", "Server metrics")
    b.replace("requirements.txt", dependabot, 3, 1)
    b.commit(dependabot, "2024-05-28", "Bump another package")
    return {
        "bots": ["dependabot[bot]", "github-actions[bot]"],
        "licenses": [
            {"path": "LICENSE", "license_spdx": None, "holders": ["Acme Payments Inc."], "third_party": False},
            {"path": "api/retry.py", "license_spdx": "MIT", "holders": ["Some Other Corp."], "third_party": True},
            {"path": "vendor/minijson/json.c", "license_spdx": "GPL-2.0-or-later", "holders": ["Jane Hacker"],
             "third_party": True},
            {"path": "vendor/minijson/json.h", "license_spdx": "GPL-2.0-or-later", "holders": ["Jane Hacker"],
             "third_party": True},
        ],
        "license_findings": [
            {"rule": "lic.strong-copyleft", "path": "vendor/minijson/json.c", "introduced_by": "Bob Engineer"},
            {"rule": "lic.strong-copyleft", "path": "vendor/minijson/json.h", "introduced_by": "Bob Engineer"},
            {"rule": "lic.third-party-copyright", "subject": "Jane Hacker"},
            {"rule": "lic.third-party-copyright", "subject": "Some Other Corp.", "introduced_by": "Dan Freelancer"},
        ],
        "secrets": [{"path": "config/settings.py", "commit": leak, "present_at_head": False,
                     "detectors": ["AWS Access Key"]}],
        "secret_lookalikes": ["docs/hashes.md"],
    }


# --------------------------------------------------------------------------- globex
def _globex(b: Builder) -> dict:
    greta = Who("Greta Main", b"Greta Main", "greta@globex.example")
    hans = Who("Hans Helper", b"Hans Helper", "hans@globex.example")
    kim = Who("Kim Contract", b"Kim Contract", "kim@kimdev.example")
    b.add("src/engine.py", greta, 40)
    b.add("README.md", greta, 4)
    b.commit(greta, "2018-04-02", "Engine")
    b.add("src/model.py", greta, 30)
    b.commit(greta, "2018-06-11", "Model")
    b.add("src/io.py", greta, 25)
    b.commit(greta, "2018-09-03", "IO")
    b.add("src/cli.py", hans, 20)
    b.commit(hans, "2019-02-04", "CLI")
    b.replace("src/engine.py", greta, 3, 6)
    b.commit(greta, "2019-05-06", "Engine speed-up")
    b.add("src/lgpl_helper.c", hans, 15, text=LGPL_HEADER)
    b.commit(hans, "2019-08-19", "Numeric helper")
    b.add("third_party/agpl_widget/widget.js", hans, 20, text=AGPL_HEADER)
    b.commit(hans, "2019-10-14", "Chart widget")
    b.add("src/export.py", kim, 25)
    b.commit(kim, "2020-03-02", "Export")
    b.append("src/export.py", kim, 8)
    b.commit(kim, "2020-06-15", "Export to parquet")
    b.append("src/model.py", greta, 10)
    b.commit(greta, "2021-01-11", "Model versions")
    b.add("src/stats.py", greta, 30)
    b.commit(greta, "2021-07-05", "Statistics")
    b.replace("src/io.py", greta, 2, 4)
    b.commit(greta, "2022-02-14", "IO retries")
    b.append("src/cli.py", greta, 6)
    b.commit(greta, "2022-10-03", "CLI options")
    b.add("src/report.py", greta, 20)
    b.commit(greta, "2023-05-22", "Reports")
    b.append("src/stats.py", hans, 5)
    b.commit(hans, "2024-04-08", "Percentiles")
    return {
        "bots": [],
        "licenses": [
            {"path": "src/lgpl_helper.c", "license_spdx": "LGPL-2.1-or-later", "holders": ["Free Helper Project"],
             "third_party": True},
            {"path": "third_party/agpl_widget/widget.js", "license_spdx": "AGPL-3.0-or-later",
             "holders": ["Widget Hackers"], "third_party": True},
        ],
        "license_findings": [
            {"rule": "lic.network-copyleft", "path": "third_party/agpl_widget/widget.js", "introduced_by": "Hans Helper"},
            {"rule": "lic.weak-copyleft", "path": "src/lgpl_helper.c", "introduced_by": "Hans Helper"},
            # An Apache-2.0 product: third-party notices are information, one finding lists both holders.
            {"rule": "lic.third-party-copyright", "subject": "2 third-party copyright holders",
             "subjects": ["Free Helper Project", "Widget Hackers"]},
            {"rule": "lic.missing-project-license", "subject": None},
        ],
        "secrets": [],
        "secret_lookalikes": [],
    }


# --------------------------------------------------------------------------- initech (dependencies)
GPLMATH_HEADER = ["/* gplmath - arbitrary precision helpers"] + GPL_HEADER[1:]


def _integrity(name: str, version: str) -> str:
    import base64
    import hashlib
    return "sha512-" + base64.b64encode(hashlib.sha512(f"{name}@{version}".encode()).digest()).decode()


def _package_lock(pkgs: list[dict], root_deps: dict, root_dev: dict) -> list[str]:
    """An npm lockfile v3 for *pkgs* ({name, version, license, dev}), as lines."""
    doc = {"name": "initech-web", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
           "packages": {"": {"name": "initech-web", "version": "1.0.0", "license": "UNLICENSED",
                             **({"dependencies": root_deps} if root_deps else {}),
                             **({"devDependencies": root_dev} if root_dev else {})}}}
    for p in sorted(pkgs, key=lambda p: p["name"]):
        entry = {"version": p["version"],
                 "resolved": f"https://registry.npmjs.org/{p['name']}/-/{p['name']}-{p['version']}.tgz",
                 "integrity": _integrity(p["name"], p["version"])}
        if p.get("dev"):
            entry["dev"] = True
        if p.get("license"):
            entry["license"] = p["license"]
        if p.get("requires"):
            entry["dependencies"] = p["requires"]
        doc["packages"][f"node_modules/{p['name']}"] = entry
    return json.dumps(doc, indent=2).splitlines()


def _go_sum(mods: list[tuple[str, str]]) -> list[str]:
    import base64
    import hashlib
    out = []
    for m, v in sorted(mods):
        h = base64.b64encode(hashlib.sha256(f"{m}@{v}".encode()).digest()).decode()
        g = base64.b64encode(hashlib.sha256(f"{m}@{v}/go.mod".encode()).digest()).decode()
        out += [f"{m} {v} h1:{h}", f"{m} {v}/go.mod h1:{g}"]
    return out


def _initech(b: Builder) -> dict:
    """A product with npm, PyPI and Go dependencies added by an employee, a contractor without an assignment
    and a vendor's staff; the answers list every dependency row and who added it."""
    nina = Who("Nina Lead", b"Nina Lead", "nina@initech.example")
    raj = Who("Raj Dev", b"Raj Dev", "raj@initech.example")
    omar = Who("Omar Contract", b"Omar Contract", "omar@omardev.example")
    vera = Who("Vera Vendor", b"Vera Vendor", "vera@vendorly.example")
    added: dict[tuple[str, str], dict] = {}      # (ecosystem, name) -> who added it, when
    decl: dict[tuple[str, str], tuple[str, str]] = {}   # (ecosystem, name) -> (manifest, declaring line text)

    def record(eco: str, name: str, who: Who, sha: str, date: str) -> None:
        added[(eco, name)] = dict(added_by=who.person, added_sha=sha, added_date=date)

    npm = {"left-pad": dict(name="left-pad", version="1.3.0", license="MIT"),
           "chart-agpl": dict(name="chart-agpl", version="2.0.1", license="AGPL-3.0-only",
                              requires={"tiny-dep": "^1.0.0"}),
           "tiny-dep": dict(name="tiny-dep", version="1.0.0", license="MIT"),
           "gpl-linter": dict(name="gpl-linter", version="0.4.2", license="GPL-3.0-only", dev=True)}

    b.add("README.md", nina, 4)
    b.add("LICENSE", nina, text=["Copyright (c) 2020-2024 Initech Software Inc. All rights reserved.", "",
                                 "Proprietary and confidential."])
    b.add("app/main.py", nina, 20)
    b.commit(nina, "2020-11-02", "Start the product")
    # npm: left-pad, by an employee.
    b.add("web/package.json", nina, text=['{', '  "name": "initech-web",', '  "version": "1.0.0",',
                                          '  "private": true,', '  "license": "UNLICENSED",',
                                          '  "dependencies": {', '    "left-pad": "^1.3.0"', '  },',
                                          '  "devDependencies": {}', '}'])
    b.add("web/package-lock.json", nina, text=_package_lock([npm["left-pad"]], {"left-pad": "^1.3.0"}, {}))
    b.add("web/app.js", nina, 15)
    sha = b.commit(nina, "2021-02-01", "Web front end")
    record("npm", "left-pad", nina, sha, "2021-02-01")
    decl[("npm", "left-pad")] = ("web/package.json", '    "left-pad": "^1.3.0"')
    # PyPI: requests, by an employee (the file is renamed later).
    b.add("requirements-prod.txt", nina, text=["requests==2.31.0"])
    sha = b.commit(nina, "2021-03-01", "Python requirements")
    record("pypi", "requests", nina, sha, "2021-03-01")
    decl[("pypi", "requests")] = ("requirements-prod.txt", "requests==2.31.0")
    # npm: an AGPL chart library, by a vendor's staff (no assignment).
    b.replace("web/package.json", vera, 6, 0, text=['    "chart-agpl": "2.0.1",'])
    b.replace("web/package-lock.json", vera, 0, len(b.model.files["web/package-lock.json"]),
              text=_package_lock([npm["left-pad"], npm["chart-agpl"], npm["tiny-dep"]],
                                 {"chart-agpl": "2.0.1", "left-pad": "^1.3.0"}, {}))
    sha = b.commit(vera, "2021-05-03", "Charts")
    record("npm", "chart-agpl", vera, sha, "2021-05-03")
    decl[("npm", "chart-agpl")] = ("web/package.json", '    "chart-agpl": "2.0.1",')
    # npm: a GPL linter as a dev dependency, by a contractor.
    i = next(k for k, l in enumerate(b.model.files["web/package.json"]) if "devDependencies" in l.text)
    b.replace("web/package.json", omar, i, 1, text=['  "devDependencies": {', '    "gpl-linter": "~0.4.0"', '  }'])
    b.replace("web/package-lock.json", omar, 0, len(b.model.files["web/package-lock.json"]),
              text=_package_lock([npm[x] for x in ("left-pad", "chart-agpl", "tiny-dep", "gpl-linter")],
                                 {"chart-agpl": "2.0.1", "left-pad": "^1.3.0"}, {"gpl-linter": "~0.4.0"}))
    sha = b.commit(omar, "2021-06-07", "Lint the front end")
    record("npm", "gpl-linter", omar, sha, "2021-06-07")
    decl[("npm", "gpl-linter")] = ("web/package.json", '    "gpl-linter": "~0.4.0"')
    # Go: a GPL module, vendored, by a contractor.
    b.add("go.mod", omar, text=["module example.com/initech", "", "go 1.21", "", "require (",
                                "\tgithub.com/gplmath/gplmath v1.2.0", ")"])
    b.add("go.sum", omar, text=_go_sum([("github.com/gplmath/gplmath", "v1.2.0")]))
    b.add("vendor/github.com/gplmath/gplmath/math.go", omar, 12, text=GPLMATH_HEADER)
    b.add("svc/main.go", omar, 10)
    sha = b.commit(omar, "2021-07-12", "Pricing service")
    record("golang", "github.com/gplmath/gplmath", omar, sha, "2021-07-12")
    decl[("golang", "github.com/gplmath/gplmath")] = ("go.mod", "\tgithub.com/gplmath/gplmath v1.2.0")
    # PyPI: a package with no license anywhere, by a vendor's staff.
    b.replace("requirements-prod.txt", vera, 1, 0, text=["nolicense-pkg==0.1.0"])
    sha = b.commit(vera, "2021-08-02", "Report helper")
    record("pypi", "nolicense-pkg", vera, sha, "2021-08-02")
    decl[("pypi", "nolicense-pkg")] = ("requirements-prod.txt", "nolicense-pkg==0.1.0")
    # Go: uuid, by an employee.
    b.replace("go.mod", nina, 5, 0, text=["\tgithub.com/google/uuid v1.3.0"])
    b.replace("go.sum", nina, 0, len(b.model.files["go.sum"]),
              text=_go_sum([("github.com/gplmath/gplmath", "v1.2.0"), ("github.com/google/uuid", "v1.3.0")]))
    sha = b.commit(nina, "2021-09-01", "Request ids")
    record("golang", "github.com/google/uuid", nina, sha, "2021-09-01")
    decl[("golang", "github.com/google/uuid")] = ("go.mod", "\tgithub.com/google/uuid v1.3.0")
    # Version bumps are not additions.
    b.replace("requirements-prod.txt", raj, 0, 1, text=["requests==2.32.0"])
    b.commit(raj, "2022-01-10", "Bump requests")
    decl[("pypi", "requests")] = ("requirements-prod.txt", "requests==2.32.0")
    # A rename of the manifest keeps who added each dependency.
    b.rename("requirements-prod.txt", "requirements.txt")
    b.commit(nina, "2022-03-01", "One requirements file")
    for k, (m, t) in list(decl.items()):
        if m == "requirements-prod.txt":
            decl[k] = ("requirements.txt", t)
    i = next(k for k, l in enumerate(b.model.files["web/package.json"]) if '"left-pad"' in l.text)
    b.replace("web/package.json", raj, i, 1, text=['    "left-pad": "^1.3.1"'])
    npm["left-pad"]["version"] = "1.3.1"
    b.replace("web/package-lock.json", raj, 0, len(b.model.files["web/package-lock.json"]),
              text=_package_lock([npm[x] for x in ("left-pad", "chart-agpl", "tiny-dep", "gpl-linter")],
                                 {"chart-agpl": "2.0.1", "left-pad": "^1.3.1"}, {"gpl-linter": "~0.4.0"}))
    b.commit(raj, "2022-06-01", "Bump left-pad")
    decl[("npm", "left-pad")] = ("web/package.json", '    "left-pad": "^1.3.1"')
    b.append("app/main.py", raj, 5)
    b.commit(raj, "2023-02-01", "Main loop")

    # The answers: every (manifest, dependency) row at HEAD, from this bookkeeping.
    def line_of(path: str, text: str) -> int:
        return next(k for k, l in enumerate(b.model.files[path], start=1) if l.text == text)

    def lock_line(path: str, needle: str) -> int:
        return next(k for k, l in enumerate(b.model.files[path], start=1) if needle in l.text)

    licenses = {("npm", "left-pad"): ("MIT", "lockfile"), ("npm", "chart-agpl"): ("AGPL-3.0-only", "lockfile"),
                ("npm", "tiny-dep"): ("MIT", "lockfile"), ("npm", "gpl-linter"): ("GPL-3.0-only", "lockfile"),
                ("pypi", "requests"): ("Apache-2.0", "environment"), ("pypi", "nolicense-pkg"): (None, "none"),
                ("golang", "github.com/gplmath/gplmath"): ("GPL-2.0-or-later", "vendored"),
                ("golang", "github.com/google/uuid"): ("BSD-3-Clause", "sbom")}
    rows = []

    def row(eco, name, version, purl, scope, direct, manifest, line):
        lic, src = licenses[(eco, name)]
        who = added.get((eco, name), {}) if direct else {}
        rows.append(dict(purl=purl, name=name, version=version, ecosystem=eco, scope=scope, direct=direct,
                         license_spdx=lic, license_source=src, manifest=manifest, line=line,
                         added_by=who.get("added_by"), added_sha=who.get("added_sha"),
                         added_date=who.get("added_date")))

    for (eco, name), (path, text) in decl.items():
        version = {"npm": lambda t: t.split(":", 1)[1].strip().strip(",").strip('"'),
                   "pypi": lambda t: t[len(name):], "golang": lambda t: t.split()[-1]}[eco](text)  # noqa: B023 (called at once)
        exact = version.lstrip("=") if (eco != "npm" or version[0].isdigit()) else None
        purl = f"pkg:{eco}/{name}" + (f"@{exact}" if exact else "")
        scope = "dev" if name == "gpl-linter" else "runtime"
        row(eco, name, version, purl, scope, True, path, line_of(path, text))
    for name, p in npm.items():
        row("npm", name, p["version"], f"pkg:npm/{name}@{p['version']}", "dev" if p.get("dev") else "runtime",
            name != "tiny-dep", "web/package-lock.json", lock_line("web/package-lock.json", f'"node_modules/{name}"'))
    for mod, v in (("github.com/gplmath/gplmath", "v1.2.0"), ("github.com/google/uuid", "v1.3.0")):
        row("golang", mod, v, f"pkg:golang/{mod}@{v}", "runtime", True, "go.sum", lock_line("go.sum", mod + " "))
    rows.sort(key=lambda r: (r["ecosystem"], r["name"], r["manifest"]))
    return {
        "bots": [],
        "licenses": [
            {"path": "LICENSE", "license_spdx": None, "holders": ["Initech Software Inc."], "third_party": False},
            {"path": "vendor/github.com/gplmath/gplmath/math.go", "license_spdx": "GPL-2.0-or-later",
             "holders": ["Jane Hacker"], "third_party": True},
        ],
        # The vendored GPL copy is the same component as the declared Go module: one dep.* finding, no lic.*.
        "license_findings": [
            {"rule": "lic.third-party-copyright", "subject": "Jane Hacker"},
        ],
        "secrets": [],
        "secret_lookalikes": [],
        "dependencies": rows,
        "dependency_findings": [
            {"rule": "dep.network-copyleft", "subject": "chart-agpl (npm)", "added_by": "Vera Vendor",
             "severity": "critical"},
            {"rule": "dep.strong-copyleft", "subject": "github.com/gplmath/gplmath (golang)",
             "added_by": "Omar Contract", "severity": "high",
             "vendored_files": ["vendor/github.com/gplmath/gplmath/math.go"]},
            {"rule": "dep.unknown-license", "subject": "nolicense-pkg (pypi)", "added_by": "Vera Vendor",
             "severity": "low"},
        ],
        # Inputs a scan is given for the licenses that are not in the repository.
        "environment": {"pypi": {"requests": {"version": "2.32.0", "license_expression": "Apache-2.0"}}},
        "sbom": {"components": [{"purl": "pkg:golang/github.com/google/uuid@v1.3.0", "license": "BSD-3-Clause"}]},
    }


# --------------------------------------------------------------------------- hooli (provenance)
# The "previous employer" a founder copied from: Nucleus Systems' code, built as its own repository beside
# the sample (build_reference). Functions are drawn from a pool of statement shapes (identifiers and numbers
# normalise away, so the variety that fingerprints see is in the shapes).
_SHAPES = [
    ["total += value * factor - index"],
    ["if value % {a} == {b}:", "    total -= value"],
    ["while value > {a}:", "    value //= {b}"],
    ["result.append((value, index))"],
    ["for key in sorted(mapping):", "    mapping[key] = mapping.get(key, 0) + {a}"],
    ["try:", "    total = total / (value - {a})", "except ZeroDivisionError:", "    total = 0"],
    ["flags = [x for x in values if x != {a}]"],
    ["assert len(values) >= {a}, 'too short'"],
    ["total ^= index << {a}"],
    ["with open(path) as handle:", "    lines = handle.read().split()"],
    ["if not values:", "    return None"],
    ["value = max(value, {a}) if factor else min(value, {b})"],
    ["cache[(index, value)] = not cache.get(index)"],
    ["return {{'total': total, 'count': len(values)}}"],
    ["raise ValueError(f'bad value {{value}}')"],
]


def _reference_files() -> dict[str, list[str]]:
    """The previous employer's files (path -> lines), deterministic."""
    rnd = random.Random(27)
    files: dict[str, list[str]] = {}
    for i in range(12):
        lines = ["# Copyright (c) 2018 Nucleus Systems Corp.", ""] if i == 0 else []
        for j in range(10):
            lines.append(f"def compute_{i}_{j}(values, factor={j + 1}, path='data_{i}.txt'):")
            lines += ["    total = 0", "    result = []", "    mapping = {}", "    cache = {}"]
            lines.append("    for index, value in enumerate(values):")
            for _ in range(rnd.randint(3, 5)):
                shape = rnd.choice(_SHAPES[:10] + _SHAPES[11:13])
                lines += ["        " + x.format(a=rnd.randint(2, 99), b=rnd.randint(2, 99)) for x in shape]
            lines += ["    " + x.format(a=rnd.randint(2, 99), b=rnd.randint(2, 99)) for x in rnd.choice(_SHAPES[13:])]
            lines.append("")
        files[f"nucleus/pipeline_{i}.py"] = lines
    files["nucleus/unrelated.py"] = ["import os", "", "def where():", "    return os.getcwd()"]
    return files


_RENAMES = [("compute", "calc"), ("values", "xs"), ("factor", "k"), ("total", "acc"), ("result", "out"),
            ("mapping", "tbl"), ("cache", "memo"), ("index", "i"), ("value", "v")]


def _disguise(lines: list[str], how: str) -> list[str]:
    """The founder's copy: reformatted (two-space indents, no blank lines) or renamed (identifiers)."""
    out = []
    for line in lines:
        if how == "reformatted":
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip(" "))
            line = " " * (indent // 2) + line.lstrip(" ")
        else:
            for a, b_ in _RENAMES:
                line = re.sub(rf"\b{a}\b", b_, line)
        out.append(line)
    return out


def build_reference(dest: Path) -> Path:
    """The bundled previous employer's repository (dest/hooli-reference), deterministic like the samples."""
    path = Path(dest) / "hooli-reference"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    b = Builder(path)
    try:
        nora = Who("Nora Nucleus", b"Nora Nucleus", "nora@nucleus.example")
        for p, lines in _reference_files().items():
            b.add(p, nora, text=lines)
        b.commit(nora, "2018-03-01", "Nucleus pipelines")
    finally:
        shutil.rmtree(b.home, ignore_errors=True)
    return path


def _hooli(b: Builder) -> dict:
    """A founder's bulk import copied (reformatted or renamed) from a previous employer before incorporation, a
    contractor's drop-in before their assignment, and AI-marked commits of every kind; the answers list the
    bulk imports, the copied files and the AI ledger from the generator's own bookkeeping."""
    gavin = Who("Gavin Founder", b"Gavin Founder", "gavin@hooli.example")
    ana = Who("Ana Engineer", b"Ana Engineer", "ana@hooli.example")
    ana_aider = Who("Ana Engineer", b"Ana Engineer (aider)", "ana@hooli.example")
    carla = Who("Carla Contractor", b"Carla Contractor", "carla@carladev.example")
    copilot = Who("Copilot", b"Copilot", "198982749+Copilot@users.noreply.github.com")
    ref = _reference_files()
    copied: dict[str, dict] = {}
    for i in range(12):
        src = f"nucleus/pipeline_{i}.py"
        how = "reformatted" if i % 2 == 0 else "renamed"
        target = f"engine/stage_{i}.py" if how == "reformatted" else f"engine/step_{i}.py"
        lines = _disguise(ref[src], how)
        b.add(target, gavin, text=lines)
        copied[target] = {"reference_path": src, "how": how, "lines": len(lines), "reference_lines": len(ref[src])}
    b.add("LICENSE", gavin, text=["Copyright (c) 2021-2024 Hooli Analytics Inc. All rights reserved.", "",
                                  "Proprietary and confidential. Unauthorized copying of this software,",
                                  "via any medium, is strictly prohibited."])
    imp = b.commit(gavin, "2021-02-01", "Initial engine")
    b.add("app/main.py", ana, 40)
    b.commit(ana, "2021-05-10", "App skeleton")
    for i in range(10):
        b.add(f"reports/report_{i}.py", carla, 110)
    drop = b.commit(carla, "2021-09-01", "Reports module")
    b.append("app/main.py", ana, 20)
    b.commit(ana, "2022-03-01", "Main loop")
    b.add("app/cache.py", ana_aider, 30)
    aider = b.commit(ana_aider, "2023-05-01", "Add cache")
    b.add("app/api.py", ana, 25)
    assisted = b.commit(ana, "2024-02-01", "API endpoints\n\nAssisted-by: Claude Opus 4.6\n")
    b.append("app/main.py", copilot, 20)      # (a change to a file people wrote: bots author no file alone)
    agent = b.commit(copilot, "2024-04-15", "Export to CSV\n\nCo-authored-by: Ana Engineer <ana@hooli.example>\n")
    b.replace("app/api.py", ana, 0, 5)
    b.commit(ana, "2024-05-20", "Fix API")
    b.add("app/report.py", ana, 15)
    generated = b.commit(ana, "2024-06-01", "Report view\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n")
    b.add("CLAUDE.md", ana, text=["# Notes for the coding agent", "", "Run the tests before every commit."])
    b.commit(ana, "2024-06-10", "Agent notes")

    index = {c["sha"]: k for k, c in enumerate(b.model.commits)}

    def surviving(sha: str) -> int:
        k = index[sha]
        return sum(1 for content in b.model.files.values() if not isinstance(content, bytes)
                   for line in content if line.commit == k)
    total = sum(len(c) for c in b.model.files.values() if not isinstance(c, bytes))
    ai = [dict(sha=aider, tool="aider", signal="aider author-name suffix", person="Ana Engineer"),
          dict(sha=assisted, tool="Claude", signal="Assisted-by trailer", person="Ana Engineer"),
          dict(sha=agent, tool="GitHub Copilot", signal="AI commit author", person="Ana Engineer"),
          dict(sha=generated, tool="Claude", signal="Generated-with line", person="Ana Engineer")]
    for x in ai:
        x["surviving_lines"] = surviving(x["sha"])
    return {
        "bots": ["Copilot"],
        "ai_tools": ["Copilot"],
        "licenses": [
            {"path": "LICENSE", "license_spdx": None, "holders": ["Hooli Analytics Inc."], "third_party": False},
            {"path": "engine/stage_0.py", "license_spdx": None, "holders": ["Nucleus Systems Corp."],
             "third_party": True},
        ],
        "license_findings": [{"rule": "lic.third-party-copyright", "subject": "Nucleus Systems Corp."}],
        "secrets": [],
        "secret_lookalikes": [],
        # Provenance (issue 27): computed from the bookkeeping above, not from ddkit.
        "bulk_imports": [
            {"sha": imp, "person": "Gavin Founder", "severity": "high", "why": "before incorporation",
             "surviving_lines": surviving(imp)},
            {"sha": drop, "person": "Carla Contractor", "severity": "high", "why": "no IP assignment in force",
             "surviving_lines": surviving(drop)},
        ],
        "copied_code": dict(sorted(copied.items())),
        "ai": {"commits": ai, "config_files": ["CLAUDE.md"], "total_lines": total,
               "surviving_lines": sum(x["surviving_lines"] for x in ai)},
    }


SCENARIOS = {"acme": _acme, "globex": _globex, "initech": _initech, "hooli": _hooli}


# --------------------------------------------------------------------------- build
def build(name: str, dest: Path) -> Path:
    """Create the sample repository *name* at dest/name (replacing it) and return its path."""
    repo, _ = _build(name, Path(dest))
    return repo


def _build(name: str, dest: Path) -> tuple[Path, dict]:
    if name not in SCENARIOS:
        raise ValueError(f"unknown sample {name!r}; choose from {', '.join(SAMPLES)}")
    path = dest / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    b = Builder(path)
    try:
        extra = SCENARIOS[name](b)
    finally:
        shutil.rmtree(b.home, ignore_errors=True)
    return path, _answers(name, b.model, extra)


# --------------------------------------------------------------------------- answers
def _read_csv(p: Path) -> list[dict]:
    import csv
    with open(p, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _category(path: str, content) -> str:
    if isinstance(content, bytes):
        return "binary"
    if path.startswith(VENDORED):
        return "vendored"
    head = "\n".join(l.text for l in content[:5]).lower()
    if path.endswith(("_pb2.py", "package-lock.json", "go.sum")) or "do not edit" in head or "generated by" in head:
        return "generated"
    return "text"


def _module(path: str) -> str:
    return path.split("/", 1)[0] if "/" in path else "(root)"


def _doa_authors(model: Model, files: list[str], bots: set[str]) -> dict[str, list[str]]:
    """Avelino et al. degree of authorship, following renames back to the file's first name."""
    renamed_from: dict[str, str] = {}
    for c in model.commits:
        for status, path, old in c["changes"]:
            if status == "R":
                renamed_from[path] = old
    out = {}
    for f in files:
        names = {f}
        cur = f
        while cur in renamed_from:
            cur = renamed_from[cur]
            names.add(cur)
        fa: dict[str, int] = {}
        dl: dict[str, int] = {}
        total = 0
        for c in model.commits:
            for status, path, _old in c["changes"]:
                if path not in names or c["person"] in bots:
                    continue
                who = c["person"]
                if status == "A":
                    fa[who] = 1
                elif status in ("M", "R"):
                    dl[who] = dl.get(who, 0) + 1
                    total += 1
        people = (set(fa) | set(dl)) - bots
        doa = {p: 3.293 + 1.098 * fa.get(p, 0) + 0.164 * dl.get(p, 0) - 0.321 * math.log(1 + total - dl.get(p, 0))
               for p in people}
        if not doa:
            out[f] = []
            continue
        best = max(doa.values())
        out[f] = sorted(p for p, v in doa.items() if v / best > 0.75 and (v >= 3.293 or fa.get(p)))
    return out


def _truck_factor(authors: dict[str, list[str]]) -> int | None:
    files = list(authors)
    if not files:
        return None
    remaining = {f: set(a) for f, a in authors.items()}
    tf = 0
    while sum(1 for a in remaining.values() if a) * 2 >= len(files):
        counts: dict[str, int] = {}
        for a in remaining.values():
            for p in a:
                counts[p] = counts.get(p, 0) + 1
        if not counts:
            break
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        for a in remaining.values():
            a.discard(top)
        tf += 1
    return tf


def _answers(name: str, model: Model, extra: dict) -> dict:
    roster = {r["person"]: r for r in _read_csv(HERE / name / "roster.csv")}
    company = {}
    for line in (HERE / name / "company.yaml").read_text(encoding="utf-8").splitlines():
        if ":" in line and not line.startswith(" "):
            k, v = line.split(":", 1)
            company[k.strip()] = v.strip()
    inc = dt.date.fromisoformat(company["incorporation_date"])
    as_of = dt.date.fromisoformat(AS_OF)
    bots = set(extra["bots"])
    shas = [c["sha"] for c in model.commits]

    # Files at HEAD and who owns each surviving line.
    scanned, excluded, ownership = {}, {}, {}
    line_commits: dict[int, int] = {}
    for path in sorted(model.files):
        content = model.files[path]
        cat = _category(path, content)
        if cat != "text":
            excluded[path] = cat
            continue
        scanned[path] = len(content)
        own: dict[str, int] = {}
        for l in content:
            own[l.person] = own.get(l.person, 0) + 1
            line_commits[l.commit] = line_commits.get(l.commit, 0) + 1
        ownership[path] = dict(sorted(own.items()))
    surviving: dict[str, int] = {}
    modules: dict[str, dict[str, int]] = {}
    for path, own in ownership.items():
        for p, n in own.items():
            surviving[p] = surviving.get(p, 0) + n
            m = modules.setdefault(_module(path), {})
            m[p] = m.get(p, 0) + n

    # People.
    people = []
    by_person: dict[str, list[dict]] = {}
    for c in model.commits:
        by_person.setdefault(c["person"], []).append(c)
    for person, cs in by_person.items():
        r = roster.get(person)
        last = max(c["date"] for c in cs)
        if person in bots:
            departed = False
        elif r is not None and r["end_date"]:
            departed = dt.date.fromisoformat(r["end_date"]) <= as_of
        else:   # off the roster, or a blank end date (departed, unconfirmed: issue 23): inactivity decides
            departed = dt.date.fromisoformat(last) <= as_of - dt.timedelta(days=INACTIVITY_DAYS)
        kind = "ai-assistant" if person in extra.get("ai_tools", ()) else "bot"   # an AI tool is never a person
        people.append(dict(person=person, type=kind if person in bots else (r["type"] if r else "unknown"),
                           vendor=(r["vendor"] or None) if r else None, is_bot=person in bots,
                           emails=sorted({c["email"] for c in cs}), commits=len(cs),
                           first_commit=min(c["date"] for c in cs), last_commit=last, departed=departed,
                           surviving_lines=surviving.get(person, 0)))
    people.sort(key=lambda p: (p["is_bot"], -p["commits"], p["person"]))
    pmap = {p["person"]: p for p in people}

    def stake(idx: list[int]) -> int:
        return sum(line_commits.get(i, 0) for i in idx)

    def window(person: str, pred) -> dict | None:
        idx = [i for i, c in enumerate(model.commits) if c["person"] == person and pred(dt.date.fromisoformat(c["date"]))]
        if not idx:
            return None
        return dict(commits=len(idx), first_commit=model.commits[idx[0]]["date"],
                    last_commit=model.commits[idx[-1]]["date"], lines_at_stake=stake(idx))

    findings = []
    for p in people:
        person = p["person"]
        if p["is_bot"]:
            continue
        r = roster.get(person)
        w = window(person, lambda d: d < inc)
        if w:
            findings.append(dict(rule="ip.pre-incorporation-work", subject=person, **w))
        if r is not None:
            if r["ip_assignment"] == "signed" and r["ip_assignment_date"]:
                signed = dt.date.fromisoformat(r["ip_assignment_date"])
                w = window(person, lambda d: inc <= d < signed)  # noqa: B023 (called at once)
                if w:
                    findings.append(dict(rule="ip.pre-assignment-work", subject=person, **w))
            status = r["ip_assignment"] or "missing"
            if r["type"] == "contractor" and status not in ("signed", "not_required"):
                findings.append(dict(rule="ip.contractor-no-assignment", subject=person,
                                     lines_at_stake=p["surviving_lines"], commits=p["commits"]))
            if r["type"] in ("employee", "founder", "intern", "advisor") and status in ("missing", "pending"):
                findings.append(dict(rule="ip.missing-assignment", subject=person,
                                     lines_at_stake=p["surviving_lines"], commits=p["commits"]))
            if r["end_date"]:
                end = dt.date.fromisoformat(r["end_date"])
                w = window(person, lambda d: d > end)  # noqa: B023 (called at once)
                if w:
                    findings.append(dict(rule="ip.work-after-end-date", subject=person, **w))
        else:
            findings.append(dict(rule="ip.unknown-contributor", subject=person,
                                 lines_at_stake=p["surviving_lines"], commits=p["commits"]))
        if p["departed"] and p["surviving_lines"] > 0:
            findings.append(dict(rule="own.departed-author", subject=person, lines_at_stake=p["surviving_lines"]))
    vendors: dict[str, list[str]] = {}
    for person, r in roster.items():
        if r["type"] == "vendor" and (r["ip_assignment"] or "missing") not in ("signed", "not_required") \
                and person in pmap:
            vendors.setdefault(r["vendor"], []).append(person)
    for vendor, staff in sorted(vendors.items()):
        findings.append(dict(rule="ip.contractor-no-assignment", subject=vendor,
                             lines_at_stake=sum(pmap[s]["surviving_lines"] for s in staff),
                             commits=sum(pmap[s]["commits"] for s in staff)))
    findings = _de_minimis(findings, set(pmap) | set(vendors), sum(surviving.values()))   # people and vendors
    departed = {p["person"] for p in people if p["departed"]}
    for m, own in sorted(modules.items()):
        total = sum(own.values())
        gone = sum(n for p, n in own.items() if p in departed)
        if total >= 20 and gone / total > 0.5:
            findings.append(dict(rule="own.orphaned-module", subject=m, lines_at_stake=gone))
    findings.sort(key=lambda f: (f["rule"], f["subject"]))
    flagged = {f["subject"] for f in findings if f["rule"].startswith("ip.")}
    in_order = [p["person"] for p in people if p["person"] not in flagged and p["person"] not in vendors
                and not (p["vendor"] and p["vendor"] in vendors)]

    # Degree of authorship and truck factor over source files.
    src = [p for p in scanned if Path(p).suffix in SOURCE_EXT]
    doa = _doa_authors(model, src, bots)
    by_module: dict[str, dict[str, list[str]]] = {}
    for f, a in doa.items():
        by_module.setdefault(_module(f), {})[f] = a

    # Knowledge findings (thresholds as in rules/findings.yaml: truck factor <= 1; modules of >= 3 files;
    # shares >= 0.5).
    types = {p["person"]: p["type"] for p in people}
    vendor_of = {p["person"]: p["vendor"] for p in people}
    knowledge = []
    tf_repo = _truck_factor(doa)
    if tf_repo is not None and tf_repo <= 1:
        knowledge.append({"rule": "kn.low-truck-factor", "subject": "(repository)"})
    for m, a in sorted(by_module.items()):
        if len(a) < 3:
            continue
        if _truck_factor(a) <= 1:
            knowledge.append({"rule": "kn.low-truck-factor", "subject": m})
        vendor_files: dict[str, int] = {}
        contractor = gone = 0
        for authors_ in a.values():
            if not authors_:
                continue
            vs = {vendor_of[x] for x in authors_}
            if {types[x] for x in authors_} == {"vendor"} and len(vs) == 1:
                v = next(iter(vs))
                vendor_files[v] = vendor_files.get(v, 0) + 1
            contractor += {types[x] for x in authors_} == {"contractor"}
            gone += all(x in departed for x in authors_)
        top = max(vendor_files.items(), key=lambda kv: (kv[1], kv[0])) if vendor_files else None
        if top and top[1] / len(a) >= 0.5:
            knowledge.append({"rule": "kn.vendor-concentration", "subject": m, "vendor": top[0]})
        elif contractor / len(a) >= 0.5:
            knowledge.append({"rule": "kn.vendor-concentration", "subject": m, "vendor": None})
        if gone / len(a) >= 0.5:
            knowledge.append({"rule": "kn.departed-concentration", "subject": m})

    retention, rewrite = _buyer_questions(model, roster, people, findings, scanned, doa, by_module, inc)
    merges = sum(1 for c in model.commits if c["merge"])
    return {
        "name": name,
        "as_of": AS_OF,
        "ref": "HEAD",
        "head": shas[-1],
        "commit_count": len(model.commits),
        "merge_commits": merges,
        "people": people,
        "roster_without_commits": sorted(set(roster) - set(by_person)),
        "scanned_files": scanned,
        "excluded_files": excluded,
        "total_scanned_lines": sum(scanned.values()),
        "ownership": ownership,
        "modules": {m: dict(sorted(o.items())) for m, o in sorted(modules.items())},
        "findings": findings,
        "no_ip_findings_for": in_order,
        "licenses": extra["licenses"],
        "license_findings": extra["license_findings"],
        "doa_authors": doa,
        "truck_factor": {"repository": _truck_factor(doa),
                         "modules": {m: _truck_factor(a) for m, a in sorted(by_module.items())}},
        "knowledge_findings": knowledge,
        "secrets": extra["secrets"],
        "secret_lookalikes": extra["secret_lookalikes"],
        "retention": retention,
        "rewrite_scope": rewrite,
        **({"dependencies": [dict(r, added_by_type=roster[r["added_by"]]["type"] if r["added_by"] else None)
                             for r in extra["dependencies"]]} if "dependencies" in extra else {}),
        **{k: extra[k] for k in ("dependency_findings", "environment", "sbom", "bulk_imports", "copied_code", "ai")
           if k in extra},
    }


def _buyer_questions(model: Model, roster: dict, people: list[dict], findings: list[dict], scanned: dict,
                     doa: dict[str, list[str]], by_module: dict[str, dict[str, list[str]]], inc: dt.date):
    """Whom to retain, and the clean-room rewrite scope of each subject lacking paperwork, from the
    generator's own bookkeeping (its lines, commits, roster and authorship), not from ddkit."""
    pmap = {p["person"]: p for p in people}
    staff = sorted(p["person"] for p in people
                   if p["type"] in ("employee", "founder") and not p["departed"] and not p["is_bot"])

    def without(authors: dict[str, list[str]], who: set[str]) -> dict[str, list[str]]:
        return {f: [a for a in au if a not in who] for f, au in authors.items()}

    retention = []
    for person in staff:
        known = sorted(f for f, au in doa.items() if person in au)
        if not known:
            continue
        only = sorted(f for f, au in doa.items() if au == [person])
        drops = []
        for m, authors in sorted(by_module.items()):
            before, after = _truck_factor(authors), _truck_factor(without(authors, {person}))
            if after < before:
                drops.append({"module": m, "truck_factor_before": before, "truck_factor_after": after})
        retention.append({"person": person, "files_known": len(known), "files_orphaned": len(only),
                          "orphaned_files": only, "modules_losing_knowledge": drops,
                          "repository_truck_factor_after": _truck_factor(without(doa, {person})),
                          "surviving_lines": pmap[person]["surviving_lines"]})
    retention.sort(key=lambda r: (-r["files_orphaned"], -len(r["modules_losing_knowledge"]), -r["surviving_lines"],
                                  r["person"]))
    for k, r in enumerate(retention, start=1):
        r["rank"] = k

    # Which of a subject's lines each gap covers: the same date rules as the findings.
    def gap(rule: str, person: str):
        r = roster.get(person) or {}
        if rule == "ip.pre-incorporation-work":
            return lambda d: d < inc
        if rule == "ip.pre-assignment-work":
            signed = dt.date.fromisoformat(r["ip_assignment_date"])
            return lambda d: inc <= d < signed
        if rule == "ip.work-after-end-date":
            end = dt.date.fromisoformat(r["end_date"])
            return lambda d: d > end
        return lambda d: True     # a gap about all of the subject's work

    vendors = {}
    for person, r in roster.items():
        if r["type"] == "vendor" and r["vendor"]:
            vendors.setdefault(r["vendor"], set()).add(person)
    subjects: dict[str, list[str]] = {}
    for f in findings:
        if f["rule"].startswith("ip."):
            subjects.setdefault(f["subject"], []).append(f["rule"])
    total = sum(scanned.values())
    rewrite = []
    for subject, rules in subjects.items():
        who = vendors.get(subject, {subject})
        preds = [gap(rule, p) for rule in rules for p in who]
        files: dict[str, int] = {}
        for path in scanned:
            for line in model.files[path]:
                day = dt.date.fromisoformat(model.commits[line.commit]["date"])
                if line.person in who and any(pr(day) for pr in preds):
                    files[path] = files.get(path, 0) + 1
        modules: dict[str, int] = {}
        for path, n in files.items():
            modules[_module(path)] = modules.get(_module(path), 0) + n
        knowers: dict[str, int] = {}
        unknown_to_staff = 0
        for path in files:
            if path not in doa:
                continue
            staff_authors = [a for a in doa[path] if a in staff and a not in who]
            for a in staff_authors:
                knowers[a] = knowers.get(a, 0) + 1
            unknown_to_staff += not staff_authors
        rewrite.append({"subject": subject, "surviving_lines": sum(files.values()),
                        "share_of_repository": round(sum(files.values()) / total, 4),
                        "files": dict(sorted(files.items())), "modules": dict(sorted(modules.items())),
                        "current_staff_who_know": dict(sorted(knowers.items())),
                        "nobody_on_staff_knows": unknown_to_staff})
    rewrite.sort(key=lambda r: (-r["surviving_lines"], r["subject"]))
    return retention, rewrite


def answers(name: str) -> dict:
    """Build the sample in a temporary folder and return the answers a correct scan must give."""
    with tempfile.TemporaryDirectory(prefix="ddkit-answers-") as tmp:
        _, ans = _build(name, Path(tmp))
    return ans


def write_answers(name: str) -> Path:
    out = HERE / name / "answers.json"
    out.write_text(json.dumps(answers(name), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


# --------------------------------------------------------------------------- synthetic
def build_synthetic(n_commits: int, dest: Path, seed: int = 0, authors: int = 30, files: int = 2000) -> Path:
    """A large repository for benchmarks, written with git fast-import (deterministic from *seed*)."""
    rng = random.Random(seed)
    path = Path(dest) / f"synthetic-{n_commits}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    people = [(f"Dev {i:02d}", f"dev{i:02d}@{'corp' if i % 5 else 'agency'}.example") for i in range(authors)]
    dirs = [f"pkg{d:02d}" for d in range(20)]
    contents: dict[str, list[str]] = {}
    live: list[str] = []
    counter = 0
    t0 = 1_500_000_000
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=path, stdin=subprocess.PIPE, env=env)
    out = proc.stdin
    assert out is not None

    def data(b: bytes) -> None:
        out.write(b"data %d\n" % len(b))
        out.write(b)
        out.write(b"\n")

    for i in range(n_commits):
        name, email = people[min(int(rng.paretovariate(1.2)) - 1, authors - 1)]
        ts = t0 + i * 3600
        out.write(b"commit refs/heads/main\n")
        out.write(f"author {name} <{email}> {ts} +0000\n".encode())
        out.write(f"committer {name} <{email}> {ts} +0000\n".encode())
        data(f"change {i}".encode())

        def put(p: str) -> None:
            out.write(f"M 100644 inline {p}\n".encode())
            data(("\n".join(contents[p]) + "\n").encode())

        for _ in range(rng.choice((1, 1, 2, 3))):
            r = rng.random()
            if not live or (r < 0.15 and len(live) < files):
                counter += 1
                p = f"{rng.choice(dirs)}/mod_{counter:05d}.py"
                contents[p] = [f"L{counter}_{k} = {k}" for k in range(rng.randint(10, 60))]
                live.append(p)
                put(p)
            elif r < 0.18 and len(live) > 10:
                old = rng.choice(live)
                counter += 1
                new = f"{rng.choice(dirs)}/mod_{counter:05d}.py"
                contents[new] = contents.pop(old)
                live[live.index(old)] = new
                out.write(f"R {old} {new}\n".encode())
            elif r < 0.20 and len(live) > 10:
                old = rng.choice(live)
                live.remove(old)
                del contents[old]
                out.write(f"D {old}\n".encode())
            else:
                p = rng.choice(live)
                lines = contents[p]
                for _ in range(rng.randint(1, 4)):
                    counter += 1
                    k = rng.randrange(len(lines) + 1)
                    if lines and rng.random() < 0.5:
                        lines[min(k, len(lines) - 1)] = f"C{counter} = {counter}"
                    else:
                        lines.insert(k, f"N{counter} = {counter}")
                put(p)
        out.write(b"\n")
    out.write(b"done\n")
    out.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "-f", "main"], check=True, env=env)
    return path


# Materiality (rules/findings.yaml `materiality`), for everyone on the roster or not (issue 23): a person's
# finding is de minimis when their lines at stake are fewer than 10 or under 1% of all surviving lines (none
# at all always). The de-minimis findings of a rule become one roll-up, except one subject holding lines.
_MATERIAL_RULES = {
    "ip.unknown-contributor": "contributors not on the roster",
    "ip.unverified-identity": "contributors with unverified identities",
    "own.departed-author": "departed contributors",
    "ip.pre-incorporation-work": "contributors with pre-incorporation commits",
    "ip.work-after-end-date": "contributors with work after their end date",
    "ip.pre-assignment-work": "contributors with work before their assignment was signed",
    "ip.contractor-no-assignment": "contractors or vendors without a signed assignment",
    "ip.missing-assignment": "people without a signed invention assignment",
    "ip.unclassified-contributor": "roster people of unknown type without a signed assignment",
}


def _de_minimis(findings: list[dict], persons: set[str], total: int) -> list[dict]:
    keep, small = [], {}
    for f in findings:
        n = f["lines_at_stake"]
        if f["rule"] in _MATERIAL_RULES and f["subject"] in persons and (n <= 0 or n < 10 or n < 0.01 * total):
            small.setdefault(f["rule"], []).append(f)
        else:
            keep.append(f)
    for rule, g in small.items():
        if len(g) == 1 and g[0]["lines_at_stake"] > 0:
            keep.append(g[0])
            continue
        roll = dict(rule=rule, subject=f"{len(g)} other {_MATERIAL_RULES[rule]}",
                    lines_at_stake=sum(f["lines_at_stake"] for f in g))
        if all("commits" in f for f in g):
            roll["commits"] = sum(f["commits"] for f in g)
        keep.append(roll)
    return keep


# --------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", nargs="?", default=None)
    ap.add_argument("--name", default="all", choices=[*SAMPLES, "all"])
    ap.add_argument("--synthetic", type=int, default=0, help="also build a synthetic repository of N commits")
    ap.add_argument("--write-answers", action="store_true", help="rewrite sample_repos/<name>/answers.json")
    a = ap.parse_args(argv)
    names = SAMPLES if a.name == "all" else (a.name,)
    if a.write_answers:
        for n in names:
            print(write_answers(n))
    if a.outdir:
        for n in names:
            print(build(n, Path(a.outdir)))
        if "hooli" in names:       # the previous employer's code the hooli sample copied from
            print(build_reference(Path(a.outdir)))
        if a.synthetic:
            print(build_synthetic(a.synthetic, Path(a.outdir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
