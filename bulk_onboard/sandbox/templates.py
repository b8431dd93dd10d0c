"""Room templates and the one job record per portal that makes rooms from them
(docspace-api.md 11; server RoomTemplatesWorker.StartCreateRoomAsync and
CreateRoomFromTemplateOperation.DoJob).

A template is a room-typed folder in the RoomTemplates section (FolderType 30), made here by
POST /sandbox/templates from a room (a copy of its content, as the server's template job
copies it). POST files/rooms/fromTemplate asks for a job; the portal keeps ONE record: a
finished record is replaced by the new job, while a record is unfinished the new request is
silently dropped (its answer is the running job's status) and counted in `dropped`. The job
runs `delay_seconds` after it was asked for (checked before every API request): the room is
made with the template's type and the request's title and tags, then the template's files
and default folders are copied (all levels from 3.7.1, one level before). Every failure is the
record's `error`, never an HTTP error. The record is gone `RECORD_TTL` seconds after its last
update (the queue's cleaner), so a client that polls too late finds no record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.store import ROOMS_ROOT_ID, Folder, Person, Store
from bulk_onboard.sandbox.titles import clean_title

TEMPLATES_ROOT_ID = 3
FOLDER_ROOM_TEMPLATES = 30  # FolderType.RoomTemplates
RECORD_TTL = 60.0  # DistributedTaskQueue's cleaner: a task not updated for 60 s is removed
TITLE_MAX = 170  # the DAO cuts room titles (no [StringLength] on this DTO)
FIRST_VERSION = (3, 1, 0)  # RoomTemplatesWorker first shipped in v3.1.0-server
RECURSIVE_VERSION = (3, 7, 1)  # CopyFolderContentAsync copies every level (377717c)

NO_VIEW = "You don't have enough permission to view the folder content"
NO_CREATE = "You don't have enough permission to create"
NO_OBJECT = "Object reference not set to an instance of an object."
NO_SHARES = "Value cannot be null. (Parameter 'shares')"
EMPTY_TAG = "The value cannot be an empty string. (Parameter 'name')"


def parse_version(text: str) -> tuple[int, int, int]:
    """The leading major.minor.patch of a version string ("3.1.0.1234" → (3, 1, 0))."""
    parts: list[int] = []
    for piece in text.strip().split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class RoomRequest:
    """What one POST files/rooms/fromTemplate asked for."""

    owner_id: str
    template_id: int
    title: str
    tags: tuple[str, ...] = ()
    indexing: bool | None = None
    deny_download: bool | None = None
    private: bool | None = None


@dataclass(slots=True)
class RoomJob:
    """The portal's one record: RoomFromTemplateStatusDto's fields and when it runs."""

    id: str
    request: RoomRequest
    ready_at: float
    updated: float
    room_id: int = -1
    progress: float = 0.0
    error: str = ""
    completed: bool = False

    def dto(self) -> dict[str, object]:
        return {
            "roomId": self.room_id,
            "progress": self.progress,
            "error": self.error,
            "isCompleted": self.completed,
        }


@dataclass(slots=True)
class TemplateJobs:
    """The job record of the portal and what happened to the requests for jobs."""

    delay_seconds: float
    version: str = "3.8.0"
    record: RoomJob | None = None
    started: int = 0  # jobs that ran (or will)
    dropped: int = 0  # requests silently dropped because a job was unfinished
    rooms: list[int] = field(default_factory=list)  # rooms the jobs made, in order

    @property
    def has_templates(self) -> bool:
        return parse_version(self.version) >= FIRST_VERSION

    def start(self, request: RoomRequest, now: float) -> RoomJob:
        """StartCreateRoomAsync: replace a finished record, or drop the request while one is
        unfinished. The answer is the record either way."""
        self.expire(now)
        if self.record is not None and self.record.completed:
            self.record = None
        if self.record is None:
            self.record = RoomJob(str(uuid.uuid4()), request, now + self.delay_seconds, now)
            self.started += 1
        else:
            self.dropped += 1
        return self.record

    def status(self, now: float) -> RoomJob | None:
        self.expire(now)
        return self.record

    def expire(self, now: float) -> None:
        if self.record is not None and self.record.updated + RECORD_TTL < now:
            self.record = None

    def settle(self, store: Store, now: float, made: Callable[[Folder], object]) -> None:
        """Run the job when its time has come; `made(room)` for the room it creates (its
        primary link, as for POST files/rooms)."""
        job = self.record
        if job is None or job.completed or job.ready_at > now:
            return
        with store.transaction():
            job.error = self._run(store, job, now, made)
        if job.room_id > 0 and not job.error:
            self.rooms.append(job.room_id)
        job.completed, job.progress, job.updated = True, 100.0, now

    def clear(self) -> None:
        self.record = None
        self.started = self.dropped = 0
        self.rooms.clear()

    def _run(self, store: Store, job: RoomJob, now: float, made: Callable[[Folder], object]) -> str:
        request = job.request
        caller = store.people.get(request.owner_id)
        template = store.tree.folder(request.template_id)
        if caller is None or template is None:
            return NO_OBJECT
        if not is_template(template) or not can_read_template(store, caller, template):
            return NO_VIEW
        if not rights.can_create_rooms(caller):
            return NO_CREATE
        private = request.private if request.private is not None else template.private
        if private:
            return NO_SHARES
        room = store.tree.add_folder(
            parent_id=ROOMS_ROOT_ID,
            title=clean_title(request.title)[:TITLE_MAX],
            folder_type=template.folder_type,
            room_type=template.room_type,
            room_id=None,
            created_by=caller.id,
            now=now,
            indexing=template.indexing if request.indexing is None else request.indexing,
            deny_download=(
                template.deny_download if request.deny_download is None else request.deny_download
            ),
        )
        if "" in request.tags:
            return EMPTY_TAG  # thrown before RoomId is set: the half-made room stays (inferred)
        store.tree.update(room.id, now, tags=reuse_tags(store, request.tags))
        made(room)
        job.room_id = room.id
        deep = parse_version(self.version) >= RECURSIVE_VERSION
        copy_content(store, template.id, room, caller.id, now, levels=None if deep else 1)
        return ""


def is_template(folder: Folder) -> bool:
    return folder.is_room and folder.parent_id == TEMPLATES_ROOT_ID


def can_read_template(store: Store, caller: Person, template: Folder) -> bool:
    """Its creator, or a share record for the caller: no admin shortcut (11.5)."""
    if template.created_by == caller.id:
        return True
    return rights.member_access(store, caller, template.id) is not None


def reuse_tags(store: Store, tags: tuple[str, ...]) -> tuple[str, ...]:
    """Unknown names are created, a known one in another case is reused as stored."""
    known: dict[str, str] = {}
    for folder in store.tree.all_folders():
        for tag in folder.tags:
            known.setdefault(tag.lower(), tag)
    result: list[str] = []
    for tag in tags:
        stored = known.get(tag.lower(), tag)
        if stored.lower() not in (t.lower() for t in result):
            result.append(stored)
    return tuple(result)


def copy_content(
    store: Store, source_id: int, into: Folder, owner_id: str, now: float, levels: int | None
) -> None:
    """The source's files, then its default folders with their content: every level when
    `levels` is None, else that many levels of folders (deeper ones are lost)."""
    for stored in store.tree.files_in(source_id):
        store.tree.add_file(
            folder_id=into.id,
            title=stored.title,
            size=stored.size,
            created_by=owner_id,
            now=now,
            source_id=stored.id,
        )
    if levels == 0:
        return
    for sub in store.tree.subfolders(source_id):
        if sub.folder_type != enums.FOLDER_DEFAULT:
            continue  # form-filling system folders are skipped
        made = store.tree.add_folder(
            parent_id=into.id,
            title=sub.title,
            folder_type=enums.FOLDER_DEFAULT,
            room_type=None,
            room_id=into.room_id,
            created_by=owner_id,
            now=now,
        )
        copy_content(store, sub.id, made, owner_id, now, None if levels is None else levels - 1)


def make_template(store: Store, room: Folder, title: str, owner_id: str, now: float) -> Folder:
    """A template from a room (POST files/roomtemplate's job, done at once): its type,
    privacy, indexing and download setting; its files and default folders, every level; no
    members, no links, no tags."""
    if store.tree.folder(TEMPLATES_ROOT_ID) is None:
        store.tree.add_folder(
            parent_id=None,
            title="Templates",
            folder_type=FOLDER_ROOM_TEMPLATES,
            room_type=None,
            room_id=None,
            created_by=owner_id,
            now=now,
            folder_id=TEMPLATES_ROOT_ID,
        )
    template = store.tree.add_folder(
        parent_id=TEMPLATES_ROOT_ID,
        title=clean_title(title)[:TITLE_MAX],
        folder_type=room.folder_type,
        room_type=room.room_type,
        room_id=None,
        created_by=owner_id,
        now=now,
        private=room.private,
        indexing=room.indexing,
        deny_download=room.deny_download,
    )
    copy_content(store, room.id, template, owner_id, now, levels=None)
    return template
