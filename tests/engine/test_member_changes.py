"""What a client row's share changed in a room that existed, and what its note says (pure)."""

from __future__ import annotations

from bulk_onboard.engine.actions.member_changes import Before, share_changes, share_notes
from bulk_onboard.model.outputs import Change, RoomOut, ShareOut, changes_in, changes_text
from bulk_onboard.model.records import Access
from bulk_onboard.model.steps import Member, ShareRoom
from bulk_onboard.plan import ROOM_ID

MANAGER, CONTACT = "new.manager@x.example", "new@client.example"


def _step(contact_access: Access = Access.READ) -> ShareRoom:
    members = (
        Member(MANAGER, Access.ROOM_MANAGER, by_id=True),
        Member(CONTACT, contact_access, by_id=False),
    )
    return ShareRoom("share", ROOM_ID, members, notify=True, message=None, culture=None)


def test_a_replaced_manager_and_contact_read_as_old_to_new_and_the_note_names_who_went() -> None:
    before = Before(
        had={"old.manager@x.example": 9, "old@client.example": 2, "hand@x.example": 11},
        ours={"old.manager@x.example": ("manager", 9), "old@client.example": ("contact", 2)},
        known=True,
    )
    removed = ["old.manager@x.example"]  # the old contact's access was changed by hand
    changes = share_changes(_step(), before, removed)
    assert changes_text(changes) == (
        f"manager: old.manager@x.example → {MANAGER}; contact: old@client.example → {CONTACT}"
    )
    notes = share_notes(_step(), before, removed)
    assert notes == [
        "old.manager@x.example was removed from the room: bulk-onboard had made them its "
        "manager, and the sheet no longer names them",
        "old@client.example stays in the room: bulk-onboard had made them its contact, but "
        "their access was changed in DocSpace since, so it leaves them to whoever changed it",
    ]


def test_an_access_change_and_a_room_without_a_record_say_so() -> None:
    before = Before(had={MANAGER: 9, CONTACT: 2, "old@client.example": 2}, ours={}, known=False)
    assert share_changes(_step(Access.EDITING), before, []) == (Change(CONTACT, "read", "editing"),)
    newcomer = Before(had={"someone@x.example": 9}, ours={}, known=False)
    assert changes_text(share_changes(_step(), newcomer, [])) == (
        f"manager: (none) → {MANAGER}; contact: (none) → {CONTACT}"
    )
    [note] = share_notes(_step(), newcomer, [])
    assert note.startswith(f"{MANAGER}, {CONTACT} added; bulk-onboard has no record")


def test_changes_travel_in_the_step_outputs_and_old_journal_lines_read_the_same() -> None:
    room = RoomOut(7, "Client - B", (Change("title", "Client - A", "Client - B"),))
    share = ShareOut(((MANAGER, 9),), 7, changes=(Change("manager", "a@x", MANAGER),))
    outputs = {"room": room.to_json(), "share": share.to_json()}
    assert RoomOut.from_json(outputs["room"]) == room
    assert ShareOut.from_json(outputs["share"]) == share
    assert changes_text(changes_in(outputs)) == (
        f"title: Client - A → Client - B; manager: a@x → {MANAGER}"
    )
    assert RoomOut(7, "Client - B").to_json() == {"id": 7, "title": "Client - B"}
    assert ShareOut(((MANAGER, 9),)).to_json() == {"set": [[MANAGER, 9]]}
