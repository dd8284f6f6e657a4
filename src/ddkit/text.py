"""Decoding bytes from git: names, e-mails and paths are not always UTF-8."""

from __future__ import annotations


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
