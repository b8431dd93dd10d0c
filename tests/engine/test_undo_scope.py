"""What undo takes back, read from a run's journals: the run, its resumes (one journal) and
the retries of it (their own folders, naming the run they retried)."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.engine.undo_scope import read_effects, run_family
from bulk_onboard.runs.folder import create_run_folder
from bulk_onboard.runs.journal import Journal


def test_a_run_and_the_retry_of_its_retry_are_one_run_for_undo(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    source = tmp_path / "clients.csv"
    source.write_text("client_id\n")
    first = create_run_folder(reports, "20260101-000000-000aa", [source], None, None)
    with Journal(first.journal) as j:
        j.record("client:A", "room", {"id": 11, "title": "Client - A"}, "created")
        j.record("client:A", "folder:Invoices", {"id": 12}, "created")
        j.record(
            "client:A",
            "share",
            {"room": 11, "added": [["a@x.example", "", 11]], "invited": ["a@x.example"]},
            "changed",
        )
        j.record("client:B", "room", {"id": 5, "title": "Client - B"}, "found")  # not ours to undo
        j.record(
            "client:B",
            "share",
            {"room": 5, "added": [["m@x.example", "u-m", 9]], "invited": []},
            "changed",
        )
        j.record("user:old@x.example", "person", {"id": "u-old"}, "found")
        j.record("user:new@x.example", "person", {"id": "u-new"}, "created")
        j.record(
            "user:new@x.example",
            "membership",
            {"room": 7, "person": "u-new", "access": 10, "added": True},
            "changed",
        )
    retry = create_run_folder(
        reports, "20260101-000100-000bb", [source], None, None, retry_of=first.run_id
    )
    with Journal(retry.journal) as j:  # a retry's journal starts with what was done before
        j.record("client:A", "room", {"id": 11, "title": "Client - A"}, "created")
        j.record("client:C", "room", {"id": 21, "title": "Client - C"}, "created")
        j.record("client:C", "crm", {"idempotency_key": "k"}, "created")
    again = create_run_folder(
        reports, "20260101-000200-000cc", [source], None, None, retry_of=retry.run_id
    )
    with Journal(again.journal) as j:
        j.record("user:late@x.example", "person", {"id": "u-late"}, "created")
    unrelated = create_run_folder(reports, "20260101-000300-000dd", [source], None, None)
    with Journal(unrelated.journal) as j:
        j.record("client:Z", "room", {"id": 99, "title": "Client - Z"}, "created")

    family = run_family(first, [reports])
    assert [f.run_id for f in family] == [first.run_id, retry.run_id, again.run_id]
    effects = read_effects(family)
    assert [(e.room_id, e.title) for e in effects.rooms] == [(11, "Client - A"), (21, "Client - C")]
    assert effects.made_folders == {11: {12}}
    assert sorted(e.email for e in effects.people) == [
        "a@x.example",  # invited by the share
        "late@x.example",  # by the retry of the retry
        "new@x.example",
    ]
    # members added to rooms the run did not create; those of its own rooms go with the room
    assert sorted((e.room_id, e.email, e.person_id, e.access) for e in effects.members) == [
        (5, "m@x.example", "u-m", 9),
        (7, "new@x.example", "u-new", 10),
    ]
    assert effects.joined_room[11] == {"a@x.example"}
    assert [(e.row, e.room_id) for e in effects.announced] == [("client:C", 21)]
