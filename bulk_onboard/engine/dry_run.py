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
from bulk_onboard.api.models import FolderContents
from bulk_onboard.api.wire import stored_title
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.config import Settings, portal_state_dir
from bulk_onboard.engine.modes import invalid_results
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.root import Job, run
from bulk_onboard.intake import Intake
from bulk_onboard.model import Json
from bulk_onboard.model.records import LinkType, UserType
from bulk_onboard.runs.portal_memory import budget_refused_recently
from bulk_onboard.runs.progress import NoProgress
from bulk_onboard.runs.report import OK_STATUSES, RowResult

DAILY_WRITE_BUDGET = 10_000  # POST + PUT per user and day (docspace-api.md section 7)


class PlanningClient:
    """Reads from the portal; writes counted and answered with placeholders (negative ids)."""

    def __init__(self, real: DocSpaceClient) -> None:
        self._real = real
        self.writes: Counter[str] = Counter()
        self._last_id = 0
        self._people: dict[str, Json] = {}

    @property
    def stats(self) -> ClientStats:
        return self._real.stats

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._real.retry_policy

    # ------------------------------------------------------------------ reads, as they are

    async def all_rooms(
        self, filter_value: str | None = None, *, tags: Iterable[str] = (), search_area: int = 0
    ) -> list[Json]:
        return await self._real.all_rooms(filter_value, tags=tags, search_area=search_area)

    async def people_page(self, start_index: int = 0, count: int = 100) -> tuple[list[Json], int]:
        return await self._real.people_page(start_index, count)

    async def self_profile(self) -> Json:
        return await self._real.self_profile()

    # ------------------------------------------------------------------ writes, imagined

    def _new_id(self) -> int:
        self._last_id -= 1
        return self._last_id

    async def create_room(self, title: str, room_type: int, tags: Iterable[str] = ()) -> Json:
        self.writes["POST create_room"] += 1
        return {"id": self._new_id(), "title": title, "roomType": room_type, "tags": list(tags)}

    async def update_room(
        self, room_id: int, *, title: str | None = None, tags: list[str] | None = None
    ) -> Json:
        self.writes["PUT update_room"] += 1
        return {"id": room_id, "title": stored_title(title) if title is not None else None}

    async def create_folder(self, parent_id: int, title: str) -> Json:
        self.writes["POST create_folder"] += 1
        return {"id": self._new_id(), "title": title}

    async def copy_file_as(self, file_id: int, dest_folder_id: int, dest_title: str) -> Json:
        self.writes["POST copy_file_as"] += 1
        return {"id": self._new_id(), "title": dest_title}

    async def set_room_share(
        self,
        room_id: int,
        invitations: Iterable[tuple[str, int]],
        notify: bool = False,
        message: str | None = None,
        culture: str | None = None,
    ) -> Json:
        self.writes["PUT set_room_share"] += 1
        return {}

    async def set_room_link(
        self, room_id: int, link_type: int, access: int, title: str, link_id: str | None = None
    ) -> Json:
        self.writes["PUT set_room_link"] += 1
        return {
            "access": access,
            "sharedLink": {"id": link_id or "(new)", "shareLink": "(new link)"},
        }

    async def primary_link(self, room_id: int) -> Json:
        if room_id > 0:
            for share in await self._real.room_links(room_id, link_type=int(LinkType.EXTERNAL)):
                if (share.get("sharedLink") or {}).get("primary"):
                    return share
        return {"access": 2, "sharedLink": {"id": "(new)", "shareLink": "(new link)"}}

    async def add_member(
        self,
        email: str,
        first_name: str,
        last_name: str,
        user_type: int,
        culture: str | None = None,
    ) -> Json:
        self.writes["POST add_member"] += 1
        return self._planned_person(email, user_type)

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

    def _planned_person(self, email: str, user_type: int) -> Json:
        person = {
            "id": f"(new {email})",
            "email": email,
            "isRoomAdmin": user_type == int(UserType.ROOM_ADMIN),
            "isAdmin": user_type == int(UserType.DOCSPACE_ADMIN),
            "isCollaborator": user_type == int(UserType.USER),
            "isVisitor": user_type == int(UserType.GUEST),
            "status": 1,
            "activationStatus": 2,  # pending until they confirm their address
        }
        self._people[email.lower()] = person
        return person

    async def user_by_email(self, email: str) -> Json | None:
        planned = self._people.get(email.lower())
        return planned if planned is not None else await self._real.user_by_email(email)

    async def folder_contents(self, folder_id: int) -> FolderContents:
        if folder_id < 0:
            return FolderContents(files=(), folders=())
        return await self._real.folder_contents(folder_id)

    async def room_share(self, room_id: int, filter_type: int | None = None) -> list[Json]:
        return [] if room_id < 0 else await self._real.room_share(room_id, filter_type)

    async def room_links(self, room_id: int, link_type: int | None = None) -> list[Json]:
        return [] if room_id < 0 else await self._real.room_links(room_id, link_type)


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
        return [r for r in self.results if r.status not in OK_STATUSES]


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
            )
            summary = await run(settings, job, progress=NoProgress(), stop=Stop(), client=planner)
    reads = sum(n for kind, n in real.stats.requests.items() if kind.startswith("GET"))
    now = real.stats.failures.get("BudgetExhausted", 0) > 0
    last = budget_refused_recently(portal_state_dir(settings.state_dir, settings.portal_url))
    return DryRun(list(summary.results), planner.writes, reads, last, now)
