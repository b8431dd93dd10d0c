"""load_intake, the loader `validate`, `plan` and `run` share: files + playbook → plans."""

from __future__ import annotations

import gc
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from bulk_onboard.errors import ConfigError
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import default_playbook, load_playbook
from tests.helpers import CASES


def test_client_plans_come_first_whatever_the_file_order() -> None:
    intake = load_intake(
        [CASES / "sample_users.csv", CASES / "sample_clients.csv"], default_playbook()
    )
    assert intake.files == ("sample_users.csv", "sample_clients.csv")
    kinds = [p.kind for p in intake.plans]
    assert kinds == ["client"] * 3 + ["user"] * 6
    assert [p.row_key for p in intake.plans][:3] == [
        "client:C-10045",
        "client:C-10051",
        "client:C-10063",
    ]
    assert intake.rows == 9 and intake.problems == 0 and not intake.invalid
    assert intake.users[0].email == "sofia.rossi@northwind.example"


def test_cycle_collection_is_back_on_afterwards() -> None:
    assert gc.isenabled()
    load_intake([CASES / "sample_clients.csv"], default_playbook())
    assert gc.isenabled()
    gc.disable()
    try:
        load_intake([CASES / "sample_clients.csv"], default_playbook())
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


def test_playbook_that_does_not_fit_the_file_fails_before_any_row(tmp_path: Path) -> None:
    playbook = tmp_path / "p.toml"
    playbook.write_text('[room]\ntitle = "{branch} - {client_name}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"uses \{branch\}, but sample_clients.csv has no such"):
        load_intake([CASES / "sample_clients.csv"], load_playbook(playbook))


def test_workbook_whose_stored_size_is_wrong_is_read_whole(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "users"
    sheet.append(["email", "first_name", "last_name"])
    for n in range(5):
        sheet.append([f"p{n}@x.example", "Ann", "Lee"])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(buffer)
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:C6" />', b'<dimension ref="A1" />')
                assert b'ref="A1" />' in data
            target.writestr(item, data)
    intake = load_intake([path], default_playbook())
    assert [u.email for u in intake.users] == [f"p{n}@x.example" for n in range(5)]
    assert intake.users[0].first_name == "Ann"
