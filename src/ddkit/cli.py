"""The ``ddkit`` command line: the group of commands (one module each in :mod:`ddkit.commands`) and the
entry point.

Exit codes (contract): 0 scan done and nothing at or above --fail-on; 1 findings at or above --fail-on;
2 usage or input error, with one clear line on stderr and no traceback.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ._version import __version__
from .commands.common import Group
from .commands.demo import demo
from .commands.diff import diff
from .commands.roster import roster
from .commands.scan import scan
from .commands.scan_many import scan_many_cmd
from .commands.triage import triage


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ddkit")
def main() -> None:
    """Technical due diligence of git repositories: who wrote the code, and does the company own it?"""


for _command in (scan, scan_many_cmd, diff, demo, triage, roster):
    main.add_command(_command)


def run() -> None:
    """The command line's entry point (``ddkit``, ``python -m ddkit``): :func:`main`, its standard streams
    made safe for a reader that stops reading (:class:`_ClosedPipeSafe`), and the garbage collector set for
    one command (kept by #26 on measurement: docs/performance.md, "Process tricks removed (#26)")."""
    import gc

    from .commands import common
    common.OWN_PROCESS = True
    sys.stdout, sys.stderr = _ClosedPipeSafe(sys.stdout), _ClosedPipeSafe(sys.stderr)
    gc.set_threshold(10000, 20, 20)      # fewer collections of young objects: a scan makes millions
    main()


class _ClosedPipeSafe:
    """A standard stream whose reader may stop reading (``ddkit roster check FILE | head -1``, a pager that
    is quit): a closed pipe is not an error of the command. The rest of what it writes there goes to
    /dev/null (the file descriptor itself, so a child process's writes too), the command finishes, and
    the exit status is the one it would have had (README, "Decisions": a closed pipe)."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, s: Any) -> int:
        try:
            return self._stream.write(s)
        except BrokenPipeError:
            self._discard()
            return len(s)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard()

    def _discard(self) -> None:
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, self._stream.fileno())
            finally:
                os.close(null)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


if __name__ == "__main__":  # pragma: no cover
    run()
