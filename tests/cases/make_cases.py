"""Regenerate the input files of the intake tests: `python tests/cases/make_cases.py`.

Every file here is committed; this script documents how each was made and rebuilds them
byte for byte (no randomness, fixed timestamps).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import struct
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent

CLIENT_HEADER = ["client_id", "client_name", "client_email", "manager_email", "room_type", "tags"]
CLIENTS = [
    ["C-10045", "Acme Corporation", "contact@acme.example.com", "maria@northwind.example", "", ""],
    [
        "C-10051",
        "Müller & Söhne GmbH",
        "info@mueller.example.de",
        "kenji@northwind.example",
        "custom",
        "key-account, de",
    ],
    ["C-10052", "Café Lumière", "bonjour@lumiere.example.fr", "amara@northwind.example", "", ""],
]
USER_HEADER = ["email", "first_name", "last_name", "type", "room", "access", "culture"]
USERS = [
    ["wile@acme.example.com", "Wile", "Coyote", "user", "C-10045", "editing", "en-US"],
    ["zoe@mueller.example.de", "Zoë", "Schröder", "user", "C-10051", "review", "de-DE"],
    ["intern@northwind.example", "", "", "", "", "", ""],
]


def text_file(
    name: str,
    lines: list[list[str]],
    delimiter: str,
    encoding: str,
    bom: bytes = b"",
    newline: str = "\r\n",
) -> None:
    body = newline.join(delimiter.join(_quote(c, delimiter) for c in row) for row in lines)
    (HERE / name).write_bytes(bom + (body + newline).encode(encoding))


def _quote(cell: str, delimiter: str) -> str:
    if any(c in cell for c in (delimiter, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def csv_cases() -> None:
    text_file("clients_utf8.csv", [CLIENT_HEADER, *CLIENTS], ",", "utf-8", newline="\n")
    text_file(
        "clients_utf8_bom_semicolon.csv",
        [CLIENT_HEADER, *CLIENTS],
        ";",
        "utf-8",
        bom=b"\xef\xbb\xbf",
    )
    text_file("clients_cp1252_semicolon.csv", [CLIENT_HEADER, *CLIENTS], ";", "cp1252")
    text_file("users_utf16le_tab.csv", [USER_HEADER, *USERS], "\t", "utf-16-le", bom=b"\xff\xfe")
    text_file("users_utf16be_comma.csv", [USER_HEADER, *USERS], ",", "utf-16-be", bom=b"\xfe\xff")
    text_file("users_pipe.csv", [USER_HEADER, *USERS], "|", "utf-8")
    (HERE / "users_sep_line.csv").write_bytes(
        b"sep=;\r\n"
        + ";".join(USER_HEADER).encode()
        + b"\r\n"
        + ";".join(USERS[0]).encode()
        + b"\r\n"
    )
    # A quoted note spanning three lines: the row after it starts on physical line 5.
    text_file(
        "users_multiline.csv",
        [
            [*USER_HEADER, "notes"],
            [*USERS[0], "first line\nsecond line\nthird line"],
            ["not-an-address", "", "", "", "", "", "", "broken on line 5"],
        ],
        ",",
        "utf-8",
        newline="\r\n",
    )
    text_file(
        "users_blank_rows.csv",
        [
            USER_HEADER,
            [""] * 7,
            USERS[0],
            [" "] * 7,
            [],
            USERS[1],
        ],
        ",",
        "utf-8",
        newline="\n",
    )
    text_file(
        "users_aliases.csv",
        [
            [
                "E-mail Address",
                "Given name",
                "Surname",
                "User Type",
                "Room",
                "Role",
                "Language",
                "Department",
                "Culure",
            ],
            [
                "Wile@Acme.Example.com ",
                "Wile",
                "Coyote",
                "User",
                "C-10045",
                "Editor",
                "en-us",
                "Sales",
                "",
            ],
        ],
        ",",
        "utf-8",
    )
    text_file(
        "clients_aliases.csv",
        [
            ["Customer ID", "Company", "Contact e-mail", "Account manager", "Room type", "Labels"],
            ["C-1", "Acme", "contact@acme.example.com", "maria@northwind.example", "Public", "vip"],
        ],
        ",",
        "utf-8",
    )
    # Broken or unusable files.
    (HERE / "empty.csv").write_bytes(b"")
    text_file("header_only.csv", [USER_HEADER], ",", "utf-8")
    text_file("no_kind.csv", [["name", "phone"], ["Acme", "555"]], ",", "utf-8")
    text_file(
        "duplicate_columns.csv",
        [["Email", "E-mail", "first_name"], ["a@b.example", "c@d.example", "A"]],
        ",",
        "utf-8",
    )
    text_file(
        "clients_missing_columns.csv",
        [["client_id", "client_name", "client_email"], ["C-1", "Acme", "contact@acme.example.com"]],
        ",",
        "utf-8",
    )
    (HERE / "unclosed_quote.csv").write_bytes(
        b"email,first_name,last_name\n"
        b"wile@acme.example.com,Wile,Coyote\n"
        b'road@acme.example.com,"Road,Runner\n'
        b"hank@globex.example.com,Hank,Scorpio\n"
    )
    rng = random.Random(20240315)
    (HERE / "garbage.csv").write_bytes(bytes(rng.randrange(256) for _ in range(2048)))
    (HERE / "latin_garbage.csv").write_bytes(b"email\n\x81\x8d\x8f\x90\x9d@x.example\n")


def xlsx_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes, patch: dict[str, tuple[bytes, bytes]] | None = None) -> bytes:
    """Rewrite a zip with fixed timestamps (stable bytes), optionally patching parts."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(
                    rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", content
                )
            for old, new in [patch[item.filename]] if patch and item.filename in patch else []:
                assert old in content, (item.filename, old)
                content = content.replace(old, new)
            info = zipfile.ZipInfo(item.filename, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, content)
    return out.getvalue()


