"""What an XLSX package says about its cells beyond their values, read from its XML parts.

The values come from python-calamine; this module adds what it does not give: each cell's
number format (xl/styles.xml: cellXfs → numFmtId → numFmts or the built-in formats of
ECMA-376 Part 1 §18.8.30), the cells holding a formula that was never calculated, and the
error a cell shows (#N/A). The sheet's XML is searched for plain byte patterns only where they
can occur: a sheet without formulas, errors or formatted cells costs one search per pattern.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from functools import cache
from xml.etree import ElementTree

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_STYLES_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"

# ECMA-376 Part 1 §18.8.30: the number formats a workbook may use by id without defining them
# (ids 27-36 and 50-58 are East Asian date formats that depend on the computer's language;
# calamine reads those cells as dates, which are then written as ISO dates).
BUILTIN_FORMATS = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)',
    6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)',
    8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%",
    10: "0.00%",
    11: "0.00E+00",
    12: "# ?/?",
    13: "# ??/??",
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)",
    38: "#,##0_);[Red](#,##0)",
    39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)",
    41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    48: "##0.0E+0",
    49: "@",
}
_PLAIN = ("General", "@")  # formats under which a number shows as Excel's General

_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_CACHED = re.compile(rb"<(?:\w+:)?v>[^<]")
_STRING_RESULT = re.compile(rb'\bt="str"')
_ERROR = re.compile(rb'\st="e"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)<")
_ROOT = re.compile(rb"<(\w+:)?worksheet\b")
_COL = re.compile(rb"<(?:\w+:)?col\b[^>]*>")
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_SPAN = re.compile(rb'\bmin="(\d+)"[^>]*?\bmax="(\d+)"|\bmax="(\d+)"[^>]*?\bmin="(\d+)"')
COLUMN_BITS = 14  # a cell's key is row << COLUMN_BITS | column (Excel has 16,384 columns)


@cache
def column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


def workbook_parts(archive: zipfile.ZipFile) -> tuple[dict[str, str], str]:
    """Sheet title → the XML part holding it, and the styles part."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets: dict[str | None, str] = {}
    styles = "xl/styles.xml"
    for rel in rels.findall("p:Relationship", _NS):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        targets[rel.get("Id")] = posixpath.normpath(path)
        if rel.get("Type") == _STYLES_TYPE:
            styles = targets[rel.get("Id")]
    parts: dict[str, str] = {}
    for sheet in workbook.iterfind("m:sheets/m:sheet", _NS):
        parts[sheet.get("name", "")] = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
    return parts, styles


def cell_formats(archive: zipfile.ZipFile, part: str) -> list[str]:
    """The number format of each cell style (cellXfs), by its index `s`. ['General'] when the
    workbook has no styles part."""
    if part not in archive.namelist():
        return ["General"]
    root = ElementTree.fromstring(archive.read(part))
    custom = {
        int(f.get("numFmtId", "0")): f.get("formatCode", "General")
        for f in root.iterfind("m:numFmts/m:numFmt", _NS)
    }
    formats: list[str] = []
    for xf in root.iterfind("m:cellXfs/m:xf", _NS):
        number = int(xf.get("numFmtId", "0"))
        formats.append(custom.get(number) or BUILTIN_FORMATS.get(number, "General"))
    return formats or ["General"]


@dataclass(slots=True)
class SheetMarks:
    """What one sheet's XML says about its cells, by cell key (row << COLUMN_BITS | column)."""

    default_format: str = "General"
    formats: dict[int, str] = field(default_factory=dict)  # cells of a style not General
    errors: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # row → (col, #N/A)
    uncalculated: dict[int, list[int]] = field(default_factory=dict)  # row → columns
    hidden: frozenset[int] = frozenset()  # columns (1-based) hidden in the sheet


def scan_sheet(xml: bytes, styles: list[str]) -> SheetMarks:
    """Number formats, errors and uncalculated formulas of one sheet's cells."""
    sheet = _SheetXml.of(xml)
    marks = SheetMarks(default_format=styles[0])
    shown = _shown_styles(styles)
    if shown:
        _note_formats(sheet, styles, shown, marks.formats)
    if b't="e"' in xml:
        _note_errors(sheet, marks.errors)
    if sheet.formula in xml:
        _note_uncalculated(sheet, marks.uncalculated)
    if b"hidden=" in xml:
        marks.hidden = hidden_columns(xml)
    return marks


