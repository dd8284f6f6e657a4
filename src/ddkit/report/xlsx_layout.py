"""Page layout for the workbook: what makes every sheet print well.

One font (Arial 10, metric-compatible with Liberation Sans, which LibreOffice ships), landscape, fit to
one page wide, the header row repeated on every page, a page header and footer (company, sheet, as-of
date, page N of M, confidentiality), a print area, and row heights computed from the wrapped text so
that no cell overprints its neighbours or is cut. Text too long for a printable cell is shortened with a
visible marker (the JSON report keeps the full text).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter, FilterColumn, Filters
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from ..values import records
from .cells import clean_text, is_formula_like, plain

FONT_NAME = "Arial"
FONT_SIZE = 10
LINE_PT = 12.75            # height of one line of Arial 10, in points
PAD_PT = 3.0               # cell padding, top and bottom
MAX_ROW_PT = 400.0         # Excel's limit is 409 points
MAX_LINES = int((MAX_ROW_PT - PAD_PT) // LINE_PT)
CUT = " … [shortened here; the JSON report has the full text]"

BASE_FONT = Font(name=FONT_NAME, size=FONT_SIZE)
SMALL_FONT = Font(name=FONT_NAME, size=8, color="595959")
BOLD = Font(name=FONT_NAME, size=FONT_SIZE, bold=True)
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(name=FONT_NAME, size=FONT_SIZE, bold=True, color="FFFFFF")
LINK_FONT = Font(name=FONT_NAME, size=FONT_SIZE, color="0563C1", underline="single")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
CONFIDENTIAL = "Confidential — prepared for due diligence"

# Width of characters in Arial, in units of the digit "0" (Excel's column-width unit).
_NARROW = set("iljI.,;:'!|ft()[]/\\-r ")
_WIDE = set("mwMW@%")


def char_units(ch: str, bold: bool = False) -> float:
    """Width of one character in digit widths (memoised per character: the workbook measures ~500,000)."""
    w = _UNITS.get(ch)
    if w is None:
        w = _UNITS[ch] = _char_units(ch)
    return w * 1.08 if bold else w


_UNITS: dict[str, float] = {}


def _char_units(ch: str) -> float:
    if ch in _NARROW:
        w = 0.55
    elif ch in _WIDE:
        w = 1.5
    elif ch.isupper():
        w = 1.22
    elif ch.isdigit():
        w = 1.0
    else:
        w = 0.9        # average lowercase letter in Arial, in digit widths
    return w


def _word_units(word: str, bold: bool) -> float:
    """Width of a word: the sum, in order, of its characters' widths (memoised: words repeat)."""
    words = _WORDS[bold]
    w = words.get(word)
    if w is None:
        if len(words) > 100_000:
            words.clear()
        if word.isascii():
            # the same sum, in the same order, from a table (paths are words, and mostly new ones)
            w = sum(map((_ASCII_BOLD if bold else _ASCII).__getitem__, word.encode("ascii")))
        else:
            w = sum(char_units(c, bold) for c in word)
        words[word] = w
    return w


# Words' widths, plain and bold (two dicts: a word is looked up without making a key for it).
_WORDS: tuple[dict[str, float], dict[str, float]] = ({}, {})
_ASCII = [_char_units(chr(i)) for i in range(128)]
_ASCII_BOLD = [w * 1.08 for w in _ASCII]     # char_units(ch, bold=True)
_SPACE = 0.55    # char_units(" ")
# An ASCII paragraph whose characters' widths add up to less than the line, by this much, takes one line:
# the word wrap adds the same widths or fewer (a space is never wider than _SPACE, leading ones count 0),
# and the two sums' rounding errors are below 1e-10 for any paragraph that short.
_ONE_LINE_SLACK = 1e-6


