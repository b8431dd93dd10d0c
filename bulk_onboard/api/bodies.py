"""Request bodies with the portal's exact wire names and integer enums, no I/O.

These are the corrected requests of docspace-api.md section 9: `invitations` (never
`entries`) with integer FileShare values, `type` always sent when adding or inviting people
(omitted it means 0/All, a paid seat), `destFolderId` as a JSON number, links with an explicit
`linkType`. Enums are sent as plain integers: a misspelled FileShare name would silently
become 0, which removes a member.
"""

from __future__ import annotations

from collections.abc import Iterable

from bulk_onboard.model import Json


def _int(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an integer, not {value!r}")
    return int(value)  # an IntEnum becomes a plain int on the wire


def create_room_body(title: str, room_type: int, tags: Iterable[str] = ()) -> Json:
    return {"title": title, "roomType": _int(room_type, "roomType"), "tags": list(tags)}


def create_folder_body(title: str) -> Json:
    return {"title": title}


def copy_as_body(dest_folder_id: int, dest_title: str) -> Json:
    # A JSON string would select the third-party folder path: always send a number.
    return {"destFolderId": _int(dest_folder_id, "destFolderId"), "destTitle": dest_title}


def share_body(
    invitations: Iterable[tuple[str, int]],
    *,
    notify: bool = False,
    message: str | None = None,
    culture: str | None = None,
) -> Json:
    """PUT files/rooms/{id}/share. Each invitation is (user id or e-mail, FileShare int)."""
    entries: list[Json] = []
    for who, access in invitations:
        key = "email" if "@" in who else "id"
        entries.append({key: who, "access": _int(access, "access")})
    if not entries:
        raise ValueError("a share request needs at least one invitation")
    body: Json = {"invitations": entries, "notify": bool(notify)}
    if message is not None:
        body["message"] = message
    if culture is not None:
        body["culture"] = culture
    return body


def invite_body(invitations: Iterable[tuple[str, int]], culture: str | None = None) -> Json:
    """POST people/invite. Each invitation is (e-mail, EmployeeType int)."""
    entries = [{"email": email, "type": _int(kind, "type")} for email, kind in invitations]
    if not entries:
        raise ValueError("an invite request needs at least one invitation")
    body: Json = {"invitations": entries}
    if culture is not None:
        body["culture"] = culture
    return body


def member_body(
    email: str, first_name: str, last_name: str, user_type: int, culture: str | None = None
) -> Json:
    """POST people. `type` is always sent: omitted it means 0/All, a paid RoomAdmin seat."""
    body: Json = {
        "firstName": first_name,
        "lastName": last_name,
        "email": email,
        "type": _int(user_type, "type"),
    }
    if culture is not None:
        body["cultureName"] = culture
    return body


def link_body(link_type: int, access: int, title: str, link_id: str | None = None) -> Json:
    """PUT files/rooms/{id}/links. No link_id creates a link; with one it updates it."""
    body: Json = {
        "linkType": _int(link_type, "linkType"),
        "access": _int(access, "access"),
        "title": title,
    }
    if link_id is not None:
        body["linkId"] = link_id
    return body


def update_room_body(title: str | None = None, tags: Iterable[str] | None = None) -> Json:
    """PUT files/rooms/{id}. Omitted values stay as they are; `tags=[]` removes every tag."""
    body: Json = {}
    if title is not None:
        if not title.strip():
            raise ValueError("a blank title renames nothing; leave it out instead")
        body["title"] = title
    if tags is not None:
        body["tags"] = list(tags)
    if not body:
        raise ValueError("a room update needs a title or tags")
    return body


def delete_folder_body() -> Json:
    """DELETE files/folder/{id}: the [FromBody] must be present; `immediately` deletes for
    good instead of moving to the owner's Trash."""
    return {"deleteAfter": False, "immediately": True}


def archive_body(delete_after: bool = False) -> Json:
    """PUT files/rooms/{id}/archive|unarchive: the body must be present, `{}` at least.
    deleteAfter=true only drops the finished operation from the status list unseen."""
    return {"deleteAfter": True} if delete_after else {}


def copy_body(
    folder_ids: Iterable[int], file_ids: Iterable[int], dest_folder_id: int, *, content: bool
) -> Json:
    """PUT files/fileops/copy (docspace-api.md 13): conflictResolveType Skip, so an item
    whose title is in the destination already is not copied again (a folder found is merged
    into, server FileMoveCopyOperation); the operation's result kept for its poll."""
    return {
        "folderIds": [_int(i, "folder id") for i in folder_ids],
        "fileIds": [_int(i, "file id") for i in file_ids],
        "destFolderId": _int(dest_folder_id, "destination folder id"),
        "content": content,
        "conflictResolveType": 0,
        "deleteAfter": False,
        "returnSingleOperation": True,
    }


def user_ids_body(user_ids: Iterable[str]) -> Json:
    """PUT people/type/{type}, people/status/{status}, people/invite."""
    ids = [str(u) for u in user_ids]
    if not ids:
        raise ValueError("the request needs at least one user id")
    return {"userIds": ids}
