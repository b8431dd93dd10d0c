"""build_plan: a valid record and the playbook → the Plan of steps that onboards the row. Pure.

A client row: the room, its folders and the template copies (or, with a skeleton, the
skeleton's content in one copy, the folders and copies run only while the skeleton is not in
the portal), the contact as a named guest when the row names them, one share request
for the account manager and the client, one for the playbook's groups, the room link, and the
CRM announcement when a CRM sink is set. A
person: the account, the groups the row names, then (when the row names a room) the
membership; a room that is not a
client of this file is looked up by title before anything is created.
"""

from __future__ import annotations

from collections.abc import Iterable

from bulk_onboard.model.records import ClientRecord, RowKind, UserRecord
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
    Member,
    NameContact,
    Plan,
    Ref,
    RoomFromTemplate,
    ShareGroups,
    ShareRoom,
    Step,
    TemplateContent,
)
from bulk_onboard.playbook.reader import Playbook

ROOM_ID = Ref(EnsureRoom.KEY, "id")
PERSON_ID = Ref(EnsurePerson.KEY, "id")


def build_plan(record: ClientRecord | UserRecord, playbook: Playbook) -> Plan:
    if isinstance(record, ClientRecord):
        steps = client_steps(record, playbook)
        return Plan(record.row_key, RowKind.CLIENT, record.origin, steps, record.values)
    steps = user_steps(record, playbook)
    return Plan(record.row_key, RowKind.USER, record.origin, steps, record.values)


def client_steps(record: ClientRecord, playbook: Playbook) -> tuple[Step, ...]:
    room_args = (record.room_title, record.room_type, record.tags, playbook.rename_rooms)
    steps: list[Step] = []
    content: list[Step] = []
    folder_ids: dict[str, Ref] = {}
    copy_ids: list[Ref] = []
    if playbook.skeleton is not None:
        fallback: list[Step] = []  # while the skeleton is not in the portal
        _folders_and_copies(playbook, fallback, {}, [])
        per_step = tuple(s for s in fallback if isinstance(s, EnsureFolder | CopyFile))
        content.append(CopySkeleton(CopySkeleton.KEY, ROOM_ID, playbook.skeleton, per_step))
    else:
        _folders_and_copies(playbook, content, folder_ids, copy_ids)
    ids: tuple[Iterable[Ref] | Ref, Iterable[Ref] | Ref] = (folder_ids.values(), copy_ids)
    if playbook.template:
        template = playbook.template
        steps.append(RoomFromTemplate(EnsureRoom.KEY, *room_args, template=template))
        fallback_steps = tuple(
            s for s in content if isinstance(s, CopySkeleton | EnsureFolder | CopyFile)
        )
        steps.append(TemplateContent(TemplateContent.KEY, ROOM_ID, template, fallback_steps))
        ids = (Ref(TemplateContent.KEY, "folders"), Ref(TemplateContent.KEY, "files"))
    else:
        steps.append(EnsureRoom(EnsureRoom.KEY, *room_args))
        steps += content
        if playbook.skeleton is not None:
            ids = (Ref(CopySkeleton.KEY, "folders"), Ref(CopySkeleton.KEY, "files"))
    if record.contact_first_name and record.contact_last_name:
        first, last = record.contact_first_name, record.contact_last_name
        steps.append(NameContact(NameContact.KEY, record.client_email, first, last))
    steps.append(share_step(record, playbook))
    if playbook.groups:
        steps.append(ShareGroups(ShareGroups.KEY, ROOM_ID, playbook.groups, playbook.group_access))
    link_type = playbook.link.link_type
    if link_type is not None:
        link = playbook.link
        steps.append(EnsureLink(EnsureLink.KEY, ROOM_ID, link_type, link.access, link.title))
    if playbook.crm.configured:
        steps.append(crm_step(record, link_type is not None, *ids))
    return tuple(steps)


def _folders_and_copies(
    playbook: Playbook, steps: list[Step], folder_ids: dict[str, Ref], copy_ids: list[Ref]
) -> None:
    """The per-step path: one step per folder and per template copy."""
    for title in playbook.folders:
        key = EnsureFolder.key_for(title)
        steps.append(EnsureFolder(key, ROOM_ID, title))
        folder_ids[title] = Ref(key, "id")
    for copy in playbook.copies:
        key = CopyFile.key_for(copy.title)
        destination = folder_ids[copy.folder] if copy.folder is not None else ROOM_ID
        steps.append(CopyFile(key, copy.source, destination, copy.title))
        copy_ids.append(Ref(key, "id"))


def share_step(record: ClientRecord, playbook: Playbook) -> ShareRoom:
    """One share request for the account manager (by id) and the client (by e-mail)."""
    invitation = playbook.invitation
    return ShareRoom(
        ShareRoom.KEY,
        ROOM_ID,
        (
            Member(record.manager_email, playbook.access.manager, by_id=True),
            Member(record.client_email, record.client_access, by_id=False),
        ),
        notify=invitation.notify,
        message=invitation.message,
        culture=invitation.culture,
    )


def crm_step(
    record: ClientRecord,
    has_link: bool,
    folder_ids: Iterable[Ref] | Ref,
    copy_ids: Iterable[Ref] | Ref,
) -> AnnounceCrm:
    """The client as the CRM sinks get it: literals, and Refs to what the row's steps made
    (the folder and copy ids: one Ref each per step, or one Ref to the list a skeleton copy
    or a room template's content gave)."""
    fields: list[tuple[str, str | Ref | tuple[Ref, ...]]] = [
        ("client_id", record.client_id),
        ("client_name", record.client_name),
        ("client_email", record.client_email),
        ("manager_email", record.manager_email),
        ("room_id", ROOM_ID),
        ("room_title", Ref(EnsureRoom.KEY, "title")),
    ]
    if has_link:
        fields.append(("link_url", Ref(EnsureLink.KEY, "url")))
    fields.append(("folder_ids", folder_ids if isinstance(folder_ids, Ref) else tuple(folder_ids)))
    fields.append(("copy_ids", copy_ids if isinstance(copy_ids, Ref) else tuple(copy_ids)))
    return AnnounceCrm(AnnounceCrm.KEY, tuple(fields))


def user_steps(record: UserRecord, playbook: Playbook) -> tuple[Step, ...]:
    person = EnsurePerson(
        EnsurePerson.KEY,
        record.email,
        record.first_name,
        record.last_name,
        record.user_type,
        record.culture,
    )
    groups = tuple(
        JoinGroup(JoinGroup.key_for(name), name, PERSON_ID, record.email) for name in record.groups
    )
    if record.room is None or record.access is None:
        return (person, *groups)
    if record.room_is_client:
        room = Ref(EnsureRoom.KEY, "id", row=f"client:{record.room}")
        steps: tuple[Step, ...] = (person, *groups)
    else:
        room = ROOM_ID
        steps = (FindRoom(FindRoom.KEY, record.room), person, *groups)
    join = JoinRoom(
        JoinRoom.KEY,
        room,
        PERSON_ID,
        record.email,
        record.access,
        playbook.invitation.notify,
    )
    return (*steps, join)
