"""Renaming and archiving rooms: PUT files/rooms/{id}, PUT files/rooms/{id}/archive|unarchive
and GET files/fileops (docspace-api.md 10.1, 10.2). None of them sends mail."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.bodies import Body, read_body
from bulk_onboard.sandbox.copying import COPY
from bulk_onboard.sandbox.envelopes import (
    FOLDER_NOT_FOUND,
    BadArgument,
    Forbidden,
    InvalidOperation,
    NotFound,
    ValidationFailed,
    conversion_message,
    length_message,
    success,
)
from bulk_onboard.sandbox.operations import COMPLETED, CREATED, MOVE, Operation
from bulk_onboard.sandbox.portal import Portal, caller_of, caller_or_none, portal_of
from bulk_onboard.sandbox.routes import personal
from bulk_onboard.sandbox.store import ARCHIVE_ROOT_ID, ROOMS_ROOT_ID, Person
from bulk_onboard.sandbox.titles import clean_title, utf16_len

NO_EDIT_PERMISSION = "You don't have permission to edit the room"
NO_VIEW_PERMISSION = "You don't have enough permission to view the folder content"
EMPTY_TAG = "The value cannot be an empty string. (Parameter 'name')"


def _update_tags(body: Body) -> tuple[str, ...] | None:
    items = body.array("tags")
    if items is None:
        return None
    tags: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            where = f"{body.where('tags')}[{index}]"
            raise ValidationFailed({where: [conversion_message(where, "System.String")]})
        if item.lower() not in (t.lower() for t in tags):
            tags.append(item)  # tags are not trimmed
    return tuple(tags)


def _reuse_tags(portal: Portal, caller: Person, tags: tuple[str, ...]) -> tuple[str, ...]:
    """Names unknown to the portal are created (RoomAdmin/DocSpaceAdmin only); an existing
    tag in another case is reused as stored (inferred: case-insensitive lookup)."""
    known: dict[str, str] = {}
    for folder in portal.store.tree.all_folders():
        for tag in folder.tags:
            known.setdefault(tag.lower(), tag)
    result: list[str] = []
    for tag in tags:
        if tag == "":
            raise BadArgument(EMPTY_TAG)
        if tag.lower() not in known and not (caller.is_admin or caller.type == enums.ROOM_ADMIN):
            raise Forbidden()
        result.append(known.get(tag.lower(), tag))
    return tuple(result)


async def update_room(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    title = body.string("title")
    color, cover = body.string("color"), body.string("cover")
    indexing = body.raw("indexing") is not None and body.boolean("indexing")
    deny = body.raw("denyDownload") is not None and body.boolean("denyDownload")
    body.integer("quota")
    tags = _update_tags(body)
    errors = {
        name: [length_message(name, limit)]
        for name, value, limit in (("Title", title, 170), ("Color", color, 6), ("Cover", cover, 50))
        if value is not None and utf16_len(value) > limit
    }
    if errors:
        raise ValidationFailed(errors)
    folder = portal.store.tree.folder(int(request.match_info["id"]))
    if folder is None:
        raise InvalidOperation(FOLDER_NOT_FOUND)
    if not rights.can_edit_room(portal.store, caller, folder):
        raise InvalidOperation(NO_EDIT_PERMISSION)
    new_title = title.strip() if title is not None and title.strip() else None
    if new_title == folder.title:
        new_title = None
    with portal.store.transaction():
        portal.store.tree.update(
            folder.id,
            portal.now(),
            title=clean_title(new_title) if new_title is not None else None,
            tags=_reuse_tags(portal, caller, tags) if tags is not None else None,
            indexing=indexing if body.raw("indexing") is not None else None,
            deny_download=deny if body.raw("denyDownload") is not None else None,
        )
    updated = portal.store.tree.folder(folder.id)
    assert updated is not None
    return success(request, portal.dtos.folder(updated, caller))


def operation_dto(portal: Portal, caller: Person, operation: Operation) -> dict[str, Any]:
    """FileOperationDto; `Operation` is its [JsonPropertyName] spelling."""
    if operation.copy is not None:
        return copy_dto(portal, caller, operation)
    if operation.delete is not None:
        return personal.delete_dto(operation)
    dto: dict[str, Any] = {
        "id": operation.id,
        "Operation": MOVE,
        "progress": 100 if operation.finished else 0,
        "error": operation.error,
        "processed": "1" if operation.finished else "0",
        "finished": operation.finished,
        "status": COMPLETED if operation.finished else CREATED,
    }
    if operation.finished:
        shown = [operation.destination_id] + ([operation.room_id] if operation.moved else [])
        folders = [portal.store.tree.folder(i) for i in shown]
        dto["folders"] = [portal.dtos.folder(f, caller) for f in folders if f is not None]
        dto["files"] = []
    return dto


def copy_dto(portal: Portal, caller: Person, operation: Operation) -> dict[str, Any]:
    """A copy's FileOperationDto: once finished, the top-level entries it made or merged
    into (`processed` counts the items it was given, inferred)."""
    job = operation.copy
    assert job is not None
    dto: dict[str, Any] = {
        "id": operation.id,
        "Operation": COPY,
        "progress": 100 if operation.finished else 0,
        "error": operation.error,
        "processed": str(len(job.folder_ids) + len(job.file_ids)) if operation.finished else "0",
        "finished": operation.finished,
        "status": COMPLETED if operation.finished else CREATED,
    }
    if operation.finished:
        tree = portal.store.tree
        folders = [f for f in (tree.folder(i) for i in job.folders) if f is not None]
        files = [f for f in (tree.file(i) for i in job.files) if f is not None]
        dto["folders"] = [portal.dtos.folder(f, caller) for f in folders]
        dto["files"] = [portal.dtos.file(f, caller) for f in files]
    return dto


async def _move_room(request: web.Request, destination_id: int) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    if "json" not in request.content_type:
        return web.Response(status=415)  # [FromBody]: no JSON input formatter for it
    body = await read_body(request)
    delete_after = body.boolean("deleteAfter")
    folder = portal.store.tree.folder(int(request.match_info["id"]))
    if folder is None:
        raise NotFound(FOLDER_NOT_FOUND)
    if not rights.can_read(portal.store, caller, folder):
        raise InvalidOperation(NO_VIEW_PERMISSION)
    if not folder.is_room or not rights.can_move_room(caller, folder):
        raise Forbidden()
    operation = portal.operations.start(
        caller.id, folder.id, destination_id, portal.now(), hold=not delete_after
    )
    return success(request, operation_dto(portal, caller, operation))


async def archive_room(request: web.Request) -> web.Response:
    return await _move_room(request, ARCHIVE_ROOT_ID)


async def unarchive_room(request: web.Request) -> web.Response:
    return await _move_room(request, ROOMS_ROOT_ID)


async def file_operations(request: web.Request) -> web.Response:
    """[AllowAnonymous]: the caller's operations; a finished one is answered once. The
    envelope count of this stream action is 1 whatever the list length (inferred)."""
    portal, caller = portal_of(request), caller_or_none(request)
    wanted = request.query.get("id")
    if caller is None:
        return success(request, [], count=1)
    found = portal.operations.take(caller.id, wanted or None)
    return success(request, [operation_dto(portal, caller, o) for o in found], count=1)


def add_routes(app: web.Application) -> None:
    app.router.add_put(r"/api/2.0/files/rooms/{id:\d+}", update_room)
    app.router.add_put(r"/api/2.0/files/rooms/{id:\d+}/archive", archive_room)
    app.router.add_put(r"/api/2.0/files/rooms/{id:\d+}/unarchive", unarchive_room)
    app.router.add_get("/api/2.0/files/fileops", file_operations)
