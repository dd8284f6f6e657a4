"""Collect: read what the repository holds (history, files at the ref, blame, license notices)."""