def hidden_columns(xml: bytes) -> frozenset[int]:
    """The columns a sheet's <cols> hides (before its rows; at most Excel's 16,384)."""
    end = xml.find(b"sheetData")
    hidden: set[int] = set()
    for col in _COL.finditer(xml, 0, end if end >= 0 else len(xml)):
        tag = col.group(0)
        span = _SPAN.search(tag) if _HIDDEN.search(tag) else None
        if span is None:
            continue
        low, high = (
            (span.group(1), span.group(2)) if span.group(1) else (span.group(4), span.group(3))
        )
        hidden.update(range(int(low), min(int(high), 16_384) + 1))
    return frozenset(hidden)


@dataclass(frozen=True, slots=True)
class _SheetXml:
    """One sheet's XML and its tags, with the namespace prefix the sheet uses (often none)."""

    xml: bytes
    cell_tag: bytes  # b"<c", or b"<x:c" in a sheet written with a prefix
    formula: bytes  # b"<f", likewise
    close: re.Pattern[bytes]  # the closing tag of a cell

    @classmethod
    def of(cls, xml: bytes) -> _SheetXml:
        root = _ROOT.search(xml, 0, 4096)
        prefix = (root.group(1) or b"") if root else b""
        close = re.compile(rb"</" + re.escape(prefix) + rb"c>")
        return cls(xml, b"<" + prefix + b"c", b"<" + prefix + b"f", close)

    def cell_at(self, hit: int) -> tuple[int, int, int, int] | None:
        """(row, column, start and end of the opening tag) of the cell whose opening tag
        holds position `hit`."""
        xml, cell_tag = self.xml, self.cell_tag
        start = xml.rfind(b"<", 0, hit + 1)
        after = start + len(cell_tag)
        if not xml.startswith(cell_tag, start) or xml[after : after + 1] not in b" \t\r\n":
            return None
        end = xml.find(b">", hit)
        ref = _REF.search(xml, start, end)
        if ref is None:
            return None
        return int(ref.group(2)), column_number(ref.group(1)), start, end


def _shown_styles(styles: list[str]) -> list[int]:
    """The style indexes whose cells must be noted: those of a format not shown as General, or
    every style but the default when unstyled cells are formatted too."""
    shown = [i for i, f in enumerate(styles) if f not in _PLAIN]
    if styles[0] not in _PLAIN:  # unstyled cells are formatted too: note every styled cell
        shown = list(range(1, len(styles)))
    elif 0 in shown:
        shown.remove(0)
    return shown


def _note_formats(
    sheet: _SheetXml, styles: list[str], shown: list[int], formats: dict[int, str]
) -> None:
    """The format of each cell whose style is one of `shown`, by cell key."""
    xml = sheet.xml
    ids = b"|".join(str(i).encode() for i in shown)
    style = re.compile(rb'\ss="(' + ids + rb')"')
    # the cells as Excel and most programs write them: r first, then s
    usual = re.compile(re.escape(sheet.cell_tag) + rb' r="([A-Z]+)(\d+)" s="(' + ids + rb')"')
    found = usual.findall(xml)
    if len(found) == len(style.findall(xml)):
        for letters, row, number in found:
            formats[int(row) << COLUMN_BITS | column_number(letters)] = styles[int(number)]
    else:
        cell_at = sheet.cell_at
        for hit in style.finditer(xml):
            cell = cell_at(hit.start())
            if cell:
                formats[cell[0] << COLUMN_BITS | cell[1]] = styles[int(hit.group(1))]


def _note_errors(sheet: _SheetXml, errors: dict[int, list[tuple[int, str]]]) -> None:
    """The error each error cell shows (#N/A ...), by row: (column, text)."""
    xml, cell_at, close = sheet.xml, sheet.cell_at, sheet.close
    for hit in _ERROR.finditer(xml):
        cell = cell_at(hit.start())
        if cell and xml[cell[3] - 1 : cell[3]] != b"/":
            row, col, _, end = cell
            body_end = close.search(xml, end)
            value = _VALUE.search(xml, end, body_end.start() if body_end else len(xml))
            if value:
                text = value.group(1).decode("utf-8", "replace")
                errors.setdefault(row, []).append((col, text))


def _note_uncalculated(sheet: _SheetXml, uncalculated: dict[int, list[int]]) -> None:
    """The columns, by row, of the cells holding a formula without a cached result."""
    opening = re.compile(re.escape(sheet.formula) + rb"[\s>/]")
    xml, cell_at, close = sheet.xml, sheet.cell_at, sheet.close
    for hit in opening.finditer(xml):
        cell = cell_at(hit.start() - 1)  # a formula is the first thing in its cell
        if cell is None:
            continue
        row, col, start, end = cell
        body_end = close.search(xml, end)
        body = xml[end : body_end.start() if body_end else len(xml)]
        if not _CACHED.search(body) and not _STRING_RESULT.search(xml, start, end):
            uncalculated.setdefault(row, []).append(col)
