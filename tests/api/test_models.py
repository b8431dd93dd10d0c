"""The portal's DTOs decoded once (api/models.py), and refusals named once (api/wire.py)."""

from __future__ import annotations

import pytest

from bulk_onboard.api import wire
from bulk_onboard.api.models import (
    ACTIVE,
    DOCSPACE_ADMIN,
    GUEST,
    ROOM_ADMIN,
    TERMINATED,
    USER,
    Account,
    FolderContents,
    FolderItems,
    Item,
    Link,
    Member,
    Person,
    Room,
    ShareReply,
)
from bulk_onboard.errors import PermanentError, Refusal


def test_a_room_by_its_id_title_tags_and_folder() -> None:
    dto = {"id": 7, "title": "Acme", "tags": ["client:K-1", "x"], "rootFolderType": 14}
    assert Room.from_dto(dto) == Room(7, "Acme", ("client:K-1", "x"), archived=False)
    archived = Room.from_dto({"id": "8", "rootFolderType": 20})
    assert archived == Room(8, "", (), archived=True)
    with pytest.raises(KeyError):
        Room.from_dto({"title": "no id"})


def test_folders_and_files_by_id_and_title() -> None:
    contents = FolderContents(
        files=({"id": 3, "title": "Welcome.pdf"},),
        folders=({"id": "2", "title": "Contracts"}, {"id": 4}),
        current={"id": 1},
    )
    assert FolderItems.of(contents) == FolderItems(
        folders=(Item(2, "Contracts"), Item(4, "")), files=(Item(3, "Welcome.pdf"),)
    )
    assert FolderItems.of(FolderContents(files=(), folders=())) == FolderItems()


def test_a_member_is_a_user_record_links_and_groups_are_not() -> None:
    share = {
        "access": 11,
        "isOwner": False,
        "sharedToUser": {"id": "u1", "email": "Ann@Example.com"},
    }
    assert Member.from_dto(share) == Member("u1", "ann@example.com", 11, owner=False)
    owner = {"access": 1, "isOwner": True, "sharedToUser": {"id": "me"}}
    assert Member.from_dto(owner) == Member("me", "", 1, owner=True)
    legacy = {"access": 2, "sharedTo": {"id": "u2", "email": "b@example.com"}}
    assert Member.from_dto(legacy) == Member("u2", "b@example.com", 2)
    assert Member.from_dto({"access": 2, "sharedLink": {"id": "l1", "shareLink": "u"}}) is None
    assert Member.from_dto({"access": 2, "sharedTo": {"shareLink": "u"}}) is None
    assert Member.from_dto({"access": 2}) is None  # a group's record, trimmed
    assert Member.from_dto({"sharedToUser": {"id": "u3"}}).access is None  # type: ignore[union-attr]


def test_a_link_by_id_url_access_and_whether_primary() -> None:
    share = {"access": 2, "sharedLink": {"id": "l1", "shareLink": "https://p/s", "primary": True}}
    assert Link.from_dto(share) == Link("l1", "https://p/s", 2, primary=True)
    assert Link.from_dto({"sharedTo": {"id": "l2", "shareLink": "https://p/t"}}) == Link(
        "l2", "https://p/t", None
    )
    assert Link.from_dto({}) == Link(None, None, None)


def test_a_share_answer_by_its_warning_and_the_ids_it_lists() -> None:
    assert ShareReply.from_dto({}) == ShareReply(None, None)
    assert ShareReply.from_dto({"warning": "", "members": []}) == ShareReply(None, frozenset())
    reply = ShareReply.from_dto(
        {
            "warning": "bad address",
            "members": [{"sharedTo": {"id": "U1"}}, {"sharedToUser": {"id": "u2"}}, "junk"],
        }
    )
    assert reply == ShareReply("bad address", frozenset({"u1", "u2"}))


@pytest.mark.parametrize(
    ("flags", "kind"),
    [
        ({"isOwner": True}, DOCSPACE_ADMIN),
        ({"isAdmin": True, "isVisitor": True}, DOCSPACE_ADMIN),
        ({"isCollaborator": True}, USER),
        ({"isVisitor": True}, GUEST),
        ({"isRoomAdmin": True}, ROOM_ADMIN),
        ({}, ROOM_ADMIN),  # a user in no group is reported as a room admin
    ],
)
def test_a_persons_type_from_its_flags(flags: dict[str, bool], kind: int) -> None:
    assert Person.from_dto({"id": "u1", **flags}).type == kind


def test_a_persons_state() -> None:
    invited = Person.from_dto({"id": 5, "status": 1, "activationStatus": 2})
    assert invited == Person("5", ROOM_ADMIN, ACTIVE, activated=False)
    accepted = Person.from_dto({"id": "u", "status": 2, "activationStatus": 1 | 4})
    assert accepted.activated and accepted.disabled and accepted.status == TERMINATED
    assert Person.from_dto({"id": "u"}) == Person("u", ROOM_ADMIN, ACTIVE, activated=False)


def test_an_account_as_undo_reads_it() -> None:
    dto = {"id": "u1", "status": 2, "activationStatus": 0, "isOwner": False, "isAdmin": True}
    assert Account.from_dto(dto) == Account("u1", TERMINATED, activated=False, owner=False)
    owner = Account.from_dto({"id": "o", "status": 1, "activationStatus": 5, "isOwner": True})
    assert owner == Account("o", ACTIVE, activated=True, owner=True)
    assert Account.from_dto({}) == Account("", 0, activated=False, owner=False)


def _refused(status: int, message: str) -> PermanentError:
    err = wire.classify("POST", "/api/2.0/people", status, message, max_retry_after=60)
    assert isinstance(err, PermanentError)
    return err


def test_refusals_are_named_when_classified() -> None:
    taken = _refused(400, "User with this email is already registered")
    assert taken.refusal is Refusal.EMAIL_TAKEN
    limit = _refused(403, "The maximum number of links may not exceed 1")
    assert limit.refusal is Refusal.LINK_LIMIT
    # still a PermanentError as such: counted, logged and reported as before
    assert type(taken) is PermanentError and type(limit) is PermanentError
    assert taken.message == "User with this email is already registered"


def test_other_refusals_are_not_named() -> None:
    assert _refused(400, "The maximum number of links may not exceed 1").refusal is None
    assert _refused(403, "No permissions to perform this action").refusal is None
    assert _refused(404, "").refusal is None
    assert _refused(400, "").message == "bad request"
    assert PermanentError("x", method="GET", path="/").refusal is None
