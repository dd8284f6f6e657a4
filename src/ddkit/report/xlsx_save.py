"""Saving an openpyxl workbook with the cells serialised by string formatting (issue #17).

openpyxl writes each cell through lxml's incremental writer, element by element, which took about a
third of the workbook's time on pip (30,000 cells; the rest of its XML is small). :func:`save` is
openpyxl's own ``save_workbook`` except that each worksheet's ``<sheetData>`` is built here as bytes, cell by
cell in openpyxl's order, with the same style ids (registered in the same order), the same hyperlink records
and the same escaping as lxml's writer, and spliced into the sheet openpyxl wrote with an empty
``<sheetData>``. The file is byte for byte the one openpyxl writes (``tests/unit/test_rescan_shortcuts.py``
compares every part). A sheet holding anything this writer does not reproduce (comments, formulas, rich
text, ISO dates, a cell type it does not know) is written by openpyxl itself, and so is every sheet when
openpyxl runs without lxml (its other writer escapes differently), or is a release other than the one this
writer is checked against (:data:`VERIFIED`). It stays because it alone buys about a tenth of a one-commit
re-scan of pip (docs/performance.md, "Workbook writer (#26)").

A table written with ``write_table(..., deferred=True)`` has no cells at all: its rows are values
(``xlsx_layout.TableRows``), serialised here between the sheet's real rows as the cells they stand for would
be (style ids registered at their first cell, in cell order; hyperlinks in cell order; the sheet's dimension
counting them). Wherever this writer does not write the rows, they are made into cells first
(``xlsx_layout.materialize``).
"""

from __future__ import annotations

import datetime
import math
import os
import re
import stat
import time
from io import BytesIO
from operator import itemgetter
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

import openpyxl
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.writer.excel import ExcelWriter

try:
    from openpyxl.worksheet._writer import WorksheetWriter  # openpyxl's private sheet writer (3.1)
except ImportError:                   # another openpyxl's layout: its own writer writes every sheet (VERIFIED)
    WorksheetWriter = object

from .xlsx_layout import deferred_tables, materialize

_EMPTY = b"<sheetData></sheetData>"
_EXACT = 10 ** 15        # integers that "%.16g" writes in full, as "%d" does
_ATTR_OK = re.compile(r"[A-Za-z0-9.:_-]*\Z")   # row attributes written as they are (numbers, flags)


class _Unsupported(Exception):
    """A cell this writer does not reproduce exactly: the sheet is left to openpyxl."""


def _esc(s: str) -> bytes:
    # What lxml's writer does with text when no encoding is given (openpyxl gives none): the three markup
    # characters and carriage return escaped, everything outside ASCII as a decimal character reference.
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    if "\r" in s:
        s = s.replace("\r", "&#13;")
    return s.encode("ascii", "xmlcharrefreplace")


def _body(kind: str, value, epoch, iso_dates: bool) -> bytes:
    """A cell's element after ``<c r=".." s=".."``: its type attribute and value, as openpyxl writes them."""
    if kind == "s":
        if not isinstance(value, str) and value is not None:
            raise _Unsupported            # rich text
        head = b' t="inlineStr"'
    elif kind == "d":
        if iso_dates or isinstance(value, datetime.timedelta) or getattr(value, "tzinfo", None) is not None:
            raise _Unsupported
        head = b' t="n"'
        value = to_excel(value, epoch)
    elif kind in ("n", "b", "e"):
        head = b' t="%s"' % kind.encode("ascii")
    else:
        raise _Unsupported                # formulas and anything newer
    if value is None or value == "":
        return head + b"></c>"
    if kind == "s":
        space = b' xml:space="preserve"' if value != value.strip() else b""
        return head + b"><is><t" + space + b">" + _esc(value) + b"</t></is></c>"
    return head + b"><v>" + _esc(safe_string(value)) + b"</v></c>"


