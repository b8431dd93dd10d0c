"""Who joins which room in the memberships phase: the joiners grouped per room, and why a
person cannot join a room its client row left missing (pure)."""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence

from bulk_onboard.engine.rows import ClientEnd
from bulk_onboard.errors import RowRefused
from bulk_onboard.model.steps import EnsurePerson, FindRoom, JoinRoom, Plan, ShareRoom
from bulk_onboard.runs.report import OK_STATUSES, Status

MEMBERSHIP_BATCH = 50


def join_step(plan: Plan) -> JoinRoom:
    return next(s for s in plan.steps if isinstance(s, JoinRoom))


def share_emails(clients: Iterable[Plan]) -> frozenset[str]:
    """Everyone a client row's share names (its manager, its contact): the people phase makes
    or looks at them before any room, as the share needs them."""
    return frozenset(
        member.email.lower()
        for plan in clients
        for step in plan.steps
        if isinstance(step, ShareRoom)
        for member in step.members
    )


def waits_for_room(plan: Plan, shared: Container[str]) -> bool:
    """A user row that joins the room a client row of this run makes: its person is made
    (or invited) only once that room is there, so nobody is mailed for a room that failed.
    A person a client's share names is made first, as that share needs them."""
    join = next((s for s in plan.steps if isinstance(s, JoinRoom)), None)
    if join is None or join.room.row is None:
        return False
    person = next((s for s in plan.steps if isinstance(s, EnsurePerson)), None)
    return person is None or person.email.lower() not in shared


def membership_groups(plans: Sequence[Plan]) -> list[list[Plan]]:
    """Joiners per room, in batches of MEMBERSHIP_BATCH (one share request each)."""
    by_room: dict[tuple[str, str], list[Plan]] = {}
    for plan in plans:
        find = next((s for s in plan.steps if isinstance(s, FindRoom)), None)
        key = ("title", find.title) if find is not None else ("row", str(join_step(plan).room.row))
        by_room.setdefault(key, []).append(plan)
    groups: list[list[Plan]] = []
    for joiners in by_room.values():
        for start in range(0, len(joiners), MEMBERSHIP_BATCH):
            groups.append(joiners[start : start + MEMBERSHIP_BATCH])
    return groups


def blocked(owner: str, blocking: ClientEnd | None) -> tuple[Status, RowRefused] | None:
    """A person whose client row (`owner`) has no room, or whose room's later step failed,
    shares that row's fate: the status it ends with and why; None when it may join."""
    if blocking is None or blocking.status in OK_STATUSES:
        return None
    where = f" at step {blocking.failed_step}" if blocking.failed_step else ""
    if blocking.has_room:
        # The room is there; what failed is a later step of that row, e.g. its share.
        step = "share" if blocking.failed_step == "share" else f"step {blocking.failed_step}"
        why = f": {blocking.error}" if blocking.error else ""
        cause = RowRefused(
            f"the room of {owner} exists, but its {step} failed{why}; this person joins "
            "it once that row is fixed (`bulk-onboard retry`)"
        )
    else:
        why = f" ({blocking.error})" if blocking.error else ""
        cause = RowRefused(
            f"the room of {owner} is not there: that row is {blocking.status.value}{where}{why}"
        )
    status = Status.FAILED if blocking.status is Status.INVALID else blocking.status
    return status, cause
