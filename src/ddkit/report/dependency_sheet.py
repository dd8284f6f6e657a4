"""The Dependencies sheet's columns (deps): one Excel table with plain-English headers, after Licenses."""

from __future__ import annotations

from .xlsx_layout import Col

DEPENDENCY_SPEC = [
    Col("name", "Package", 22), Col("version", "Version", 11), Col("ecosystem", "Ecosystem", 9),
    Col("scope", "Scope", 8), Col("direct", "Direct", 7, "bool"), Col("license_spdx", "License (SPDX)", 16),
    Col("license_source", "License source", 10), Col("severity", "Severity", 9), Col("manifest", "Manifest", 20),
    Col("line", "Line", 6, "int"), Col("added_by", "Added by", 16), Col("added_by_type", "Their type", 10),
    Col("added_by_ip_status", "Their IP assignment", 10), Col("added_date", "Added on", 10.5, "date"),
    Col("added_sha", "Commit", 11, "sha"), Col("purl", "Package URL", 24), Col("license_evidence", "License evidence", 24),
    Col("kind", "Manifest or lockfile", 10, hidden=True), Col("category", "License category", 12, hidden=True),
    Col("rule", "Rule id", 14, "id"),
]
