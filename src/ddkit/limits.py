"""Bounded reading of input files: YAML, JSON and Excel workbooks (docs/inputs.md, "Limits").

Every file ddkit reads may come from the other side of a deal (a rules overlay or a triage file handed
over, a workbook sent back, an SBOM, a manifest in the scanned repository). A few hundred bytes can ask a
parser for gigabytes: YAML aliases that refer to aliases ("billion laughs"), a zip entry that inflates a
thousand times, brackets nested thousands deep. So each reader here checks what the input *asks for*
before doing it, and refuses with an :class:`InputError` (exit 2) naming the file and the limit:

* YAML: the size of the text, the number of nodes once every alias is expanded (a merge key ``<<``
  copies, and whatever walks the data — validation, a hash, a merge — walks the expansion), and the
  nesting depth, counted from the parser's events (no tree is built first); a recursive alias is refused.
* JSON: the size of the text; nesting beyond a thousand levels (where Python's parser stops under the
  interpreter's default recursion limit) is refused with its depth.
* XLSX: the zip's declared sizes (each part and in all) and each part's compression ratio, from the
  zip directory before anything is inflated (Python's zipfile never inflates a part beyond its declared
  size); then, while reading a sheet, the number of cells (an Excel sheet can place one cell at row
  1,048,576 and column XFD and have every row padded to it).

The limits are far above any real roster, profile, rules file, triage file or ddkit workbook (a scan of
pip writes a 1.8 MB workbook; its largest sheet is 0.7 MB) and low enough that the slowest input allowed
is read in seconds and a few hundred MB (``benchmarks/bench_hostile_inputs.py``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

# YAML: rules overlays and company profiles are a few kB; a triage file is about 150 bytes a decision.
MAX_YAML_BYTES = 16 << 20
MAX_YAML_NODES = 2_000_000          # nodes once aliases are expanded (a scalar, a list, a mapping: 1 each)
MAX_YAML_DEPTH = 64                 # nesting, aliases expanded (ddkit's own files go 6 deep)
# JSON (--sbom): an SBOM of 20,000 components is about 20 MB.
MAX_JSON_BYTES = 100 << 20
MAX_JSON_DEPTH = 1000               # the interpreter's default recursion limit, where Python's parser stops
# XLSX: per use (roster, triage workbook): the largest inflated part, all parts together, cells read.
MAX_XLSX_PARTS = 10_000
MAX_XLSX_ROWS = 1_048_576           # Excel's own limit
MAX_XLSX_RATIO = 100                # inflated/compressed, for parts above 1 MiB (sheet XML: 4-10)
_RATIO_FLOOR = 1 << 20


def _mb(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MB"


# ----------------------------------------------------------------------------- YAML
def _loader() -> type:
    # libyaml when present: the same constructor (SafeConstructor), about ten times faster on large files.
    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


def check_yaml(text: str, path: str | os.PathLike[str], max_bytes: int = MAX_YAML_BYTES,
               max_nodes: int = MAX_YAML_NODES) -> None:
    """Refuse *text* (from *path*) when it is larger, expands to more nodes or nests deeper than the
    limits, or holds a recursive alias. Only the parser's events are read (an iterative parser: no
    recursion, no tree); a syntax error is left to the loader, which reports it with its line."""
    if len(text) > max_bytes:
        raise InputError(f"{path}: {_mb(len(text))} of YAML is more than ddkit reads ({_mb(max_bytes)})")
    stack: list[list[Any]] = []           # open collections: [anchor, expanded size, height below]
    done: dict[str, tuple[int, int]] = {}  # anchor -> (expanded size, height) of its finished node
    expanded = 0

    def add(size: int, height: int, line: int) -> None:
        nonlocal expanded
        expanded += size
        if expanded > max_nodes:
            raise InputError(f"{path}, line {line}: the YAML expands to more than {max_nodes:,} nodes "
                             f"(aliases counted at their full size); refused")
        if len(stack) + height > MAX_YAML_DEPTH:
            raise InputError(f"{path}, line {line}: the YAML nests more than {MAX_YAML_DEPTH} levels deep; refused")
        if stack:
            stack[-1][1] += size
            stack[-1][2] = max(stack[-1][2], height)

    events = yaml.parse(text, Loader=_loader())
    try:
        for ev in events:
            line = ev.start_mark.line + 1 if ev.start_mark is not None else 0
            if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(stack) + 1 > MAX_YAML_DEPTH:
                    raise InputError(f"{path}, line {line}: the YAML nests more than {MAX_YAML_DEPTH} levels deep; "
                                     "refused")
                expanded += 1
                stack.append([ev.anchor, 1, 0])
            elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size, height = stack.pop()
                expanded -= size      # counted as it grew; add() counts it again into its parent
                if anchor is not None:
                    done[anchor] = (size, height + 1)
                add(size, height + 1, line)
            elif isinstance(ev, yaml.ScalarEvent):
                if ev.anchor is not None:
                    done[ev.anchor] = (1, 1)
                add(1, 1, line)
            elif isinstance(ev, yaml.AliasEvent):
                if any(s[0] == ev.anchor for s in stack):
                    raise InputError(f"{path}, line {line}: the alias *{ev.anchor} refers to a node that contains "
                                     "it (a recursive alias); refused")
                if ev.anchor not in done:
                    return            # an undefined alias: the loader says so
                add(*done[ev.anchor], line)
    except yaml.YAMLError:
        return                        # the loader reports the syntax error, with its line
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


def load_yaml_text(text: str, path: str | os.PathLike[str]) -> Any:
    """``yaml.safe_load(text)`` within the limits (:func:`check_yaml`); a problem is an InputError naming
    *path* (and the line, for a syntax error)."""
    check_yaml(text, path)
    try:
        return yaml.load(text, Loader=_loader())
    except ValueError as e:  # a well-formed scalar that is no value, e.g. the date 2019-06-31
        raise InputError(f"{path}: invalid value: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{path}{where}: invalid YAML: {problem}") from None


def yaml_text(path: str | os.PathLike[str]) -> str:
    """The text of the YAML file at *path*, its size checked before it is read."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_YAML_BYTES:
            raise InputError(f"{path}: {_mb(size)} of YAML is more than ddkit reads ({_mb(MAX_YAML_BYTES)})")
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}") from None


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """The YAML file at *path*, read within the limits."""
    return load_yaml_text(yaml_text(path), path)


