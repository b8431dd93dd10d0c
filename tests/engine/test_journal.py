"""The journal: confirmed steps survive the process, a torn last line is ignored."""

from __future__ import annotations

import json
from pathlib import Path

from bulk_onboard.runs.journal import Journal, read_journal


def test_records_fold_into_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "run" / "journal.jsonl"
    with Journal(path) as journal:
        journal.record("client:C-1", "room", {"id": 11, "title": "Client - Acme"})
        journal.record("client:C-1", "folder:Invoices", {"id": 12})
        journal.record("user:a@example.com", "person", {"id": "guid-1"})
    checkpoint = read_journal(path)
    assert checkpoint.outputs("client:C-1") == {
        "room": {"id": 11, "title": "Client - Acme"},
        "folder:Invoices": {"id": 12},
    }
    assert checkpoint.outputs("user:a@example.com")["person"] == {"id": "guid-1"}
    assert checkpoint.outputs("client:C-2") == {}
    assert checkpoint.torn_lines == 0


def test_lines_are_on_disk_before_close(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, fsync_interval=3600)
    journal.record("client:C-1", "room", {"id": 1})
    # Another process (a resume after kill -9) sees the line without close().
    assert json.loads(path.read_text().splitlines()[0])["out"] == {"id": 1}
    journal.close()


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.record("client:C-1", "room", {"id": 1})
    with path.open("ab") as fh:
        fh.write(b'{"row":"client:C-1","step":"folder:Inv')
    checkpoint = read_journal(path)
    assert checkpoint.outputs("client:C-1") == {"room": {"id": 1}}
    assert checkpoint.torn_lines == 1
    # A resumed run appends after the torn line without gluing its entry onto it.
    with Journal(path) as journal:
        journal.record("client:C-1", "folder:Invoices", {"id": 2})
    assert read_journal(path).outputs("client:C-1") == {
        "room": {"id": 1},
        "folder:Invoices": {"id": 2},
    }


def test_missing_journal_is_empty(tmp_path: Path) -> None:
    assert read_journal(tmp_path / "nope.jsonl").steps == {}
