"""ddkit: technical due diligence of git repositories."""

__version__ = "0.1.0"
