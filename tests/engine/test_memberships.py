"""Who joins which room (engine/memberships.py): joiners grouped per room in batches, and
what a person whose client row left no usable room ends with (pure)."""

from __future__ import annotations

import pytest

from bulk_onboard.engine.memberships import MEMBERSHIP_BATCH, blocked, membership_groups
from bulk_onboard.engine.rows import ClientEnd
from bulk_onboard.model.records import Access, Origin, RowKind
from bulk_onboard.model.steps import FindRoom, JoinRoom, Plan, Ref
from bulk_onboard.runs.report import Status


def _joiner(n: int, *, client: str | None = None, title: str | None = None) -> Plan:
    email = f"p{n}@example.com"
    steps: tuple[FindRoom | JoinRoom, ...] = ()
    if title is not None:
        steps = (FindRoom("room", title),)
        room = Ref("room", "id")
    else:
        room = Ref("room", "id", client)
    join = JoinRoom("join", room, Ref("person", "id"), email, Access.READ, False)
    return Plan(f"user:{email}", RowKind.USER, Origin("users.csv", None, n), (*steps, join))


def test_joiners_are_grouped_per_room_in_batches() -> None:
    acme = [_joiner(n, client="client:ACME") for n in range(MEMBERSHIP_BATCH + 3)]
    shared = [_joiner(1000 + n, title="Shared") for n in range(2)]
    other = [_joiner(2000, client="client:OTHER")]
    plans = [shared[0], *acme[:10], other[0], *acme[10:], shared[1]]
    groups = membership_groups(plans)
    assert [len(g) for g in groups] == [2, MEMBERSHIP_BATCH, 3, 1]
    assert groups[0] == shared
    assert groups[1] + groups[2] == acme  # in input order
    assert groups[3] == other


OWNER = "client:ACME"


@pytest.mark.parametrize(
    "end",
    [
        None,
        ClientEnd(Status.CREATED, None, None, True),
        ClientEnd(Status.UNCHANGED, None, None, True),
    ],
)
def test_a_person_joins_a_room_that_is_there(end: ClientEnd | None) -> None:
    assert blocked(OWNER, end) is None


@pytest.mark.parametrize(
    ("end", "status", "message"),
    [
        (
            ClientEnd(Status.FAILED, "room", "HTTP 403: no rights", False),
            Status.FAILED,
            "the room of client:ACME is not there: that row is failed at step room "
            "(HTTP 403: no rights)",
        ),
        (
            ClientEnd(Status.INVALID, "validate", None, False),
            Status.FAILED,  # this row is valid: it fails, it is not invalid
            "the room of client:ACME is not there: that row is invalid at step validate",
        ),
        (
            ClientEnd(Status.INTERRUPTED, None, None, False),
            Status.INTERRUPTED,
            "the room of client:ACME is not there: that row is interrupted",
        ),
        (
            ClientEnd(Status.DEFERRED, "room", "budget spent", False),
            Status.DEFERRED,
            "the room of client:ACME is not there: that row is deferred at step room "
            "(budget spent)",
        ),
        (
            ClientEnd(Status.FAILED, "share", "manager disabled", True),
            Status.FAILED,
            "the room of client:ACME exists, but its share failed: manager disabled; this "
            "person joins it once that row is fixed (`bulk-onboard retry`)",
        ),
        (
            ClientEnd(Status.FAILED, "link", None, True),
            Status.FAILED,
            "the room of client:ACME exists, but its step link failed; this person joins it "
            "once that row is fixed (`bulk-onboard retry`)",
        ),
    ],
)
def test_a_person_shares_the_fate_of_a_room_that_is_not_usable(
    end: ClientEnd, status: Status, message: str
) -> None:
    fate = blocked(OWNER, end)
    assert fate is not None
    assert (fate[0], str(fate[1])) == (status, message)
