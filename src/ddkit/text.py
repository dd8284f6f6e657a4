"""Decoding bytes from git: names, e-mails and paths are not always UTF-8."""

from __future__ import annotations

import re

# C0 and C1 control characters (ESC starts terminal escape sequences), and the Unicode line separators
# and bidirectional overrides that make a terminal line read differently from what it holds.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def decode_name(b: bytes) -> str:
    """Decode a name or e-mail: UTF-8 when valid, else Windows-1252/Latin-1 (what old tools wrote)."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return b.decode("cp1252")
        except UnicodeDecodeError:
            return b.decode("latin-1")


def decode_path(b: bytes) -> str:
    """Decode a path so that it can be given back to git unchanged (undecodable bytes survive)."""
    return b.decode("utf-8", "surrogateescape")


def encode_path(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def printable(s: object) -> str:
    """Text from a repository made safe for a terminal: undecodable bytes become U+FFFD and control
    characters are shown as escapes (``\\x1b``), so a name or path can never move the cursor, clear
    the screen, retitle the window or hide what follows it."""
    t = str(s).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                            else f"\\u{ord(m.group()):04x}", t)


def first_few(items: list[str], n: int = 5) -> str:
    """The first *n* items joined by commas, then "and K more": how a warning names examples of a long list."""
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")
