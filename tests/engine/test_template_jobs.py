"""TemplateJobs without a portal: one job at a time, the portal waited for while another job
runs, the room checked by id, title and tag, and each way a job ends uncertain or failed."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from bulk_onboard.api.models import Room
from bulk_onboard.api.templates import TemplateJob, parse_version
from bulk_onboard.engine.template_jobs import TemplateJobs
from bulk_onboard.errors import AmbiguousWrite, PermanentError, RowRefused


class Portal:
    """A job record that finishes after `polls` status reads, with `outcome` as its end."""

    def __init__(self, polls: int = 2, busy: int = 0) -> None:
        self.polls, self.busy = polls, busy
        self.record: TemplateJob | None = None
        self.rooms: dict[int, Room] = {}
        self.started: list[str] = []
        self.error = ""
        self.vanish = False
        self.other = False
        self.retry_policy = SimpleNamespace(sleep=self._sleep)
        self.running = 0
        self.most = 0

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)

    async def room_from_template_status(self) -> TemplateJob | None:
        if self.busy:
            self.busy -= 1
            return TemplateJob(-1, completed=False)
        if self.record is None or self.record.completed:
            return self.record
        self.polls -= 1
        if self.polls > 0:
            return self.record
        self.running -= 1
        if self.vanish:
            self.record = None
            return None
        room_id = 900 + len(self.started)
        if not self.error:
            title = "Someone else's" if self.other else self.started[-1]
            self.rooms[room_id] = Room(room_id, title, ("client:1",))
        self.record = TemplateJob(room_id, completed=True, error=self.error)
        return self.record

    async def start_room_from_template(self, template_id: int, title: str, tags: Any) -> None:
        self.started.append(title)
        self.running += 1
        self.most = max(self.most, self.running)
        self.polls = 2
        self.record = TemplateJob(-1, completed=False)

    async def room(self, room_id: int) -> Room:
        return self.rooms[room_id]


async def nothing() -> None:
    return None


async def test_jobs_run_one_at_a_time_and_each_room_is_checked() -> None:
    portal = Portal()
    jobs = TemplateJobs(portal)  # type: ignore[arg-type]
    made = await asyncio.gather(
        *(jobs.make_room(1, f"Room {n}", ["client:1"], nothing) for n in range(5))
    )
    assert [room.title for room, _ in made] == [f"Room {n}" for n in range(5)]
    assert all(new for _, new in made) and portal.most == 1 and jobs.jobs == 5


async def test_another_users_job_is_waited_for_and_a_room_found_meanwhile_is_taken() -> None:
    portal = Portal(busy=3)
    found = Room(5, "Mine", ("client:1",))

    async def look() -> Room:
        return found

    room, new = await TemplateJobs(portal).make_room(1, "Mine", ["client:1"], look)  # type: ignore[arg-type]
    assert (room, new) == (found, False) and portal.started == [] and portal.busy == 0


async def test_a_job_that_never_ends_another_users_refuses_the_row() -> None:
    portal = Portal(busy=10_000)
    jobs = TemplateJobs(portal, give_up_after=1.0)  # type: ignore[arg-type]
    with pytest.raises(RowRefused, match="one such job at a time"):
        await jobs.make_room(1, "Mine", ["client:1"], nothing)


@pytest.mark.parametrize(
    ("setup", "error", "message"),
    [
        ({"error": "Quota exceeded"}, PermanentError, "could not make the room.*Quota exceeded"),
        ({"vanish": True}, AmbiguousWrite, "record .* was gone"),
        ({"other": True}, AmbiguousWrite, "another job took the record"),
    ],
)
async def test_how_a_job_ends_badly(setup: dict[str, Any], error: type, message: str) -> None:
    portal = Portal()
    for name, value in setup.items():
        setattr(portal, name, value)
    with pytest.raises(error, match=message):
        await TemplateJobs(portal).make_room(1, "Mine", ["client:1"], nothing)  # type: ignore[arg-type]


def test_versions_are_read_by_their_leading_numbers() -> None:
    assert parse_version("3.1.0.1234") == (3, 1, 0)
    assert parse_version("3.7") == (3, 7, 0)
    assert parse_version("v3") == (0, 0, 0)
    assert parse_version("") == (0, 0, 0)
    assert parse_version("3.6.2-rc1") == (3, 6, 2)
