"""room.template: read from the playbook, and the plan of a client row with it (the room from
the template, its content with the skeleton or the folders and copies as the fallback, share,
link; the CRM fields name the content step's ids)."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.cli.plan_output import step_text
from bulk_onboard.model.steps import (
    AnnounceCrm,
    CopyFile,
    CopySkeleton,
    EnsureFolder,
    EnsureLink,
    EnsureRoom,
    Ref,
    RoomFromTemplate,
    ShareRoom,
    TemplateContent,
)
from bulk_onboard.playbook.reader import load_playbook
from tests.intake.test_plan import client_plan


def playbook(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "playbook.toml"
    path.write_text(text, encoding="utf-8")
    return load_playbook(path)


def test_the_template_path_with_the_per_step_fallback(tmp_path: Path) -> None:
    book = playbook(tmp_path, '[room]\ntemplate = " Client room template "\n')
    assert book.template == "Client room template"
    plan = client_plan(book)
    assert [type(s) for s in plan.steps] == [
        RoomFromTemplate,
        TemplateContent,
        ShareRoom,
        EnsureLink,
    ]
    room = plan.step("room")
    assert isinstance(room, RoomFromTemplate) and isinstance(room, EnsureRoom)
    content = plan.step("content")
    assert isinstance(content, TemplateContent) and content.room == Ref("room", "id")
    assert [type(s) for s in content.fallback] == [EnsureFolder] * 3 + [CopyFile] * 2
    assert step_text(content) == (
        'the content comes with "Client room template" (while it cannot be used: 3 folders '
        "and 2 copies of the playbook, step by step)"
    )


def test_the_template_path_with_the_skeleton_as_fallback_and_the_crm_ids(tmp_path: Path) -> None:
    book = playbook(
        tmp_path,
        '[room]\ntemplate = "T"\nskeleton = "Templates/Skeleton"\n[crm]\njsonl_path = "c.jsonl"\n',
    )
    [fallback] = client_plan(book).step("content").fallback  # type: ignore[attr-defined]
    assert isinstance(fallback, CopySkeleton)
    crm = client_plan(book).steps[-1]
    assert isinstance(crm, AnnounceCrm)
    fields = dict(crm.fields)
    assert fields["folder_ids"] == Ref("content", "folders")
    assert fields["copy_ids"] == Ref("content", "files")


def test_a_skeleton_rows_crm_fields_name_the_copys_ids(tmp_path: Path) -> None:
    book = playbook(
        tmp_path, '[room]\nskeleton = "Templates/Skeleton"\n[crm]\njsonl_path = "c.jsonl"\n'
    )
    crm = client_plan(book).steps[-1]
    assert isinstance(crm, AnnounceCrm)
    assert dict(crm.fields)["folder_ids"] == Ref("skeleton", "folders")
