"""Render a workbook as a person would print it (LibreOffice → PDF) and measure the result.

Used by tests/test_render.py and benchmarks/bench_workbook.py. Every printed page carries its sheet's
name in the page header (xlsx_layout.page_setup), so pages are attributed to sheets from the PDF text.
Needs ``soffice``, ``pdftotext`` and ``pdfinfo`` (scripts/system-deps.sh installs them).
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

WORD = re.compile(r"[A-Za-z]{4,14}")


def available() -> bool:
    return all(shutil.which(x) for x in ("soffice", "pdftotext", "pdfinfo"))


def to_pdf(xlsx: Path, outdir: Path, timeout: int = 600) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{outdir.resolve()}/lo-profile",
                    "--convert-to", "pdf", "--outdir", str(outdir), str(xlsx)], check=True, capture_output=True,
                   timeout=timeout)
    pdf = outdir / (Path(xlsx).stem + ".pdf")
    if not pdf.exists():
        raise RuntimeError(f"LibreOffice wrote no PDF for {xlsx}")
    return pdf


def page_texts(pdf: Path, mode: str = "-layout") -> list[str]:
    out = subprocess.run(["pdftotext", mode, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


@dataclass
class Rendering:
    pdf: Path
    pages: list[str]
    sheet_of_page: list[str | None]
    pages_per_sheet: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _sheet_of(page: str, names: list[str]) -> str | None:
    head = next((line for line in page.splitlines() if line.strip()), "")
    hits = [n for n in names if re.search(r"(^|\s{2,})" + re.escape(n) + r"(\s{2,}|$| — )", head)]
    return max(hits, key=len) if hits else None


def measure(xlsx: Path, outdir: Path) -> Rendering:
    """Render *xlsx* and check it: each page belongs to a sheet, each sheet prints one page wide (its first
    and last header on every page), and no cell's text is cut (every word of the sheet's cells is printed)."""
    import openpyxl
    wb = openpyxl.load_workbook(xlsx)
    names = wb.sheetnames
    pdf = to_pdf(xlsx, outdir)
    pages = page_texts(pdf)
    raw = page_texts(pdf, "-raw")
    sheets = []
    current = None
    for p in pages:
        s = _sheet_of(p, names)
        current = s or current      # a page without a header line continues the sheet before it
        sheets.append(current)
    r = Rendering(pdf, pages, sheets, dict(collections.Counter(s for s in sheets if s)))
    for name in names:
        ws = wb[name]
        mine = [p for p, s in zip(pages, sheets) if s == name]
        if not mine:
            r.problems.append(f"{name}: not printed")
            continue
        if ws.tables:
            t = next(iter(ws.tables.values()))
            first_row = ws[t.ref.split(":")[0]].row
            hdr = [str(c.value) for c in ws[first_row]
                   if c.value is not None and not ws.column_dimensions[c.column_letter].hidden]
            edges = [hdr[0].split()[0], hdr[-1].split()[0]]
            for k, p in enumerate(mine, start=1):
                # the repeated header row sits right under the page header: look for both edges there
                lines = [ln for ln in p.splitlines() if ln.strip()]
                top = " ".join(" ".join(lines[1:7]).split())
                for e in edges:
                    if not re.search(r"(?<![A-Za-z])" + re.escape(e) + r"(?![A-Za-z])", top):
                        r.problems.append(f"{name} page {k}: header {e!r} missing (not one page wide)")
        # Every word of every cell is printed somewhere on the sheet's pages (nothing cut or hidden).
        want: collections.Counter[str] = collections.Counter()
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and not ws.row_dimensions[c.row].hidden \
                        and not ws.column_dimensions[c.column_letter].hidden:
                    want.update(WORD.findall(c.value))
        have = collections.Counter(WORD.findall(" ".join(mine)))
        # A word too long for its column is broken across lines: look for it in the text stream with
        # line breaks removed (LibreOffice writes a cell's lines one after the other).
        stream = "".join("".join(p.split()) for p, s in zip(raw, sheets) if s == name)
        missing = {w: n - have[w] for w, n in want.items() if have[w] < n and stream.count(w) < n}
        if missing:
            r.problems.append(f"{name}: {sum(missing.values())} words not printed, e.g. "
                              + ", ".join(list(missing)[:8]))
    return r