def two_sheet_workbook() -> None:
    """clients + users; numbers, dates, formulas, merged cells, an error cell."""
    book = Workbook()
    clients = book.active
    assert clients is not None
    clients.title = "Clients"
    clients.append(
        [
            "Client ID",
            "Client name",
            "Client e-mail",
            "Manager e-mail",
            "Start date",
            "Share",
            "Code",
            "Phone",
        ]
    )
    rows = [
        [
            10045,
            "Acme",
            "contact@acme.example.com",
            "maria@northwind.example",
            dt.datetime(2024, 3, 5),
            0.256,
            42,
            5551234567,
        ],
        [
            10046,
            '="Globex"&" Logistics"',
            "ops@globex.example.com",
            None,
            dt.datetime(2024, 12, 31),
            1,
            7,
            None,
        ],
        [10047, "Initech", "it@initech.example.com", None, None, None, None, None],
        [
            10048,
            "=A5*2",
            "legal@umbrella.example.com",
            "lukas@northwind.example",
            None,
            None,
            None,
            None,
        ],
        [10049, "Stark", "#N/A", "kenji@northwind.example", None, None, None, None],
    ]
    for row in rows:
        clients.append(row)
    clients["E2"].number_format = "dd.mm.yyyy"
    clients["E3"].number_format = "mm-dd-yy"
    clients["F2"].number_format = "0.0%"
    clients["G2"].number_format = "00000"
    clients["H2"].number_format = "(000) 000-0000"
    clients.merge_cells("D3:D4")
    clients["D3"] = "amara@northwind.example"
    users = book.create_sheet("USERS")
    users.append(USER_HEADER)
    users.append(["wile@acme.example.com", "Wile", "Coyote", "user", 10045, "editing", "en-US"])
    book.create_sheet("Notes").append(["anything", "here"])
    data = xlsx_bytes(book)
    # openpyxl writes no formula results: give the first formula the result Excel would save
    # and leave =A5*2 uncalculated. openpyxl itself stores "#N/A" as an error cell.
    patch = {
        "xl/worksheets/sheet1.xml": (
            b'<c r="B3"><f>"Globex"&amp;" Logistics"</f><v /></c>',
            b'<c r="B3" t="str"><f>"Globex"&amp;" Logistics"</f><v>Globex Logistics</v></c>',
        ),
    }
    data = _fixed_zip(data, patch)
    (HERE / "onboarding_two_sheets.xlsx").write_bytes(data)


