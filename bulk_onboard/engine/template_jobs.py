"""One room-from-template job at a time, for the whole run (docspace-api.md 11.4, 11.8).

The portal keeps ONE job record: a job asked for while another one runs is dropped without a
word (its answer is the running job's status), and a job asked for just after another one
finished takes over its record. So the run never overlaps two jobs: a lock is held from
waiting for the portal to be idle (another user's job, or one of ours whose answer was lost)
until the job it started has finished. Under the lock, before starting, the caller looks once
more for what it is about to make (after an uncertain job the room may be there by now).

The new room's id is the finished record's `roomId`; the room is read back by that id and
must carry the title and tag asked for (another job may have taken the record). A record that
vanished (read too late: the portal drops it about a minute after it finished), a job still
running after `give_up_after` seconds, or a record naming another room is an AmbiguousWrite:
the room step looks for the room by its tag before anything is started again. A job that
failed made nothing that stays (the portal deletes its room): PermanentError with its error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import structlog

from bulk_onboard.api.models import Room
from bulk_onboard.api.protocol import PortalClient
from bulk_onboard.api.templates import TemplateJob
from bulk_onboard.api.wire import stored_title
from bulk_onboard.errors import AmbiguousWrite, PermanentError, RowRefused

log = structlog.get_logger("bulk_onboard")

PATH = "/api/2.0/files/rooms/fromTemplate"
FIRST_POLL, MAX_POLL = 0.1, 1.0  # seconds: polls double from the first to the last (UI: 1 s)
NO_ROOM = -1  # the record's roomId before the job made its room
GIVE_UP_AFTER = 120.0  # seconds a job (ours, or another's we wait for) may run


class TemplateJobs:
    """Starts room-from-template jobs one at a time and polls each to its end."""

    def __init__(self, client: PortalClient, *, give_up_after: float = GIVE_UP_AFTER) -> None:
        self.client = client
        self.give_up_after = give_up_after
        self._lock = asyncio.Lock()
        self.jobs = 0  # jobs started by this run
        self.running = 0  # jobs of this run in progress (never more than one)
        self.most_running = 0

    async def make_room(
        self,
        template_id: int,
        title: str,
        tags: Iterable[str],
        look_first: Callable[[], Awaitable[Room | None]],
    ) -> tuple[Room, bool]:
        """The room made from the template, and True; or what `look_first` found once the
        portal was idle, and False (nothing started)."""
        tags = tuple(tags)
        async with self._lock:
            await self._wait_idle()
            found = await look_first()
            if found is not None:
                return found, False
            self.jobs += 1
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            try:
                await self.client.start_room_from_template(template_id, title, tags)
                job = await self._poll(f'the room "{title}"')
            finally:
                self.running -= 1
        assert job is not None  # a vanished record of ours raised
        return await self._check(job, title, tags), True

    async def _wait_idle(self) -> None:
        """Until the portal's record is finished or gone (another job is not ours to drop)."""
        record = await self.client.room_from_template_status()
        if record is None or record.completed:
            return
        log.info("template_job_waiting", room=record.room_id)
        try:
            await self._poll("another room-from-template job", gone_is_done=True)
        except AmbiguousWrite as exc:
            raise RowRefused(
                f"{exc}; the portal runs one such job at a time: run again once it has ended"
            ) from None

    async def _poll(self, what: str, *, gone_is_done: bool = False) -> TemplateJob | None:
        """Poll the record until it is finished. A vanished record is an AmbiguousWrite for
        our job (what it made is unknown), and the end of another's (`gone_is_done`)."""
        waited, pause = 0.0, FIRST_POLL
        sleep = self.client.retry_policy.sleep
        while True:
            await sleep(pause)
            waited += pause
            record = await self.client.room_from_template_status()
            if record is None and gone_is_done:
                return None
            if record is None:
                raise AmbiguousWrite(
                    f"the portal's job record for {what} was gone before it was read finished; "
                    "looking for the room before starting another job",
                    method="GET",
                    path=f"{PATH}/status",
                )
            if record.completed:
                return record
            if waited >= self.give_up_after:
                raise AmbiguousWrite(
                    f"{what} was not made within {self.give_up_after:g} s; looking for it "
                    "before starting another job",
                    method="POST",
                    path=PATH,
                )
            pause = min(pause * 2, MAX_POLL)

    async def _check(self, job: TemplateJob, title: str, tags: tuple[str, ...]) -> Room:
        """The finished job's room, read back by id: it must have our title and tag."""
        if job.error:
            deleted = f" (its room {job.room_id} was deleted)" if job.room_id > 0 else ""
            raise PermanentError(
                f"the portal could not make the room from the template: {job.error}{deleted}",
                method="POST",
                path=PATH,
                status=200,
            )
        room = await self.client.room(job.room_id) if job.room_id != NO_ROOM else None
        wanted = {t.lower() for t in tags}
        if room is None or room.title != stored_title(title) or not wanted <= _lower(room.tags):
            raise AmbiguousWrite(
                f"the portal's job record named room {job.room_id}, not the one asked for "
                "(another job took the record); looking for the room by its tag",
                method="POST",
                path=PATH,
            )
        return room


def _lower(tags: Iterable[str]) -> set[str]:
    return {t.lower() for t in tags}
