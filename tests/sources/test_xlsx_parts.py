"""What a sheet's XML adds to calamine's values: formats, errors, uncalculated formulas."""

from __future__ import annotations

from bulk_onboard.sources.xlsx_parts import COLUMN_BITS, scan_sheet

STYLES = ["General", "dd.mm.yyyy", "@", "00000"]


def key(row: int, col: int) -> int:
    return row << COLUMN_BITS | col


def test_a_sheet_written_as_excel_writes_it() -> None:
    xml = (
        b'<worksheet xmlns="m"><sheetData><row r="2" s="1" customFormat="1">'
        b'<c r="A2" s="1"><v>45356</v></c><c r="B2" s="2" t="s"><v>0</v></c>'
        b'<c r="C2" s="3"><v>42</v></c><c r="D2" t="e"><f>NA()</f><v>#N/A</v></c>'
        b'<c r="E2"><f>A1*2</f><v></v></c><c r="F2" t="str"><f>""</f><v></v></c>'
        b'<c r="G2"><f>A1</f><v>3</v></c><c r="H2" s="1"/></row></sheetData></worksheet>'
    )
    marks = scan_sheet(xml, STYLES)
    # the row's own style is no cell's; a text style (@) is none
    assert marks.formats == {key(2, 1): "dd.mm.yyyy", key(2, 3): "00000", key(2, 8): "dd.mm.yyyy"}
    assert marks.errors == {2: [(4, "#N/A")]}
    assert marks.uncalculated == {2: [5]}  # F2's empty text result is a result


def test_a_prefixed_sheet_with_attributes_in_another_order() -> None:
    xml = (
        b'<x:worksheet xmlns:x="m"><x:sheetData><x:row r="7">'
        b'<x:c s="3" r="B7"><x:v>42</x:v></x:c><x:c t="e" r="C7"><x:v>#DIV/0!</x:v></x:c>'
        b'<x:c r="D7"><x:f>1/0</x:f></x:c></x:row></x:sheetData></x:worksheet>'
    )
    marks = scan_sheet(xml, STYLES)
    assert marks.formats == {key(7, 2): "00000"}
    assert marks.errors == {7: [(3, "#DIV/0!")]}
    assert marks.uncalculated == {7: [4]}


def test_unstyled_cells_take_the_default_style_s_format() -> None:
    marks = scan_sheet(
        b'<worksheet><c r="A1"><v>1</v></c><c r="B1" s="1"><v>2</v></c>', ["0.00", "General"]
    )
    assert marks.default_format == "0.00"
    assert marks.formats == {key(1, 2): "General"}
