"""A person's "My documents" and changing plain folders: GET files/@my, PUT files/folder/{id}
(rename) and DELETE files/folder/{id} (a delete operation). Server: FoldersController.GetMyFolder,
RenameFolder, DeleteFolder; FileStorageService.FolderRenameAsync, FolderDao.RenameFolderAsync;
FileDeleteOperationsManager.Publish and DeletePermissionsCheck (DocSpace-server ed2994e).

- "My documents" is made on the person's first visit (GlobalFolder.GetFolderMyAsync), stored
  with the title "my" and FolderType USER (5); a guest has none: its id is 0 and reading it
  answers 404 "The required folder was not found". Nobody else sees into it, DocSpace admins
  included.
- A rename stores the cleaned title and stamps `updated` (ModifiedOn = UtcNow); a title equal
  to the stored one (ordinal) changes nothing, `updated` included. A missing folder → 404; a
  folder the caller may not rename → 403 "You don't have enough permission to rename the
  folder" (an InvalidOperationException).
- A delete takes a [FromBody] `{"deleteAfter": bool, "immediately": bool}` (send `{}` at
  least) and answers the caller's delete operations (FileOperationDto list, Operation 2); the
  folder goes `fileop_ms` later, for good with `immediately`, else to its owner's Trash. The
  pre-check runs first: a missing folder → 404, a room without `immediately` or a folder the
  caller may not delete → 403 "Access denied".
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.bodies import read_body
from bulk_onboard.sandbox.envelopes import (
    FOLDER_NOT_FOUND,
    Forbidden,
    InvalidOperation,
    NotFound,
    ValidationFailed,
    length_message,
    required_message,
    success,
)
from bulk_onboard.sandbox.operations import COMPLETED, CREATED, DELETE, DeleteJob, Operation
from bulk_onboard.sandbox.portal import Portal, caller_of, portal_of
from bulk_onboard.sandbox.routes.files import FOLDER_TITLE_MAX, folder_content
from bulk_onboard.sandbox.store import Folder, Person
from bulk_onboard.sandbox.titles import clean_title, utf16_len

NO_RENAME_PERMISSION = "You don't have enough permission to rename the folder"
MY_TITLE = "my"


def my_folder(portal: Portal, caller: Person) -> Folder | None:
    """The caller's "My documents", made on the first visit; None for a guest."""
    found = portal.store.tree.personal_root(caller.id, enums.FOLDER_USER)
    if found is not None or caller.type == enums.GUEST:
        return found
    with portal.store.transaction():
        return portal.store.tree.add_folder(
            parent_id=None,
            title=MY_TITLE,
            folder_type=enums.FOLDER_USER,
            room_type=None,
            room_id=None,
            created_by=caller.id,
            now=portal.now(),
        )


async def get_my(request: web.Request) -> web.Response:
    folder = my_folder(portal_of(request), caller_of(request))
    if folder is None:
        raise NotFound(FOLDER_NOT_FOUND)
    return folder_content(request, folder)


async def rename_folder(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    title = body.string("title")
    if title is None or not title.strip():
        raise ValidationFailed({"Title": [required_message("Title")]})
    if utf16_len(title) > FOLDER_TITLE_MAX:
        raise ValidationFailed({"Title": [length_message("Title", FOLDER_TITLE_MAX)]})
    folder = portal.store.tree.folder(int(request.match_info["folderId"]))
    if folder is None:
        raise NotFound(FOLDER_NOT_FOUND)
    if folder.is_room:
        allowed = rights.can_edit_room(portal.store, caller, folder)
    else:  # nothing in the Trash is renamed (CanRename is false there)
        allowed = rights.can_change_folder(portal.store, caller, folder) and (
            portal.store.tree.path(folder)[0].folder_type != enums.FOLDER_TRASH
        )
    if not allowed:
        raise InvalidOperation(NO_RENAME_PERMISSION)
    if title != folder.title:  # ordinal, before cleaning: "a:b" over "a_b" stamps again
        with portal.store.transaction():
            portal.store.tree.update(folder.id, portal.now(), title=clean_title(title))
    renamed = portal.store.tree.folder(folder.id)
    assert renamed is not None
    return success(request, portal.dtos.folder(renamed, caller))


def _may_delete(portal: Portal, caller: Person, folder: Folder, immediately: bool) -> bool:
    if folder.is_room:
        return immediately and rights.can_move_room(caller, folder)
    return rights.can_change_folder(portal.store, caller, folder)


async def delete_folder(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    if "json" not in request.content_type:
        return web.Response(status=415)  # [FromBody]: no JSON input formatter for it
    body = await read_body(request)
    delete_after = body.boolean("deleteAfter")
    immediately = body.boolean("immediately")
    folder = portal.store.tree.folder(int(request.match_info["folderId"]))
    if folder is None:
        raise NotFound(FOLDER_NOT_FOUND)
    if not _may_delete(portal, caller, folder, immediately):
        raise Forbidden()
    job = DeleteJob((folder.id,), immediately)
    portal.operations.start_delete(caller.id, job, portal.now(), hold=not delete_after)
    listed = [o for o in portal.operations.peek(caller.id, None) if o.delete is not None]
    return success(request, [delete_dto(o) for o in listed], count=1)


def delete_dto(operation: Operation) -> dict[str, Any]:
    """A delete's FileOperationDto (it lists nothing it deleted)."""
    job = operation.delete
    assert job is not None
    return {
        "id": operation.id,
        "Operation": DELETE,
        "progress": 100 if operation.finished else 0,
        "error": operation.error,
        "processed": str(len(job.folder_ids)) if operation.finished else "0",
        "finished": operation.finished,
        "status": COMPLETED if operation.finished else CREATED,
    }


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/2.0/files/@my", get_my)
    app.router.add_put(r"/api/2.0/files/folder/{folderId:\d+}", rename_folder)
    app.router.add_delete(r"/api/2.0/files/folder/{folderId:\d+}", delete_folder)
