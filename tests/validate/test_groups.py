"""The users sheet's groups column, the playbook's [room] groups, and the plans they make."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bulk_onboard.errors import ConfigError
from bulk_onboard.model.records import Access
from bulk_onboard.model.steps import EnsurePerson, JoinGroup, ShareGroups, ShareRoom
from bulk_onboard.plan import build_plan
from bulk_onboard.playbook.reader import default_playbook, load_playbook
from tests.sheets import CLIENT, USER, check


def test_groups_cell_is_exact_names_separated_by_semicolons_once_each() -> None:
    [person] = check(
        users=[{**USER, "Groups": " Accounting team ;Sales;; accounting team;Sales"}]
    ).users
    assert person.groups == ("Accounting team", "Sales", "accounting team")
    steps = build_plan(person, default_playbook()).steps
    assert [s.key for s in steps] == [
        EnsurePerson.KEY,
        "group:Accounting team",
        "group:Sales",
        "group:accounting team",
    ]
    assert all(isinstance(s, JoinGroup) and s.email == person.email for s in steps[1:])


def test_a_group_name_over_128_characters_is_the_row_s_problem() -> None:
    result = check(users=[{**USER, "groups": "x" * 129}])
    [invalid] = result.invalid
    [problem] = invalid.problems
    assert problem.column == "groups" and "longer than 128 characters" in problem.text


def test_playbook_groups_share_every_client_room_after_its_members(tmp_path: Path) -> None:
    book = tmp_path / "pb.toml"
    book.write_text('[room]\ngroups = ["Accounting team"]\ngroup_access = "editing"\n')
    playbook = load_playbook(book)
    [client] = check(clients=[CLIENT], playbook=playbook).clients
    steps = build_plan(client, playbook).steps
    keys = [s.key for s in steps]
    assert keys.index(ShareGroups.KEY) == keys.index(ShareRoom.KEY) + 1
    share = next(s for s in steps if isinstance(s, ShareGroups))
    assert share.groups == ("Accounting team",) and share.access == Access.EDITING
    assert ShareGroups.KEY not in [s.key for s in build_plan(client, default_playbook()).steps]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('group_access = "room-manager"', "cannot be room-manager"),
        ('groups = ["A", "A"]', "names a group twice"),
        (f'groups = ["{"x" * 129}"]', "1 to 128 characters"),
    ],
)
def test_wrong_group_keys_are_playbook_errors(tmp_path: Path, text: str, message: str) -> None:
    book = tmp_path / "pb.toml"
    book.write_text(f"[room]\n{text}\n")
    with pytest.raises(ConfigError, match=message):
        load_playbook(book)


def test_an_access_the_room_type_denies_groups_makes_the_client_row_invalid() -> None:
    playbook = replace(default_playbook(), groups=("Accounting team",))
    [invalid] = check(clients=[{**CLIENT, "room_type": "public"}], playbook=playbook).invalid
    texts = [(p.column, p.text) for p in invalid.problems]
    assert any(
        column == "room_type" and "does not allow for groups (content-creator)" in text
        for column, text in texts
    ), texts
