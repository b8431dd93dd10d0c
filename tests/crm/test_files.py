"""The JSONL and CSV sinks: append, never the same idempotency key twice in a file."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.crm.files import CsvSink, FileSink, JsonlSink
from bulk_onboard.crm.payload import CSV_COLUMNS, build_record
from bulk_onboard.errors import CrmError


def record(client_id: str = "C-1", room_id: int = 10, name: str = "Acme") -> dict[str, Any]:
    fields = {
        "client_id": client_id,
        "client_name": name,
        "client_email": "c@acme.example",
        "manager_email": "m@northwind.example",
        "room_id": room_id,
        "room_title": f"Client - {name}",
        "folder_ids": (11, 12),
        "copy_ids": (13,),
    }
    return build_record(fields, run_id="run", portal_url="https://p.example", at=1e9)


def opened(sink: FileSink) -> FileSink:
    sink.open()
    return sink


def jsonl_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_jsonl_appends_each_key_once(tmp_path: Path) -> None:
    path = tmp_path / "out" / "crm.jsonl"  # folders are made as needed
    sink = opened(JsonlSink(path))
    assert sink.write(record("C-1")) is True
    assert sink.write(record("C-1")) is False
    assert sink.write(record("C-2", 20)) is True
    sink.close()
    assert [r["client_id"] for r in jsonl_lines(path)] == ["C-1", "C-2"]
    assert jsonl_lines(path)[0] == record("C-1")


def test_jsonl_reads_the_keys_already_in_the_file_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "crm.jsonl"
    first = opened(JsonlSink(path))
    first.write(record("C-1"))
    first.close()
    again = opened(JsonlSink(path))  # a rerun
    assert record("C-1")["idempotency_key"] in again
    assert again.write(record("C-1")) is False
    assert again.write(record("C-1", room_id=99)) is True  # same client, new room: news
    again.close()
    assert len(jsonl_lines(path)) == 2


def test_two_writers_of_one_file_do_not_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "crm.jsonl"
    one, two = opened(JsonlSink(path)), opened(JsonlSink(path))
    assert one.write(record("C-1")) is True
    assert two.write(record("C-1")) is False  # caught up on what `one` appended
    assert two.write(record("C-2", 20)) is True
    assert one.write(record("C-2", 20)) is False
    one.close()
    two.close()
    assert [r["client_id"] for r in jsonl_lines(path)] == ["C-1", "C-2"]


def test_a_line_torn_by_a_crash_is_closed_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "crm.jsonl"
    good = json.dumps(record("C-1"))
    path.write_text(good + "\n" + '{"idempotency_key": "x", "client_', encoding="utf-8")
    sink = opened(JsonlSink(path))
    assert sink.write(record("C-1")) is False
    assert sink.write(record("C-2", 20)) is True
    sink.close()
    lines = path.read_text("utf-8").splitlines()
    assert lines[1] == '{"idempotency_key": "x", "client_'
    assert json.loads(lines[2])["client_id"] == "C-2"


def test_csv_writes_the_header_once_and_each_key_once(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    sink = opened(CsvSink(path))
    assert sink.write(record("C-1", name="=cmd|' /C calc'!A0")) is True
    assert sink.write(record("C-1")) is False
    sink.close()
    again = opened(CsvSink(path))
    assert again.write(record("C-1")) is False
    assert again.write(record("C-2", 20, name="Beta, Inc.\nEurope")) is True
    again.close()
    text = path.read_text("utf-8")
    assert text.count("idempotency_key") == 1
    rows = csv_rows(path)
    assert [r["client_id"] for r in rows] == ["C-1", "C-2"]
    assert rows[0]["client_name"] == "'=cmd|' /C calc'!A0"  # inert in a spreadsheet
    assert rows[1]["client_name"] == "Beta, Inc.\nEurope"
    assert rows[0]["folder_ids"] == "11 12" and tuple(rows[0]) == CSV_COLUMNS


def test_csv_keys_survive_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    sink = opened(CsvSink(path))
    sink.write(record("C-1"))
    sink.close()
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # saved again by a spreadsheet
    again = opened(CsvSink(path))
    assert again.write(record("C-1")) is False
    again.close()


def test_a_csv_with_other_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("name,phone\nAcme,123\n", encoding="utf-8")
    sink = CsvSink(path)
    with pytest.raises(CrmError, match="has other columns") as raised:
        sink.open()
    assert raised.value.transient is False and str(path) in str(raised.value)
    assert path.read_text("utf-8") == "name,phone\nAcme,123\n"


def test_a_path_that_cannot_be_opened_is_a_permanent_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    sink = JsonlSink(tmp_path / "taken" / "crm.jsonl")
    with pytest.raises(CrmError, match="cannot be opened") as raised:
        sink.open()
    assert raised.value.transient is False
    assert str(tmp_path / "taken" / "crm.jsonl") in raised.value.message


def test_writing_to_a_sink_that_is_not_open_is_a_bug(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not open"):
        JsonlSink(tmp_path / "crm.jsonl").write(record())
