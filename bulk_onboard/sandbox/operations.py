"""Long-running file operations (archive/restore a room, copy) and their status list, polled
through GET files/fileops (docspace-api.md 10.2, 13).

An operation is queued by PUT rooms/{id}/archive|unarchive, PUT files/fileops/copy or DELETE
files/folder/{id} and finishes `fileop_ms` later: the room moves (the items are copied,
sandbox/copying.py; the folders are deleted or moved to their owner's Trash) at that moment (checked before every API request). A finished operation is
answered once and then dequeued; one queued with deleteAfter=true is dequeued unseen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from bulk_onboard.sandbox.copying import CopyJob
from bulk_onboard.sandbox.enums import FOLDER_TRASH
from bulk_onboard.sandbox.store import Store

MOVE, DELETE = 0, 2  # FileOperationType.Move, .Delete
CREATED, COMPLETED = 0, 2  # DistributedTaskStatus


@dataclass(slots=True)
class Operation:
    id: str
    owner_id: str
    room_id: int
    destination_id: int
    ready_at: float
    hold: bool
    finished: bool = False
    moved: bool = False
    error: str = ""
    copy: CopyJob | None = None  # a copy operation (FileOperationType 1), not a move
    delete: DeleteJob | None = None  # a delete operation (FileOperationType 2)


@dataclass(frozen=True, slots=True)
class DeleteJob:
    """Folders to delete (FileDeleteOperation): for good when `immediately`, else moved to
    their owner's Trash (a room is always deleted for good: only `immediately` lets it in)."""

    folder_ids: tuple[int, ...]
    immediately: bool

    def run(self, store: Store, now: float) -> str:
        """Delete what is still there; the error text of one that is gone ("" when none)."""
        error = ""
        with store.transaction():
            for folder_id in self.folder_ids:
                folder = store.tree.folder(folder_id)
                if folder is None:
                    error = "The required folder was not found"
                elif folder.is_room:
                    store.tree.delete_room(folder.id)
                elif self.immediately:
                    store.tree.delete_tree(folder.id)
                else:
                    store.tree.move(folder.id, _trash_of(store, folder.created_by, now), now)
        return error


def _trash_of(store: Store, user_id: str, now: float) -> int:
    trash = store.tree.personal_root(user_id, FOLDER_TRASH)
    if trash is None:
        trash = store.tree.add_folder(
            parent_id=None,
            title="trash",
            folder_type=FOLDER_TRASH,
            room_type=None,
            room_id=None,
            created_by=user_id,
            now=now,
        )
    return trash.id


@dataclass(slots=True)
class Operations:
    delay_seconds: float
    _queue: list[Operation] = field(default_factory=list)

    def start(
        self, owner_id: str, room_id: int, destination_id: int, now: float, *, hold: bool
    ) -> Operation:
        operation = Operation(
            id=str(uuid.uuid4()),
            owner_id=owner_id,
            room_id=room_id,
            destination_id=destination_id,
            ready_at=now + self.delay_seconds,
            hold=hold,
        )
        self._queue.append(operation)
        return operation

    def start_copy(self, job: CopyJob, now: float, *, hold: bool) -> Operation:
        operation = self.start(job.owner_id, 0, job.destination_id, now, hold=hold)
        operation.copy = job
        return operation

    def start_delete(self, owner_id: str, job: DeleteJob, now: float, *, hold: bool) -> Operation:
        operation = self.start(owner_id, 0, 0, now, hold=hold)
        operation.delete = job
        return operation

    def settle(self, store: Store, now: float) -> None:
        """Run every operation whose time has come: move the room (a room already in the
        destination moves nothing), then keep it for one answer or drop it."""
        for operation in [o for o in self._queue if not o.finished and o.ready_at <= now]:
            if operation.copy is not None:
                operation.error = operation.copy.run(store, now)
                room = None
            elif operation.delete is not None:
                operation.error = operation.delete.run(store, now)
                room = None
            else:
                room = store.tree.folder(operation.room_id)
            if room is not None and room.parent_id != operation.destination_id:
                with store.transaction():
                    store.tree.move(room.id, operation.destination_id, now)
                operation.moved = True
            operation.finished = True
            if not operation.hold:
                self._queue.remove(operation)

    def peek(self, owner_id: str, operation_id: str | None) -> list[Operation]:
        """The caller's operations (one, with an id), left in the list (GetOperationResults
        of a start answers them without dequeuing, inferred)."""
        return [
            o
            for o in self._queue
            if o.owner_id == owner_id and (operation_id is None or o.id == operation_id)
        ]

    def take(self, owner_id: str, operation_id: str | None) -> list[Operation]:
        """The caller's operations (one, with an id); finished ones leave the list."""
        found = [
            o
            for o in self._queue
            if o.owner_id == owner_id and (operation_id is None or o.id == operation_id)
        ]
        for operation in found:
            if operation.finished:
                self._queue.remove(operation)
        return found

    def clear(self) -> None:
        self._queue.clear()