@functools.lru_cache(maxsize=8192)
def text_lines(text: str, width: float, bold: bool = False, size: float = FONT_SIZE) -> int:
    """How many lines *text* takes in a wrapped cell *width* units wide (greedy word wrap, long words broken)."""
    if not text:
        return 1
    avail = max(1.0, (width - 1.0) * FONT_SIZE / size * 0.97)
    table = _ASCII_BOLD if bold else _ASCII
    words = _WORDS[bold]
    total = 0
    for para in str(text).split("\n"):
        # most cells' text fits on a line: one sum in C instead of the wrap's loop over new words (the
        # workbook measures ~4,300 texts in a new process, 12 ms on pip before this)
        if (len(para) * _SPACE < avail and para.isascii()
                and sum(map(table.__getitem__, para.encode("ascii"))) < avail - _ONE_LINE_SLACK):
            total += 1
            continue
        lines, cur = 1, 0.0
        for word in para.split(" "):
            w = words.get(word)
            if w is None:
                w = _word_units(word, bold)
            space = _SPACE if cur > 0 else 0.0
            if cur + space + w <= avail:
                cur += space + w
                continue
            if cur > 0:
                lines += 1
                cur = 0.0
            while w > avail:      # a word longer than the line is broken
                lines += 1
                w -= avail
            cur = w
        total += lines
    return total


def fit_text(text: str, width: float, max_lines: int = MAX_LINES, bold: bool = False, size: float = FONT_SIZE) -> str:
    """*text*, shortened with a visible marker when it needs more than *max_lines* lines."""
    if text_lines(text, width, bold, size) <= max_lines:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_lines(text[:mid] + CUT, width, bold, size) <= max_lines:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + CUT


def row_height(lines: int, size: float = FONT_SIZE) -> float:
    return min(MAX_ROW_PT, max(1, lines) * LINE_PT * size / FONT_SIZE + PAD_PT)


def set_cell(ws, row: int, col: int, value: Any, font: Font | None = None):
    """Write one value safely: repository text is always stored as text, never as a formula."""
    v = plain(value)
    if isinstance(v, str):
        v = clean_text(v)
        cell = ws.cell(row=row, column=col)
        cell.value = v
        cell.data_type = "s"
        if is_formula_like(v):
            cell.quotePrefix = True
    else:
        cell = ws.cell(row=row, column=col, value=v)
    cell.font = font or BASE_FONT
    return cell


_PLAIN_TYPES = {int: "n", float: "n", bool: "b"}
_DATE_TYPES = (dt.date, dt.datetime, dt.time, dt.timedelta)
# A table column's number format by kind, for a value of the kind's type (a date for "date", else a number).
_NUMBER_FORMATS = {"date": "yyyy-mm-dd", "pct": "0%", "int": "#,##0", "num": "#,##0.0"}
# False: table cells made and filled through openpyxl's public calls (the tests compare the two ways).
DIRECT = True
# False: write_table(deferred=True) makes the table's cells anyway (the tests compare the two ways).
DEFERRED = True


def _apply_style(cell, quote: bool, font: Font, alignment: Alignment, number_format: str | None) -> None:
    """What a table cell gets after its value: the quote prefix (text that looks like a formula), its font,
    alignment and number format, in the order openpyxl registers them."""
    if quote:
        cell.quotePrefix = True
    cell.font = font
    cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format


class _StyleMemo:
    """:func:`set_cell` then alignment and number format, as one table writes them cell after cell, with
    the resulting style (openpyxl's index array) reused: openpyxl registers each font, alignment and number
    format through a hash of the whole style object, which costs more than everything else a table
    cell needs. The style a cell ends with depends only on the style it had after its value was set (a
    date value brings its own number format) and on what is applied, which is the memo's key; the first
    cell with a key is styled the ordinary way, so the workbook's style table is the same, in the same
    order, as without the memo."""

    def __init__(self) -> None:
        self._done: dict[tuple, Any] = {}

    def put(self, cell, value: Any, font: Font, alignment: Alignment, number_format: str | None):
        v = plain(value)
        quote = False
        if isinstance(v, str):
            v = clean_text(v)
            if DIRECT:
                # What ``cell.value = v`` then ``data_type = "s"`` leave: openpyxl's check of the string
                # (illegal characters, 32,767 characters) cannot fail or cut after clean_text.
                cell._value = v
            else:
                cell.value = v
            cell.data_type = "s"
            quote = is_formula_like(v)
        elif DIRECT and (v is None or type(v) in _PLAIN_TYPES):
            cell._value = v                         # what openpyxl's value setter does with these types
            cell.data_type = _PLAIN_TYPES.get(type(v), "n")
        else:
            cell.value = v
        key = (tuple(cell._style) if cell._style is not None else None, quote, id(font), id(alignment), number_format)
        done = self._done.get(key)
        if done is not None:
            cell._style = StyleArray(done[0]) if DIRECT else copy.copy(done[0])
            return cell
        _apply_style(cell, quote, font, alignment, number_format)
        self._done[key] = (copy.copy(cell._style), font, alignment)   # the objects kept alive: ids stay theirs
        return cell


