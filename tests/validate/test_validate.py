"""Every validation rule, as tables of rows and the problem a user would be shown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bulk_onboard.model.records import Access, RoomType, RowKind, UserType
from bulk_onboard.playbook.reader import RoomLink, default_playbook
from bulk_onboard.validate.files import Invalid
from tests.sheets import CLIENT, USER, check

DEFAULT = default_playbook()
EXTERNAL_LINK = replace(DEFAULT, link=RoomLink("external", Access.READ, "Shared link"))


def client_problems(row: dict[str, str], playbook=DEFAULT) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    result = check(clients=[{**CLIENT, **row}], playbook=playbook)
    assert result.rows == 1
    problems: dict[str, list[str]] = {}
    for invalid in result.invalid:
        for found in invalid.problems:
            problems.setdefault(found.column, []).append(found.text)
    return problems


def user_problems(
    row: dict[str, str], clients: list[dict[str, str]] | None = None
) -> dict[str, list[str]]:
    result = check(clients=clients or [], users=[{**USER, **row}])
    problems: dict[str, list[str]] = {}
    for invalid in result.invalid:
        if invalid.kind is RowKind.USER:
            for found in invalid.problems:
                problems.setdefault(found.column, []).append(found.text)
    return problems


@pytest.mark.parametrize(
    ("row", "column", "problem"),
    [
        ({"client_id": ""}, "client_id", "The client id is missing; give every client its own id"),
        ({"client_name": ""}, "client_name", "The client name is missing; fill it in"),
        (
            {"client_email": ""},
            "client_email",
            "The client's e-mail address is missing; fill it in.",
        ),
        ({"manager_email": ""}, "manager_email", "The account manager's e-mail address is missing"),
        (
            {"client_email": "contact(at)acme.com"},
            "client_email",
            (
                '"contact(at)acme.com" has no @, so it is not an e-mail address; write it as '
                "name@example.com."
            ),
        ),
        (
            {"client_email": "Acme <contact@acme.com>"},
            "client_email",
            "holds more than the address; write only the address",
        ),
        (
            {"client_email": "a@acme.com, b@acme.com"},
            "client_email",
            "holds more than one address; write one address per row.",
        ),
        ({"client_email": "a b@acme.com"}, "client_email", '"a b@acme.com" contains a space'),
        ({"client_email": "a..b@acme.com"}, "client_email", "has two dots in a row"),
        ({"client_email": "a@acme"}, "client_email", '"a@acme" is not a valid e-mail address'),
        (
            {"manager_email": "mailto:maria@northwind.example"},
            "manager_email",
            "starts with mailto:",
        ),
        (
            {"client_email": "maria@northwind.example"},
            "client_email",
            "The client's e-mail address is also the account manager's",
        ),
        (
            {"room_type": "kitchen"},
            "room_type",
            (
                '"kitchen" is not a room type; use collaboration, custom, public, form-filling, '
                "virtual-data (or 2, 5, 6, 1, 8)."
            ),
        ),
        (
            {"client_access": "owner"},
            "client_access",
            '"owner" is not an access; use content-creator, editing or read.',
        ),
        (
            {"client_access": "room-manager"},
            "client_access",
            (
                "room-manager is not possible for a client: clients are invited by e-mail and join as "
                "guests, who cannot manage rooms; use content-creator, editing or read."
            ),
        ),
        ({"client_access": "read-write"}, "client_access", "read-write is not a room access"),
        ({"client_access": "1"}, "client_access", "read-write is not a room access"),
        ({"client_access": "varies"}, "client_access", "varies is not a room access"),
        ({"client_access": "none"}, "client_access", "none would leave the client out of the room"),
        (
            {"client_access": "review"},
            "client_access",
            "review is not possible in a collaboration room; use content-creator, editing or read.",
        ),
        (
            {"room_type": "public"},
            "client_access",
            (
                "The playbook's client access read is not possible in a public room; write "
                "content-creator in this column."
            ),
        ),
        (
            {"room_type": "form-filling", "client_access": "read"},
            "client_access",
            "read is not possible in a form-filling room; use content-creator or fill-forms.",
        ),
        (
            {"room_type": "form-filling", "client_access": "fill-forms"},
            "room_type",
            (
                "The playbook's invitation link gives read, which is not possible in a form-filling "
                "room; use another room_type or set link.access to content-creator or fill-forms"
            ),
        ),
        (
            {"client_name": "A" * 170},
            "room_title",
            "would be 179 characters long; DocSpace allows 170. Shorten it.",
        ),
        ({"room_title": "R" * 171}, "room_title", "would be 171 characters long"),
    ],
)
def test_client_rules(row: dict[str, str], column: str, problem: str) -> None:
    problems = client_problems(row)
    assert column in problems, problems
    assert any(problem in p for p in problems[column]), problems[column]


@pytest.mark.parametrize(
    ("room_type", "problem"),
    [
        ("", "A collaboration room cannot have an external link, but the playbook asks for one"),
        ("virtual-data", "A virtual-data room cannot have an external link"),
        ("8", "A virtual-data room cannot have an external link"),
    ],
)
def test_external_link_is_impossible_in_collaboration_and_data_rooms(
    room_type: str, problem: str
) -> None:
    problems = client_problems({"room_type": room_type}, EXTERNAL_LINK)
    assert any(problem in p for p in problems["room_type"])


@pytest.mark.parametrize("room_type", ["custom", "5", "Custom Room", "public"])
def test_external_link_is_fine_where_the_room_type_allows_it(room_type: str) -> None:
    access = "content-creator" if room_type == "public" else "read"
    assert client_problems({"room_type": room_type, "client_access": access}, EXTERNAL_LINK) == {}


def test_manager_access_from_the_playbook_is_checked_per_room_type() -> None:
    editing_manager = replace(DEFAULT, access=replace(DEFAULT.access, manager=Access.EDITING))
    problems = client_problems(
        {"room_type": "public", "client_access": "content-creator"}, editing_manager
    )
    assert problems["room_type"] == [
        (
            "The playbook gives the account manager editing, which is not possible in a public "
            "room; use another room_type or change access.manager in the playbook."
        )
    ]


def test_every_problem_of_a_row_is_reported_not_just_the_first() -> None:
    problems = client_problems(
        {"client_id": "", "client_email": "nope", "room_type": "x", "client_access": "boss"}
    )
    assert set(problems) == {"client_id", "client_email", "room_type", "client_access"}


def test_valid_client_gets_playbook_defaults_and_merged_tags() -> None:
    tagged = replace(DEFAULT, tags=("client", "2024"))
    result = check(
        clients=[
            {
                **CLIENT,
                "client_email": " Contact@ACME.example.com ",
                "tags": "vip, 2024,,client ",
                "room_type": "Custom",
            }
        ],
        playbook=tagged,
    )
    [record] = result.clients
    assert record.client_email == "contact@acme.example.com"
    assert record.room_type == RoomType.CUSTOM and record.client_access == Access.READ
    assert record.room_title == "Client - Acme"
    assert record.tags == ("client", "2024", "vip")
    assert record.row_key == "client:C-1" and record.origin.line == 2


def test_room_title_column_wins_over_the_pattern() -> None:
    [record] = check(clients=[{**CLIENT, "room_title": "Acme – shared space"}]).clients
    assert record.room_title == "Acme – shared space"


def test_empty_column_used_by_the_title_pattern() -> None:
    pattern = replace(DEFAULT, room_title="{Region}: {client_name}")
    result = check(
        clients=[{**CLIENT, "Region": ""}, {**CLIENT, "client_id": "C-2", "Region": "EMEA"}],
        playbook=pattern,
    )
    [invalid] = result.invalid
    assert [i.column for i in invalid.problems] == ["Region"]
    assert 'the room title pattern "{Region}: {client_name}" uses it' in invalid.problems[0].text
    assert result.clients[0].room_title == "EMEA: Acme"


def test_duplicate_client_ids_flag_every_row_naming_the_others() -> None:
    result = check(
        clients=[
            CLIENT,
            {**CLIENT, "client_id": "c-1", "client_name": "Other"},
            {**CLIENT, "client_id": "C-1", "client_name": "Third"},
        ]
    )
    assert not result.clients
    problems = [[i.text for i in r.problems if i.column == "client_id"] for r in result.invalid]
    assert problems[0] == [
        '"C-1" is also the client_id on line 3 and line 4; every client needs its own id.'
    ]
    assert "on line 2 and line 4" in problems[1][0]
    assert "on line 2 and line 3" in problems[2][0]


def test_duplicate_room_titles_would_share_a_room() -> None:
    result = check(clients=[CLIENT, {**CLIENT, "client_id": "C-2"}])
    assert len(result.invalid) == 2
    assert "is refused when it runs (the room is not its own)" in (
        result.invalid[0].problems[0].text
    )


def test_room_titles_the_portal_stores_as_one_are_duplicates() -> None:
    """ "A/B" and "A:B" are both stored as "A_B" (docspace-api.md 10.1)."""
    result = check(
        clients=[
            {**CLIENT, "client_name": "A/B"},
            {**CLIENT, "client_id": "C-2", "client_name": "A:B"},
        ]
    )
    assert len(result.invalid) == 2
    assert (
        result.invalid[0]
        .problems[0]
        .text.startswith('"Client - A_B" is also the room title as the portal stores it on line 3;')
    )


@pytest.mark.parametrize(
    ("row", "column", "problem"),
    [
        (
            {"email": "", "first_name": "Wile", "last_name": "Coyote"},
            "email",
            "The person's e-mail address is missing; fill it in.",
        ),
        ({"email": "wile"}, "email", '"wile" has no @'),
        (
            {"first_name": "Wile"},
            "last_name",
            "The last name is missing; fill in both names, or neither",
        ),
        ({"last_name": "Coyote"}, "first_name", "The first name is missing"),
        (
            {"first_name": "R2", "last_name": "D2"},
            "first_name",
            (
                'The first name "R2" contains digits; DocSpace accepts only letters, spaces, '
                "apostrophes and hyphens in names."
            ),
        ),
        (
            {"first_name": "Jack", "last_name": "O’Brien"},
            "last_name",
            'contains "’" (use the plain apostrophe \')',
        ),
        ({"first_name": "Ann", "last_name": "Lee (Sales)"}, "last_name", 'contains "(", ")"'),
        ({"first_name": "A" * 256, "last_name": "B"}, "first_name", "longer than 255"),
        (
            {"type": "superuser"},
            "type",
            '"superuser" is not a user type; use user, room-admin or docspace-admin.',
        ),
        (
            {"type": "guest"},
            "type",
            "DocSpace does not let anyone create or invite guests directly",
        ),
        ({"type": "2"}, "type", "DocSpace does not let anyone create or invite guests directly"),
        (
            {"type": "All"},
            "type",
            '"All" is not a user type (the portal would make the person a paid room admin)',
        ),
        (
            {"access": "editing"},
            "access",
            "An access needs a room; fill in room or clear the access.",
        ),
        (
            {"room": "Project X", "access": "room-manager"},
            "access",
            (
                "room-manager needs a room-admin or docspace-admin; make the type room-admin or use "
                "content-creator, editing, review, comment, fill-forms or read."
            ),
        ),
        (
            {"room": "Project X", "access": "read-write"},
            "access",
            "read-write is not a room access",
        ),
        ({"room": "Project X", "access": "none"}, "access", "none would take the person out"),
        ({"room": "Project X", "access": "boss"}, "access", '"boss" is not an access; use'),
        ({"room": "X" * 171}, "room", "No room title is longer than 170 characters"),
        ({"culture": "english"}, "culture", '"english" is not a language code'),
    ],
)
def test_user_rules(row: dict[str, str], column: str, problem: str) -> None:
    problems = user_problems(row)
    assert column in problems, problems
    assert any(problem in p for p in problems[column]), problems[column]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Zoë", "Schröder"),
        ("José", "Álvarez"),
        ("Jose\u0301", "O'Brien"),
        ("Salma", "El Idrissi"),
        ("Anna-Lena", "Müller-Lüdenscheidt"),
        ("Сергей", "Иванов"),
        ("美咲", "佐藤"),
    ],
)
def test_names_the_portal_accepts(first: str, last: str) -> None:
    assert user_problems({"first_name": first, "last_name": last}) == {}


def test_valid_user_is_trimmed_lower_cased_and_gets_defaults() -> None:
    result = check(
        users=[
            {
                "email": "  Wile@ACME.example.com ",
                "culture": "en_us",
                "type": "Room Admin",
                "room": "Project X",
            }
        ]
    )
    [user] = result.users
    assert user.email == "wile@acme.example.com" and user.row_key == "user:wile@acme.example.com"
    assert user.user_type == UserType.ROOM_ADMIN and user.culture == "en-US"
    assert (user.room, user.room_is_client, user.access) == ("Project X", False, Access.EDITING)
    assert (user.first_name, user.last_name) == (None, None)


def test_room_admin_may_be_room_manager() -> None:
    [user] = check(users=[{**USER, "type": "room-admin", "room": "X", "access": "manager"}]).users
    assert user.access == Access.ROOM_MANAGER


def test_user_without_room_has_no_access() -> None:
    [user] = check(users=[USER]).users
    assert (user.room, user.room_is_client, user.access, user.user_type) == (
        None,
        False,
        None,
        UserType.USER,
    )


@pytest.mark.parametrize("room", ["C-1", "c-1", "Client - Acme"])
def test_room_naming_a_client_of_the_file_by_id_or_title(room: str) -> None:
    result = check(clients=[CLIENT], users=[{**USER, "room": room}])
    [user] = result.users
    assert (user.room, user.room_is_client) == ("C-1", True)


def test_default_access_is_checked_against_the_client_room_type() -> None:
    public = {**CLIENT, "room_type": "public", "client_access": "content-creator"}
    problems = user_problems({"room": "C-1"}, [public])
    assert problems["access"] == [
        (
            "The playbook's default access editing is not possible in a public room; write "
            "content-creator in this column."
        )
    ]
    assert user_problems({"room": "C-1", "access": "content-creator"}, [public]) == {}


def test_room_of_an_invalid_client_row() -> None:
    broken = {**CLIENT, "client_email": ""}
    problems = user_problems({"room": "C-1"}, [broken])
    assert problems["room"] == [
        (
            "The client C-1 (clients.csv, line 2) has problems, so this person cannot join its "
            "room; fix that row first."
        )
    ]


def test_duplicate_emails_ignore_case() -> None:
    result = check(users=[USER, {"email": "WILE@acme.example.com"}])
    assert [r.key for r in result.invalid] == ["wile@acme.example.com", "WILE@acme.example.com"]
    assert result.invalid[1].problems[0].text == (
        '"wile@acme.example.com" is also the e-mail address on line 2; list every person once.'
    )


def test_unknown_columns_are_warnings_with_a_guess() -> None:
    result = check(users=[{**USER, "Culure": "en-US", "Department": "Sales"}])
    assert len(result.users) == 1 and not result.invalid
    messages = {n.column: n.message for n in result.warnings}
    assert messages["Culure"].startswith(
        "This column is not one bulk-onboard uses (did you mean culture?)"
    )
    assert "did you mean" not in messages["Department"]


def test_invalid_rows_keep_their_values_and_the_header_as_written() -> None:
    result = check(users=[{"E-mail Address": "nope", "Team": "Blue"}])
    [invalid] = result.invalid
    assert isinstance(invalid, Invalid) and invalid.kind is RowKind.USER and invalid.key == "nope"
    assert invalid.problems[0].label == "E-mail Address" and invalid.problems[0].column == "email"
    assert dict(invalid.values) == {"email": "nope", "Team": "Blue"}


def test_results_keep_file_order_with_clients_checked_first() -> None:
    result = check(
        clients=[CLIENT, {**CLIENT, "client_id": "C-2", "client_name": "B"}],
        users=[{**USER, "room": "C-2"}, {"email": "x"}],
    )
    assert [c.client_id for c in result.clients] == ["C-1", "C-2"]
    assert [u.room for u in result.users] == ["C-2"]
    assert [r.origin.line for r in result.invalid] == [3]


@pytest.mark.parametrize(
    ("user", "role", "given"),
    [
        (
            {"email": "maria@northwind.example", "access": "editing"},
            "account manager",
            "room-manager",
        ),
        ({"email": "contact@acme.example.com", "access": "editing"}, "client contact", "read"),
    ],
)
def test_a_second_access_in_a_clients_room_names_both_lines(
    user: dict[str, str], role: str, given: str
) -> None:
    """issue 12 item 7: one person, two accesses to one room, is a problem naming both lines,
    not a share that flips on every run."""
    problems = user_problems({**user, "room": "C-1", "type": "room-admin"}, clients=[CLIENT])
    assert problems == {
        "access": [
            f"{user['email']} is the {role} of C-1 (clients.csv, line 2), with {given} in its "
            "room; this line gives them editing there. A person has one access per room: clear "
            "room and access on this line, or give it the same access."
        ]
    }


def test_the_same_access_twice_is_no_contradiction() -> None:
    manager = {"email": "maria@northwind.example", "type": "room-admin", "room": "C-1"}
    assert user_problems({**manager, "access": "room-manager"}, clients=[CLIENT]) == {}
    contact = {"email": "contact@acme.example.com", "room": "C-1", "access": "read"}
    assert user_problems(contact, clients=[CLIENT]) == {}
