"""Rooms, folders and files: /api/2.0/files/rooms, /files/folder/{id}, /files/{id},
/files/file/{id}/copyas (docspace-api.md sections 5.1-5.3)."""

from __future__ import annotations

from aiohttp import web

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.bodies import Body, read_body
from bulk_onboard.sandbox.envelopes import (
    FILE_NOT_FOUND,
    FOLDER_NOT_FOUND,
    ArgumentOutOfRange,
    FileNotFound,
    Forbidden,
    InvalidOperation,
    NotFound,
    ValidationFailed,
    conversion_message,
    length_message,
    required_message,
    success,
)
from bulk_onboard.sandbox.portal import Portal, caller_of, portal_of
from bulk_onboard.sandbox.routes import links, sharing
from bulk_onboard.sandbox.routes.query import paging, query_items
from bulk_onboard.sandbox.store import ROOMS_ROOT_ID, Folder, Person, StoredFile
from bulk_onboard.sandbox.titles import clean_title, utf16_len

ROOM_TITLE_MAX, FOLDER_TITLE_MAX = 170, 165
NO_CREATE_PERMISSION = "You don't have enough permission to create"
ROOM_TYPE_CLR = "ASC.Files.Core.ApiModels.RequestDto.RoomType"


def _room_type(body: Body) -> int | None:
    raw = body.raw("roomType")
    if raw is None:
        return None
    try:
        return enums.parse_string_enum("RoomType", enums.ROOM_TYPE, raw)
    except enums.EnumParseError:
        path = body.where("roomType")
        raise ValidationFailed({path: [conversion_message(path, ROOM_TYPE_CLR)]}) from None


def _tags(body: Body) -> tuple[str, ...]:
    items = body.array("tags") or []
    tags: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            where = f"{body.where('tags')}[{index}]"
            raise ValidationFailed({where: [conversion_message(where, "System.String")]})
        if item.strip() and item.strip() not in tags:
            tags.append(item.strip())
    return tuple(tags)


def _title_errors(title: str | None, limit: int) -> dict[str, list[str]]:
    if title is None or not title.strip():
        return {"Title": [required_message("Title")]}
    if utf16_len(title) > limit:
        return {"Title": [length_message("Title", limit)]}
    return {}


