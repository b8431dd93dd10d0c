"""Who may do what in the emulated portal (FileSecurity, much simplified).

The owner and DocSpace admins may do everything. The creator of a room owns it. Other
people act through their membership: any access reads the room, RoomManager (9) manages
its members and links, RoomManager and ContentCreator (11) create folders and files.
"""

from __future__ import annotations

from bulk_onboard.sandbox import enums
from bulk_onboard.sandbox.store import ARCHIVE_ROOT_ID, Folder, Person, Store

CREATE_ROLES = frozenset({enums.ROOM_MANAGER, 11})


def member_access(store: Store, caller: Person, room_id: int) -> int | None:
    """The caller's FileShare in the room: 1 for its owner, None when not a member. An
    anonymous visitor of a shared link (whose id is the link's) holds the link's access."""
    room = store.tree.folder(room_id)
    if room is None:
        return None
    if room.created_by == caller.id:
        return enums.READ_WRITE
    share = store.access.share(room_id, caller.id)
    if share is None and caller.seq == LINK_VISITOR_SEQ:
        link = store.access.link(caller.id)
        return link.access if link is not None and link.room_id == room_id else None
    return share.access if share is not None and share.access != enums.NONE else None


LINK_VISITOR_SEQ = -1  # Person.seq of the stand-in for an anonymous link visitor


def archived(store: Store, folder: Folder) -> bool:
    """True for a room in the Archive section and everything inside it."""
    room = store.tree.folder(folder.room_id) if folder.room_id is not None else None
    return room is not None and room.parent_id == ARCHIVE_ROOT_ID


def can_view_user(store: Store, caller: Person, target: Person) -> bool:
    """UserManager.CanUserViewAnotherUserAsync (docspace-api.md 10.7): yourself; DocSpace
    admins everyone; Users and Guests nobody; room admins everyone except the guests that
    are not in their user relations (people they created, shared to by e-mail, invited)."""
    if caller.id == target.id or caller.is_admin:
        return True
    if caller.type != enums.ROOM_ADMIN:
        return False
    if target.type != enums.GUEST:
        return True
    return target.created_by == caller.id or store.people.related(caller.id, target.id)


def can_view(store: Store, caller: Person, user_id: str, user_type: int, created_by: str) -> bool:
    """can_view_user for a target known by its id, type and creator."""
    if caller.id == user_id or caller.is_admin:
        return True
    if caller.type != enums.ROOM_ADMIN:
        return False
    if user_type != enums.GUEST:
        return True
    return created_by == caller.id or store.people.related(caller.id, user_id)


def has_full_access(caller: Person, room: Folder) -> bool:
    """FileSecurity.HasFullAccessAsync: the room's owner, when a RoomAdmin/DocSpaceAdmin."""
    return room.created_by == caller.id and (caller.is_admin or caller.type == enums.ROOM_ADMIN)


def can_edit_room(store: Store, caller: Person, folder: Folder) -> bool:
    """EditRoom (PUT rooms/{id}): the owner with full access, or a RoomManager member; not in
    the Archive. DocSpace admins have no shortcut for it (docspace-api.md 10.1, inferred)."""
    if folder.room_id is None or archived(store, folder):
        return False
    room = store.tree.folder(folder.room_id)
    assert room is not None
    if has_full_access(caller, room):
        return True
    return member_access(store, caller, room.id) == enums.ROOM_MANAGER


def can_move_room(caller: Person, room: Folder) -> bool:
    """Move on a room (archive/restore): DocSpace admins and the owner with full access."""
    return caller.is_admin or has_full_access(caller, room)


def can_edit_internal(store: Store, caller: Person, room: Folder) -> bool:
    """EditInternal on a room's links: who manages the room, except in Public and VDR rooms."""
    if room.room_type in (6, 8):
        return False
    return can_manage(store, caller, room)


PERSONAL_ROOTS = (enums.FOLDER_USER, enums.FOLDER_TRASH)


def personal_owner(store: Store, folder: Folder) -> str | None:
    """The person whose "My documents" (or Trash) holds the folder; None outside them."""
    if folder.room_id is not None:
        return None
    root = store.tree.path(folder)[0]
    return root.created_by if root.folder_type in PERSONAL_ROOTS else None


