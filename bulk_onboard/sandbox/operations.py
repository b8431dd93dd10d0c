"""Long-running file operations (archive/restore a room, copy) and their status list, polled
through GET files/fileops (docspace-api.md 10.2, 13).

An operation is queued by PUT rooms/{id}/archive|unarchive or PUT files/fileops/copy and
finishes `fileop_ms` later: the room moves (the items are copied, sandbox/copying.py) at that
moment (checked before every API request). A finished operation is
answered once and then dequeued; one queued with deleteAfter=true is dequeued unseen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from bulk_onboard.sandbox.copying import CopyJob
from bulk_onboard.sandbox.store import Store

MOVE = 0  # FileOperationType.Move
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

    def settle(self, store: Store, now: float) -> None:
        """Run every operation whose time has come: move the room (a room already in the
        destination moves nothing), then keep it for one answer or drop it."""
        for operation in [o for o in self._queue if not o.finished and o.ready_at <= now]:
            if operation.copy is not None:
                operation.error = operation.copy.run(store, now)
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