class TableRows:
    """A table's data rows as values rather than openpyxl cells (``write_table(..., deferred=True)``, issue 17):
    per row its height, whether it is hidden and its cells as (column, stored value, data type, style, hyperlink),
    the style an index into :attr:`styles`. These are exactly what the cells would hold; xlsx_save serialises
    them directly, and :func:`materialize` turns them into the cells (for any other use of the sheet).

    Styles are worked out as :class:`_StyleMemo` does, on one scratch cell that is never in the sheet: the
    first time a combination is met it is applied the ordinary way, so fonts, fills, alignments and number
    formats are registered with the workbook in the same order as with real cells; the cell style ids are
    registered when the sheet is saved, in cell order, as openpyxl does."""

    def __init__(self, ws, first: int, ncols: int) -> None:
        self.first = first
        self.ncols = ncols
        self.rows: list[tuple[int, float, bool, list[tuple[int, Any, str, int, Any]]]] = []
        self.styles: list[StyleArray] = []
        self._index: dict[tuple, int] = {}
        self._done: dict[tuple, int] = {}
        self._dated: dict[type, tuple[str, tuple | None]] = {}
        self._keep: list[Any] = []          # fonts and alignments in the memo's keys, kept alive: ids stay theirs
        self._cell = Cell(ws, row=first, column=1)

    @property
    def last(self) -> int:
        return self.rows[-1][0] if self.rows else self.first - 1

    def _local(self, style: StyleArray | None) -> int:
        key = tuple(style) if style is not None else (0,) * 9
        k = self._index.get(key)
        if k is None:
            k = self._index[key] = len(self.styles)
            self.styles.append(StyleArray(key))
        return k

    def put(self, value: Any, font: Font, alignment: Alignment, number_format: str | None) -> tuple[Any, str, int]:
        """What :meth:`_StyleMemo.put` leaves in a new cell: (stored value, data type, style)."""
        v = plain(value)
        quote = False
        base = None
        if isinstance(v, str):
            v = clean_text(v)        # (openpyxl's check of the string cannot fail or cut after clean_text)
            kind = "s"
            quote = is_formula_like(v)
        elif v is None or type(v) in _PLAIN_TYPES:
            kind = _PLAIN_TYPES.get(type(v), "n")
        else:
            kind_base = self._dated.get(type(v))
            if kind_base is not None:
                kind, base = kind_base
            else:                    # anything else: openpyxl's setter, on the scratch cell
                cell = self._cell
                cell._style = None
                cell._value = None
                cell.data_type = "n"
                cell.value = v
                kind = cell.data_type
                base = tuple(cell._style) if cell._style is not None else None
                if type(v) in _DATE_TYPES and cell._value is v:
                    # openpyxl stores a date as it is and gives a new cell the type's number format: the
                    # same for every value of the type
                    self._dated[type(v)] = (kind, base)
                v = cell._value
        return v, kind, self.style(base, quote, font, alignment, number_format)

    def style(self, base: tuple | None, quote: bool, font: Font, alignment: Alignment,
              number_format: str | None) -> int:
        """The style of a new cell whose value left it *base*, once quotePrefix, *font*, *alignment* and
        *number_format* are applied."""
        key = (base, quote, id(font), id(alignment), number_format)
        k = self._done.get(key)
        if k is None:
            cell = self._cell
            cell._style = StyleArray(base) if base is not None else None
            _apply_style(cell, quote, font, alignment, number_format)
            k = self._done[key] = self._local(cell._style)
            self._keep += (font, alignment)
        return k

    def apply(self, row: int, col: int, value: Any, kind: str, style: int, link: Any,
              change: Callable[[Cell], None]) -> tuple[Any, str, int, Any]:
        """*change* done to the cell (row, col) holding these, on the scratch cell; what it then holds."""
        cell = self._cell
        cell.row, cell.column = row, col
        cell._value, cell.data_type, cell._hyperlink = value, kind, link
        cell._style = StyleArray(self.styles[style])
        change(cell)
        if cell._comment is not None:
            raise ValueError("a table cell's comment cannot be deferred")
        return cell._value, cell.data_type, self._local(cell._style), cell._hyperlink