class _SheetWriter(WorksheetWriter):
    """openpyxl's worksheet writer with the rows built as bytes (see the module's docstring)."""

    rows_xml: bytes | None = None
    headers: dict[tuple, Any] | None = None     # the workbook's header and footer elements made so far

    def write_header(self):
        # openpyxl's, with each distinct header and footer element made once per workbook: the data sheets
        # share theirs but for a note, and making one (each of its six items compiles a pattern) cost 2.1 ms
        # over pip's 18 sheets, 0.9 now. The element is made from exactly what the key holds.
        hf = self.ws.HeaderFooter
        if not hf or self.headers is None:
            return super().write_header()
        key = (hf.differentOddEven, hf.differentFirst, hf.scaleWithDoc, hf.alignWithMargins,
               *((part.text, part.font, part.size, part.color)
                 for item in (hf.oddHeader, hf.oddFooter, hf.evenHeader, hf.evenFooter, hf.firstHeader, hf.firstFooter)
                 for part in (item.left, item.center, item.right)))
        el = self.headers.get(key)
        if el is None:
            el = self.headers[key] = hf.to_tree()
        self.xf.send(el)

    def write_dimensions(self):
        # openpyxl's, with the deferred table rows counted as the cells they stand for (every column of the
        # table in every row: write_table makes a cell for each)
        tables = deferred_tables(self.ws)
        if not tables:
            return super().write_dimensions()
        keys = list(self.ws._cells)
        rows = {r for r, _ in keys}
        cols = {c for _, c in keys}
        for t in tables:
            if t.rows:
                rows.update((t.first, t.last))
                cols.update((1, t.ncols))
        if not rows:
            ref = "A1:A1"
        else:
            ref = f"{get_column_letter(min(cols))}{min(rows)}:{get_column_letter(max(cols))}{max(rows)}"
        self.xf.send(SheetDimension(ref).to_tree())

    def write_rows(self):
        ws = self.ws
        links = len(ws._hyperlinks)
        try:
            self.rows_xml = self._rows_xml()
        except _Unsupported:
            del ws._hyperlinks[links:]    # style ids already taken are the ones openpyxl takes first anyway
            self.rows_xml = None
            materialize(ws)
            return super().write_rows()
        xf = self.xf.send(True)
        with xf.element("sheetData"):   # empty: the rows are spliced in after the sheet is written
            pass
        self.xf.send(None)

    def _rows_xml(self) -> bytes:
        ws = self.ws
        wb = ws.parent
        styles = wb._cell_styles
        epoch = wb.epoch
        iso_dates = wb.iso_dates
        dims = ws.row_dimensions
        letters: dict[int, str] = {}
        style_ids: dict[bytes, int] = {}
        out: list[bytes] = []
        put = out.append
        items: list[tuple[int, Any, Any]] = [(r, row, None) for r, row in self.rows()]
        tables = deferred_tables(ws)
        if tables:
            mine = [row for t in tables for row in t.rows]
            taken = {row[0] for row in mine}
            if len(taken) < len(mine) or any(r in taken for r, _, _ in items):
                materialize(ws)           # a cell or row dimension made over a deferred row: cells throughout
                items = [(r, row, None) for r, row in self.rows()]
            else:
                items += [(row[0], row, t) for t in tables for row in t.rows]
                items.sort(key=itemgetter(0))
        # per table and style: what follows a cell's row number, its style attribute (registered at its first cell)
        mids: dict[int, list[bytes | None]] = {id(t): [None] * len(t.styles) for t in tables}
        row_tags: dict[tuple[float, bool], bytes] = {}
        texts: dict[str, bytes] = {}
        dates: dict[tuple[type, Any], bytes] = {}
        nones: dict[str, bytes] = {}
        heads = [b'<c r="' + get_column_letter(j).encode("ascii") for j in range(1, max((t.ncols for t in tables),
                                                                                          default=0) + 1)]
        for row_idx, row, table in items:
            if table is not None:
                # a deferred table row: (row, height, hidden, cells); cells (column, value, type, style, link)
                tag = row_tags.get((row[1], row[2]))
                if tag is None:
                    # RowDimension's attributes, in its order: hidden, ht, customHeight
                    tag = row_tags[(row[1], row[2])] = ((' hidden="1"' if row[2] else "")
                                                        + f' ht="{safe_string(row[1])}" customHeight="1">').encode("ascii")
                at = b"%d" % row_idx
                put(b'<row r="' + at + b'"' + tag)
                table_mids = mids[id(table)]
                for col, value, kind, st, link in row[3]:
                    mid = table_mids[st]
                    if mid is None:
                        # the id openpyxl gives: registered at the style's first cell, in cell order
                        style = table.styles[st]
                        mid = table_mids[st] = b'"' + (b' s="%d"' % styles.add(style) if any(style) else b"")
                    # _body, with its result kept for texts, dates and empty cells (they repeat) and the common
                    # numbers inline (pip's People sheet, 14,700 cells: 7.5 ms instead of 10)
                    t = type(value)
                    if t is str and kind == "s":
                        body = texts.get(value)
                        if body is None:
                            body = texts[value] = _body(kind, value, epoch, iso_dates)
                    elif value is None:
                        if mid == b'"':
                            continue          # no value, no style: no cell
                        body = nones.get(kind)
                        if body is None:
                            body = nones[kind] = _body(kind, value, epoch, iso_dates)
                    elif t is int and kind == "n" and -_EXACT < value < _EXACT:
                        body = b' t="n"><v>%d</v></c>' % value        # what "%.16g" gives for these
                    elif t is float and kind == "n" and math.isfinite(value):
                        body = b' t="n"><v>%.16g</v></c>' % value     # safe_string's format
                    elif kind == "d" and (t is datetime.date or t is datetime.datetime):
                        body = dates.get((t, value))
                        if body is None:
                            body = dates[(t, value)] = _body(kind, value, epoch, iso_dates)
                    else:
                        body = _body(kind, value, epoch, iso_dates)
                    if link is not None:
                        ws._hyperlinks.append(link)
                    put(heads[col - 1] + at + mid + body)
                put(b"</row>")
                continue
            attrs = {"r": f"{row_idx}"}
            attrs.update(dims.get(row_idx, {}))
            for v in attrs.values():
                if not _ATTR_OK.match(v):
                    raise _Unsupported
            put(("<row " + " ".join(f'{k}="{v}"' for k, v in attrs.items()) + ">").encode("ascii"))
            for cell in row:
                if cell._comment is not None:
                    raise _Unsupported
                style = cell._style
                styled = style is not None and any(style)
                value = cell._value
                if value is None and not styled:
                    continue
                col = cell.column
                letter = letters.get(col)
                if letter is None:
                    letter = letters[col] = get_column_letter(col)
                head = f'<c r="{letter}{cell.row}"'
                if styled:
                    # the id openpyxl gives: registered at the style's first cell, in cell order
                    key = style.tobytes()
                    sid = style_ids.get(key)
                    if sid is None:
                        sid = style_ids[key] = styles.add(style)
                    head += f' s="{sid}"'
                put(head.encode("ascii"))
                if cell._hyperlink:
                    ws._hyperlinks.append(cell._hyperlink)
                put(_body(cell.data_type, value, epoch, iso_dates))
            put(b"</row>")
        return b"".join(out)

    def sheet_xml(self) -> bytes:
        """The sheet's XML: what openpyxl wrote, with the rows put into its first, empty, ``<sheetData>``."""
        data = self.out.getvalue()
        if self.rows_xml is None:
            return data
        i = data.find(_EMPTY)
        if i < 0:
            raise RuntimeError("worksheet written without its sheetData")
        return data[:i] + b"<sheetData>" + self.rows_xml + b"</sheetData>" + data[i + len(_EMPTY):]


