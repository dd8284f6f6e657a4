"""Saving an openpyxl workbook with the cells serialised by string formatting (issue #17).

openpyxl writes each cell through lxml's incremental writer, element by element, which took about a
third of the workbook's time on pip (30,000 cells; the rest of its XML is small). :func:`save` is
openpyxl's own ``save_workbook`` except that each worksheet's ``<sheetData>`` is built here as bytes, cell by
cell in openpyxl's order, with the same style ids (registered in the same order), the same hyperlink records
and the same escaping as lxml's writer, and spliced into the sheet openpyxl wrote with an empty
``<sheetData>``. The file is byte for byte the one openpyxl writes (``tests/unit/test_rescan_shortcuts.py``
compares every part). A sheet holding anything this writer does not reproduce (comments, formulas, rich
text, ISO dates, a cell type it does not know) is written by openpyxl itself, and so is every sheet when
openpyxl runs without lxml (its other writer escapes differently).
"""

from __future__ import annotations

import datetime
import os
import re
from zipfile import ZIP_DEFLATED, ZipFile

import openpyxl
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

_EMPTY = b"<sheetData></sheetData>"
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


class _SheetWriter(WorksheetWriter):
    """openpyxl's worksheet writer with the rows built as bytes (see the module's docstring)."""

    rows_xml: bytes | None = None

    def write_rows(self):
        ws = self.ws
        links = len(ws._hyperlinks)
        try:
            self.rows_xml = self._rows_xml()
        except _Unsupported:
            del ws._hyperlinks[links:]    # style ids already taken are the ones openpyxl takes first anyway
            self.rows_xml = None
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
        for row_idx, row in self.rows():
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
                kind = cell.data_type
                if kind == "s":
                    if not isinstance(value, str) and value is not None:
                        raise _Unsupported            # rich text
                    head += ' t="inlineStr"'
                elif kind == "d":
                    if iso_dates or isinstance(value, datetime.timedelta) or getattr(value, "tzinfo", None) is not None:
                        raise _Unsupported
                    head += ' t="n"'
                    value = to_excel(value, epoch)
                elif kind in ("n", "b", "e"):
                    head += f' t="{kind}"'
                else:
                    raise _Unsupported                # formulas and anything newer
                if cell._hyperlink:
                    ws._hyperlinks.append(cell._hyperlink)
                if value is None or value == "":
                    put((head + "></c>").encode("ascii"))
                elif kind == "s":
                    space = ' xml:space="preserve"' if value != value.strip() else ""
                    put((head + f"><is><t{space}>").encode("ascii") + _esc(value) + b"</t></is></c>")
                else:
                    put((head + "><v>").encode("ascii") + _esc(safe_string(value)) + b"</v></c>")
            put(b"</row>")
        return b"".join(out)

    def splice(self) -> None:
        """Put the rows into the sheet file openpyxl wrote (its first, empty, ``<sheetData>``)."""
        if self.rows_xml is None:
            return
        with open(self.out, "rb") as fh:
            data = fh.read()
        i = data.find(_EMPTY)
        if i < 0:
            raise RuntimeError("worksheet written without its sheetData")
        with open(self.out, "wb") as fh:
            fh.write(data[:i] + b"<sheetData>" + self.rows_xml + b"</sheetData>" + data[i + len(_EMPTY):])


class _BookWriter(ExcelWriter):
    def write_worksheet(self, ws):
        # openpyxl's ExcelWriter.write_worksheet (3.1) with the sheet writer above, for a normal workbook.
        if self.workbook.write_only:
            return super().write_worksheet(ws)
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _SheetWriter(ws)
        writer.write()
        writer.splice()
        ws._rels = writer._rels
        self._archive.write(writer.out, ws.path[1:])
        self.manifest.append(ws)
        writer.cleanup()


# False: every sheet written by openpyxl itself (the tests compare the two writers).
FAST = True


def save(wb, filename: str | os.PathLike) -> None:
    """``wb.save(filename)``, with the rows serialised here (unless FAST is off or openpyxl has no lxml)."""
    if not (FAST and openpyxl.LXML) or wb.read_only or wb.write_only:
        wb.save(filename)
        return
    # openpyxl's save_workbook, which also stamps the modification time (as wb.save does)
    archive = ZipFile(filename, "w", ZIP_DEFLATED, allowZip64=True)
    wb.properties.modified = datetime.datetime.now(tz=datetime.timezone.utc).replace(tzinfo=None)
    _BookWriter(wb, archive).save()