def deferred_tables(ws) -> list[TableRows]:
    """The sheet's tables whose rows are not (yet) openpyxl cells."""
    return ws.__dict__.get("_ddkit_deferred") or []


def materialize(ws) -> None:
    """Turn the sheet's deferred table rows into openpyxl cells and row dimensions, as write_table makes them
    without ``deferred``."""
    tables = ws.__dict__.pop("_ddkit_deferred", None) or []
    cells = ws._cells
    dims = ws.row_dimensions
    for t in tables:
        for r, height, hidden, row in t.rows:
            for j, value, kind, style, link in row:
                if (r, j) in cells:
                    raise RuntimeError(f"{ws.title}: a cell was made over the deferred table cell at row {r}, "
                                       f"column {j}: materialize the sheet before touching its table's cells")
                cell = cells[(r, j)] = Cell(ws, row=r, column=j)
                cell._value, cell.data_type, cell._hyperlink = value, kind, link
                cell._style = StyleArray(t.styles[style])
            dims[r].height = height
            if hidden:
                dims[r].hidden = True


def _restyle(style: Callable[[Any, Col, dict], None], col: Col, rec: dict, cell: Cell) -> None:
    style(cell, col, rec)


def _linked(url: str) -> Callable[[Cell], None]:
    def change(cell: Cell) -> None:
        cell.hyperlink = url
        cell.font = LINK_FONT
    return change


# ------------------------------------------------------------------ columns
@dataclass
class Col:
    """One printed column: where its value comes from, its plain-English header, width and kind."""

    key: str                       # the DataFrame column (or a name for a computed column)
    label: str
    width: float = 12
    kind: str = "text"             # text | int | num | pct | date | bool | sha | id
    get: Callable[[dict], Any] | None = None   # computes the value from the row's record
    max_lines: int = MAX_LINES     # longer text is shortened with a visible marker
    hidden: bool = False           # in the table (filters, JSON-like detail) but not printed


def _as_date(v: Any) -> Any:
    v = plain(v)
    if isinstance(v, str) and len(v) >= 10:
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            return v
    if isinstance(v, dt.datetime):
        return v.date() if v.time() == dt.time(0) else v
    return v


def cell_value(col: Col, rec: dict) -> Any:
    v = col.get(rec) if col.get else rec.get(col.key)
    v = plain(v)
    if v is None:
        return None
    if col.kind == "bool":
        return "Yes" if bool(v) else "No"
    if col.kind == "date":
        return _as_date(v)
    if col.kind == "sha" and isinstance(v, str):
        return v[:10]
    if col.kind == "int" and isinstance(v, float) and v.is_integer():
        return int(v)
    return v


# Types a table cell's value keeps as it is, and whose style in a column depends on nothing else.
_KEPT_TYPES = (type(None), int, float, bool, dt.date, dt.datetime)
# The types of a record's value that cell_value returns as it is, by the column's kind (a float unless NaN).
_NONE = type(None)
_SAME_TYPES = {"bool": frozenset({_NONE}), "date": frozenset({_NONE, dt.date, int, bool, float}),
               "sha": frozenset({_NONE, int, bool, float}), "int": frozenset({_NONE, str, int, bool})}
_SAME_OTHER = frozenset({_NONE, str, int, bool, float})


