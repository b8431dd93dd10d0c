"""Client calls for room templates (docspace-api.md 11): the portal's version, the templates
the account can read, a room-from-template job and the portal's one job record.

DocSpaceClient mixes these in. Only single requests live here: waiting for the portal to be
idle, starting one job at a time and polling it to its end is engine/template_jobs.py's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bulk_onboard.api.mixins import CallsMixin
from bulk_onboard.api.models import Room
from bulk_onboard.model import Json

SEARCH_TEMPLATES = 4  # GET files/rooms `searchArea` Templates (11.1)


@dataclass(frozen=True, slots=True)
class TemplateJob:
    """The portal's room-from-template record (RoomFromTemplateStatusDto). `room_id` is -1
    until the job made its room; `error` is "" unless it failed; `progress` means nothing."""

    room_id: int
    completed: bool
    error: str = ""

    @classmethod
    def from_dto(cls, dto: Json) -> TemplateJob:
        room_id = dto.get("roomId")
        return cls(
            room_id if isinstance(room_id, int) and not isinstance(room_id, bool) else -1,
            dto.get("isCompleted") is True,
            str(dto.get("error") or ""),
        )


def room_from_template_body(template_id: int, title: str, tags: Iterable[str]) -> Json:
    """CreateRoomFromTemplateDto: tags are not inherited (11.3), the logo is copied; never
    `private` (a private template fails the job), no `""` tag."""
    return {
        "templateId": int(template_id),
        "title": title,
        "tags": [t for t in tags if t],
        "copyLogo": True,
    }


class RoomTemplateCalls(CallsMixin):
    """Mixed into DocSpaceClient, which provides `_call` and `all_rooms`."""

    if TYPE_CHECKING:  # what DocSpaceClient provides, declared for the type checker only

        async def all_rooms(
            self,
            filter_value: str | None = None,
            *,
            tags: Iterable[str] = (),
            search_area: int = 0,
        ) -> list[Json]: ...

    async def portal_version(self) -> str:
        """GET settings/version/build → the `docSpace` version ("" when not said)."""
        reply = await self._call("GET", "build_version", "settings/version/build")
        return str(reply.get("docSpace") or "") if isinstance(reply, dict) else ""

    async def find_templates(self, title: str) -> list[Room]:
        """GET files/rooms?searchArea=4&filterValue=… → the templates the account can read
        whose title contains `title` (the caller picks the exact one)."""
        found = await self.all_rooms(title, search_area=SEARCH_TEMPLATES)
        return [Room.from_dto(dto) for dto in found]

    async def start_room_from_template(
        self, template_id: int, title: str, tags: Iterable[str]
    ) -> TemplateJob | None:
        """POST files/rooms/fromTemplate → the portal's current record (not necessarily the
        job just asked for, 11.4), None when the answer carried none."""
        body = room_from_template_body(template_id, title, tags)
        reply = await self._call(
            "POST", "room_from_template", "files/rooms/fromTemplate", body=body
        )
        return TemplateJob.from_dto(reply) if isinstance(reply, dict) else None

    async def room_from_template_status(self) -> TemplateJob | None:
        """GET files/rooms/fromTemplate/status → the record, None when there is none."""
        reply = await self._call(
            "GET", "room_from_template_status", "files/rooms/fromTemplate/status"
        )
        return TemplateJob.from_dto(reply) if isinstance(reply, dict) and reply else None


def parse_version(text: str) -> tuple[int, int, int]:
    """The leading major.minor.patch of a version ("3.1.0.1234" → (3, 1, 0)); missing parts
    are 0, and a text without one is (0, 0, 0)."""
    parts: list[int] = []
    for piece in text.strip().split(".")[:3]:
        digits = ""
        for char in piece.strip():
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
    parts += [0] * (3 - len(parts))
    return parts[0], parts[1], parts[2]
