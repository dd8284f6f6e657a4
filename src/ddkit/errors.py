"""Errors ddkit reports to its users.

Every exception class ddkit defines derives from :class:`DdkitError` (tests/unit/test_errors.py), so
``except DdkitError`` catches whatever ddkit raises on purpose. What the command line does with each:

- :class:`InputError` is the user's to fix (a bad path, a malformed roster); the command line prints
  its message on one line and exits with code 2. So does ``gitutil.GitError``: git refused the scanned
  repository or a ref in it (damaged, missing objects, unknown revision), which is the input, not ddkit.
- :class:`InternalError` (``workerpool.WorkerError``: a task failed in a worker process, or the worker
  died) is not the user's input: the command line reports it as an internal error and exits with code 3.
"""

from __future__ import annotations


class DdkitError(Exception):
    """Base class of ddkit's own errors."""


class InputError(DdkitError):
    """Bad input: the message is one line that says what is wrong and where."""


class InternalError(DdkitError):
    """A failure inside ddkit or the processes it runs, not in the user's input (the command line: exit 3)."""