def _record_rows(rows: TableRows, recs: list[dict], spec: list[tuple], link: Callable[[str], str | None] | None,
                 style: Callable[[Any, Col, dict], None] | None, shown: Col | None, show_value: Any) -> int:
    """write_table's loop for deferred rows: the same values, styles and heights, in the same order (styles
    are first applied at the same cells), recorded in *rows*. What a column's cells get from a value is kept
    per column: for a text its cell (shortened, cleaned, styled) and line count (texts repeat: people, types,
    Yes/No); for the other kept types the data type and style. A column's values that cell_value would
    return as they are are taken from the record without calling it, and a text's whole cell is kept (pip's
    People sheet: 7.5 ms instead of 11 for its 14,700 cells). Returns the last row."""
    first = rows.first
    r = first - 1
    columns: list[tuple] = [(j, c, c.get is None, kind, width, max_lines, hidden, size, font, num_fmt, restyle,
                             (kind == "sha" and link is not None) or (restyle and style is not None),
                             _SAME_TYPES.get(kind, _SAME_OTHER), {}, {}, {})
                            for j, c, kind, width, max_lines, hidden, size, font, num_fmt, restyle in spec]
    heights: dict[int, float] = {}
    for r, rec in enumerate(recs, start=first):
        lines = 1
        row: list[tuple[int, Any, str, int, Any]] = []
        for (j, c, direct, kind, width, max_lines, hidden, size, font, num_fmt, restyle, changed, same,
             texts, text_styles, others) in columns:
            v: Any
            if direct:
                v = rec.get(c.key)
                t = type(v)
                if t not in same or (t is float and v != v):
                    v = ("Yes" if v else "No") if t is bool and kind == "bool" else cell_value(c, rec)
                    t = type(v)
            else:
                v = cell_value(c, rec)
                t = type(v)
            kept = None if t is str else others.get(t)
            cell: tuple[int, Any, str, int, Any]
            if kept is not None:
                cell = (j, v, kept[0], kept[1], None)
            elif t is str or isinstance(v, str):
                if t is not str:
                    v = str(v)            # (a subclass: the same text, measured and stored as a plain one)
                known = texts.get(v)
                if known is None:
                    fitted = fit_text(v, width, max_lines=max_lines, size=size)
                    # positional, as fit_text calls it: the same memo entry (a keyword makes another key)
                    n = 1 if hidden else math.ceil(text_lines(fitted, width, False, size) * size / FONT_SIZE)
                    stored = clean_text(fitted)   # what rows.put does with a text
                    quote = is_formula_like(stored)
                    st = text_styles.get(quote)
                    if st is None:
                        st = text_styles[quote] = rows.style(None, quote, font, WRAP, None)
                    known = texts[v] = ((j, stored, "s", st, None), n)
                cell, n = known
                if n > lines:
                    lines = n
            else:
                fmt = None
                if num_fmt is not None and isinstance(v, (dt.date, dt.datetime) if kind == "date" else (int, float)):
                    fmt = num_fmt
                value, dtype, st = rows.put(v, font, TOP, fmt)
                if t in _KEPT_TYPES and value is v:
                    others[t] = (dtype, st)
                cell = (j, value, dtype, st, None)
            if changed:
                _, value, dtype, st, hl = cell
                if kind == "sha" and link is not None:
                    full = plain(c.get(rec) if c.get else rec.get(c.key))
                    url = link(full) if isinstance(full, str) else None
                    if url:
                        value, dtype, st, hl = rows.apply(r, j, value, dtype, st, hl, _linked(url))
                if restyle and style is not None:
                    value, dtype, st, hl = rows.apply(r, j, value, dtype, st, hl,
                                                      functools.partial(_restyle, style, c, rec))
                cell = (j, value, dtype, st, hl)
            row.append(cell)
        height = heights.get(lines)
        if height is None:
            height = heights[lines] = row_height(lines)
        rows.rows.append((r, height, shown is not None and cell_value(shown, rec) != show_value, row))
    return r


# A new table column's attributes, as TableColumn(id=..., name=...) sets them through its descriptors.
_NEW_TABLE_COLUMN = dict(vars(TableColumn(id=1, name="Column1")))


def _table_column(idx: int, name: str) -> TableColumn:
    col = TableColumn.__new__(TableColumn)
    col.__dict__.update(_NEW_TABLE_COLUMN, id=idx, name=name)
    return col


