"""Every step kind in one table: its key, the phase that runs it, its action, whether grouped.

    step kind     key          phase          action                       grouped   after
    FindRoom      room         people         PersonActions.find_room
    EnsurePerson  person       people         PersonActions.person                   room
    EnsureRoom    room         clients        ClientActions.room
    EnsureFolder  folder:<t>   clients        ClientActions.folder
    CopyFile      copy:<t>     clients        ClientActions.copy
    CopySkeleton  skeleton     clients        SkeletonActions.skeleton
    RoomFromTemplate room      clients        TemplateActions.room
    TemplateContent content    clients        TemplateActions.content
    NameContact   contact      clients        PersonActions.contact                  room
    ShareRoom     share        clients        ClientActions.share                    contact
    EnsureLink    link         clients        ClientActions.link
    JoinGroup     group:<n>    people         GroupActions.join
    ShareGroups   groups       clients        GroupActions.share                     share
    JoinRoom      membership   memberships    MembershipActions.join       per room
    AnnounceCrm   crm          announcements  CrmActions.announce                    *

A row's steps run as soon as the steps they wait for are done (engine/step_order.py): those
their Refs name (a folder waits for the room, a copy for its folder) and those `after` names
where no Ref shows the order the portal needs: the person after the look-up of the room it
joins (nothing made for a room that is not there), the contact's naming once the room exists
and before the share (the share's e-mail entry invites the named guest), the groups' share
after the people's, the CRM announcement after every other step of the row.

The phases take their step kinds from it (`phase_steps`) and the step runner its actions
(`actions_of`); a planned step of a kind the table does not list fails its row. A new step
kind is a model type (model/steps.py, with its output in model/outputs.py), the plan that
makes it, a line here and its action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bulk_onboard.engine.actions.client import ClientActions
from bulk_onboard.engine.actions.crm import CrmActions
from bulk_onboard.engine.actions.groups import GroupActions
from bulk_onboard.engine.actions.people import MembershipActions, PersonActions
from bulk_onboard.engine.actions.skeleton import SkeletonActions
from bulk_onboard.engine.actions.template import template_actions
from bulk_onboard.engine.exactly_once import Action, GroupAction
from bulk_onboard.engine.step_order import EVERY
from bulk_onboard.model.steps import (
    AnnounceCrm,
    CopyFile,
    CopySkeleton,
    EnsureFolder,
    EnsureLink,
    EnsurePerson,
    EnsureRoom,
    FindRoom,
    JoinGroup,
    JoinRoom,
    NameContact,
    RoomFromTemplate,
    ShareGroups,
    ShareRoom,
    Step,
    TemplateContent,
)

Phase = Literal["people", "clients", "memberships", "announcements"]


@dataclass(frozen=True, slots=True)
class Actions:
    """The actions of a run, built complete before it starts (no CRM action without a sink)."""

    client: ClientActions
    people: PersonActions
    membership: MembershipActions
    crm: CrmActions | None = None


@dataclass(frozen=True, slots=True)
class StepKind:
    step: type[Step]
    phase: Phase
    action: Callable[[Actions], Action | None] | None = None  # one row's step
    group_action: Callable[[Actions], GroupAction] | None = None  # many rows' at once
    # the keys of the row's steps it must follow where no Ref shows it (engine/step_order.py)
    after: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.step.KEY

    @property
    def grouped(self) -> bool:
        return self.group_action is not None


STEP_KINDS: tuple[StepKind, ...] = (
    StepKind(FindRoom, "people", lambda a: a.people.find_room),
    StepKind(EnsurePerson, "people", lambda a: a.people.person, after=(FindRoom.KEY,)),
    StepKind(JoinGroup, "people", lambda a: GroupActions(a.client.ctx, a.client.once).join),
    StepKind(EnsureRoom, "clients", lambda a: a.client.room),
    StepKind(EnsureFolder, "clients", lambda a: a.client.folder),
    StepKind(CopyFile, "clients", lambda a: a.client.copy),
    StepKind(
        CopySkeleton, "clients", lambda a: SkeletonActions(a.client.ctx, a.client.once).skeleton
    ),
    StepKind(RoomFromTemplate, "clients", lambda a: template_actions(a.client).room),
    StepKind(TemplateContent, "clients", lambda a: template_actions(a.client).content),
    StepKind(NameContact, "clients", lambda a: a.people.contact, after=(EnsureRoom.KEY,)),
    StepKind(ShareRoom, "clients", lambda a: a.client.share, after=(NameContact.KEY,)),
    StepKind(
        ShareGroups,
        "clients",
        lambda a: GroupActions(a.client.ctx, a.client.once).share,
        after=(ShareRoom.KEY,),
    ),
    StepKind(EnsureLink, "clients", lambda a: a.client.link),
    StepKind(JoinRoom, "memberships", group_action=lambda a: a.membership.join),
    StepKind(
        AnnounceCrm, "announcements", lambda a: a.crm.announce if a.crm else None, after=(EVERY,)
    ),
)
BY_STEP: dict[type[Step], StepKind] = {kind.step: kind for kind in STEP_KINDS}
AFTER: dict[type[Step], tuple[str, ...]] = {kind.step: kind.after for kind in STEP_KINDS}


def phase_steps(phase: Phase) -> tuple[type[Step], ...]:
    """The step kinds a phase runs, in the table's order."""
    return tuple(kind.step for kind in STEP_KINDS if kind.phase == phase)


@dataclass(frozen=True, slots=True)
class Registry:
    """Step type -> the action that runs it (one row), or the group action (many rows)."""

    actions: dict[type[Step], Action]
    groups: dict[type[Step], GroupAction]


def actions_of(actions: Actions) -> Registry:
    singles: dict[type[Step], Action] = {}
    groups: dict[type[Step], GroupAction] = {}
    for kind in STEP_KINDS:
        if kind.group_action is not None:
            groups[kind.step] = kind.group_action(actions)
        elif kind.action is not None and (action := kind.action(actions)) is not None:
            singles[kind.step] = action
    return Registry(singles, groups)
