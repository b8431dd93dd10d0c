"""`bulk-onboard validate` and `bulk-onboard plan`: output, exit codes, one-sentence errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import CASES, ROOT, run

SAMPLE = [str(CASES / "sample_clients.csv"), str(CASES / "sample_users.csv")]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_validate_all_valid_exits_0_with_a_summary() -> None:
    result = run("validate", *SAMPLE)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "sample_clients.csv, sample_users.csv: 9 rows, all valid (3 clients, 6 people).\n"
    )


def test_validate_lists_every_problem_as_a_plain_table_when_piped(tmp_path: Path) -> None:
    users = write(
        tmp_path,
        "users.csv",
        "E-mail,First name,Last name,Type,Dept\n"
        "wile@acme.example.com,Wile,Coyote,user,Sales\n"
        "not-an-address,Road,,guest,Sales\n",
    )
    result = run("validate", users)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["file", "line", "column", "problem"]  # no sheet column for CSV
    body = "\n".join(lines[1:-1])
    assert 'users.csv  3     E-mail     "not-an-address" has no @' in body
    assert "users.csv  3     Last name  The last name is missing" in body
    assert (
        "users.csv  3     Type       DocSpace does not let anyone create or invite guests" in body
    )
    assert "users.csv  1     Dept       Warning: This column is not one bulk-onboard uses" in body
    assert "\x1b[" not in result.stdout  # no terminal colours when piped
    assert lines[-1] == (
        "users.csv: 2 rows, 1 valid (0 clients, 1 person), 1 invalid with 3 problems, 1 warning."
    )


def test_validate_workbook_names_the_sheet() -> None:
    result = run("validate", str(CASES / "onboarding_two_sheets.xlsx"))
    assert result.exit_code == 1
    assert "onboarding_two_sheets.xlsx  Clients  5" in result.stdout
    assert "cell B5" in result.stdout and "formula with no saved result" in result.stdout


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "empty.csv is empty; export the spreadsheet again and try again.\n"),
        (
            "old_excel.xls",
            (
                "old_excel.xls is damaged or not a real Excel 97-2003 workbook (it has no "
                "sheet); open it in Excel, save it again as .xlsx and try again.\n"
            ),
        ),
        ("encrypted.xlsx", "encrypted.xlsx is protected with a password"),
        ("garbage.csv", "garbage.csv is not a CSV or Excel file"),
        ("nope.csv", "nope.csv does not exist; check the file name and folder.\n"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_unusable_file_exits_2_with_one_sentence_on_stderr(
    command: str, name: str, message: str
) -> None:
    result = run(command, str(CASES / name))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_bad_playbook_exits_2_naming_the_key(tmp_path: Path) -> None:
    playbook = write(tmp_path, "mine.toml", '[room]\ntitel = "x"\n')
    result = run("validate", *SAMPLE, "--playbook", playbook)
    assert result.exit_code == 2
    assert result.stderr.startswith('mine.toml: unknown key "room.titel"')


def test_unknown_title_placeholder_exits_2(tmp_path: Path) -> None:
    playbook = write(tmp_path, "mine.toml", '[room]\ntitle = "{region}"\n')
    result = run("plan", *SAMPLE, "--playbook", playbook)
    assert result.exit_code == 2
    assert "uses {region}, but sample_clients.csv has no such column" in result.stderr


def test_kind_option_reads_a_csv_as_the_given_kind(tmp_path: Path) -> None:
    users = write(tmp_path, "people.csv", "client_id,email\nC-1,a@b.example\n")
    assert run("validate", users).exit_code == 2  # a client_id header: a clients list
    result = run("validate", users, "--kind", "users")
    assert result.exit_code == 0, result.output
    # in a users list "client_id" names the person's room: no longer an unknown column
    assert "people.csv: 1 row, all valid (0 clients, 1 person).\n" in result.stdout


def test_plan_prints_steps_per_row_and_invalid_rows_with_their_issues() -> None:
    result = run("plan", *SAMPLE, "--playbook", str(CASES / "sample_playbook_crm.toml"))
    assert result.exit_code == 1
    out = result.stdout
    assert "client:C-10045  (sample_clients.csv, line 2)\n  room " in out
    assert 'ensure room "Acme Corporation (C-10045)" (custom; tags: client, key-account)' in out
    assert "announce to the CRM: client_id=C-10045" in out
    assert (
        "client:C-10063  (sample_clients.csv, line 4)  INVALID, not planned\n"
        "  room_type: A virtual-data room cannot have an external link" in out
    )
    assert out.rstrip().splitlines()[-1] == (
        "sample_clients.csv, sample_users.csv: 9 rows, 7 valid (2 clients, 5 people), 2 invalid "
        "with 2 problems."
    )


def test_plan_json_is_the_golden_document() -> None:
    result = run("plan", *SAMPLE, "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    golden = ROOT / "tests" / "intake" / "golden" / "sample_default.json"
    assert document == json.loads(golden.read_text(encoding="utf-8"))


def test_commands_require_a_file() -> None:
    result = run("validate")
    assert result.exit_code == 2 and "Missing argument 'FILES...'" in result.stderr


def test_terminal_table_shows_cell_text_literally() -> None:
    import io

    from bulk_onboard.cli.problem_table import write_table

    out = io.StringIO()
    rows = [
        ("users.csv", "", "3", "Team", 'Warning: "[bold]Blue[/bold]" is kept'),
        ("users.csv", "", "4", "email", '"x" has no @'),
    ]
    write_table(rows, out, fancy=True)
    text = out.getvalue()
    assert "users.csv" in text.splitlines()[0]  # one file: named in the title
    assert "[bold]Blue[/bold]" in text and '"x" has no @' in text
    assert "sheet" not in text


def test_messages_keep_the_path_the_user_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("validate", "nosuchdir/clients.csv")
    assert result.exit_code == 2
    assert (
        result.stderr == "nosuchdir/clients.csv does not exist; check the file name and folder.\n"
    )
    result = run("validate", ".")
    assert result.exit_code == 2
    assert result.stderr.startswith(f". is a folder ({tmp_path}), not a file; name the spreadsheet")


def test_an_email_refused_for_a_character_names_it(tmp_path: Path) -> None:
    users = write(
        tmp_path, "users.csv", 'email\n"anna,smith@acme.example.com"\nbo\u200bb@acme.example.com\n'
    )
    result = run("validate", users)
    assert result.exit_code == 1
    assert (
        'contains the character "," (comma), which an e-mail address cannot hold' in result.stdout
    )
    assert "contains the character U+200B (zero width space)" in result.stdout