# The zip entry openpyxl's archive.write(tempfile) makes: the file's time and its mode from mkstemp (0600).
_TEMP_FILE_MODE = stat.S_IFREG | 0o600


class _BookWriter(ExcelWriter):
    def __init__(self, workbook, archive):
        super().__init__(workbook, archive)
        self._headers: dict[tuple, Any] = {}

    def write_worksheet(self, ws):
        # openpyxl's ExcelWriter.write_worksheet (3.1) with the sheet writer above, for a normal workbook; the
        # sheet is written in memory rather than to a temporary file that is then read back into the zip
        # (the entry is the one zipfile makes from that file: same name, time, attributes and compression).
        if self.workbook.write_only:
            return super().write_worksheet(ws)
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _SheetWriter(ws, out=BytesIO())
        writer.headers = self._headers
        writer.write()
        data = writer.sheet_xml()
        ws._rels = writer._rels
        archive = self._archive
        entry = ZipInfo(ws.path[1:], time.localtime()[:6])
        entry.external_attr = _TEMP_FILE_MODE << 16
        entry.compress_type = archive.compression
        entry._compresslevel = archive.compresslevel
        archive.writestr(entry, data)
        self.manifest.append(ws)


# The openpyxl this writer is checked against, byte for byte (tests/unit/test_rescan_shortcuts.py): with any
# other release openpyxl's own writer writes every sheet (correct, ~0.3 s slower on pip), so openpyxl is not
# pinned; a new release is enabled here once those tests pass with it.
VERIFIED = openpyxl.__version__.split(".")[:2] == ["3", "1"] and WorksheetWriter is not object
# False: every sheet written by openpyxl itself (the tests compare the two writers).
FAST = VERIFIED


def save(wb, filename: str | os.PathLike) -> None:
    """``wb.save(filename)``, with the rows serialised here (unless FAST is off or openpyxl has no lxml)."""
    if not (FAST and openpyxl.LXML) or wb.read_only or wb.write_only:
        for ws in wb.worksheets:
            materialize(ws)
        wb.save(filename)
        return
    # openpyxl's save_workbook, which also stamps the modification time (as wb.save does). Deflate's fastest
    # level: pip's workbook is 272 kB instead of 221 kB, and compressed in 6 ms instead of 14 (a tenth of
    # what a one-commit re-scan has left to write it).
    archive = ZipFile(filename, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=1)
    wb.properties.modified = datetime.datetime.now(tz=datetime.timezone.utc).replace(tzinfo=None)
    try:
        _BookWriter(wb, archive).save()
    except BaseException:
        # A failed write (a full disk): the file is closed now and its second error dropped (the caller
        # reports the first and removes the file), not at garbage collection with a traceback printed.
        try:
            archive.close()
        except OSError:
            pass
        raise
