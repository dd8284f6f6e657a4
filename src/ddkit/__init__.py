"""ddkit: technical due diligence of git repositories."""

__version__ = "0.1.0"

from .errors import DdkitError, InputError  # noqa: E402
from .scan import Scan, scan  # noqa: E402

__all__ = ["scan", "Scan", "DdkitError", "InputError", "__version__"]
from .portfolio import Portfolio, scan_many  # noqa: E402

__all__ += ["scan_many", "Portfolio"]
