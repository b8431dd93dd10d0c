"""DocSpace groups: a person into the groups the users sheet names, a client room shared with
the playbook's groups (docspace-api.md 12).

A group is its exact name. The run looks each name up once and makes a missing group once,
however many rows name it at once (engine/portal_cache.GroupIndex); two groups with one name
fail the row. A person is added by id (`PUT group/{id}/members`), which the portal answers
with the group's members: it skips guests, disabled accounts and unknown ids without an error,
so a person not among them fails the row with a sentence. A room is shared with its groups in
one `PUT files/rooms/{id}/share` with `notify` off (groups never get room-manager; no member
of a group is mailed either way, 12.2). Both look before they write, and again after an
unclear answer, as every step does; adding a member twice changes nothing on the portal.
"""

from __future__ import annotations

from bulk_onboard.api.models import GUEST, Group
from bulk_onboard.engine.context import Context, check_share_reply
from bulk_onboard.engine.exactly_once import INTENT, SPENT, ExactlyOnce, Look
from bulk_onboard.engine.row import Outcome, RowState, StepDone
from bulk_onboard.errors import PermanentError, RowRefused
from bulk_onboard.model.outputs import GroupOut, GroupShareOut
from bulk_onboard.model.steps import JoinGroup, ShareGroups


def not_allowed(what: str, exc: PermanentError) -> RowRefused:
    """A 403 on a group call: only DocSpace admins change groups (12.3)."""
    return RowRefused(
        f"the portal refused to {what} ({exc.message}): only DocSpace admins may create groups "
        "and change their members; run bulk-onboard with a DocSpace admin's key, or clear "
        "the groups cell and [room] groups"
    )


def _intent_key(step_key: str, name: str) -> str:
    """Where a step journals that it is about to make a group: its own key for a person's
    step (one group each), `groups:<name>` for a room's (one per group)."""
    return step_key if step_key.startswith(JoinGroup.KEY) else f"{step_key}:{name}"


class GroupActions:
    """JoinGroup of a user row, ShareGroups of a client row."""

    def __init__(self, ctx: Context, once: ExactlyOnce) -> None:
        self.ctx = ctx
        self.once = once

    async def group(
        self, state: RowState, step_key: str, name: str, look: Look
    ) -> tuple[Group, bool]:
        """The group named `name`, and whether this step made it (made once per run): its
        POST answered here, or sent by an earlier try of the step (the attempt before a lost
        answer, or one a stopped run journalled the intent of)."""
        row, groups = state.plan.row_key, self.ctx.groups
        intent = _intent_key(step_key, name)
        attempted = state.attempted.get(step_key)
        sent_before = self._intended(row, intent) or (
            look.again and attempted is not None and attempted.outcome == "created"
        )
        try:
            if look.again:
                found = await self.once.find(look, lambda: groups.named(name, again=True))
                if found is not None:
                    return found, sent_before or groups.made_by(found.id) == row

            def creating() -> None:
                self.once.intend(row, intent)
                self.once.writing(state, step_key, "created")

            group = await groups.ensure(
                name, row, creating, lambda: self.once.withdraw(row, intent)
            )
        except PermanentError as exc:
            if exc.status != 403:
                raise
            raise not_allowed(f'find or create the group "{name}"', exc) from exc
        return group, sent_before or groups.made_by(group.id) == row

    def _intended(self, row: str, intent: str) -> bool:
        """An earlier attempt at this run journalled that it was about to make the group,
        and the portal did not refuse it."""
        said = self.once.checkpoint.outputs(row).get(intent + INTENT)
        return said is not None and not said.get(SPENT)

    async def join(self, state: RowState, step: JoinGroup, look: Look) -> StepDone:
        """The person into the group (made first when the portal has none)."""
        ctx = self.ctx
        person_id = str(ctx.resolve(step.person, state)).lower()
        person = await ctx.people.get(step.email)
        if person is not None and person.type == GUEST:
            raise RowRefused(
                f"{step.email} is a guest in DocSpace, and DocSpace groups take no guests, so "
                f'they were not added to the group "{step.name}"; make them a user in DocSpace '
                "(or give the row the type user), or take the group out of the row's groups"
            )
        group, made = await self.group(state, step.key, step.name, look)
        attempted = state.attempted.get(step.key)
        if look.again:
            members = await ctx.groups.members(group.id, again=True)
        else:
            members = await ctx.groups.members(group.id)
        if person_id in members:
            # after a lost answer, an addition this step sent landed after all
            added = look.again and attempted is not None and attempted.outputs.get("added") is True
            outcome: Outcome = "created" if made else ("changed" if added else "found")
            return StepDone.of(GroupOut(group.id, group.name, person_id, added), outcome)
        outcome = "created" if made else "changed"
        self.once.writing(state, step.key, outcome, GroupOut(group.id, group.name, person_id, True))
        try:
            answer = await ctx.client.add_to_group(group.id, [person_id])
        except PermanentError as exc:
            if exc.status != 403:
                raise
            raise not_allowed(f'add {step.email} to the group "{step.name}"', exc) from exc
        if answer.members is not None and person_id not in answer.members:
            raise RowRefused(
                f'the portal did not add {step.email} to the group "{step.name}": it skips '
                "guests and disabled accounts without an error (DocSpace groups take neither); "
                "make the account an active user in DocSpace, then run again"
            )
        ctx.groups.joined(group.id, answer.members, person_id)
        return StepDone.of(GroupOut(group.id, group.name, person_id, True), outcome)

    async def share(self, state: RowState, step: ShareGroups, look: Look) -> StepDone:
        """The client's room shared with each of the playbook's groups, in one request
        without mail; nothing sent when every group has that access already."""
        ctx = self.ctx
        room_id = int(ctx.resolve(step.room, state))
        if look.again:
            ctx.forget_room(room_id)
        current = await ctx.room_groups(room_id)
        access = int(step.access)
        made: list[tuple[str, str]] = []
        given: list[tuple[str, str, int]] = []
        for name in step.groups:
            group, created = await self.group(state, step.key, name, look)
            if created:
                made.append((group.id, group.name))
            given.append((group.id, group.name, access))
        sending = [gid for gid, _, _ in given if current.get(gid) != access]
        added = tuple(gid for gid in sending if gid not in current)
        out = GroupShareOut(room_id, tuple(given), added, tuple(made))
        if not sending:
            found = GroupShareOut(room_id, tuple(given), (), tuple(made))
            return StepDone.of(found, "created" if made else "found")
        outcome: Outcome = "created" if made else "changed"
        self.once.writing(state, step.key, outcome, out)
        reply = await ctx.client.share_room(room_id, [(g, access) for g in sending], notify=False)
        check_share_reply(reply, room_id)
        missing = [g for g in sending if reply.member_ids is not None and g not in reply.member_ids]
        if missing:
            name = next(n for gid, n, _ in given if gid == missing[0])
            raise RowRefused(
                f'the portal did not share room {room_id} with the group "{name}" although it '
                "answered without an error; check the group in DocSpace, then run again"
            )
        current.update((gid, access) for gid in sending)
        return StepDone.of(out, outcome)
