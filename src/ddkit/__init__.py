"""ddkit: technical due diligence of git repositories."""

from ._version import __version__

from .errors import DdkitError, InputError  # noqa: E402
from .model import Portfolio, Scan  # noqa: E402
from .portfolio import scan_many  # noqa: E402
from .scan import scan  # noqa: E402

__all__ = ["DdkitError", "InputError", "Portfolio", "Scan", "__version__", "scan", "scan_many"]
