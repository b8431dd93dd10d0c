"""room.skeleton: read from the playbook, and the plan of a client row with it (room, one
skeleton copy, share, link: the playbook's folders and copies are not used)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.cli.plan_output import step_text
from bulk_onboard.errors import ConfigError
from bulk_onboard.model.steps import (
    CopySkeleton,
    EnsureLink,
    EnsureRoom,
    FolderPath,
    Ref,
    ShareRoom,
)
from bulk_onboard.playbook.reader import load_playbook
from tests.intake.test_plan import client_plan


def playbook(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "playbook.toml"
    path.write_text(text, encoding="utf-8")
    return load_playbook(path)


def test_the_skeleton_path_replaces_folders_and_copies(tmp_path: Path) -> None:
    book = playbook(tmp_path, '[room]\nskeleton = " Templates/Client room skeleton/2025 "\n')
    assert book.skeleton == FolderPath("Templates", ("Client room skeleton", "2025"))
    assert book.folders  # kept beside it, not used
    plan = client_plan(book)
    kinds = [type(step) for step in plan.steps]
    assert kinds == [EnsureRoom, CopySkeleton, ShareRoom, EnsureLink]
    skeleton = plan.step("skeleton")
    assert isinstance(skeleton, CopySkeleton)
    assert (skeleton.room, skeleton.source) == (Ref("room", "id"), book.skeleton)
    # the playbook's folders and copies: only while the skeleton is not in the portal
    assert [s.key for s in skeleton.fallback] == [
        "folder:Invoices",
        "folder:Contracts",
        "folder:Deliverables",
        "copy:Welcome to your client room.pdf",
        "copy:How to use the client portal.pdf",
    ]
    assert step_text(skeleton) == (
        'copy the content of "Templates/Client room skeleton/2025" into <room.id> (one copy '
        "operation; while it is not in the portal: 3 folders and 2 copies of the playbook, "
        "step by step)"
    )
    alone = playbook(tmp_path, 'copies = []\n[room]\nskeleton = "T/S"\nfolders = []\n')
    only = client_plan(alone).step("skeleton")
    assert isinstance(only, CopySkeleton) and only.fallback == ()
    assert step_text(only).endswith("the playbook has no folders or copies to make instead)")


def test_without_a_skeleton_the_plan_takes_the_per_step_path() -> None:
    assert "skeleton" not in [step.key for step in client_plan().steps]


@pytest.mark.parametrize("value", ["Templates", "/Templates/", "Templates//x", "x/ /y"])
def test_a_skeleton_must_name_a_folder_in_a_room(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"room\.skeleton must name a folder in a room"):
        playbook(tmp_path, f'[room]\nskeleton = "{value}"\n')
