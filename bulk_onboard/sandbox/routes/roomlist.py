"""GET /api/2.0/files/rooms: the room list with its filters (docspace-api.md 5.1, 10.2, 10.4).

`searchArea` 0/omitted lists active rooms, 1 the archived ones (`current` = Archive), 2 both.
The subject filters follow FolderDao.BuildRoomsQuery: `subjectId` = created by the user or
holding a direct share record, `subjectOwnerId` = created by; `subjectFilter` (0 Owner,
1 Member) re-reads `subjectId` and then `subjectOwnerId` is ignored; `excludeSubject`
negates each condition. Both ids are parsed as GUIDs even when unused (a non-GUID → 500).
`tags` is a JSON array string (any of them matches; not JSON → 500); `withoutTags=true`
lists rooms without tags and ignores `tags`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.bodies import EMPTY_GUID, parse_guid
from bulk_onboard.sandbox.envelopes import ServerFault, success
from bulk_onboard.sandbox.portal import Portal, caller_of, portal_of
from bulk_onboard.sandbox.routes.query import (
    paging,
    query_bool,
    query_enum,
    query_enums,
    query_items,
    sort_descending,
)
from bulk_onboard.sandbox.store import ARCHIVE_ROOT_ID, ROOMS_ROOT_ID, Folder, Person
from bulk_onboard.sandbox.templates import TEMPLATES_ROOT_ID, can_read_template

GUID_FORMAT = "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."
SUBJECT_FILTER = {"Owner": 0, "Member": 1}

RoomTest = Callable[[Folder], bool]


def _room_sort_key(sort_by: str) -> Any:
    key = sort_by.strip().lower()
    if key in ("az", "title"):
        return lambda f: (f.title.lower(), f.id)
    if key == "roomtype":
        return lambda f: (f.room_type or 0, f.id)
    if key in ("dateandtimecreation", "created"):
        return lambda f: (f.created, f.id)
    return lambda f: (f.updated, f.id)  # DateAndTime (modified), the default


def _guid(items: dict[str, str], name: str) -> str:
    """`new Guid(value)`: empty when absent, a FormatException (500) when not a GUID."""
    text = items.get(name.lower())
    if text is None or text == "":
        return EMPTY_GUID
    parsed = parse_guid(text)
    if parsed is None:
        raise ServerFault(GUID_FORMAT)
    return parsed


def _tags(items: dict[str, str]) -> list[str]:
    text = items.get("tags")
    if text is None or text == "":
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ServerFault(f"'{text[:1]}' is an invalid start of a value. {exc.msg}") from None
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ServerFault("The JSON value could not be converted to System.String[].")
    return [t.lower() for t in value]


def subject_tests(portal: Portal, items: dict[str, str]) -> list[RoomTest]:
    subject_id = _guid(items, "subjectId")
    owner_id = _guid(items, "subjectOwnerId")
    mode = query_enum(items, "subjectFilter", "SubjectFilter", "SubjectFilter", SUBJECT_FILTER)
    exclude = query_bool(items, "excludeSubject", "ExcludeSubject") or False
    shared = portal.store.access.rooms_of(subject_id) if subject_id != EMPTY_GUID else set()

    def created_by(user: str) -> RoomTest:
        return lambda f: (f.created_by == user) != exclude

    def member(user: str) -> RoomTest:
        return lambda f: (f.created_by == user or f.id in shared) != exclude

    tests: list[RoomTest] = []
    if mode is not None:
        if subject_id != EMPTY_GUID:
            tests.append(created_by(subject_id) if mode == 0 else member(subject_id))
        return tests
    if subject_id != EMPTY_GUID:
        tests.append(member(subject_id))
    if owner_id != EMPTY_GUID:
        tests.append(created_by(owner_id))
    return tests


def tag_test(items: dict[str, str]) -> RoomTest | None:
    tags = _tags(items)
    if query_bool(items, "withoutTags", "WithoutTags"):
        return lambda f: not f.tags
    if tags:
        return lambda f: any(t.lower() in tags for t in f.tags)
    return None


async def list_rooms(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    items = query_items(request)
    page = paging(items)
    area = query_enum(items, "searchArea", "SearchArea", "SearchArea", enums.SEARCH_AREA)
    types = query_enums(request, "type", "Type", "RoomType", enums.ROOM_TYPE)
    tests = subject_tests(portal, items)
    tagged = tag_test(items)
    if tagged is not None:
        tests.append(tagged)
    text = items.get("filtervalue", "").strip().lower()
    roots = {
        None: (ROOMS_ROOT_ID,),
        0: (ROOMS_ROOT_ID,),
        1: (ARCHIVE_ROOT_ID,),
        2: (ROOMS_ROOT_ID, ARCHIVE_ROOT_ID),
        4: (TEMPLATES_ROOT_ID,),
    }.get(area, ())
    visible = rights.visible_room_ids(portal.store, caller)
    if area == 4:  # templates: no admin shortcut, own or shared (docspace-api.md 11.5)
        visible = {t.id for t in portal.store.tree.subfolders(TEMPLATES_ROOT_ID)}
        visible = {i for i in visible if _template_visible(portal, caller, i)}
    rooms = [
        f
        for root in roots
        for f in portal.store.tree.subfolders(root)
        if f.is_room
        and (visible is None or f.id in visible)
        and (not types or f.room_type in types)
        and (not text or text in f.title.lower())
        and all(test(f) for test in tests)
    ]
    rooms.sort(key=_room_sort_key(items.get("sortby", "")), reverse=sort_descending(items))
    root_id = {1: ARCHIVE_ROOT_ID, 4: TEMPLATES_ROOT_ID}.get(area or 0, ROOMS_ROOT_ID)
    root = portal.store.tree.folder(root_id) or portal.store.tree.folder(ROOMS_ROOT_ID)
    assert root is not None
    shown = page.take(rooms)
    content = {
        "files": [],
        "folders": [portal.dtos.folder(r, caller) for r in shown],
        "current": portal.dtos.folder(root, caller),
        "pathParts": portal.dtos.path_parts(root),
        "startIndex": page.start,
        "count": len(shown),
        "total": len(rooms),
        "new": 0,
    }
    return success(request, content)


def _template_visible(portal: Portal, caller: Person, template_id: int) -> bool:
    template = portal.store.tree.folder(template_id)
    return template is not None and can_read_template(portal.store, caller, template)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/2.0/files/rooms", list_rooms)
