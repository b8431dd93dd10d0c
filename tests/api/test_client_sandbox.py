"""DocSpaceClient against the in-process sandbox portal over real HTTP (port 0)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from bulk_onboard.api import DocSpaceClient
from bulk_onboard.api.models import member_email, share_link
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.config import Secret, Settings
from bulk_onboard.errors import AmbiguousWrite, ApiError, FatalError, PermanentError
from bulk_onboard.model.records import Access, LinkType, RoomType, UserType
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox

from .conftest import LogCapture

QUICK = RetryPolicy(max_attempts=5, base_delay=0.02, max_delay=0.2, random=lambda: 0.5)


def settings_for(sb: Sandbox, **changes: Any) -> Settings:
    base = Settings(
        portal_url=sb.url, token=Secret(sb.token), requests_per_second=1000.0, retry=QUICK
    )
    return replace(base, **changes)


class Admin:
    """The sandbox-only endpoints (/sandbox/...), which need no token."""

    def __init__(self, sb: Sandbox, session: aiohttp.ClientSession) -> None:
        self.url = sb.url
        self.session = session

    async def get(self, path: str) -> Any:
        async with self.session.get(f"{self.url}/sandbox/{path}") as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: Any) -> Any:
        async with self.session.post(f"{self.url}/sandbox/{path}", json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def faults(self, *script: dict[str, Any]) -> None:
        await self.post("faults", {"script": list(script)})


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with start_sandbox(SandboxConfig(db=":memory:")) as sandbox:
        yield sandbox


@pytest.fixture
async def admin(sb: Sandbox) -> AsyncIterator[Admin]:
    async with aiohttp.ClientSession() as session:
        yield Admin(sb, session)


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[DocSpaceClient]:
    async with DocSpaceClient(settings_for(sb)) as c:
        yield c


# ------------------------------------------------------------------ happy paths


async def test_rooms_folders_and_files(client: DocSpaceClient, sb: Sandbox) -> None:
    me = await client.self_profile()
    assert me["email"] == sb.owner_email
    room = await client.create_room("Acme Ltd", RoomType.CUSTOM, ["client", "acme"])
    assert room["title"] == "Acme Ltd"
    assert room["roomType"] == 5
    assert sorted(room["tags"]) == ["acme", "client"]
    assert (await client.get_room(room["id"]))["id"] == room["id"]
    rooms, total = await client.list_rooms("Acme")
    assert [r["id"] for r in rooms] == [room["id"]]
    assert total == 1
    assert room["id"] in [r["id"] for r in await client.all_rooms()]

    folder = await client.create_folder(room["id"], "Contracts")
    assert folder["title"] == "Contracts"
    template_id = next(iter(sb.template_ids.values()))
    copy = await client.copy_file_as(template_id, folder["id"], "Welcome.pdf")
    assert copy["title"] == "Welcome.pdf"
    assert set(copy) == {"id", "title"}  # a write's answer trimmed too (docspace-api.md 10.3)
    in_room = await client.folder_contents(room["id"])
    assert in_room.folder_titled("Contracts") is not None
    in_folder = await client.folder_contents(folder["id"])
    assert [f["id"] for f in in_folder.files] == [copy["id"]]
    assert in_folder.current.get("id") == folder["id"]


async def test_missing_room_is_permanent(client: DocSpaceClient) -> None:
    with pytest.raises(PermanentError) as info:
        await client.get_room(987654)
    assert info.value.status == 404
    assert info.value.message == "The required folder was not found"


async def test_sharing_and_links(client: DocSpaceClient) -> None:
    room = await client.create_room("Beta", RoomType.CUSTOM)
    member = await client.add_member("ann.lee@example.com", "Ann", "Lee", UserType.USER)
    result = await client.set_room_share(
        room["id"], [(member["id"], Access.EDITING), ("guest@example.com", Access.READ)]
    )
    assert result.get("error", 0) == 0
    # each member by id only, not their whole profile (docspace-api.md 10.3)
    assert all(set(m) <= {"sharedTo", "sharedToUser"} for m in result["members"])
    assert {m["sharedToUser"]["id"] for m in result["members"]} >= {member["id"]}
    assert all(set(m["sharedToUser"]) == {"id"} for m in result["members"])
    members = await client.room_share(room["id"])
    emails = {member_email(m): m["access"] for m in members}
    assert emails["ann.lee@example.com"] == 10
    assert emails["guest@example.com"] == 2

    primary = await client.primary_link(room["id"])
    assert (share_link(primary) or "").startswith(client_url(client))
    extra = await client.set_room_link(room["id"], LinkType.EXTERNAL, Access.READ, "Read-only")
    assert extra is not None
    assert extra["sharedLink"]["shareLink"].startswith(client_url(client))
    links = await client.room_links(room["id"], LinkType.EXTERNAL, fields=None)
    assert {link["sharedLink"]["title"] for link in links} >= {"Read-only"}
    # by default trimmed to what the engine reads (docspace-api.md 10.3)
    trimmed = await client.room_links(room["id"], LinkType.EXTERNAL)
    assert {link["sharedLink"]["shareLink"] for link in trimmed} == {
        link["sharedLink"]["shareLink"] for link in links
    }
    assert all(set(link) == {"access", "sharedLink"} for link in trimmed)
    assert all(set(link["sharedLink"]) <= {"id", "shareLink", "primary"} for link in trimmed)
    assert all(set(m) <= {"access", "isOwner", "sharedToUser"} for m in members)


def client_url(client: DocSpaceClient) -> str:
    return client._transport.settings.portal_url


async def test_people(client: DocSpaceClient) -> None:
    assert await client.user_by_email("nobody@example.com") is None
    assert await client.user_exists("nobody@example.com") is False
    added = await client.add_member("bo@example.com", "Bo", "Ek", UserType.USER, culture="sv-SE")
    assert added["email"] == "bo@example.com"
    found = await client.user_by_email("bo@example.com")
    assert found is not None
    assert found["id"] == added["id"]
    assert await client.user_exists("bo@example.com") is True
    with pytest.raises(PermanentError, match="already registered") as info:
        await client.add_member("bo@example.com", "Bo", "Ek", UserType.USER)
    assert info.value.status == 400

    pending = await client.invite_users([("cy@example.com", UserType.USER)], culture="en-US")
    assert isinstance(pending, list)
    invited = await client.user_by_email("cy@example.com")
    assert invited is not None
    assert invited["id"] in {p["id"] for p in pending}
    assert [p["email"] for p in await client.filter_people("ek")] == ["bo@example.com"]


async def test_validation_failure_is_readable(client: DocSpaceClient) -> None:
    with pytest.raises(PermanentError) as info:
        await client.create_folder((await client.create_room("V", 2))["id"], "x" * 166)
    assert info.value.status == 400
    assert "Title" in info.value.message


async def test_paging_through_more_than_one_page(client: DocSpaceClient, admin: Admin) -> None:
    people = [{"email": f"p{i:03d}@paging.example.com", "lastName": "Pager"} for i in range(130)]
    await admin.post("people", {"people": people})
    found = await client.filter_people("paging.example.com")
    assert sorted(p["email"] for p in found) == [p["email"] for p in people]
    assert client.stats.requests["GET filter_people"] == 2


# ------------------------------------------------------------------ failures


async def test_get_is_retried_on_5xx(client: DocSpaceClient, admin: Admin) -> None:
    room = await client.create_room("Gamma", RoomType.CUSTOM)
    await admin.faults(
        {"fault": "5xx", "method": "GET", "path": "/api/2.0/files/rooms/", "times": 2}
    )
    assert (await client.get_room(room["id"]))["id"] == room["id"]
    assert client.stats.retries == 2
    assert (await admin.get("requests"))["faults"]["5xx"] == 2


@pytest.mark.parametrize(
    ("fault", "applied"),
    [("ambiguous_502", True), ("ambiguous_drop", True), ("5xx", False), ("drop", False)],
)
async def test_ambiguous_writes_are_raised_for_the_caller_to_check(
    client: DocSpaceClient, admin: Admin, fault: str, applied: bool
) -> None:
    room = await client.create_room("Delta", RoomType.CUSTOM)
    await admin.faults({"fault": fault, "method": "POST", "path": "/api/2.0/files/folder/"})
    with pytest.raises(AmbiguousWrite):
        await client.create_folder(room["id"], "Invoices")
    titles = [f["title"] for f in (await client.folder_contents(room["id"])).folders]
    assert titles == (["Invoices"] if applied else [])  # sent once, never repeated
    assert client.stats.ambiguous_writes == 1


async def test_wrong_token_is_fatal_and_never_leaks(sb: Sandbox, log_capture: LogCapture) -> None:
    wrong = "sk-" + "0" * 32
    async with DocSpaceClient(settings_for(sb, token=Secret(wrong))) as client:
        with pytest.raises(FatalError) as info:
            await client.self_profile()
        assert client.stats.attempts == 1
    assert info.value.status == 401
    assert "DOCSPACE_TOKEN" in str(info.value)
    texts = [str(info.value), repr(info.value), info.value.body_excerpt, log_capture.text]
    assert not any(wrong in t or sb.token in t for t in texts)


async def test_the_token_appears_in_no_error_or_log_line(
    client: DocSpaceClient, admin: Admin, sb: Sandbox, log_capture: LogCapture
) -> None:
    errors: list[ApiError] = []
    await admin.faults(
        {"fault": "5xx", "method": "GET", "path": "/api/2.0/people/@self", "times": 9},
        {"fault": "ambiguous_502", "method": "POST", "path": "/api/2.0/files/rooms"},
    )
    for call in (
        client.self_profile(),
        client.create_room("E", RoomType.CUSTOM),
        client.get_room(55555),
        client.add_member("bad", "A", "B", UserType.USER),
        client.user_by_email(f"{sb.token}@example.com"),
    ):
        try:
            await call
        except ApiError as err:
            errors.append(err)
    assert len(errors) >= 4
    assert log_capture.events("request_retrying")
    for error in errors:
        assert sb.token not in f"{error} {error!r} {error.body_excerpt} {error.path}"
    assert sb.token not in log_capture.text


# ------------------------------------------------------------------ limits


async def test_a_429_pauses_every_caller(
    sb: Sandbox, admin: Admin, log_capture: LogCapture
) -> None:
    async with DocSpaceClient(settings_for(sb, retry=replace(QUICK, max_attempts=3))) as client:
        room = await client.create_room("Pause", RoomType.CUSTOM)
        await admin.faults(
            {"fault": "429", "method": "GET", "path": "/api/2.0/files/rooms/", "retry_after": 0}
        )
        before = (await admin.get("requests"))["total"]
        started = time.monotonic()
        first = asyncio.create_task(client.get_room(room["id"]))
        while not client.paused:
            await asyncio.sleep(0.01)
        others = [
            asyncio.create_task(client.create_folder(room["id"], f"F{i}")) for i in range(5)
        ] + [asyncio.create_task(client.self_profile()) for _ in range(5)]
        await asyncio.sleep(0.5)
        assert client.paused
        assert (await admin.get("requests"))["total"] == before + 1  # only the 429'd request
        await asyncio.gather(first, *others)
        elapsed = time.monotonic() - started
        counts = await admin.get("requests")
        assert counts["total"] == before + 12  # the 429, its retry, and the ten held back
        assert client.stats.pauses == 1
    assert elapsed >= 1.0  # Retry-After 0 is a truncated second: the client waits it out
    assert len(log_capture.events("run_paused")) == 1


async def test_no_request_starts_while_the_run_is_paused() -> None:
    """The real limiter (15 requests a second, a sliding window: refused naming its limit,
    no Retry-After) against 40 concurrent callers, and one 429 with Retry-After (a proxy's)
    that pauses the run: every request start is recorded with the gate's state at that
    moment; none may start while paused. The window's refusals pause nobody: the pacer,
    mirroring the 1 s window (--rate-window 1), holds the retries."""
    config = SandboxConfig(db=":memory:", rate_limit=True, window_limit=15, window_seconds=1.0)
    starts: list[bool] = []
    holder: dict[str, DocSpaceClient] = {}

    async def on_start(*_: Any) -> None:
        if "client" in holder:  # the run's requests, not the sandbox's own endpoints
            starts.append(holder["client"].paused)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with (
        start_sandbox(config) as sandbox,
        aiohttp.ClientSession(trace_configs=[trace]) as session,
    ):
        await Admin(sandbox, session).faults(
            {"fault": "429", "method": "GET", "times": 1, "retry_after": 0, "skip": 20}
        )
        settings = settings_for(sandbox, retry=replace(QUICK, max_attempts=8), rate_window=1.0)
        async with DocSpaceClient(settings, session=session) as client:
            holder["client"] = client
            profiles = await asyncio.gather(*(client.self_profile() for _ in range(40)))
            stats = client.stats
            started = list(starts)
        rejected = (await Admin(sandbox, session).get("requests"))["rejected"]["window"]
    assert len(profiles) == 40
    assert rejected >= 1
    assert stats.rate_limited == rejected + 1  # the window's, and the proxy's one
    assert stats.pauses == 1  # only the proxy's 429 paused the run
    assert len(started) == stats.attempts == 40 + rejected + 1
    assert not any(started)


async def write_run(max_write_inflight: int) -> tuple[int, int]:
    config = SandboxConfig(db=":memory:", rate_limit=True, latency_ms=40, max_write_inflight=15)
    async with start_sandbox(config) as sandbox, aiohttp.ClientSession() as session:
        settings = settings_for(sandbox, max_write_inflight=max_write_inflight)
        async with DocSpaceClient(settings) as client:
            room = await client.create_room("Caps", RoomType.CUSTOM)
            await asyncio.gather(*(client.create_folder(room["id"], f"F{i}") for i in range(40)))
            contents = await client.folder_contents(room["id"])
        counts = await Admin(sandbox, session).get("requests")
    assert len(contents.folders) == 40
    return counts["rejected"]["concurrency"], counts["peakInflight"]["write"]


async def test_write_cap_keeps_the_portal_from_refusing_concurrent_writes() -> None:
    rejected, peak = await write_run(max_write_inflight=10)
    assert rejected == 0
    assert peak == 10


async def test_without_the_cap_the_portal_refuses_the_sixteenth_write() -> None:
    rejected, peak = await write_run(max_write_inflight=40)
    assert rejected > 0  # the same run with the cap above gets none
    assert peak == 15