def can_read(store: Store, caller: Person, folder: Folder) -> bool:
    owner = personal_owner(store, folder)
    if owner is not None:  # nobody else sees into them, DocSpace admins included
        return owner == caller.id
    if caller.is_admin or folder.is_system:
        return True
    assert folder.room_id is not None
    return member_access(store, caller, folder.room_id) is not None


def can_manage(store: Store, caller: Person, room: Folder) -> bool:
    """Edit the members and links of a room (never while it is archived)."""
    if archived(store, room):
        return False
    if caller.is_admin or room.created_by == caller.id:
        return True
    return member_access(store, caller, room.id) == enums.ROOM_MANAGER


def can_create_in(store: Store, caller: Person, folder: Folder) -> bool:
    """Create folders and files in a room or a folder of a room (never in the roots), or in
    one's own "My documents" (not in the Trash)."""
    owner = personal_owner(store, folder)
    if owner is not None:
        return owner == caller.id and store.tree.path(folder)[0].folder_type == enums.FOLDER_USER
    if folder.is_system or archived(store, folder):
        return False
    if caller.is_admin:
        return True
    assert folder.room_id is not None
    access = member_access(store, caller, folder.room_id)
    return access == enums.READ_WRITE or access in CREATE_ROLES


def can_change_folder(store: Store, caller: Person, folder: Folder) -> bool:
    """Rename or delete a folder (FileSecurity CanRename/CanDelete, simplified): one's own in
    "My documents"; a folder of a room for who manages the room; never a root, a room (they
    have their own calls) or anything archived."""
    if folder.parent_id is None or folder.is_room:
        return False
    owner = personal_owner(store, folder)
    if owner is not None:
        return owner == caller.id
    if folder.room_id is None or archived(store, folder):
        return False
    room = store.tree.folder(folder.room_id)
    return room is not None and can_manage(store, caller, room)


def can_create_rooms(caller: Person) -> bool:
    return caller.is_admin or caller.type == enums.ROOM_ADMIN


def visible_room_ids(store: Store, caller: Person) -> set[int] | None:
    """Rooms the caller sees in lists; None means all of them."""
    if caller.is_admin:
        return None
    own = {f.id for f in store.tree.all_folders() if f.is_room and f.created_by == caller.id}
    return own | store.access.rooms_of(caller.id)


def may_create_type(caller: Person, target_type: int) -> bool:
    """POST people and people/invite: who may add which EmployeeType (Guest: nobody)."""
    if target_type == enums.GUEST:
        return False
    if target_type == enums.DOCSPACE_ADMIN:
        return caller.is_owner
    if target_type in (enums.ROOM_ADMIN, enums.ALL):
        return caller.is_admin
    if target_type == enums.USER:
        return caller.is_admin or caller.type == enums.ROOM_ADMIN
    return False


def may_create_activated(caller: Person, target_type: int) -> bool:
    """POST people/active: Action_AddRemoveUser for the type, so a Guest too (DocSpace admins
    and room admins, Security.Rules), the others as POST people."""
    if target_type == enums.GUEST:
        return caller.is_admin or caller.type == enums.ROOM_ADMIN
    return may_create_type(caller, target_type)


def may_change_type(caller: Person, target: Person, new_type: int) -> bool:
    """UserManagerWrapper.UpdateUserTypeAsync (docspace-api.md 10.5): only raises — Guest →
    User, User/Guest → RoomAdmin (DocSpace admins), RoomAdmin/User/Guest → DocSpaceAdmin
    (the owner) — plus the owner's DocSpaceAdmin → RoomAdmin; never the owner or yourself."""
    if target.is_owner or target.id == caller.id or new_type == target.type:
        return False
    if new_type == enums.USER:
        return target.type == enums.GUEST and (caller.is_admin or caller.type == enums.ROOM_ADMIN)
    if new_type == enums.ROOM_ADMIN:
        if target.type == enums.DOCSPACE_ADMIN:
            return caller.is_owner
        return target.type in (enums.USER, enums.GUEST) and caller.is_admin
    if new_type == enums.DOCSPACE_ADMIN:
        return caller.is_owner and target.type in (enums.ROOM_ADMIN, enums.USER, enums.GUEST)
    return False
