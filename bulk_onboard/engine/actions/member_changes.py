"""What a client row's share changed in a room that existed, and what its note says (pure).

A share names two people: the manager (by id) and the contact. Whom this tool set before comes
from the portal's memory (runs/set_members.py) and, in a retry, from the journal. When the sheet
names someone else, the change reads `manager: old@x → new@x`; an access changed for someone
the sheet still names reads `bob@x: read → editing`. The note says whom the run removed, and
why one it set before stays (someone changed their access in DocSpace since).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bulk_onboard.engine.actions.shares import Entry
from bulk_onboard.model.outputs import Change
from bulk_onboard.model.records import Access
from bulk_onboard.model.steps import ShareRoom
from bulk_onboard.model.words import ACCESS_NAMES
from bulk_onboard.runs.set_members import CONTACT, MANAGER, SetMember


def access_name(access: int) -> str:
    try:
        return ACCESS_NAMES[Access(access)]
    except ValueError:
        return str(access)


def roles(step: ShareRoom) -> dict[str, str]:
    """E-mail (lower case) -> its role in the step: the manager is shared by id."""
    return {m.email.lower(): MANAGER if m.by_id else CONTACT for m in step.members}


def as_set(step: ShareRoom, given: Iterable[tuple[str, int]]) -> tuple[SetMember, ...]:
    """The (e-mail, access) pairs this tool gave, with their roles in the step."""
    role_of = roles(step)
    return tuple(SetMember(role_of.get(e.lower(), ""), e.lower(), a) for e, a in given)


def with_roles(step: ShareRoom, ours: Mapping[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
    """Roles for members remembered without one (learnt from an earlier run's journal): the
    role the sheet gives their e-mail, else the role whose access they have, when only one
    role of the sheet has that access."""
    role_of = roles(step)
    by_access: dict[int, list[str]] = {}
    for member in step.members:
        by_access.setdefault(int(member.access), []).append(role_of[member.email.lower()])
    named: dict[str, tuple[str, int]] = {}
    for email, (role, access) in ours.items():
        if not role:
            alike = by_access.get(access, [])
            role = role_of.get(email) or (alike[0] if len(alike) == 1 else "")
        named[email] = (role, access)
    return named


@dataclass(frozen=True, slots=True)
class Before:
    """What the room was before the share: its members' accesses (`had`), and whom this tool
    had set there (`ours`: e-mail -> (role, access))."""

    had: Mapping[str, int]
    ours: Mapping[str, tuple[str, int]]
    known: bool  # the tool remembers whom it set in this room


def share_changes(step: ShareRoom, before: Before, removed: Sequence[str]) -> tuple[Change, ...]:
    """The changes of a share in a room that existed: a role given to someone else, an access
    changed, a member removed that no role took over."""
    changes: list[Change] = []
    paired: set[str] = set()
    for member in step.members:
        email, access = member.email.lower(), int(member.access)
        role = MANAGER if member.by_id else CONTACT
        old = [e for e, (r, _) in before.ours.items() if r == role and e != email]
        if old:
            changes.append(Change(role, old[0], email))
            paired.update(old)
        elif email not in before.had:
            changes.append(Change(role, "", email))
        if email in before.had and before.had[email] != access:
            changes.append(Change(email, access_name(before.had[email]), access_name(access)))
    for email in removed:
        if email not in paired:
            changes.append(Change(email, access_name(before.ours[email][1]), ""))
    return tuple(changes)


def share_notes(step: ShareRoom, before: Before, removed: Sequence[str]) -> list[str]:
    """What the row's note says of members replaced: who was removed, who stays and why."""
    notes: list[str] = []
    wanted = roles(step)
    for email, (role, _) in sorted(before.ours.items()):
        if email in wanted:
            continue
        what = f"its {role}" if role else "a member"
        if email in removed:
            notes.append(
                f"{email} was removed from the room: bulk-onboard had made them {what}, and "
                "the sheet no longer names them"
            )
        elif email in before.had:
            notes.append(
                f"{email} stays in the room: bulk-onboard had made them {what}, but their "
                "access was changed in DocSpace since, so it leaves them to whoever changed it"
            )
    if not before.known:
        added = [e for e in wanted if e not in before.had]
        if added and before.had:
            notes.append(
                f"{', '.join(added)} added; bulk-onboard has no record of whom it gave access "
                "in this room before (it was onboarded before it kept one), so nobody was removed"
            )
    return notes


def access_changed(entry: Entry) -> tuple[Change, ...]:
    """A member whose access a share changed: `bob@x: read → editing` (none for a new one)."""
    if entry.was is None or entry.was == entry.access:
        return ()
    return (Change(entry.email, access_name(entry.was), access_name(entry.access)),)
