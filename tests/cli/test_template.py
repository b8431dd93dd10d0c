"""`bulk-onboard template FILE.xlsx`: an input workbook with every header, a note on each,
drop-down lists; the empty template validates (exit 0), filled in it is read as any workbook."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from bulk_onboard.model.columns import COLUMNS
from bulk_onboard.model.records import RowKind
from tests.helpers import run


def test_the_template_has_headers_notes_and_lists_and_validates_empty(tmp_path: Path) -> None:
    path = tmp_path / "onboarding.xlsx"
    result = run("template", str(path))
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    assert book.sheetnames == ["clients", "users"]
    lists: dict[str, str] = {}
    for kind in RowKind:
        sheet = book[kind.plural]
        header = [cell.value for cell in sheet[1]]
        assert header == list(COLUMNS[kind])
        for cell in sheet[1]:
            assert cell.comment is not None and cell.comment.text, cell.value
        for validation in sheet.data_validations.dataValidation:
            assert validation.type == "list"
            column = header[next(iter(validation.sqref.ranges)).min_col - 1]
            lists[f"{kind.plural}.{column}"] = validation.formula1
    assert lists == {
        "clients.room_type": '"collaboration,custom,public,form-filling,virtual-data"',
        "clients.client_access": '"content-creator,editing,review,comment,fill-forms,read"',
        "users.type": '"user,room-admin,docspace-admin"',
        "users.access": '"room-manager,content-creator,editing,review,comment,fill-forms,read"',
    }
    assert "Required." in (book["clients"]["A1"].comment.text or "")
    assert book["clients"].column_dimensions["A"].number_format == "@"  # 00456 stays 00456

    validated = run("validate", str(path))
    assert validated.exit_code == 0, validated.output
    assert validated.stdout == "onboarding.xlsx: no rows yet; every header is known.\n"


def test_a_filled_in_template_is_read_as_any_workbook(tmp_path: Path) -> None:
    path = tmp_path / "onboarding.xlsx"
    assert run("template", str(path)).exit_code == 0
    book = load_workbook(path)
    book["clients"].append(["00456", "Hill", "ops@hill.example", "maria@northwind.example"])
    book["users"].append(["ann@hill.example", "Ann", "Lee", "user", "00456", "editing"])
    book.save(path)
    result = run("validate", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == "onboarding.xlsx: 2 rows, all valid (1 client, 1 person).\n"


def test_the_template_is_never_written_over_a_file_or_without_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "onboarding.xlsx"
    path.write_bytes(b"mine")
    result = run("template", str(path))
    assert result.exit_code == 2 and "already exists" in result.output
    assert path.read_bytes() == b"mine"
    result = run("template", str(tmp_path / "onboarding.csv"))
    assert result.exit_code == 2 and "must end in .xlsx" in result.output
    result = run("template", str(tmp_path / "missing" / "x.xlsx"))
    assert result.exit_code == 2 and "cannot be written" in result.output
