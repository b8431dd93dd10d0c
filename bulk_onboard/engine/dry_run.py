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
from pathlib import Path
from typing import Any

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.api.models import FolderContents
from bulk_onboard.intake import Intake
from bulk_onboard.engine.modes import invalid_result, row_values
from bulk_onboard.engine.root import Progress, onboard
from bulk_onboard.model.records import LinkType, UserType
from bulk_onboard.runs.report import OK_STATUSES, RowResult, Status
from bulk_onboard.engine.pool import Stop

DAILY_WRITE_BUDGET = 10_000  # POST + PUT per user and day (docspace-api.md section 7)

Json = dict[str, Any]


class PlanningClient:
    """Reads from the portal; writes counted and answered with placeholders (negative ids)."""

    def __init__(self, real: DocSpaceClient) -> None:
        self._real = real
        self.writes: Counter[str] = Counter()
        self._last_id = 0
        self._people: dict[str, Json] = {}

    def __getattr__(self, name: str) -> Any:  # reads, stats, retry_policy
        return getattr(self._real, name)

    def _new_id(self) -> int:
        self._last_id -= 1
        return self._last_id

    async def create_room(self, title: str, room_type: int, tags: Iterable[str] = ()) -> Json:
        self.writes["POST create_room"] += 1
        return {"id": self._new_id(), "title": title, "roomType": room_type, "tags": list(tags)}

    async def create_folder(self, parent_id: int, title: str) -> Json:
        self.writes["POST create_folder"] += 1
        return {"id": self._new_id(), "title": title}

    async def copy_file_as(self, file_id: int, dest_folder_id: int, dest_title: str) -> Json:
        self.writes["POST copy_file_as"] += 1
        return {"id": self._new_id(), "title": dest_title}

    async def set_room_share(self, room_id: int, invitations: Iterable[Any], **_: Any) -> Json:
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
        self, invitations: Iterable[tuple[str, int]], culture: str | None = None
    ) -> list[Json]:
        self.writes["POST invite_users"] += 1
        for email, user_type in invitations:
            self._planned_person(email, user_type)
        return []

    def _planned_person(self, email: str, user_type: int) -> Json:
        person = {
            "id": f"(new {email})",
            "email": email,
            "isRoomAdmin": user_type == int(UserType.ROOM_ADMIN),
            "isAdmin": user_type == int(UserType.DOCSPACE_ADMIN),
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

    @property
    def write_total(self) -> int:
        return sum(self.writes.values())

    @property
    def problems(self) -> list[RowResult]:
        return [r for r in self.results if r.status not in OK_STATUSES]


async def dry_run(client: DocSpaceClient, intake: Intake, *, concurrency: int) -> DryRun:
    planner = PlanningClient(client)
    with tempfile.TemporaryDirectory(prefix="bulk-onboard-plan-") as scratch:
        outcome = await onboard(
            planner,  # type: ignore[arg-type]
            intake.plans,
            row_values(intake),
            [invalid_result(row) for row in intake.invalid],
            run_id="dry-run",
            run_dir=Path(scratch),
            concurrency=concurrency,
            stop=Stop(),
            progress=Progress(),
            inputs=intake.files,
        )
    reads = sum(n for kind, n in client.stats.requests.items() if kind.startswith("GET"))
    return DryRun(outcome.results, planner.writes, reads)


_WORDS = {"created": "create", "changed": "change", "found": "exists", "journal": "exists"}


def dry_run_lines(run: DryRun) -> list[str]:
    """Per row: what would be created and what exists; then problems and the write budget."""
    lines: list[str] = []
    for result in run.results:
        where = result.origin.describe()
        if result.status in OK_STATUSES:
            verdict = {
                "created": "would be created",
                "updated": "would be completed",
                "unchanged": "already onboarded",
            }[result.status.value]
        else:
            verdict = f"problem at {result.failed_step}: {result.error}"
        lines.append(f"{result.row_key}  ({where})  {verdict}")
        for step, outcome in result.outcomes.items():
            lines.append(f"  {step:<40} {_WORDS.get(outcome, outcome)}")
    counts = Counter(r.status for r in run.results)
    lines.append("")
    lines.append(
        f"{len(run.results)} rows: {counts[Status.CREATED]} would be created, "
        f"{counts[Status.UPDATED]} completed, {counts[Status.UNCHANGED]} already onboarded, "
        f"{len(run.problems)} with problems"
    )
    share = 100 * run.write_total / DAILY_WRITE_BUDGET
    lines.append(
        f"the run needs {run.write_total} write requests (POST+PUT) of the portal's "
        f"{DAILY_WRITE_BUDGET:,} a day per user ({share:.1f}%); this check sent {run.reads} reads "
        "and no writes"
    )
    if run.write_total > DAILY_WRITE_BUDGET:
        lines.append(
            "more than one day's budget: the run will defer the rest; continue it the next day "
            "with `bulk-onboard run --resume RUN`"
        )
    return lines
