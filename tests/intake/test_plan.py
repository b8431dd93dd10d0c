"""Plans: the steps of each kind of row, their references, and golden files of whole inputs."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from bulk_onboard.cli.plan_output import intake_json, intake_text, plan_lines
from bulk_onboard.intake import load_intake
from bulk_onboard.model.records import Access, LinkType, RoomType, UserType
from bulk_onboard.model.steps import (
    AnnounceCrm,
    CopyFile,
    EnsureFolder,
    EnsureLink,
    EnsurePerson,
    EnsureRoom,
    FindRoom,
    JoinRoom,
    Member,
    Ref,
    ShareRoom,
)
from bulk_onboard.plan import build_plan
from bulk_onboard.playbook.reader import RoomLink, TemplateCopy, default_playbook, load_playbook
from tests.helpers import CASES
from tests.sheets import CLIENT, USER, check

GOLDEN = Path(__file__).resolve().parent / "golden"
DEFAULT = default_playbook()
CRM = replace(DEFAULT, crm=replace(DEFAULT.crm, jsonl_path=Path("crm.jsonl")))


def client_plan(playbook=DEFAULT, **row: str):  # type: ignore[no-untyped-def]
    [record] = check(clients=[{**CLIENT, **row}], playbook=playbook).clients
    return build_plan(record, playbook)


def test_client_plan_with_the_default_playbook() -> None:
    plan = client_plan(tags="vip")
    assert (plan.row_key, plan.kind, plan.origin.line) == ("client:C-1", "client", 2)
    room = Ref("room", "id")
    deliverables = Ref("folder:Deliverables", "id")
    assert plan.steps == (
        EnsureRoom("room", "Client - Acme", RoomType.COLLABORATION, ("vip",)),
        EnsureFolder("folder:Invoices", room, "Invoices"),
        EnsureFolder("folder:Contracts", room, "Contracts"),
        EnsureFolder("folder:Deliverables", room, "Deliverables"),
        CopyFile(
            "copy:Welcome to your client room.pdf",
            DEFAULT.copies[0].source,
            deliverables,
            "Welcome to your client room.pdf",
        ),
        CopyFile(
            "copy:How to use the client portal.pdf",
            DEFAULT.copies[1].source,
            deliverables,
            "How to use the client portal.pdf",
        ),
        ShareRoom(
            "share",
            room,
            (
                Member("maria@northwind.example", Access.ROOM_MANAGER, by_id=True),
                Member("contact@acme.example.com", Access.READ, by_id=False),
            ),
            notify=True,
            message=None,
            culture=None,
        ),
        EnsureLink("link", room, LinkType.INVITATION, Access.READ, "Invitation link"),
    )


def test_no_link_and_copies_into_the_room_itself() -> None:
    playbook = replace(
        DEFAULT,
        link=RoomLink("none", Access.READ, ""),
        copies=(TemplateCopy(77, None, "Read me.pdf"),),
    )
    plan = client_plan(playbook)
    assert [s.key for s in plan.steps][-2:] == ["copy:Read me.pdf", "share"]
    assert plan.step("copy:Read me.pdf") == CopyFile(
        "copy:Read me.pdf", 77, Ref("room", "id"), "Read me.pdf"
    )


def test_crm_step_only_when_a_sink_is_configured() -> None:
    assert "crm" not in [s.key for s in client_plan().steps]
    plan = client_plan(CRM)
    crm = plan.steps[-1]
    assert isinstance(crm, AnnounceCrm) and crm.key == "crm"
    assert dict(crm.fields) == {
        "client_id": "C-1",
        "client_name": "Acme",
        "client_email": "contact@acme.example.com",
        "manager_email": "maria@northwind.example",
        "room_id": Ref("room", "id"),
        "room_title": Ref("room", "title"),
        "link_url": Ref("link", "url"),
        "folder_ids": (
            Ref("folder:Invoices", "id"),
            Ref("folder:Contracts", "id"),
            Ref("folder:Deliverables", "id"),
        ),
        "copy_ids": (
            Ref("copy:Welcome to your client room.pdf", "id"),
            Ref("copy:How to use the client portal.pdf", "id"),
        ),
    }
    no_link = replace(CRM, link=RoomLink("none", Access.READ, ""))
    fields = dict(client_plan(no_link).steps[-1].fields)  # type: ignore[union-attr]
    assert "link_url" not in fields


def test_every_ref_points_at_an_earlier_step_of_the_same_plan() -> None:
    plan = client_plan(CRM)
    seen: set[str] = set()
    for step in plan.steps:
        refs = [v for v in vars_of(step) if isinstance(v, Ref)]
        refs += [r for v in vars_of(step) if isinstance(v, tuple) for r in v if isinstance(r, Ref)]
        assert all(r.step in seen and r.row is None for r in refs), step
        seen.add(step.key)
    assert len(seen) == len(plan.steps)  # keys are unique


def vars_of(step: object) -> list[object]:
    values = [getattr(step, name) for name in step.__slots__]  # type: ignore[attr-defined]
    if isinstance(step, AnnounceCrm):
        values += [v for _, v in step.fields]
    return values


def test_person_without_room() -> None:
    [user] = check(
        users=[{**USER, "first_name": "Wile", "last_name": "Coyote", "culture": "en-US"}]
    ).users
    plan = build_plan(user, DEFAULT)
    assert (plan.row_key, plan.kind) == ("user:wile@acme.example.com", "user")
    assert plan.steps == (
        EnsurePerson("person", "wile@acme.example.com", "Wile", "Coyote", UserType.USER, "en-US"),
    )


def test_person_joining_a_client_room_of_the_file_refers_to_that_row() -> None:
    [user] = check(clients=[CLIENT], users=[{**USER, "room": "c-1", "access": "read"}]).users
    plan = build_plan(user, DEFAULT)
    assert [s.key for s in plan.steps] == ["person", "membership"]
    assert plan.steps[1] == JoinRoom(
        "membership",
        Ref("room", "id", row="client:C-1"),
        Ref("person", "id"),
        "wile@acme.example.com",
        Access.READ,
        True,
    )


def test_person_joining_an_existing_room_finds_it_first() -> None:
    [user] = check(users=[{**USER, "room": "Company handbook"}]).users
    plan = build_plan(user, DEFAULT)
    assert plan.steps[0] == FindRoom("room", "Company handbook")
    assert [s.key for s in plan.steps] == ["room", "person", "membership"]
    join = plan.steps[2]
    assert isinstance(join, JoinRoom) and join.room == Ref("room", "id")
    assert join.access == Access.EDITING


def test_text_shows_refs_symbolically_one_line_per_step() -> None:
    lines = plan_lines(client_plan(CRM))
    assert lines[0] == "client:C-1  (clients.csv, line 2)"
    assert len(lines) == 1 + 9
    assert lines[2].split() == [
        "folder:Invoices",
        "ensure",
        "folder",
        '"Invoices"',
        "in",
        "<room.id>",
    ]
    assert (
        "share <room.id> with maria@northwind.example as room-manager (by user id), "
        "contact@acme.example.com as read (by e-mail); notify" in lines[7]
    )
    assert "link_url=<link.url>" in lines[9] and "folder_ids=[<folder:Invoices.id> " in lines[9]
    [user] = check(clients=[CLIENT], users=[{**USER, "room": "C-1"}]).users
    assert (
        "add <person.id> (wile@acme.example.com) to <client:C-1/room.id> as editing"
        in (plan_lines(build_plan(user, DEFAULT))[-1])
    )


@pytest.mark.parametrize(
    ("golden", "playbook"),
    [("sample_default.json", None), ("sample_crm.json", CASES / "sample_playbook_crm.toml")],
)
def test_golden_plans(golden: str, playbook: Path | None) -> None:
    intake = load_intake(
        [CASES / "sample_clients.csv", CASES / "sample_users.csv"], load_playbook(playbook)
    )
    actual = json.dumps(intake_json(intake), indent=2, ensure_ascii=False) + "\n"
    path = GOLDEN / golden
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), (
        f"rerun with UPDATE_GOLDEN=1 and review {path}"
    )
    assert intake_text(intake)  # the text form renders every plan too


def test_golden_inputs_cover_what_they_should() -> None:
    default = json.loads((GOLDEN / "sample_default.json").read_text(encoding="utf-8"))
    assert default["summary"] == {"rows": 9, "valid": 9, "invalid": 0, "warnings": 0}
    actions = {s["action"] for p in default["plans"] for s in p["steps"]}
    assert actions == {
        "ensure_room",
        "ensure_folder",
        "copy_file",
        "share_room",
        "ensure_link",
        "ensure_person",
        "join_room",
        "find_room",
    }
    crm = json.loads((GOLDEN / "sample_crm.json").read_text(encoding="utf-8"))
    assert [r["key"] for r in crm["invalid"]] == ["C-10063", "auditor@kpmg-partner.example.com"]
    assert "announce_crm" in {s["action"] for p in crm["plans"] for s in p["steps"]}
