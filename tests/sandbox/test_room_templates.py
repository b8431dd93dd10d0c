"""The sandbox's room templates as the server answers (docspace-api.md 11): the anonymous
version probe, the one job record per portal (a second request while a job runs is dropped
and counted, its answer the running job's status), the record's fields, job errors instead of
HTTP errors, one level of folders before 3.7.1, no route before 3.1, the Templates search
area without an admin shortcut, and the record's expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bulk_onboard.sandbox import SandboxConfig, start_sandbox
from bulk_onboard.sandbox.templates import (
    NO_OBJECT,
    NO_SHARES,
    NO_VIEW,
    RECORD_TTL,
    RoomRequest,
    TemplateJobs,
)
from tests.helpers import admin
from tests.sandbox.conftest import Api
from tests.sandbox.test_fileops_copy import skeleton, tree

FROM = "/api/2.0/files/rooms/fromTemplate"


async def _api(config: SandboxConfig) -> AsyncIterator[Api]:
    async with start_sandbox(config) as sb, aiohttp.ClientSession() as session:
        yield Api(session, sb)


@pytest.fixture
async def fast() -> AsyncIterator[Api]:
    async for api in _api(SandboxConfig(template_ms=30)):
        yield api


async def _template(api: Api, title: str = "Client room template", **room: Any) -> int:
    """A template made from a room holding Templates/Skeleton's content."""
    source = await skeleton(api)
    room_id = await api.room("Source", **room)
    copy = {"folderIds": [source], "fileIds": [], "destFolderId": room_id, "content": True}
    assert (await api.put("/api/2.0/files/fileops/copy", copy)).status == 200
    for _ in range(40):
        if (await tree(api, room_id)).get("Guide.pdf", 0) is None:
            break
        await asyncio.sleep(0.05)
    made = await admin(
        api.sandbox, "POST", "/sandbox/templates", {"roomId": room_id, "title": title}
    )
    return int(made["id"])


async def _finished(api: Api) -> dict[str, Any]:
    for _ in range(100):
        reply = await api.get(f"{FROM}/status")
        if reply.body.get("response", {}).get("isCompleted"):
            return reply.response  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)
    raise AssertionError("the job did not finish")


async def test_the_version_probe_is_anonymous(fast: Api) -> None:
    reply = await fast.get("/api/2.0/settings/version/build", token=None)
    assert reply.status == 200
    assert reply.response["docSpace"] == "3.8.0" and reply.response["documentServer"]


async def test_one_record_per_portal_a_second_request_while_one_runs_is_dropped(fast: Api) -> None:
    template = await _template(fast)
    idle = await fast.get(f"{FROM}/status")
    assert idle.status == 200 and "response" not in idle.body and idle.body["count"] == 0
    first = await fast.post(FROM, {"templateId": template, "title": "A/B", "tags": ["client:1"]})
    assert first.status == 200
    assert first.response == {"roomId": -1, "progress": 0, "error": "", "isCompleted": False}
    second = await fast.post(FROM, {"templateId": template, "title": "Other"})
    assert second.response == first.response  # the running job's status: nothing tells
    done = await _finished(fast)
    assert done["error"] == "" and done["progress"] == 100 and done["roomId"] > 0
    room = (await fast.get(f"/api/2.0/files/rooms/{done['roomId']}")).response
    assert room["title"] == "A_B" and room["tags"] == ["client:1"] and room["rootFolderType"] == 14
    assert await tree(fast, done["roomId"]) == {
        "Guide.pdf": None,
        "Invoices": {},
        "Contracts": {"2024": {}},
        "Deliverables": {"Welcome.pdf": None},
    }
    jobs = await admin(fast.sandbox, "GET", "/sandbox/templates")
    assert jobs["started"] == 1 and jobs["dropped"] == 1 and jobs["rooms"] == [done["roomId"]]
    titles = [r["title"] for r in (await fast.state())["rooms"]]
    assert "Other" not in titles  # the dropped request made nothing
    # a finished record is replaced by the next job
    third = await fast.post(FROM, {"templateId": template, "title": "C"})
    assert third.response["isCompleted"] is False and third.response["roomId"] == -1


async def test_failures_are_the_records_error_never_an_http_error(fast: Api) -> None:
    template = await _template(fast)
    missing = await fast.post(FROM, {"templateId": 999, "title": "X"})
    assert missing.status == 200
    assert (await _finished(fast))["error"] == NO_OBJECT
    room = await fast.room("Not a template")
    await fast.post(FROM, {"templateId": room, "title": "X"})
    assert (await _finished(fast))["error"] == NO_VIEW
    await fast.post(FROM, {"templateId": template, "title": "X", "private": True})
    assert (await _finished(fast))["error"] == NO_SHARES
    # no admin shortcut: a DocSpace admin who neither owns the template nor was given it
    await fast.person("admin@example.com", "DocSpaceAdmin", password="pw-123456")
    token = await fast.login("admin@example.com", "pw-123456")
    await fast.post(FROM, {"templateId": template, "title": "X"}, token=token)
    assert (await _finished(fast))["error"] == NO_VIEW
    listed = await fast.get("/api/2.0/files/rooms", params={"searchArea": 4}, token=token)
    assert listed.response["folders"] == []
    mine = await fast.get("/api/2.0/files/rooms", params={"searchArea": 4})
    assert [(t["id"], t["rootFolderType"]) for t in mine.response["folders"]] == [(template, 30)]
    active = await fast.get("/api/2.0/files/rooms")
    assert template not in [r["id"] for r in active.response["folders"]]
    bad = await fast.post(FROM, {"title": "X", "color": "1234567"})
    assert bad.status == 400


async def test_before_3_7_1_only_one_level_of_folders_is_copied() -> None:
    async for api in _api(SandboxConfig(template_ms=30, docspace_version="3.6.0")):
        template = await _template(api)
        await api.post(FROM, {"templateId": template, "title": "Flat"})
        done = await _finished(api)
        assert (await tree(api, done["roomId"]))["Contracts"] == {}  # 2024 is lost


async def test_before_3_1_there_is_no_such_route() -> None:
    async for api in _api(SandboxConfig(docspace_version="3.0.4")):
        version = await api.get("/api/2.0/settings/version/build", token=None)
        assert version.response["docSpace"] == "3.0.4"
        assert (await api.post(FROM, {"templateId": 1, "title": "X"})).status == 404
        assert (await api.get(f"{FROM}/status")).status == 404


def test_the_record_is_gone_a_minute_after_its_last_update() -> None:
    jobs = TemplateJobs(0.0)
    job = jobs.start(RoomRequest("owner", 1, "T"), now=100.0)
    job.completed, job.updated = True, 100.0
    assert jobs.status(100.0 + RECORD_TTL) is job
    assert jobs.status(100.0 + RECORD_TTL + 1) is None