def other_workbooks() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append(["Email", "First name", "Last name"])
    sheet.append(["wile@acme.example.com", "Wile", "Coyote"])
    (HERE / "single_sheet.xlsx").write_bytes(xlsx_bytes(book))

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "users"
    sheet.append(USER_HEADER)
    (HERE / "header_only.xlsx").write_bytes(xlsx_bytes(book))

    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Contacts"
    first.append(["Email"])
    book.create_sheet("Other").append(["Email"])
    (HERE / "no_named_sheet.xlsx").write_bytes(xlsx_bytes(book))

    good = xlsx_bytes(book)
    (HERE / "damaged.xlsx").write_bytes(good[: len(good) // 2])


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (version 3, 512-byte sectors) holding `streams`."""
    sector = 512
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    names = list(streams)
    data_sectors: list[bytes] = []
    chains: list[tuple[int, int]] = []
    next_sector = 2  # 0: FAT, 1: directory
    for name in names:
        payload = streams[name].ljust(4096, b"\0")  # ≥ 4096: kept in regular sectors
        count = -(-len(payload) // sector)
        chains.append((next_sector, count))
        data_sectors.append(payload.ljust(count * sector, b"\0"))
        next_sector += count
    fat = [fat_sector, end]
    for start, count in chains:
        fat.extend(start + i + 1 for i in range(count - 1))
        fat.append(end)
    fat.extend([free] * (sector // 4 - len(fat)))
    assert len(fat) == sector // 4, "too much data for one FAT sector"

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", free, right, child)
            + b"\0" * 16
            + b"\0" * 4
            + b"\0" * 16
            + struct.pack("<IQ", start, size)
        )

    directory = entry("Root Entry", 5, 1, free, end, 0)
    for n, name in enumerate(names):
        right = n + 2 if n + 1 < len(names) else free
        directory += entry(name, 2, free, right, chains[n][0], len(streams[name]))
    directory = directory.ljust(sector, b"\0")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", free) * 108
    )
    assert len(header) == sector
    return header + struct.pack("<128I", *fat) + directory + b"".join(data_sectors)


def unusable_files() -> None:
    (HERE / "encrypted.xlsx").write_bytes(
        compound_file(
            {
                "EncryptionInfo": struct.pack("<HHI", 4, 4, 0x40) + b"<encryption/>",
                "EncryptedPackage": struct.pack("<Q", 1234) + bytes(range(256)) * 4,
            }
        )
    )
    (HERE / "old_excel.xls").write_bytes(
        compound_file(
            {
                "Workbook": b"\x09\x08\x10\x00\x00\x06\x05\x00" + b"\0" * 12,
            }
        )
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as ods:
        info = zipfile.ZipInfo("mimetype", date_time=(2024, 1, 1, 0, 0, 0))
        ods.writestr(info, "application/vnd.oasis.opendocument.spreadsheet")
        info = zipfile.ZipInfo("content.xml", date_time=(2024, 1, 1, 0, 0, 0))
        ods.writestr(info, "<office:document-content/>")
    (HERE / "clients.ods").write_bytes(out.getvalue())
    (HERE / "renamed_pdf.xlsx").write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def xls_and_ods() -> None:
    """The same small onboarding as .xls (Excel 97-2003, written by xlwt: `pip install xlwt`
    to rebuild it) and .ods (OpenDocument, its content.xml written out here)."""
    import xlwt

    book = xlwt.Workbook()
    clients = book.add_sheet("Clients")
    header = ["Client ID", "Client name", "Client e-mail", "Manager e-mail", "Start date", "Share"]
    for col, text in enumerate(header):
        clients.write(0, col, text)
    date = xlwt.easyxf(num_format_str="dd.mm.yyyy")
    share = xlwt.easyxf(num_format_str="0.0%")
    for row, (number, name, email, day) in enumerate(
        [
            (10045, "Acme", "contact@acme.example.com", dt.date(2024, 3, 5)),
            (10046, "Globex", "ops@globex.example.com", dt.date(2024, 12, 31)),
        ],
        1,
    ):
        clients.write(row, 0, number)
        clients.write(row, 1, name)
        clients.write(row, 2, email)
        clients.write(row, 4, day, date)
        clients.write(row, 5, 0.256, share)
    clients.write_merge(1, 2, 3, 3, "maria@northwind.example")
    users = book.add_sheet("users")
    for col, text in enumerate(USER_HEADER):
        users.write(0, col, text)
    for col, text in enumerate(["wile@acme.example.com", "Wile", "Coyote", "user"]):
        users.write(1, col, text)
    users.write(1, 4, 10045)
    out = io.BytesIO()
    book.save(out)
    (HERE / "onboarding.xls").write_bytes(out.getvalue())

    def cell(value: object) -> str:
        if isinstance(value, dt.date):
            return (
                f'<table:table-cell office:value-type="date" office:date-value="{value}">'
                f"<text:p>{value:%d.%m.%Y}</text:p></table:table-cell>"
            )
        if isinstance(value, float):
            return (
                f'<table:table-cell office:value-type="percentage" office:value="{value}">'
                f"<text:p>{value:.1%}</text:p></table:table-cell>"
            )
        if isinstance(value, int):
            return (
                f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        if value:
            return (
                f'<table:table-cell office:value-type="string"><text:p>{value}</text:p>'
                "</table:table-cell>"
            )
        return "<table:table-cell/>"

    def table(name: str, rows: list[list[object]]) -> str:
        body = "".join(
            "<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>"
            for row in rows
        )
        return f'<table:table table:name="{name}">{body}</table:table>'

    urn = "urn:oasis:names:tc:opendocument:xmlns"
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-content xmlns:office="{urn}:office:1.0" '
        f'xmlns:table="{urn}:table:1.0" xmlns:text="{urn}:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet>"
        + table(
            "Clients",
            [
                header,
                [
                    10045,
                    "Acme",
                    "contact@acme.example.com",
                    "maria@northwind.example",
                    dt.date(2024, 3, 5),
                    0.256,
                ],
                [
                    10046,
                    "Globex",
                    "ops@globex.example.com",
                    "maria@northwind.example",
                    dt.date(2024, 12, 31),
                    0.256,
                ],
            ],
        )
        + table(
            "users",
            [USER_HEADER, ["wile@acme.example.com", "Wile", "Coyote", "user", 10045]],
        )
        + "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        f'xmlns:manifest="{urn}:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as ods:
        for name, text, method in (
            ("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED),
            ("content.xml", content, zipfile.ZIP_DEFLATED),
            ("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED),
        ):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = method
            ods.writestr(info, text)
    (HERE / "onboarding.ods").write_bytes(out.getvalue())


def sample_style() -> None:
    """A small onboarding in the shape of sample_data, for the golden plans."""
    text_file(
        "sample_clients.csv",
        [
            [
                "client_id",
                "client_name",
                "client_email",
                "manager_email",
                "room_title",
                "room_type",
                "client_access",
                "tags",
            ],
            [
                "C-10045",
                "Acme Corporation",
                "contact@acme.example.com",
                "maria.garcia@northwind.example",
                "",
                "",
                "",
                "key-account",
            ],
            [
                "C-10051",
                "Müller & Söhne GmbH",
                "info@mueller-soehne.example.de",
                "kenji.tanaka@northwind.example",
                "",
                "custom",
                "editing",
                "",
            ],
            [
                "C-10063",
                "Helvetia Precision AG",
                "kontakt@helvetia.example.ch",
                "amara.okafor@northwind.example",
                "Helvetia – due diligence",
                "virtual-data",
                "read",
                "vdr, 2024",
            ],
        ],
        ",",
        "utf-8",
        newline="\n",
    )
    text_file(
        "sample_users.csv",
        [
            USER_HEADER,
            ["sofia.rossi@northwind.example", "Sofia", "Rossi", "room-admin", "", "", "it-IT"],
            [
                "wile.coyote@acme.example.com",
                "Wile",
                "Coyote",
                "user",
                "C-10045",
                "editing",
                "en-US",
            ],
            ["zoe@mueller-soehne.example.de", "Zoë", "Schröder", "", "c-10051", "review", "de-DE"],
            [
                "auditor@kpmg-partner.example.com",
                "",
                "",
                "user",
                "Helvetia – due diligence",
                "read",
                "",
            ],
            [
                "handbook.reader@northwind.example",
                "Jack",
                "O'Brien",
                "user",
                "Company handbook",
                "",
                "en-IE",
            ],
            ["intern.2027a@northwind.example", "", "", "", "", "", ""],
        ],
        ",",
        "utf-8",
        newline="\n",
    )
    (HERE / "sample_playbook_crm.toml").write_text(
        "# Custom rooms with a shared link, a copy into the room itself, and a CRM file.\n"
        "[room]\n"
        'title = "{client_name} ({client_id})"\n'
        'type = "custom"\n'
        'tags = ["client"]\n'
        'folders = ["Invoices", "Contracts"]\n\n'
        "[[copies]]\n"
        "source = 90210\n"
        'title = "Read me first.pdf"\n\n'
        "[link]\n"
        'kind = "external"\n'
        'access = "read"\n'
        'title = "Client view"\n\n'
        "[invitation]\n"
        "notify = false\n"
        'message = "Welcome aboard!"\n'
        'culture = "en-GB"\n\n'
        "[crm]\n"
        'jsonl_path = "crm.jsonl"\n',
        encoding="utf-8",
    )


if __name__ == "__main__":
    sample_style()
    csv_cases()
    two_sheet_workbook()
    other_workbooks()
    unusable_files()
    xls_and_ods()
    print(f"cases written to {HERE}")
