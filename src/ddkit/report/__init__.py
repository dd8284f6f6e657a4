"""Report: the workbook, the JSON report and SARIF, all from a :class:`ddkit.scan.Scan`."""
