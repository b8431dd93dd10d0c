"""The copy file operation: PUT files/fileops/copy, run when its time comes (docspace-api.md
13; server FileMoveCopyOperationsManager.Publish and FileMoveCopyOperation.CopyFoldersAsync /
CopyFilesAsync).

`content: true` replaced each folder id by its direct subfolders and files when the request
was taken (Publish/GetContent). Folders are copied recursively. On a title already in the
destination: a folder is merged (its content copied into the folder found) unless the
resolve type is Duplicate; a file is skipped (Skip), kept with a new version (Overwrite,
nothing visible here) or copied beside it (Duplicate). A folder copied into the folder it is
in is left alone unless Duplicate. The operation lists the top-level entries it made or
merged into.

Into a form-filling room only ONLYOFFICE PDF forms may be copied (MoveOrCopyFilesAsync): any
other file is skipped and the operation ends with UPLOAD_TO_FORM_ROOM as its error, while the
folders are still made. The sandbox holds no PDF form, so every file is refused there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bulk_onboard.sandbox import enums
from bulk_onboard.sandbox.store import Folder, Store

SKIP, OVERWRITE, DUPLICATE = 0, 1, 2  # FileConflictResolveType
FILLING_FORMS_ROOM = 1  # RoomType
UPLOAD_TO_FORM_ROOM = (  # FilesCommonResource.ErrorMessage_UploadToFormRoom
    "The file cannot be uploaded to this room. Please try to upload the ONLYOFFICE PDF form."
)
COPY = 1  # FileOperationType.Copy


@dataclass(slots=True)
class CopyJob:
    folder_ids: tuple[int, ...]
    file_ids: tuple[int, ...]
    destination_id: int
    resolve: int
    owner_id: str
    folders: list[int] = field(default_factory=list)  # top-level entries made or merged into
    files: list[int] = field(default_factory=list)
    error: str = ""  # the last file refused (the operation's Err)

    def run(self, store: Store, now: float) -> str:
        """Copy everything; the operation's error text ("" when none)."""
        destination = store.tree.folder(self.destination_id)
        if destination is None:
            return "The required folder was not found"
        with store.transaction():
            self.folders += _copy_folders(store, self, self.folder_ids, destination, now)
            self.files += _copy_files(store, self, self.file_ids, destination, now)
        return self.error


def _copy_folders(
    store: Store, job: CopyJob, folder_ids: tuple[int, ...], into: Folder, now: float
) -> list[int]:
    made: list[int] = []
    for folder_id in folder_ids:
        folder = store.tree.folder(folder_id)
        if folder is None or folder.id == into.id:
            continue
        if folder.parent_id == into.id and job.resolve != DUPLICATE:
            continue  # copied into its own parent: nothing to do
        same = None
        if job.resolve != DUPLICATE:
            same = next(
                (f for f in store.tree.subfolders(into.id) if f.title == folder.title), None
            )
        target = same or store.tree.add_folder(
            parent_id=into.id,
            title=folder.title,
            folder_type=enums.FOLDER_DEFAULT,
            room_type=None,
            room_id=into.room_id,
            created_by=job.owner_id,
            now=now,
        )
        made.append(target.id)
        files = tuple(f.id for f in store.tree.files_in(folder.id))
        _copy_files(store, job, files, target, now)
        subfolders = tuple(f.id for f in store.tree.subfolders(folder.id))
        _copy_folders(store, job, subfolders, target, now)
    return made


def _copy_files(
    store: Store, job: CopyJob, file_ids: tuple[int, ...], into: Folder, now: float
) -> list[int]:
    made: list[int] = []
    room = store.tree.folder(into.room_id) if into.room_id is not None else None
    for file_id in file_ids:
        source = store.tree.file(file_id)
        if source is None:
            continue
        if room is not None and room.room_type == FILLING_FORMS_ROOM:
            job.error = UPLOAD_TO_FORM_ROOM  # not an ONLYOFFICE PDF form: skipped
            continue
        if job.resolve != DUPLICATE and any(
            f.title == source.title for f in store.tree.files_in(into.id)
        ):
            continue  # Skip: nothing; Overwrite: a new version of the file found
        copy = store.tree.add_file(
            folder_id=into.id,
            title=source.title,
            size=source.size,
            created_by=job.owner_id,
            now=now,
            source_id=source.id,
        )
        made.append(copy.id)
    return made
