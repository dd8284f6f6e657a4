"""Errors ddkit reports to its users.

An :class:`InputError` is the user's to fix (a bad path, a malformed roster); the command line prints
its message on one line and exits with code 2.
"""

from __future__ import annotations


class DdkitError(Exception):
    """Base class of ddkit's own errors."""


class InputError(DdkitError):
    """Bad input: the message is one line that says what is wrong and where."""
