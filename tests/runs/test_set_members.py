"""The portal's memory of whom bulk-onboard made each client room's manager and contact."""

from __future__ import annotations

import json
from pathlib import Path

from bulk_onboard.engine.undo_scope import read_effects, run_family
from bulk_onboard.runs.folder import create_run_folder
from bulk_onboard.runs.journal import Journal
from bulk_onboard.runs.set_members import NAME, SetMember, SetMembers
from bulk_onboard.state.store import FolderStore, store_for

OLD = SetMember("manager", "old@x.example", 9)
NEW = SetMember("manager", "new@x.example", 9)
CONTACT = SetMember("contact", "c@x.example", 2)


def test_what_a_run_records_the_next_run_reads_for_that_room_only(tmp_path: Path) -> None:
    memory = SetMembers.for_portal(store_for(tmp_path, "https://portal.example.com"), "")
    memory.record("client:K-1", 12, [OLD, CONTACT])
    again = SetMembers.for_portal(store_for(tmp_path, "https://portal.example.com/"), "")
    assert again.get("client:K-1", 12) == (OLD, CONTACT)
    assert again.get("client:K-1", 13) == ()  # the room was made again: nothing of it is ours
    assert (
        SetMembers.for_portal(store_for(tmp_path, "https://other.example.com"), "").get(
            "client:K-1", 12
        )
        == ()
    )


def test_a_claim_before_the_share_keeps_old_and_new_until_the_share_is_recorded(
    tmp_path: Path,
) -> None:
    memory = SetMembers(FolderStore(tmp_path))
    memory.record("client:K-1", 12, [OLD, CONTACT])
    memory.claim("client:K-1", 12, [NEW])
    # a run stopped here: its resume takes the old one back and keeps the new one
    assert SetMembers(FolderStore(tmp_path)).get("client:K-1", 12) == (OLD, CONTACT, NEW)
    memory.record("client:K-1", 12, [NEW, CONTACT])
    assert SetMembers(FolderStore(tmp_path)).get("client:K-1", 12) == (NEW, CONTACT)


def test_nothing_is_written_when_nothing_changed_nor_by_a_dry_run(tmp_path: Path) -> None:
    memory = SetMembers(FolderStore(tmp_path))
    memory.record("client:K-1", 12, [OLD])
    lines = (tmp_path / NAME).read_text().splitlines()
    memory.record("client:K-1", 12, [OLD])
    assert (tmp_path / NAME).read_text().splitlines() == lines
    planned = SetMembers(FolderStore(tmp_path), read_only=True)
    planned.record("client:K-1", 12, [NEW])
    assert planned.get("client:K-1", 12) == (NEW,)  # the dry run's own view
    assert (tmp_path / NAME).read_text().splitlines() == lines


def test_a_torn_last_line_is_passed_over_and_many_lines_are_compacted(tmp_path: Path) -> None:
    path = tmp_path / NAME
    memory = SetMembers(FolderStore(tmp_path))
    memory.record("client:K-1", 12, [OLD])
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"row": "client:K-1", "room": 12, "set": [["man')
    assert SetMembers(FolderStore(tmp_path)).get("client:K-1", 12) == (OLD,)
    memory = SetMembers(FolderStore(tmp_path))
    for n in range(150):
        memory.record("client:K-1", 12, [SetMember("contact", f"c{n}@x.example", 2)])
    lines = path.read_text().splitlines()
    assert len(lines) < 150
    assert json.loads(lines[-1])["set"][0][1] == "c149@x.example"
    assert SetMembers(FolderStore(tmp_path)).get("client:K-1", 12) == (
        SetMember("contact", "c149@x.example", 2),
    )


def test_undo_lists_the_members_a_share_replaced_as_not_taken_back(tmp_path: Path) -> None:
    source = tmp_path / "clients.csv"
    source.write_text("client_id\n")
    run = create_run_folder(tmp_path / "reports", "20260101-000000-000aa", [source], None, None)
    with Journal(run.journal) as journal:
        journal.record("client:A", "room", {"id": 5, "title": "Client - A"}, "found")
        out = {"room": 5, "added": [["new@x.example", "u-n", 9]], "removed": ["old@x.example"]}
        journal.record("client:A", "share", {**out, "invited": [], "set": []}, "changed")
    effects = read_effects(run_family(run, [tmp_path / "reports"]))
    assert [(e.room_id, e.email) for e in effects.members] == [(5, "new@x.example")]
    assert [c.what for c in effects.changes] == [
        "old@x.example removed from room 5 (the sheet named someone else)"
    ]