def write_table(ws, df: pd.DataFrame, name: str, cols: list[Col], start_row: int = 1,
                link: Callable[[str], str | None] | None = None,
                style: Callable[[Any, Col, dict], None] | None = None,
                show_only: tuple[str, str] | None = None, style_cols: Collection[str] | None = None,
                deferred: bool = False) -> int:
    """Write *df* through *cols* as one Excel table with filters, a frozen header and computed row heights.

    *show_only* = (column key, value): the table's filter is set to that value and the other rows are
    hidden (still in the table: clearing the filter shows them; hidden rows are not printed).
    *style* is called on each data cell, or with *style_cols* only on the cells of the columns with those keys
    (the others it would leave as they are). With *deferred* the data rows are kept as values
    (:class:`TableRows`), not openpyxl cells: the workbook must then be saved with ``xlsx_save.save``, and
    anything else that reads or changes the table's cells must call :func:`materialize` first.
    Returns the last row written.
    """
    recs = records(df) if df is not None and len(df) else []
    hdr_lines = 1
    header = []
    header_styles: dict[tuple, StyleArray] = {}
    for j, c in enumerate(cols, start=1):
        # set_cell with the header font, then fill and alignment; the resulting style reused for the next
        # header cells that start alike (registering fonts and fills hashes them: most of a header's time)
        before = ws._cells.get((start_row, j))
        text = clean_text(c.label)
        key = (tuple(before._style) if before is not None and before._style is not None else None,
               is_formula_like(text))
        done = header_styles.get(key) if DIRECT else None
        if done is None:
            cell = set_cell(ws, start_row, j, c.label, HEADER_FONT)
            cell.fill = HEADER_FILL
            cell.alignment = WRAP
            header_styles[key] = StyleArray(cell._style)
        else:                                  # what set_cell does with a text, but the style
            cell = ws.cell(row=start_row, column=j)
            cell.value = text
            cell.data_type = "s"
            cell._style = StyleArray(done)     # (quotePrefix, if the label wants it, is in the key's style)
        header.append(cell)
        # never narrower than the header's longest word: a header word is not broken
        longest = max(_word_units(w, True) for w in c.label.split()) if c.label.strip() else 0
        c.width = max(c.width, round(longest + 2.0, 1))
        ws.column_dimensions[get_column_letter(j)].width = c.width
        if c.hidden:
            ws.column_dimensions[get_column_letter(j)].hidden = True
        else:
            hdr_lines = max(hdr_lines, text_lines(c.label, c.width, bold=True))
    ws.row_dimensions[start_row].height = row_height(hdr_lines)
    r = start_row
    styled = _StyleMemo()
    cells = ws._cells
    # What each column's cells share, worked out once per column rather than once per cell.
    spec = [(j, c, c.kind, c.width, c.max_lines, c.hidden, 8 if c.kind == "id" else FONT_SIZE,
             SMALL_FONT if c.kind == "id" else BASE_FONT, _NUMBER_FORMATS.get(c.kind),
             style is not None and (style_cols is None or c.key in style_cols))
            for j, c in enumerate(cols, start=1)]
    shown = next(c for c in cols if c.key == show_only[0]) if show_only is not None else None
    rows = TableRows(ws, start_row + 1, len(cols)) if deferred and DEFERRED and DIRECT and recs else None
    if rows is not None:
        r = _record_rows(rows, recs, spec, link, style, shown, show_only[1] if show_only is not None else None)
        ws.__dict__.setdefault("_ddkit_deferred", []).append(rows)
    for r, rec in enumerate(recs if rows is None else (), start=start_row + 1):
        lines = 1
        for j, c, kind, width, max_lines, hidden, size, font, num_fmt, restyle in spec:
            v = cell_value(c, rec)
            fmt = None
            if isinstance(v, str):
                v = fit_text(v, width, max_lines=max_lines, size=size)
                if not hidden:
                    # positional, as fit_text calls it: the same memo entry (a keyword makes another key)
                    lines = max(lines, math.ceil(text_lines(v, width, False, size) * size / FONT_SIZE))
            elif num_fmt is not None and isinstance(v, (dt.date, dt.datetime) if kind == "date" else (int, float)):
                fmt = num_fmt
            if DIRECT:    # ws.cell() without its checks (row and column are in range)
                cell = cells.get((r, j))
                if cell is None:
                    cell = cells[(r, j)] = Cell(ws, row=r, column=j)
            else:
                cell = ws.cell(row=r, column=j)
            styled.put(cell, v, font, WRAP if isinstance(v, str) else TOP, fmt)
            if kind == "sha" and link is not None:
                full = plain(c.get(rec) if c.get else rec.get(c.key))
                url = link(full) if isinstance(full, str) else None
                if url:
                    cell.hyperlink = url
                    cell.font = LINK_FONT
            if restyle and style is not None:
                style(cell, c, rec)
        ws.row_dimensions[r].height = row_height(lines)
        if shown is not None and cell_value(shown, rec) != show_only[1]:   # type: ignore[index]
            ws.row_dimensions[r].hidden = True
    ws._current_row = max(ws._current_row, r)     # what ws.cell() keeps up to date
    last_row = max(r, start_row + 1)
    ref = f"A{start_row}:{get_column_letter(len(cols))}{last_row}"
    table = Table(displayName="".join(ch for ch in name if ch.isalnum()) or "Table", ref=ref)
    if show_only is not None:
        k = [c.key for c in cols].index(show_only[0])
        table.autoFilter = AutoFilter(ref=ref)
        table.autoFilter.filterColumn.append(FilterColumn(colId=k, filters=Filters(filter=[show_only[1]])))
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    # The columns' names, from the header row, as openpyxl's writer would give them: it reads them with
    # ws[table.ref][0], which builds every row of the table to take the first (30,000 cells on pip).
    if DIRECT:
        # what _initialise_columns makes, named: a column's 16 attributes set directly (1.3 ms less on pip's
        # 207 columns)
        table.tableColumns = [_table_column(j, str(cell.value)) for j, cell in enumerate(header, start=1)]
        if table.headerRowCount and not table.autoFilter:
            table.autoFilter = AutoFilter(ref=ref)
    else:
        table._initialise_columns()
        for cell, tc in zip(header, table.tableColumns):
            tc.name = str(cell.value)
    ws.add_table(table)
    # (a coordinate, not ws.cell(): that would make a cell over a deferred row; without rows it makes the
    # empty cell the file has always had there)
    ws.freeze_panes = f"A{start_row + 1}" if rows is not None else ws.cell(row=start_row + 1, column=1)
    ws.print_title_rows = f"{start_row}:{start_row}"
    return last_row