# ----------------------------------------------------------------------------- JSON
def load_json_text(text: str, path: str | os.PathLike[str], what: str = "") -> Any:
    """``json.loads(text)`` within the limits: size, and nesting no deeper than MAX_JSON_DEPTH levels
    (Python's parser, under the interpreter's default recursion limit, raises RecursionError there,
    cleanly; ddkit's readers of what it returns walk it without recursion). *what* prefixes the problem
    (e.g. ``--sbom: ``)."""
    if len(text) > MAX_JSON_BYTES:
        raise InputError(f"{path}: {what}{_mb(len(text))} of JSON is more than ddkit reads ({_mb(MAX_JSON_BYTES)})")
    if sys.getrecursionlimit() > MAX_JSON_DEPTH:
        # Another library raised the interpreter's limit in this process (mypy does): Python's parser no
        # longer stops near a thousand levels, so the depth is counted first (as long again as parsing).
        depth = json_depth(text)
        if depth > MAX_JSON_DEPTH:
            raise InputError(f"{path}: {what}the JSON nests {depth:,} levels deep (more than {MAX_JSON_DEPTH:,}); "
                             "refused")
    try:
        return json.loads(text)
    except RecursionError:
        depth = json_depth(text)   # counted only now: as long again as parsing
        raise InputError(f"{path}: {what}the JSON nests {depth:,} levels deep (more than Python's parser reads); "
                         "refused") from None
    except ValueError as e:
        raise InputError(f"{path}: {what}not valid JSON ({e})") from None


# A string; an unterminated one runs to the end (each match moves on: one pass whatever the text).
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """The deepest nesting of brackets in *text*, outside strings: the strings and then everything but
    brackets removed (two passes of the regular expression engine), the depth the largest running sum
    (numpy). Malformed text gives some number and is then refused by the parser."""
    import numpy as np
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    return max(int(np.cumsum(steps, dtype=np.int32).max()), 0)


# ----------------------------------------------------------------------------- XLSX
class XlsxLimits:
    """What one kind of workbook may ask for: the largest inflated part, all parts, non-empty cells."""

    def __init__(self, part: int, total: int, cells: int):
        self.part, self.total, self.cells = part, total, cells


# A CSV roster (a 10,000-row roster is about 1 MB).
MAX_CSV_BYTES = 64 << 20
# A roster: a few thousand people, a dozen columns (a 10,000-row roster is about 3 MB of XML).
ROSTER_XLSX = XlsxLimits(part=16 << 20, total=32 << 20, cells=2_000_000)
# A ddkit workbook sent back with decisions typed in (pip's: 1.8 MB in all).
TRIAGE_XLSX = XlsxLimits(part=48 << 20, total=64 << 20, cells=10_000_000)


