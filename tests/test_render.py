"""The workbook renders with LibreOffice, and its Summary page says what it should."""

import shutil
import subprocess
import sys

import pytest

from sample_repos.generate import HERE, build

needs_office = pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftoppm") and shutil.which("pdftotext")),
                                  reason="LibreOffice or poppler-utils not installed (scripts/system-deps.sh installs them)")


@needs_office
def test_summary_renders(tmp_path):
    repo = build("acme", tmp_path)
    xlsx = tmp_path / "acme.xlsx"
    p = subprocess.run([sys.executable, "-m", "ddkit", "scan", str(repo), "--roster", str(HERE / "acme" / "roster.csv"),
                        "--company", str(HERE / "acme" / "company.yaml"), "--as-of", "2024-06-30", "--out", str(xlsx),
                        "--quiet"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(xlsx)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "acme.pdf"
    assert pdf.exists()
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Acquisition-readiness report: Acme Payments Inc." in text
    assert "Readiness score" in text and "Top findings" in text and "CodeForge Ltd" in text
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    assert png.stat().st_size > 20000   # a page with text, tables and charts, not a blank one