async def create_room(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    title = body.string("title")
    room_type = _room_type(body)
    private = body.boolean("private")
    indexing = body.boolean("indexing")
    deny_download = body.boolean("denyDownload")
    body.integer("quota")
    color, cover = body.string("color"), body.string("cover")
    tags = _tags(body)
    invitations = sharing.read_invitations(body, "share", id_key="shareTo")
    errors = _title_errors(title, ROOM_TITLE_MAX)
    if room_type is None:
        errors["RoomType"] = [required_message("RoomType")]
    if color is not None and len(color) > 6:
        errors["Color"] = [length_message("Color", 6)]
    if cover is not None and len(cover) > 50:
        errors["Cover"] = [length_message("Cover", 50)]
    if errors:
        raise ValidationFailed(errors)
    assert title is not None and room_type is not None
    if room_type not in enums.ROOM_ROLES:
        raise ArgumentOutOfRange(
            "Specified argument was out of the range of valid values. (Parameter 'roomType')"
        )
    if not rights.can_create_rooms(caller):
        raise Forbidden()
    now = portal.now()
    with portal.store.transaction():
        room = portal.store.tree.add_folder(
            parent_id=ROOMS_ROOT_ID,
            title=clean_title(title),
            folder_type=enums.ROOM_FOLDER_TYPE[room_type],
            room_type=room_type,
            room_id=None,
            created_by=caller.id,
            now=now,
            private=private,
            indexing=indexing,
            deny_download=deny_download,
            tags=tags,
        )
        links.create_default_primary_link(portal, room)
    if invitations:
        sharing.apply_invitations(
            portal, caller, room, invitations, notify=False, message=None, culture=None
        )
    return success(request, portal.dtos.folder(room, caller))


def _room_or_404(portal: Portal, caller: Person, room_id: int) -> Folder:
    room = portal.store.tree.room(room_id)
    if room is None:
        raise NotFound(FOLDER_NOT_FOUND)
    if not rights.can_read(portal.store, caller, room):
        raise Forbidden()
    return room


async def get_room(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    room = _room_or_404(portal, caller, int(request.match_info["id"]))
    return success(request, portal.dtos.folder(room, caller))


async def create_folder(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    title = body.string("title")
    errors = _title_errors(title, FOLDER_TITLE_MAX)
    if errors:
        raise ValidationFailed(errors)
    assert title is not None
    parent = portal.store.tree.folder(int(request.match_info["folderId"]))
    if parent is None:
        raise InvalidOperation(FOLDER_NOT_FOUND)
    if rights.archived(portal.store, parent):
        raise InvalidOperation(NO_CREATE_PERMISSION)
    if not rights.can_create_in(portal.store, caller, parent):
        raise Forbidden()
    with portal.store.transaction():
        folder = portal.store.tree.add_folder(
            parent_id=parent.id,
            title=clean_title(title),
            folder_type=enums.FOLDER_DEFAULT,
            room_type=None,
            room_id=parent.room_id,
            created_by=caller.id,
            now=portal.now(),
        )
    return success(request, portal.dtos.folder(folder, caller))


async def get_folder(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    folder = portal.store.tree.folder(int(request.match_info["folderId"]))
    if folder is None:
        raise NotFound(FOLDER_NOT_FOUND)
    if not rights.can_read(portal.store, caller, folder):
        raise Forbidden()
    return folder_content(request, folder)


def folder_content(request: web.Request, folder: Folder) -> web.Response:
    """FolderContentDto of a folder the caller may read: one page, folders before files."""
    portal, caller = portal_of(request), caller_of(request)
    items = query_items(request)
    page = paging(items)
    text = items.get("filtervalue", "").strip().lower()
    rooms_root = folder.is_system and rights.personal_owner(portal.store, folder) is None
    visible = rights.visible_room_ids(portal.store, caller) if rooms_root else None
    folders = [
        f
        for f in portal.store.tree.subfolders(folder.id)
        if (visible is None or f.id in visible) and (not text or text in f.title.lower())
    ]
    files = [
        f for f in portal.store.tree.files_in(folder.id) if not text or text in f.title.lower()
    ]
    entries: list[Folder | StoredFile] = [*folders, *files]
    shown = page.take(entries)
    content = {
        "files": [portal.dtos.file(f, caller) for f in shown if isinstance(f, StoredFile)],
        "folders": [portal.dtos.folder(f, caller) for f in shown if isinstance(f, Folder)],
        "current": portal.dtos.folder(folder, caller),
        "pathParts": portal.dtos.path_parts(folder),
        "startIndex": page.start,
        "count": len(shown),
        "total": len(entries),
        "new": 0,
    }
    return success(request, content)


def _with_extension(title: str, source: StoredFile) -> str:
    """A destTitle without an extension keeps the source's (inferred)."""
    dot = title.rfind(".")
    return title if dot > 0 and dot < len(title) - 1 else title.rstrip(".") + source.extension


async def copy_as(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    dest_title = body.string("destTitle")
    dest_folder = body.raw("destFolderId")
    body.boolean("enableExternalExt")
    body.boolean("toForm")
    body.string("password")
    errors: dict[str, list[str]] = {}
    if dest_title is None or not dest_title.strip():
        errors["DestTitle"] = [required_message("DestTitle")]
    if dest_folder is None:
        errors["DestFolderId"] = [required_message("DestFolderId")]
    if errors:
        raise ValidationFailed(errors)
    assert dest_title is not None
    source = portal.store.tree.file(int(request.match_info["fileId"]))
    if source is None:
        raise FileNotFound(FILE_NOT_FOUND)
    parent = portal.store.tree.folder(source.folder_id)
    if parent is None or not rights.can_read(portal.store, caller, parent):
        raise Forbidden()
    if isinstance(dest_folder, str):
        # A JSON string selects the third-party (string id) storage, where no native id
        # exists: the destination folder is not found.
        raise InvalidOperation(FOLDER_NOT_FOUND)
    if isinstance(dest_folder, bool) or not isinstance(dest_folder, int):
        return success(request, None)  # neither number nor string: null result (inferred)
    destination = portal.store.tree.folder(dest_folder)
    if destination is None:
        raise InvalidOperation(FOLDER_NOT_FOUND)
    if not rights.can_create_in(portal.store, caller, destination):
        raise Forbidden()
    with portal.store.transaction():
        copy = portal.store.tree.add_file(
            folder_id=destination.id,
            title=_with_extension(dest_title.strip(), source),
            size=source.size,
            created_by=caller.id,
            now=portal.now(),
            source_id=source.id,
        )
    return success(request, portal.dtos.file(copy, caller))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/2.0/files/rooms", create_room)
    app.router.add_get(r"/api/2.0/files/rooms/{id:\d+}", get_room)
    app.router.add_post(r"/api/2.0/files/folder/{folderId:\d+}", create_folder)
    app.router.add_get(r"/api/2.0/files/{folderId:\d+}", get_folder)
    app.router.add_post(r"/api/2.0/files/file/{fileId:\d+}/copyas", copy_as)