# ------------------------------------------------------------------ page setup
def page_setup(ws, company: str, as_of: str, last_col: int, last_row: int, fit_height: int = 0,
               landscape: bool = True, note: str | None = None) -> None:
    """Landscape, fit to one page wide (and *fit_height* pages high, 0 = as many as needed), margins,
    header/footer and print area."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = fit_height
    ws.print_options.horizontalCentered = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.25
    for hf in (ws.oddHeader, ws.evenHeader, ws.firstHeader):
        hf.left.text = _hf(company)
        hf.center.text = "&A" + (f" — {_hf(note)}" if note else "")
        hf.right.text = _hf(f"As of {as_of}")
        for part in (hf.left, hf.center, hf.right):
            part.size, part.font = 8, "Arial,Regular"
    for hf in (ws.oddFooter, ws.evenFooter, ws.firstFooter):
        hf.left.text = CONFIDENTIAL
        hf.right.text = "Page &P of &N"
        for part in (hf.left, hf.right):
            part.size, part.font = 8, "Arial,Regular"
    ws.print_area = f"A1:{get_column_letter(max(1, last_col))}{max(1, last_row)}"


def _hf(text: str) -> str:
    """Text for a page header: '&' is a code there, so it is doubled."""
    return clean_text(str(text)).replace("&", "&&")[:120]


def set_default_font(wb) -> None:
    """Make Arial 10 the workbook's Normal style (column widths are measured in its digit width)."""
    try:
        wb._fonts[0] = Font(name=FONT_NAME, size=FONT_SIZE)   # the default font every style starts from
    except (AttributeError, IndexError, TypeError):
        pass
    for st in getattr(wb, "_named_styles", []):
        if getattr(st, "name", None) == "Normal":
            st.font = Font(name=FONT_NAME, size=FONT_SIZE)


def key_value_rows(ws, rows: Iterable[tuple[str, Any]], start_row: int, widths: tuple[float, float]) -> int:
    """Two columns (label, text) with computed row heights; returns the next free row."""
    r = start_row
    for k, v in rows:
        a = set_cell(ws, r, 1, k, BOLD)
        a.alignment = WRAP
        v = plain(v)
        if isinstance(v, str):
            v = fit_text(v, widths[1])
        b = set_cell(ws, r, 2, v)
        b.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        lines = max(text_lines(str(k), widths[0], bold=True), text_lines(str(v if v is not None else ""), widths[1]))
        ws.row_dimensions[r].height = row_height(lines)
        r += 1
    return r
