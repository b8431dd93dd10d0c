"""`plan --against-portal`: the run, with every write imagined instead of sent.

The engine runs unchanged against a client whose reads go to the live portal and whose writes
are counted and answered with placeholders. So the dry run sees exactly what a run would find
(existing rooms, folders, files, members, people) and the problems the portal would raise (a
manager who is not an admin, a missing template, a room title used by a room that is not ours),
and counts the POST and PUT requests the run needs against the portal's daily budget.

`GET rooms/{id}/link` is not sent: on the real server that GET creates the primary link.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.api.limits import ClientStats
from bulk_onboard.api.models import (
    ACTIVE,
    GUEST,
    ROOM_ADMIN,
    SEARCH_ACTIVE,
    TYPE_RANK,
    FileOperation,
    FolderItems,
    Group,
    Item,
    Link,
    Member,
    Person,
    Room,
    ShareReply,
)
from bulk_onboard.api.portal import Listed
from bulk_onboard.api.templates import TemplateJob
from bulk_onboard.api.wire import stored_title
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.config import Settings
from bulk_onboard.engine.modes import invalid_results
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.root import Job, run
from bulk_onboard.intake import Intake
from bulk_onboard.model import Json
from bulk_onboard.model.records import Access, LinkType, RoomType
from bulk_onboard.runs.portal_memory import budget_refused_recently
from bulk_onboard.runs.progress import NoProgress
from bulk_onboard.runs.report import FINE_STATUSES, RowResult
from bulk_onboard.state.store import portal_store

DAILY_WRITE_BUDGET = 10_000  # POST + PUT per user and day (docspace-api.md section 7)


READ, FILL_FORMS, FORM_FILLING_ROOM = (
    int(Access.READ),
    int(Access.FILL_FORMS),
    int(RoomType.FILLING_FORMS),
)


class PlanningClient:
    """Reads from the portal; writes counted and answered with placeholders (negative ids)."""

    def __init__(self, real: DocSpaceClient) -> None:
        self._real = real
        self.writes: Counter[str] = Counter()
        self._last_id = 0
        self._people: dict[str, Person] = {}
        self._room_types: dict[int, int] = {}  # of the rooms a run would create
        self._groups: dict[str, Group] = {}  # the groups a run would create, by name
        self._planned_rooms: dict[int, Room] = {}  # made from a template, by the job imagined
        self._template_job: TemplateJob | None = None

    @property
    def stats(self) -> ClientStats:
        return self._real.stats

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._real.retry_policy

    # ------------------------------------------------------------------ reads, as they are

    async def find_rooms(
        self, *, tags: Iterable[str] = (), search_area: int = SEARCH_ACTIVE
    ) -> list[Room]:
        return await self._real.find_rooms(tags=tags, search_area=search_area)

    async def listed_people(
        self, start_index: int = 0, count: int = 100
    ) -> tuple[list[Listed], int]:
        return await self._real.listed_people(start_index, count)

    async def me(self) -> Person:
        return await self._real.me()

    async def portal_version(self) -> str:
        return await self._real.portal_version()

    async def find_templates(self, title: str) -> list[Room]:
        return await self._real.find_templates(title)

    async def room_from_template_status(self) -> TemplateJob | None:
        return self._template_job  # only the jobs this check imagines, each done at once

    async def room(self, room_id: int) -> Room:
        planned = self._planned_rooms.get(room_id)
        return planned if planned is not None else await self._real.room(room_id)

    # ------------------------------------------------------------------ writes, imagined

    def _new_id(self) -> int:
        self._last_id -= 1
        return self._last_id

    async def new_room(self, title: str, room_type: int, tags: Iterable[str] = ()) -> Room:
        self.writes["POST create_room"] += 1
        room = Room(self._new_id(), title, tuple(tags))
        self._room_types[room.id] = room_type
        return room

    async def start_room_from_template(
        self, template_id: int, title: str, tags: Iterable[str]
    ) -> TemplateJob:
        self.writes["POST room_from_template"] += 1
        room_id = self._new_id()
        if room_id == -1:  # the record's "no room yet"
            room_id = self._new_id()
        room = Room(room_id, stored_title(title), tuple(tags))
        self._planned_rooms[room.id] = room
        self._template_job = TemplateJob(room.id, completed=True)
        return self._template_job

    async def retitle_room(self, room_id: int, title: str) -> Room:
        self.writes["PUT update_room"] += 1
        return Room(room_id, stored_title(title))

    async def new_folder(self, parent_id: int, title: str) -> Item:
        self.writes["POST create_folder"] += 1
        return Item(self._new_id(), title)

    async def copy_file(self, file_id: int, dest_folder_id: int, dest_title: str) -> Item:
        self.writes["POST copy_file_as"] += 1
        return Item(self._new_id(), dest_title)

    async def copy_into(
        self,
        dest_folder_id: int,
        *,
        folder_ids: Iterable[int] = (),
        file_ids: Iterable[int] = (),
        content: bool = False,
    ) -> FileOperation:
        self.writes["PUT copy_items"] += 1
        return FileOperation("(planned)", finished=True)

    async def share_room(
        self,
        room_id: int,
        invitations: Iterable[tuple[str, int]],
        notify: bool = False,
        message: str | None = None,
        culture: str | None = None,
    ) -> ShareReply:
        self.writes["PUT set_room_share"] += 1
        return ShareReply()

    async def put_link(
        self, room_id: int, link_type: int, access: int, title: str, link_id: str | None = None
    ) -> Link:
        self.writes["PUT set_room_link"] += 1
        return Link(link_id or "(new)", "(new link)", access)

    async def open_primary_link(self, room_id: int) -> Link:
        if room_id > 0:
            for link in await self._real.links(room_id, link_type=int(LinkType.EXTERNAL)):
                if link.primary:
                    return link
        # as the portal makes it: fill-forms in a form-filling room, read elsewhere (5.5)
        access = FILL_FORMS if self._room_types.get(room_id) == FORM_FILLING_ROOM else READ
        return Link("(new)", "(new link)", access)

    async def new_person(
        self,
        email: str,
        first_name: str,
        last_name: str,
        user_type: int,
        culture: str | None = None,
    ) -> Person:
        self.writes["POST add_member"] += 1
        return self._planned_person(email, user_type)

    async def new_guest(self, email: str, first_name: str, last_name: str) -> Person:
        self.writes["POST add_activated_member"] += 1
        return self._planned_person(email, GUEST)

    async def invite_users(
        self,
        invitations: Iterable[tuple[str, int]],
        culture: str | None = None,
        *,
        answer: bool = True,
    ) -> list[Json]:
        self.writes["POST invite_users"] += 1
        for email, user_type in invitations:
            self._planned_person(email, user_type)
        return []

    async def set_user_type(self, user_type: int, user_ids: list[str]) -> list[Json]:
        self.writes["PUT set_user_type"] += 1
        return []

    def _planned_person(self, email: str, user_type: int) -> Person:
        """As the portal would list them: their type (one it does not know is reported as a
        room admin, docspace-api.md 4), active, pending until they confirm their address."""
        kind = user_type if user_type in TYPE_RANK else ROOM_ADMIN
        person = Person(f"(new {email})", kind, ACTIVE, activated=False)
        self._people[email.lower()] = person
        return person

    async def person(self, email: str) -> Person | None:
        planned = self._people.get(email.lower())
        return planned if planned is not None else await self._real.person(email)

    async def new_group(self, name: str) -> Group:
        self.writes["POST new_group"] += 1
        group = Group(f"(new group {name})", name, frozenset())
        self._groups[name] = group
        return group

    async def add_to_group(self, group_id: str, user_ids: Iterable[str]) -> Group:
        self.writes["PUT add_to_group"] += 1
        return Group(group_id, "", frozenset(u.lower() for u in user_ids))

    async def groups_named(self, name: str) -> list[Group]:
        planned = self._groups.get(name)
        return [planned] if planned is not None else await self._real.groups_named(name)

    async def group(self, group_id: str) -> Group | None:
        if group_id.startswith("(new"):
            return Group(group_id, "", frozenset())
        return await self._real.group(group_id)

    async def group_shares(self, room_id: int) -> list[tuple[str, int]]:
        return [] if room_id < 0 else await self._real.group_shares(room_id)

    async def items(self, folder_id: int) -> FolderItems:
        if folder_id < 0:
            return FolderItems()
        return await self._real.items(folder_id)

    async def members(self, room_id: int) -> list[Member]:
        return [] if room_id < 0 else await self._real.members(room_id)

    async def links(self, room_id: int, link_type: int | None = None) -> list[Link]:
        return [] if room_id < 0 else await self._real.links(room_id, link_type)


@dataclass
class DryRun:
    results: list[RowResult]
    writes: Counter[str]
    reads: int
    # when the portal refused writes for the day: seen by this check, or by the last run
    budget_refused_at: datetime | None = None
    budget_refused_now: bool = False

    @property
    def write_total(self) -> int:
        return sum(self.writes.values())

    @property
    def problems(self) -> list[RowResult]:
        return [r for r in self.results if r.status not in FINE_STATUSES]


async def dry_run(settings: Settings, intake: Intake) -> DryRun:
    """The run with writes imagined: reads go to the portal, nothing is written there."""
    async with DocSpaceClient(settings) as real:
        planner = PlanningClient(real)
        with tempfile.TemporaryDirectory(prefix="bulk-onboard-plan-") as scratch:
            job = Job(
                intake,
                "dry-run",
                Path(scratch) / "dry-run",
                settled=invalid_results(intake),
                announce=False,  # a dry run writes nothing anywhere, the CRM included
                keep_results=True,  # each step's outcome is shown
                check_guard=False,
                forget_undone=False,  # it only reads: the rows undo took back are kept
            )
            summary = await run(settings, job, progress=NoProgress(), stop=Stop(), client=planner)
    reads = sum(n for kind, n in real.stats.requests.items() if kind.startswith("GET"))
    now = real.stats.failures.get("BudgetExhausted", 0) > 0
    last = budget_refused_recently(portal_store(settings))
    return DryRun(list(summary.results), planner.writes, reads, last, now)
