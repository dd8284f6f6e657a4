"""ddkit's version (its own module so that any module can import it without importing the package)."""

import functools

__version__ = "0.1.0"


@functools.cache
def installed_version(dist: str) -> str:
    """The installed version of the distribution *dist* (from its metadata: nothing of it is imported), or
    "not installed". Read once per process (a scan asks for ScanCode's several times: cache keys, report)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"
