"""The command line's commands: one module per command or group of commands (``scan``, ``scan-many``,
``diff``, ``demo``, ``triage``, ``roster``) and :mod:`.common`, what they share (the scan options, the
output checks, the error handling). :mod:`ddkit.cli` puts them together as the ``ddkit`` command."""
