"""Who may do what in the emulated portal (FileSecurity, much simplified).

The owner and DocSpace admins may do everything. The creator of a room owns it. Other
people act through their membership: any access reads the room, RoomManager (9) manages
its members and links, RoomManager and ContentCreator (11) create folders and files.
"""

from __future__ import annotations

from bulk_onboard.sandbox import enums
from bulk_onboard.sandbox.store import Folder, Person, Store

CREATE_ROLES = frozenset({enums.ROOM_MANAGER, 11})


def member_access(store: Store, caller: Person, room_id: int) -> int | None:
    """The caller's FileShare in the room: 1 for its owner, None when not a member."""
    room = store.tree.folder(room_id)
    if room is None:
        return None
    if room.created_by == caller.id:
        return enums.READ_WRITE
    share = store.access.share(room_id, caller.id)
    return share.access if share is not None and share.access != enums.NONE else None


def can_read(store: Store, caller: Person, folder: Folder) -> bool:
    if caller.is_admin or folder.is_system:
        return True
    assert folder.room_id is not None
    return member_access(store, caller, folder.room_id) is not None


def can_manage(store: Store, caller: Person, room: Folder) -> bool:
    """Edit the members and links of a room."""
    if caller.is_admin or room.created_by == caller.id:
        return True
    return member_access(store, caller, room.id) == enums.ROOM_MANAGER


def can_create_in(store: Store, caller: Person, folder: Folder) -> bool:
    """Create folders and files in a room or a folder of a room (never in the roots)."""
    if folder.is_system:
        return False
    if caller.is_admin:
        return True
    assert folder.room_id is not None
    access = member_access(store, caller, folder.room_id)
    return access == enums.READ_WRITE or access in CREATE_ROLES


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
