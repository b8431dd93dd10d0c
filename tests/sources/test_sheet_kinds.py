"""Every sheet is accounted for: told by its columns, not its name; the sheets not read are
named with the reason; a sheet that could be either is an error saying which columns decided;
German, French and Spanish headers; "Client ID" in a users sheet is the room; "did you mean"."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run
from tests.sheets import write_workbook

CLIENT_HEADER = ["Client ID", "Company", "E-mail", "Account manager"]
CLIENT_ROW = ["C-1", "Acme", "contact@acme.example.com", "maria@northwind.example"]
PERSON_HEADER = ["E-mail", "First name", "Last name", "Client ID"]
PERSON_ROW = ["wile@acme.example.com", "Wile", "Coyote", "C-1"]


def workbook(tmp_path: Path, sheets: dict[str, list[list[str]]]) -> str:
    return str(write_workbook(tmp_path / "export.xlsx", sheets))


def test_sheets_are_told_by_their_columns_and_the_rest_is_named(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        {
            "Customers": [CLIENT_HEADER, CLIENT_ROW],
            "Contacts": [PERSON_HEADER, PERSON_ROW],
            "Instructions": [["Fill in one row per client"], ["and send it back"]],
        },
    )
    result = run("validate", path)
    assert result.exit_code == 0, result.output
    out = result.stdout
    # the clients sheet named "Customers" is clients: nobody there is invited as a person
    assert "export.xlsx: 2 rows, all valid (1 client, 1 person), 1 warning." in out
    assert "Instructions" in out
    assert "This sheet is not read: it has none of the columns of a clients sheet" in out


def test_kind_option_leaves_out_the_other_sheets_with_a_warning(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        {"Kunden": [CLIENT_HEADER, CLIENT_ROW], "Contacts": [PERSON_HEADER, PERSON_ROW]},
    )
    result = run("validate", path, "--kind", "users")
    out = result.stdout
    assert "1 row" in out and "1 person" in out, result.output
    assert "This sheet is not read: it is a clients sheet and --kind users was given" in out


def test_a_sheet_that_could_be_either_is_an_error_naming_the_columns(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        {"Data": [["Client ID", "Company", "First name", "Last name", "Email"], CLIENT_ROW]},
    )
    result = run("validate", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("export.xlsx, sheet Data could be a clients or a users sheet")
    assert "client columns Client ID, Company and person columns First name, Last name" in message
    assert 'rename the sheet to "clients" or "users"' in message


def test_a_sheet_named_users_never_swallows_a_clients_sheet(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"users": [CLIENT_HEADER, CLIENT_ROW], "x": [["a"], ["b"]]})
    result = run("validate", path)
    assert result.exit_code == 2
    assert "sheet users is named users but its columns (Client ID, Company, Account manager)" in (
        result.stderr
    )
    assert "rename the sheet to clients" in result.stderr


def test_a_csv_that_could_be_either_asks_for_kind(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("Client ID,Company,First name,Email\nC-1,Acme,Wile,w@acme.example.com\n")
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert "mixed.csv could be a clients or a users list" in result.stderr
    assert "--kind clients or --kind users" in result.stderr


def test_german_french_and_spanish_headers(tmp_path: Path) -> None:
    files = {
        "kunden.csv": "Kundennummer;Firma;E-Mail;Kundenbetreuer\n"
        "C-1;Acme;kontakt@acme.example.com;maria@northwind.example\n",
        "personen.csv": "E-Mail;Vorname;Nachname;Kundennummer;Sprache\n"
        "wile@acme.example.com;Wile;Coyote;C-1;de-DE\n",
        "clients_fr.csv": "Numéro client;Société;Courriel;Gestionnaire\n"
        "C-2;Globex;contact@globex.example.com;maria@northwind.example\n",
        "usuarios.csv": "Correo electrónico,Nombre,Apellidos,ID cliente\n"
        "ana@globex.example.com,Ana,García,C-2\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = run("validate", *(str(tmp_path / name) for name in files))
    assert result.exit_code == 0, result.output
    assert "4 rows, all valid (2 clients, 2 people)." in result.stdout
    assert "Warning" not in result.stdout  # every header was understood


def test_client_id_in_a_users_sheet_is_the_room(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        {"Customers": [CLIENT_HEADER, CLIENT_ROW], "People": [PERSON_HEADER, PERSON_ROW]},
    )
    result = run("plan", path)
    assert result.exit_code == 0, result.output
    person = result.stdout.split("user:wile@acme.example.com")[1]
    assert "add <person.id> (wile@acme.example.com) to <client:C-1/room.id>" in person


def test_an_unknown_column_close_to_a_known_one_gets_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Email,Frist name,Last name,Culutre\nwile@acme.example.com,Wile,Coyote,en\n")
    result = run("validate", str(path))
    assert result.exit_code == 1, result.output  # the last name alone makes the row invalid
    assert "Frist name" in result.stdout and "did you mean first_name?" in result.stdout
    assert "Culutre" in result.stdout and "did you mean culture?" in result.stdout
