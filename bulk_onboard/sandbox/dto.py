"""Rows to the DTOs the real server returns (docspace-api.md section 5.7); enums as ints."""

from __future__ import annotations

from typing import Any

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.bodies import EMPTY_GUID
from bulk_onboard.sandbox.envelopes import api_datetime
from bulk_onboard.sandbox.store import (
    ARCHIVE_ROOT_ID,
    Folder,
    Link,
    Person,
    Store,
    StoredFile,
)
from bulk_onboard.sandbox.store.groups import Group

AVATAR = "/static/images/default_user_photo_size_{0}-{0}.png"


def size_text(size: int) -> str:
    """FileSizeComment-style human size."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.2f} KB"
    return f"{size / (1024 * 1024):.2f} MB"


class Dtos:
    def __init__(self, store: Store, portal_url: str, share_base: str) -> None:
        self.store = store
        self.url = portal_url.rstrip("/")
        self.share_base = share_base.rstrip("/")
        # EmployeeDto by (id, display name, user name): all it is made of
        self._employees: dict[tuple[str, str, str], dict[str, Any]] = {}

    # --- people ------------------------------------------------------------------------

    def employee(self, person: Person) -> dict[str, Any]:
        """EmployeeDto: no e-mail field (displayName falls back to it for unnamed invitees)."""
        return {
            "id": person.id,
            "displayName": person.display_name,
            "avatar": AVATAR.format(82),
            "avatarOriginal": AVATAR.format(200),
            "avatarMax": AVATAR.format(200),
            "avatarMedium": AVATAR.format(48),
            "avatarSmall": AVATAR.format(32),
            "profileUrl": f"{self.url}/accounts/view/{person.user_name}",
            "hasAvatar": False,
            "isAnonim": False,
        }

    def employee_brief(self, user_id: str, display_name: str, user_name: str) -> dict[str, Any]:
        """The EmployeeDto of a person, built once per id and names (for answers that list
        many people, such as every invitation's); never to be changed by the caller."""
        key = (user_id, display_name, user_name)
        dto = self._employees.get(key)
        if dto is None:
            dto = self._employees[key] = {
                "id": user_id,
                "displayName": display_name,
                "avatar": AVATAR.format(82),
                "avatarOriginal": AVATAR.format(200),
                "avatarMax": AVATAR.format(200),
                "avatarMedium": AVATAR.format(48),
                "avatarSmall": AVATAR.format(32),
                "profileUrl": f"{self.url}/accounts/view/{user_name}",
                "hasAvatar": False,
                "isAnonim": False,
            }
        return dto

    def employee_by_id(self, user_id: str) -> dict[str, Any] | None:
        person = self.store.people.get(user_id)
        return self.employee(person) if person else None

    def employee_full(self, person: Person) -> dict[str, Any]:
        full = self.employee(person)
        full.update(
            {
                "firstName": person.first_name,
                "lastName": person.last_name,
                "userName": person.user_name,
                "email": person.email,
                "status": person.status,
                "activationStatus": person.activation,
                "isAdmin": person.type == enums.DOCSPACE_ADMIN and not person.is_owner,
                "isRoomAdmin": person.type == enums.ROOM_ADMIN,
                "isOwner": person.is_owner,
                "isVisitor": person.type == enums.GUEST,
                "isCollaborator": person.type == enums.USER,
                "isLDAP": False,
                "isSSO": False,
                "cultureName": person.culture,
                "groups": [],
                "department": "",
                "registrationDate": api_datetime(person.created),
                "createdBy": self.employee_by_id(person.created_by) if person.created_by else None,
                "usedSpace": 0,
            }
        )
        return full

    # --- folders, rooms, files ---------------------------------------------------------

    def _security(self, caller: Person, folder: Folder) -> dict[str, bool]:
        read = rights.can_read(self.store, caller, folder)
        create = rights.can_create_in(self.store, caller, folder)
        room = self.store.tree.folder(folder.room_id) if folder.room_id else None
        manage = room is not None and rights.can_manage(self.store, caller, room)
        own = (
            folder.parent_id is not None and rights.personal_owner(self.store, folder) == caller.id
        )
        return {
            "Read": read,
            "Create": create,
            "Delete": manage or own,
            "EditRoom": manage,
            "Rename": manage or own,
            "CopyTo": create,
            "Copy": read,
            "MoveTo": create,
            "Move": manage or own,
            "Pin": read and folder.is_room,
            "Mute": read and folder.is_room,
            "EditAccess": manage and folder.is_room,
            "Duplicate": manage or own,
            "Download": read,
            "CopySharedLink": read and folder.is_room,
        }

    def folder(self, folder: Folder, caller: Person) -> dict[str, Any]:
        files_count, folders_count = self.store.tree.counts(folder.id)
        path = self.store.tree.path(folder)
        root = path[0]
        room = self.store.tree.folder(folder.room_id) if folder.room_id else None
        if folder.room_id is None:
            access = enums.READ_WRITE if caller.is_admin else enums.READ
        else:
            member = rights.member_access(self.store, caller, folder.room_id)
            access = member if member is not None else enums.ROOM_MANAGER
        shared = room is not None and (
            bool(self.store.access.shares(room.id)) or bool(self.store.access.links(room.id))
        )
        security = self._security(caller, folder)
        return {
            "id": folder.id,
            "title": folder.title,
            "parentId": folder.parent_id if folder.parent_id is not None else 0,
            "rootFolderId": root.id,
            "rootFolderType": root.folder_type,
            "filesCount": files_count,
            "foldersCount": folders_count,
            "new": 0,
            "mute": False,
            "pinned": False,
            "private": folder.private,
            "indexing": folder.indexing,
            "denyDownload": folder.deny_download,
            "roomType": folder.room_type,
            "type": folder.folder_type,
            "tags": list(folder.tags) if folder.is_room else None,
            "inRoom": folder.room_id is not None,
            "access": access,
            "shared": shared,
            "canShare": security["EditAccess"],
            "security": security,
            "created": api_datetime(folder.created),
            "updated": api_datetime(folder.updated),
            "createdBy": self.employee_by_id(folder.created_by),
            "updatedBy": self.employee_by_id(folder.created_by),
            "fileEntryType": 1,
            "parentRoomType": (
                room.folder_type if room is not None and not folder.is_room else None
            ),
            "isArchive": root.id == ARCHIVE_ROOT_ID or None,
        }

    def file(self, stored: StoredFile, caller: Person) -> dict[str, Any]:
        parent = self.store.tree.folder(stored.folder_id)
        assert parent is not None
        root = self.store.tree.path(parent)[0]
        security = self._security(caller, parent)
        return {
            "id": stored.id,
            "title": stored.title,
            "folderId": stored.folder_id,
            "version": 1,
            "versionGroup": 1,
            "contentLength": size_text(stored.size),
            "pureContentLength": stored.size,
            "fileStatus": 0,
            "mute": False,
            "viewUrl": f"{self.url}/filehandler.ashx?action=download&fileid={stored.id}",
            "webUrl": f"{self.url}/doceditor?fileid={stored.id}&version=1",
            "fileType": enums.FILE_TYPES.get(stored.extension, 0),
            "fileExst": stored.extension,
            "comment": "Created",
            "thumbnailStatus": 0,
            "created": api_datetime(stored.created),
            "updated": api_datetime(stored.updated),
            "createdBy": self.employee_by_id(stored.created_by),
            "updatedBy": self.employee_by_id(stored.created_by),
            "rootFolderId": root.id,
            "rootFolderType": root.folder_type,
            "access": enums.READ_WRITE if security["Create"] else enums.READ,
            "shared": False,
            "canShare": False,
            "security": {k: security[k] for k in ("Read", "Copy", "Download", "Move")},
            "fileEntryType": 2,
        }

    def path_parts(self, folder: Folder) -> list[dict[str, Any]]:
        return [
            {
                "id": part.id,
                "title": part.title,
                "roomType": part.room_type,
                "folderType": part.folder_type,
            }
            for part in self.store.tree.path(folder)
        ]

    # --- shares and links --------------------------------------------------------------

    def user_share(
        self, person: Person, access: int, *, is_owner: bool, can_edit: bool
    ) -> dict[str, Any]:
        user = self.employee_full(person)
        return {
            "access": access,
            "sharedToUser": user,
            "sharedTo": user,
            "isLocked": is_owner,
            "isOwner": is_owner,
            "canEditAccess": can_edit and not is_owner,
            "canEditInternal": False,
            "canEditDenyDownload": False,
            "canEditExpirationDate": False,
            "canRevoke": can_edit and not is_owner,
            "subjectType": enums.SUBJECT_USER,
        }

    def group(self, group: Group, *, include_members: bool) -> dict[str, Any]:
        """GroupDto (docspace-api.md 12.1): members only when asked for, their count always."""
        members = self.store.groups.members(group.id)
        manager = self.store.people.get(group.manager) if group.manager else None
        dto: dict[str, Any] = {
            "id": group.id,
            "name": group.name,
            "category": EMPTY_GUID,
            "parent": EMPTY_GUID,
            "isLDAP": False,
            "manager": self.employee_full(manager) if manager is not None else None,
            "membersCount": len(members),
        }
        if include_members:
            people = (self.store.people.get(user_id) for user_id in members)
            dto["members"] = [self.employee_full(p) for p in people if p is not None]
        return dto

    def group_share(self, group: Group, access: int, *, can_edit: bool) -> dict[str, Any]:
        """A group's record in a room: subjectType 2 and sharedToGroup (12.2)."""
        manager = self.store.people.get(group.manager) if group.manager else None
        shared = {
            "id": group.id,
            "name": group.name,
            "manager": self.employee_full(manager) if manager is not None else None,
        }
        return {
            "access": access,
            "sharedToGroup": shared,
            "sharedTo": shared,
            "isLocked": False,
            "isOwner": False,
            "canEditAccess": can_edit,
            "canEditInternal": False,
            "canEditDenyDownload": False,
            "canEditExpirationDate": False,
            "canRevoke": can_edit,
            "subjectType": enums.SUBJECT_GROUP,
        }

    def share_url(self, code: str) -> str:
        return f"{self.share_base}/s/{code}"

    def link_share(
        self, link: Link, now: float, *, can_edit_internal: bool = False
    ) -> dict[str, Any]:
        """A link's FileShareDto. FileSharing.ToAceAsync sets canEditAccess false for every
        link; canEditInternal is the caller's EditInternal right on the room."""
        invitation = link.subject_type == enums.SUBJECT_INVITATION_LINK
        shared = {
            "id": link.id,
            "title": link.title,
            "shareLink": self.share_url(link.code),
            "linkType": link.link_type,
            "expirationDate": api_datetime(link.expiration) if link.expiration else None,
            "password": link.password,
            "denyDownload": link.deny_download,
            "isExpired": link.expiration is not None and link.expiration <= now,
            "primary": link.primary,
            "internal": link.internal,
            "requestToken": link.request_token,
            "maxUseCount": link.max_use_count if invitation else None,
            "currentUseCount": 0 if invitation else None,
        }
        return {
            "access": link.access,
            "sharedLink": shared,
            "sharedTo": shared,
            "isLocked": False,
            "isOwner": False,
            "canEditAccess": False,
            "canEditInternal": can_edit_internal,
            "canEditDenyDownload": not invitation,
            "canEditExpirationDate": not link.primary,
            "canRevoke": True,
            "subjectType": link.subject_type,
        }
