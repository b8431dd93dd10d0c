"""The header is found, not assumed: a title row (merged across the table), empty rows and notes
above it are passed over, and `validate` says which line it took. An export's own headers are
mapped by the playbook's [columns.clients] and [columns.users]."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from bulk_onboard.errors import ConfigError
from bulk_onboard.model.records import RowKind
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.sources import open_sources
from tests.helpers import run

CLIENT_HEADER = ["client_id", "client_name", "client_email", "manager_email"]
CLIENTS = [
    ["HL-1001", "Hill Ltd", "ops@hill.example", "maria@northwind.example"],
    ["HL-1002", "Dale plc", "it@dale.example", "kenji@northwind.example"],
]


def titled_workbook(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A clients sheet as a CRM exports it: a merged title row, an empty row, the header."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Clients"
    sheet["A1"] = "Client export - Northwind CRM - 6 Dec 2026"
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_a_merged_title_row_is_passed_over_and_validate_names_the_header_line(
    tmp_path: Path,
) -> None:
    path = titled_workbook(tmp_path / "export.xlsx", CLIENT_HEADER, CLIENTS)
    result = run("validate", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "export.xlsx, sheet Clients (clients): header on line 3.",
        "export.xlsx: 2 rows, all valid (2 clients, 0 people).",
    ]
    [sheet] = open_sources([path])
    assert [row.origin.line for row in sheet.rows] == [4, 5]


def test_a_csv_with_a_title_and_a_note_above_a_semicolon_header(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    lines = ["Client export", "Exported by maria; 6 Dec 2026", "", ";".join(CLIENT_HEADER)]
    lines += [";".join(row) for row in CLIENTS]
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    [sheet] = open_sources([path])
    assert (sheet.kind, sheet.header.line) == (RowKind.CLIENT, 4)
    assert [row.values["client_id"] for row in sheet.rows] == ["HL-1001", "HL-1002"]


def test_without_a_known_header_in_the_first_rows_the_first_row_is_the_header(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("Just some notes\nand more notes\n", encoding="utf-8")
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert "no client_id nor an email column in its header (line 1)" in result.output.replace(
        "neither a client_id", "no client_id"
    )


CRM_HEADER = ["Account ID", "Account Name", "Primary Contact", "Account Owner", "Segment"]
CRM_PLAYBOOK = """
[columns.clients]
"Account ID" = "client_id"
"Primary Contact" = "client_email"
"account owner" = "manager_email"
"""


def test_crm_headers_mapped_by_the_playbook(tmp_path: Path) -> None:
    rows = [[*row[:2], row[2], row[3], "SMB"] for row in CLIENTS]
    path = titled_workbook(tmp_path / "crm.xlsx", CRM_HEADER, rows)
    playbook = tmp_path / "playbook.toml"
    playbook.write_text(CRM_PLAYBOOK, encoding="utf-8")
    result = run("validate", str(path), "--playbook", str(playbook))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "crm.xlsx, sheet Clients (clients): header on line 3; columns from the playbook: "
        '"Account ID" = client_id, "Primary Contact" = client_email, '
        '"Account Owner" = manager_email.'
    )
    assert "Segment" in result.stdout  # not a column: still said, and kept in the report
    assert result.stdout.splitlines()[-1] == (
        "crm.xlsx: 2 rows, all valid (2 clients, 0 people), 1 warning."
    )
    planned = run("plan", str(path), "--playbook", str(playbook))
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.splitlines()[0].startswith("crm.xlsx, sheet Clients (clients): header")
    as_json = json.loads(run("plan", str(path), "--playbook", str(playbook), "--json").stdout)
    assert as_json["tables"][0]["columns_mapped"] == {
        "Account ID": "client_id",
        "Primary Contact": "client_email",
        "Account Owner": "manager_email",
    }
    assert as_json["tables"][0]["header_line"] == 3


def test_without_the_mapping_the_crm_header_is_no_clients_list(tmp_path: Path) -> None:
    path = titled_workbook(tmp_path / "crm.xlsx", CRM_HEADER, CLIENTS)
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert "client_id" in result.output and "Traceback" not in result.output
    assert "in the playbook's [columns.clients]" in result.output


def test_an_unknown_header_the_mapping_leaves_alone_keeps_its_did_you_mean(
    tmp_path: Path,
) -> None:
    path = tmp_path / "users.csv"
    path.write_text("Mail,Frist name,Role\nann@x.example,Ann,user\n", encoding="utf-8")
    playbook = tmp_path / "playbook.toml"
    playbook.write_text('[columns.users]\nMail = "email"\nRole = "type"\n', encoding="utf-8")
    result = run("validate", str(path), "--playbook", str(playbook))
    assert result.exit_code == 0, result.output
    assert "did you mean first_name?" in result.stdout
    assert '"Role" = type' in result.stdout
    [sheet] = open_sources([path], None, load_playbook(playbook).columns)
    assert [row.values["type"] for row in sheet.rows] == ["user"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[columns.clients]\n"Account ID" = "client_idd"\n', "did you mean client_id?"),
        ('[columns.users]\n"Account ID" = "client_id"\n', "no column of a users sheet"),
        ("[columns]\nclients = 3\n", "columns.clients must be a table"),
        ('[columns.clients]\n" " = "client_id"\n', "empty header"),
        ("columns = 3\n", r"columns must be a \[table\]"),
        ('[sheets]\nignore = "Summary"\n', "sheets.ignore must be a list"),
        ("sheets = 1\n", r"sheets must be a \[table\]"),
    ],
)
def test_a_wrong_mapping_is_a_config_error(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=said):
        load_playbook(path)
