"""Reading real files: encodings, delimiters, line numbers, workbooks, and unusable files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bulk_onboard.errors import InputError
from bulk_onboard.model.records import RowKind
from bulk_onboard.sources import Sheet, open_sources
from tests.helpers import CASES

ZOE = {
    "email": "zoe@mueller.example.de",
    "first_name": "Zoë",
    "last_name": "Schröder",
    "type": "user",
    "room": "C-10051",
    "access": "review",
    "culture": "de-DE",
}


def read(name: str, kind: str | None = None) -> list[Sheet]:
    return open_sources([CASES / name], RowKind.from_text(kind) if kind else None)


def rows_of(sheet: Sheet) -> list[tuple[int, dict[str, str]]]:
    return [(r.origin.line, r.values) for r in sheet.rows]


@pytest.mark.parametrize(
    "name",
    [
        "clients_utf8.csv",
        "clients_utf8_bom_semicolon.csv",
        "clients_cp1252_semicolon.csv",
    ],
)
def test_client_csv_in_every_encoding_and_delimiter_reads_the_same(name: str) -> None:
    [sheet] = read(name)
    assert sheet.kind is RowKind.CLIENT and sheet.sheet is None and sheet.file == name
    rows = rows_of(sheet)
    assert [line for line, _ in rows] == [2, 3, 4]
    assert rows[1][1]["client_name"] == "Müller & Söhne GmbH"
    assert rows[2][1]["client_name"] == "Café Lumière"
    assert rows[1][1]["tags"] == "key-account, de"
    assert list(rows[0][1]) == [
        "client_id",
        "client_name",
        "client_email",
        "manager_email",
        "room_type",
        "tags",
    ]


@pytest.mark.parametrize(
    "name", ["users_utf16le_tab.csv", "users_utf16be_comma.csv", "users_pipe.csv"]
)
def test_user_csv_utf16_and_other_delimiters(name: str) -> None:
    [sheet] = read(name)
    assert sheet.kind is RowKind.USER
    rows = rows_of(sheet)
    assert rows[1] == (3, ZOE)
    assert rows[2][1]["first_name"] == "" and rows[2][0] == 4


def test_excel_sep_line_sets_the_delimiter_and_keeps_physical_line_numbers() -> None:
    [sheet] = read("users_sep_line.csv")
    assert sheet.header.line == 2
    [(line, values)] = rows_of(sheet)
    assert line == 3 and values["email"] == "wile@acme.example.com"


def test_quoted_line_breaks_do_not_shift_later_line_numbers() -> None:
    [sheet] = read("users_multiline.csv")
    rows = rows_of(sheet)
    assert rows[0][0] == 2
    assert rows[0][1]["notes"] == "first line\nsecond line\nthird line"
    assert rows[1][0] == 5 and rows[1][1]["email"] == "not-an-address"


def test_blank_rows_are_skipped_and_counted_as_lines() -> None:
    [sheet] = read("users_blank_rows.csv")
    assert [line for line, _ in rows_of(sheet)] == [3, 6]


def test_header_aliases_resolve_to_columns_and_unknown_columns_are_kept() -> None:
    [sheet] = read("users_aliases.csv")
    [(_, values)] = rows_of(sheet)
    assert values["email"] == "Wile@Acme.Example.com"  # trimmed here, lower-cased by validate
    assert (values["first_name"], values["last_name"]) == ("Wile", "Coyote")
    assert (values["type"], values["access"], values["culture"]) == ("User", "Editor", "en-us")
    assert values["Department"] == "Sales"
    assert sheet.header.unknown == ("Department", "Culure")
    assert sheet.label("email") == "E-mail Address"
    [clients] = read("clients_aliases.csv")
    [(_, client)] = rows_of(clients)
    assert client["client_id"] == "C-1" and client["client_name"] == "Acme"
    assert client["manager_email"] == "maria@northwind.example"
    assert client["tags"] == "vip" and client["room_type"] == "Public"


def test_kind_option_overrides_the_header() -> None:
    with pytest.raises(InputError, match="is a clients list but has no client_id, client_name"):
        read("users_pipe.csv", "clients")


def test_workbook_with_two_sheets_reads_cells_as_excel_shows_them() -> None:
    clients, users = read("onboarding_two_sheets.xlsx")
    assert (clients.sheet, clients.kind, users.sheet, users.kind) == (
        "Clients",
        RowKind.CLIENT,
        "USERS",
        RowKind.USER,
    )
    rows = rows_of(clients)
    first = rows[0][1]
    assert first["client_id"] == "10045"  # not "10045.0"
    assert first["Start date"] == "05.03.2024"  # the cell's own date format
    assert (first["Share"], first["Code"], first["Phone"]) == ("25.6%", "00042", "(555) 123-4567")
    assert rows[1][1]["client_name"] == "Globex Logistics"  # a formula's saved result
    assert rows[1][1]["Start date"] == "2024-12-31"  # Excel's regional short date, as ISO
    # D3:D4 is merged: the value shows on both rows.
    assert rows[1][1]["manager_email"] == rows[2][1]["manager_email"] == "amara@northwind.example"
    assert rows[3] == (5, {**rows[3][1], "client_name": ""})  # formula never calculated
    assert rows[4][1]["client_email"] == ""  # #N/A
    assert rows_of(users) == [
        (
            2,
            {
                "email": "wile@acme.example.com",
                "first_name": "Wile",
                "last_name": "Coyote",
                "type": "user",
                "room": "10045",
                "access": "editing",
                "culture": "en-US",
            },
        )
    ]


def test_workbook_cell_problems_become_notices_naming_sheet_line_and_cell() -> None:
    clients, _ = read("onboarding_two_sheets.xlsx")
    list(clients.rows)
    found = {(n.sheet, n.line, n.column): n.message for n in clients.warnings}
    assert "formula with no saved result" in found[("Clients", 5, "cell B5")]
    assert "shows the error #N/A" in found[("Clients", 6, "cell C6")]


@pytest.mark.parametrize("name", ["onboarding.xls", "onboarding.ods"])
def test_xls_and_ods_workbooks_are_read_like_xlsx(name: str) -> None:
    clients, users = read(name)
    assert (clients.file, clients.sheet, clients.kind) == (name, "Clients", RowKind.CLIENT)
    assert (users.sheet, users.kind) == ("users", RowKind.USER)
    rows = rows_of(clients)
    assert [line for line, _ in rows] == [2, 3]
    first = rows[0][1]
    assert first["client_id"] == "10045"  # not "10045.0"
    # without the file's number formats: a date as ISO, a percentage as its number
    assert (first["Start date"], first["Share"]) == ("2024-03-05", "0.256")
    assert rows[1][1]["manager_email"] == "maria@northwind.example"  # D2:D3 merged (.xls)
    [(line, person)] = rows_of(users)
    assert (line, person["email"], person["room"]) == (2, "wile@acme.example.com", "10045")


def test_a_table_away_from_a1_keeps_its_lines_and_cells(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "users"
    sheet["B3"], sheet["C3"], sheet["D3"], sheet["E3"] = "email", "first_name", "Joined", "Seats"
    sheet["B5"], sheet["C5"] = "wile@acme.example.com", "=A1"  # a formula never calculated
    sheet["D5"], sheet["E5"] = dt.datetime(2024, 3, 5), 1234
    sheet["D5"].number_format = "mm-dd-yy"  # built-in format 14
    sheet["E5"].number_format = "#,##0"  # built-in format 3
    path = tmp_path / "offset.xlsx"
    book.save(path)
    [users] = open_sources([path])
    assert users.header.line == 3
    [(line, values)] = rows_of(users)
    assert line == 5
    assert values == {
        "email": "wile@acme.example.com",
        "first_name": "",
        "Joined": "2024-03-05",
        "Seats": "1,234",
    }
    [notice] = users.warnings
    assert (notice.sheet, notice.line, notice.column) == ("users", 5, "cell C5")


def test_the_built_in_number_formats_are_openpyxls() -> None:
    from openpyxl.styles.numbers import BUILTIN_FORMATS as OPENPYXL

    from bulk_onboard.sources.xlsx_parts import BUILTIN_FORMATS

    assert BUILTIN_FORMATS == OPENPYXL


def test_kind_option_picks_one_sheet_of_a_workbook() -> None:
    [users] = read("onboarding_two_sheets.xlsx", "users")
    assert users.sheet == "USERS"


def test_single_sheet_workbook_is_told_by_its_header() -> None:
    [sheet] = read("single_sheet.xlsx")
    assert (sheet.sheet, sheet.kind) == ("Sheet1", RowKind.USER)
    assert rows_of(sheet)[0][1]["email"] == "wile@acme.example.com"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "empty.csv is empty; export the spreadsheet again"),
        ("header_only.csv", "header_only.csv has a header but no rows below it"),
        ("header_only.xlsx", "header_only.xlsx has no rows in sheet users"),
        (
            "old_excel.xls",
            "old_excel.xls is damaged or not a real Excel 97-2003 workbook (it has no sheet)",
        ),
        ("encrypted.xlsx", "encrypted.xlsx is protected with a password; open it in Excel"),
        ("clients.ods", "clients.ods is damaged or not a real OpenDocument spreadsheet"),
        ("renamed_pdf.xlsx", "renamed_pdf.xlsx is a PDF document, not a spreadsheet"),
        ("garbage.csv", "garbage.csv is not a CSV or Excel file (it holds binary data)"),
        ("latin_garbage.csv", "latin_garbage.csv is not readable text (line 2"),
        ("damaged.xlsx", "damaged.xlsx is damaged or not a real Excel workbook"),
        ("no_kind.csv", "no_kind.csv has neither a client_id nor an email column"),
        ("duplicate_columns.csv", 'has two columns for email ("Email" and "E-mail" on line 1)'),
        ("clients_missing_columns.csv", "is a clients list but has no manager_email column"),
        (
            "no_named_sheet.xlsx",
            # sheets are told by their columns: both are (empty) users sheets
            "has no rows in sheet Contacts, Other",
        ),
        ("missing.csv", "tests/cases/missing.csv does not exist"),
    ],
)
def test_unusable_files_raise_one_sentence_naming_the_file(name: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        for sheet in read(name):
            list(sheet.rows)
    text = str(raised.value)
    assert message in text
    # a file that cannot be read at all is named by the path as given, the rest by its name
    given = str(CASES / name) if name == "missing.csv" else name
    assert text.startswith(given) and text.endswith(".") and "\n" not in text


def test_unclosed_quote_is_reported_at_the_line_it_opens() -> None:
    with pytest.raises(InputError, match=r"unclosed_quote.csv, line 3: a quote \(\"\) opened"):
        for sheet in read("unclosed_quote.csv"):
            list(sheet.rows)


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"is a folder \(.+\), not a file") as raised:
        open_sources([tmp_path])
    assert str(raised.value).startswith(str(tmp_path))  # the folder as given


def test_same_file_name_twice_is_shown_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "users.csv").write_text("email\nx@y.example\n", encoding="utf-8")
    first, second = open_sources([tmp_path / "a" / "users.csv", tmp_path / "b" / "users.csv"])
    assert first.file.endswith("a/users.csv") and second.file.endswith("b/users.csv")


def test_values_under_a_blank_header_give_one_notice(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text(
        "email,,first_name,last_name\na@x.example,stray,A,B\nb@x.example,more,C,D\n",
        encoding="utf-8",
    )
    [sheet] = open_sources([path])
    rows = rows_of(sheet)
    assert rows[0][1] == {"email": "a@x.example", "first_name": "A", "last_name": "B"}
    assert [(n.line, n.column) for n in sheet.warnings] == [(2, "(no header)")]


def test_utf16_without_byte_order_mark_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes("email,first_name\nzoë@x.example,Zoë\n".encode("utf-16-le"))
    [sheet] = open_sources([path])
    assert rows_of(sheet) == [(2, {"email": "zoë@x.example", "first_name": "Zoë"})]


def test_old_mac_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(b"email\rx@y.example\r\rz@y.example\r")
    [sheet] = open_sources([path])
    assert [line for line, _ in rows_of(sheet)] == [2, 4]
