"""PUT /api/2.0/files/fileops/copy: copy folders and files as a file operation, polled
through GET files/fileops (docspace-api.md 13 and 10.2; server OperationController.
CopyBatchItems, FileMoveCopyOperationsManager.Publish).

Nothing to copy (no folder and no file id) queues nothing and answers the caller's copy
operations. `content: true` takes each folder's direct subfolders and files instead of the
folder, when the request is taken. The permission check runs before anything is queued: an
unknown or unreadable source, or a destination the caller cannot create in → 403.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.bodies import Body, read_body
from bulk_onboard.sandbox.copying import SKIP, CopyJob
from bulk_onboard.sandbox.envelopes import (
    Forbidden,
    ValidationFailed,
    conversion_message,
    success,
)
from bulk_onboard.sandbox.portal import Portal, caller_of, portal_of
from bulk_onboard.sandbox.routes.rooms import operation_dto
from bulk_onboard.sandbox.store import Person

RESOLVE_TYPE = {"Skip": 0, "Overwrite": 1, "Duplicate": 2}
RESOLVE_CLR = "ASC.Web.Files.Services.WCFService.FileOperations.FileConflictResolveType"


def _ids(body: Body, name: str) -> list[int]:
    """Integer ids (numbers or numeric strings); other strings are third-party ids, which
    this portal has none of."""
    ids: list[int] = []
    for item in body.array(name) or []:
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            ids.append(item)
        elif isinstance(item, str) and item.strip().isdigit():
            ids.append(int(item.strip()))
    return ids


def _resolve(body: Body) -> int:
    raw = body.raw("conflictResolveType")
    if raw is None:
        return SKIP
    try:
        return enums.parse_string_enum("FileConflictResolveType", RESOLVE_TYPE, raw)
    except enums.EnumParseError:
        where = body.where("conflictResolveType")
        raise ValidationFailed({where: [conversion_message(where, RESOLVE_CLR)]}) from None


def _content(
    portal: Portal, folder_ids: list[int], file_ids: list[int]
) -> tuple[list[int], list[int]]:
    folders: list[int] = []
    files = list(file_ids)
    for folder_id in folder_ids:
        folders += [f.id for f in portal.store.tree.subfolders(folder_id)]
        files += [f.id for f in portal.store.tree.files_in(folder_id)]
    return folders, files


def _check(
    portal: Portal, caller: Person, folder_ids: list[int], file_ids: list[int], dest: Any
) -> int:
    """CopyPermissionsCheck: every source readable, the destination writable."""
    tree = portal.store.tree
    destination = (
        tree.folder(dest) if isinstance(dest, int) and not isinstance(dest, bool) else None
    )
    if destination is None or not rights.can_create_in(portal.store, caller, destination):
        raise Forbidden()
    for folder_id in folder_ids:
        folder = tree.folder(folder_id)
        if folder is None or not rights.can_read(portal.store, caller, folder):
            raise Forbidden()
    for file_id in file_ids:
        file = tree.file(file_id)
        parent = tree.folder(file.folder_id) if file is not None else None
        if parent is None or not rights.can_read(portal.store, caller, parent):
            raise Forbidden()
    return destination.id


async def copy_items(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    folder_ids, file_ids = _ids(body, "folderIds"), _ids(body, "fileIds")
    resolve = _resolve(body)
    content = body.boolean("content")
    hold = not body.boolean("deleteAfter")
    single = body.boolean("returnSingleOperation")
    body.boolean("toFillOut")
    operation_id = None
    if folder_ids or file_ids:
        if content:
            folder_ids, file_ids = _content(portal, folder_ids, file_ids)
        dest = _check(portal, caller, folder_ids, file_ids, body.raw("destFolderId"))
        job = CopyJob(tuple(folder_ids), tuple(file_ids), dest, resolve, caller.id)
        operation_id = portal.operations.start_copy(job, portal.now(), hold=hold).id
    listed = [
        o
        for o in portal.operations.peek(caller.id, operation_id if single else None)
        if o.copy is not None
    ]
    return success(request, [operation_dto(portal, caller, o) for o in listed], count=1)


def add_routes(app: web.Application) -> None:
    app.router.add_put("/api/2.0/files/fileops/copy", copy_items)
