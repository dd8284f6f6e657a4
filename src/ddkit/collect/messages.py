"""Commit messages: the subject, the ``Assisted-by:`` trailers and the lines that may mark AI use.

One ``git log`` without diffs (a second, light pass beside the history's ``git log -p``: it reads no
trees and no blobs; on pypa/pip it takes a fraction of a second). Only what the provenance analyses need
is kept per commit, not whole messages: the subject (the bulk-import evidence quotes it), the values of
its ``Assisted-by:`` trailers as git parses them (only the trailer block at the message's end counts: a
sentence about an "Assisted-By trailer" in the body is not one), and the message lines that mention
"generated" (the AI analysis matches them against its rules).

Framing as in :mod:`ddkit.collect.history`: each record starts with a marker holding a random nonce, so
no message in a hostile repository can fake a record start.
"""

from __future__ import annotations

import re
import secrets

import pandas as pd

from .. import gitutil
from ..text import decode_name

MESSAGE_COLUMNS = ["sha", "subject", "assisted_by", "marker_lines"]
# Lines kept for the message signals: any line naming "generated" (rules/ai.yaml holds the exact patterns,
# which a user may change; this only keeps the messages' other lines out of memory).
_KEEP_LINE = re.compile(rb"generated", re.I)
_MAX_SUBJECT = 300


def collect_messages(repo: str, commit: str | None) -> pd.DataFrame:
    """One row per commit reachable from *commit*: sha, subject, Assisted-by values, marker lines."""
    if commit is None:
        return pd.DataFrame(columns=MESSAGE_COLUMNS)
    marker = b"\x00\x1eddkit-" + secrets.token_hex(12).encode() + b"\x1e\x00"
    fmt = ("".join(f"%x{b:02x}" for b in marker)
           + "%H%x00%(trailers:key=Assisted-by,valueonly,unfold,separator=%x0a)%x00%B")
    buf = bytearray()
    rows: list[tuple[str, str, list[str], list[str]]] = []
    for chunk in gitutil.stream(repo, "log", "--no-color", "--format=" + fmt, "--end-of-options", commit, "--"):
        buf += chunk
        parts = bytes(buf).split(marker)
        buf = bytearray(parts.pop())     # the last record may be incomplete
        rows.extend(r for r in map(_record, parts) if r is not None)
    last = _record(bytes(buf))
    if last is not None:
        rows.append(last)
    return pd.DataFrame(rows, columns=MESSAGE_COLUMNS)


def _record(rec: bytes) -> tuple[str, str, list[str], list[str]] | None:
    fields = rec.split(b"\x00", 2)
    if len(fields) < 3 or not re.fullmatch(rb"[0-9a-f]{40}|[0-9a-f]{64}", fields[0].strip()):
        return None
    sha, trailers, body = fields[0].strip().decode(), fields[1], fields[2]
    lines = body.split(b"\n")
    subject = decode_name(lines[0].strip())[:_MAX_SUBJECT] if lines else ""
    assisted = [decode_name(v.strip()) for v in trailers.split(b"\n") if v.strip()]
    kept = [decode_name(x.strip())[:_MAX_SUBJECT] for x in lines[1:] if _KEEP_LINE.search(x)]
    return sha, subject, assisted, kept
