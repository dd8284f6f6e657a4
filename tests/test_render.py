"""The workbook as a person prints it (LibreOffice → PDF): every sheet one page wide, no text cut,
the Summary on one page, and the page count per sheet printed (the requests figure: benchmarks/bench_workbook.py)."""

import subprocess
import sys

import pytest
from sample_repos.generate import HERE, build

from ddkit.report import xlsx_render

needs_office = pytest.mark.skipif(not (xlsx_render.available() and __import__("shutil").which("pdftoppm")),
                                  reason="LibreOffice or poppler-utils not installed (scripts/system-deps.sh installs them)")


@needs_office
def test_sample_workbook_prints(tmp_path):
    repo = build("acme", tmp_path)
    xlsx = tmp_path / "acme.xlsx"
    p = subprocess.run([sys.executable, "-m", "ddkit", "scan", str(repo), "--roster", str(HERE / "acme" / "roster.csv"),
                        "--company", str(HERE / "acme" / "company.yaml"), "--as-of", "2024-06-30", "--out", str(xlsx),
                        "--quiet"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = xlsx_render.measure(xlsx, tmp_path / "pdf")
    print(f"\nacme workbook: {len(r.pages)} pages: " + ", ".join(f"{k} {v}" for k, v in r.pages_per_sheet.items()))
    import openpyxl
    names = openpyxl.load_workbook(xlsx).sheetnames
    assert set(r.pages_per_sheet) == set(names)          # every page is attributed to its sheet (page header)
    assert not r.problems, r.problems                     # one page wide, nothing cut
    assert r.pages_per_sheet["Summary"] == 1
    assert len(r.pages) <= 30                             # was 51 before the page setup
    summary = " ".join(r.pages[0].split())
    assert "Acquisition-readiness report: Acme Payments Inc." in summary
    assert "Readiness score" in summary and "Top findings" in summary and "CodeForge Ltd" in summary
    assert "Whom to retain" in summary and "clean-room rewrite" in summary
    assert "Confidential — prepared for due diligence" in summary and "Page 1 of" in summary
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(r.pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    assert png.stat().st_size > 20000   # a page with text, tables and charts, not a blank one