def check_xlsx(path: str | os.PathLike[str], limits: XlsxLimits) -> None:
    """Refuse a workbook whose zip asks for too much, from its directory alone (nothing is inflated):
    too many parts, a part or all parts larger than *limits* once inflated, or a part above 1 MiB that
    inflates more than MAX_XLSX_RATIO times (a zip bomb). A file that is not a zip is left to openpyxl."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return
    if len(infos) > MAX_XLSX_PARTS:
        raise InputError(f"{path}: the workbook has {len(infos):,} parts (more than {MAX_XLSX_PARTS:,}); refused")
    total = 0
    for i in infos:
        total += i.file_size
        if i.file_size > limits.part:
            raise InputError(f"{path}: part {i.filename} inflates to {_mb(i.file_size)} (more than "
                             f"{_mb(limits.part)}); refused (a zip bomb, or not a workbook ddkit reads)")
        if i.file_size > _RATIO_FLOOR and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1):
            raise InputError(f"{path}: part {i.filename} inflates {i.file_size // max(i.compress_size, 1):,} times "
                             f"(more than {MAX_XLSX_RATIO}); refused as a zip bomb")
    if total > limits.total:
        raise InputError(f"{path}: the workbook inflates to {_mb(total)} (more than {_mb(limits.total)}); refused")


def sheet_rows(ws: Any, path: str | os.PathLike[str], limits: XlsxLimits) -> Iterator[tuple[int, tuple]]:
    """(row number, values) of every non-empty row of the read-only sheet *ws*, trailing empty cells
    dropped; refused once the rows read hold more than ``limits.cells`` cells (padding included: a row
    whose one cell is in column XFD is 16,384 cells wide)."""
    for n, rec in _bounded_rows(ws, path, limits):
        end = len(rec)
        while end and rec[end - 1] is None:
            end -= 1
        if end:
            yield n, tuple(rec[:end])


def _bounded_rows(ws: Any, path: str | os.PathLike[str], limits: XlsxLimits) -> Iterator[tuple[int, tuple]]:
    """Every row of *ws* as openpyxl gives it, counted: the non-empty rows' cells against the limit. A
    sheet openpyxl cannot read to the end (broken XML, a part that fails its checksum) is an InputError."""
    cells = 0
    # The sheet's own cells, not its <dimension>: a stale one (written by a program) would cut columns
    # off silently, a false one pad every row to column XFD.
    reset = getattr(ws, "reset_dimensions", None)
    if reset is not None:
        reset()
    try:
        for n, rec in enumerate(ws.iter_rows(values_only=True), start=1):
            if n > MAX_XLSX_ROWS:   # openpyxl pads up to any row number a cell names
                raise InputError(f"{path}, sheet {ws.title}: a row number above Excel's {MAX_XLSX_ROWS:,}; refused")
            if rec and any(v is not None for v in rec):
                cells += len(rec)
                if cells > limits.cells:
                    raise InputError(f"{path}, sheet {ws.title}: more than {limits.cells:,} cells to read (row {n}); "
                                     "refused (delete the unused rows and columns, or save a smaller sheet)")
            yield n, rec or ()
    except InputError:
        raise
    except Exception as e:   # openpyxl and zipfile raise many kinds for a damaged sheet
        raise InputError(f"{path}, sheet {ws.title}: cannot read the sheet ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else 'damaged'})") from None


_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def has_formulas(path: str | os.PathLike[str], part: str) -> bool:
    """Whether the sheet XML *part* of the workbook holds any formula (``<f>``), read in chunks."""
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as fh:
            tail = b""
            while chunk := fh.read(1 << 20):
                if _FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-16:]
    except (OSError, KeyError, zipfile.BadZipFile, ValueError, EOFError):
        return True     # cannot tell: let the caller look
    return False


def formulas_without_values(path: str | os.PathLike[str], sheet: str | None, limits: XlsxLimits) -> list[str]:
    """The cells (``B3``) of the worksheet named *sheet* (None: the first) that hold a formula but no saved
    value: openpyxl (and any reader that does not compute formulas) sees them as empty. Files written by a
    program rather than Excel (or saved with "calculate before save" off) have them."""
    import openpyxl
    from openpyxl.utils import get_column_letter
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb.worksheets[0] if sheet is None else wb[sheet]
        part = getattr(ws, "_worksheet_path", None)
        if part is not None and not has_formulas(path, part):
            return []
        data = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            out = []
            # The same XML rows in the same order, read twice: once as formulas, once as saved values.
            rows = zip(_bounded_rows(ws, path, limits), _bounded_rows(data[ws.title], path, limits))
            for (n, formulas), (_m, values) in rows:
                for j, f in enumerate(formulas):
                    if _is_formula(f) and (j >= len(values) or values[j] is None):
                        out.append(f"{get_column_letter(j + 1)}{n}")
            return out
        finally:
            data.close()
    finally:
        wb.close()


def _is_formula(v: Any) -> bool:
    # openpyxl gives a formula as its text ("=SUM(A1:A3)"), or an ArrayFormula / DataTableFormula object.
    return (isinstance(v, str) and v.startswith("=")) or type(v).__name__ in ("ArrayFormula", "DataTableFormula")


def all_rows(ws: Any, path: str | os.PathLike[str], limits: XlsxLimits) -> Iterator[tuple[int, tuple]]:
    """(row number, values) of every row of *ws*, empty ones included (as openpyxl gives them), read by
    the sheet's cells and within the limits (:func:`_bounded_rows`)."""
    return _bounded_rows(ws, path, limits)


def padded_rows(ws: Any, path: str | os.PathLike[str], limits: XlsxLimits) -> Iterator[tuple]:
    """The non-empty rows of *ws* (:func:`sheet_rows`), each padded with None to the first row's width
    (the header's): a row whose last cells are empty is as wide as the others."""
    width = 0
    for _n, rec in sheet_rows(ws, path, limits):
        width = width or len(rec)
        yield rec + (None,) * (width - len(rec)) if len(rec) < width else rec
