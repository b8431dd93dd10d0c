"""Client rooms from a room template (playbook room.template, docspace-api.md 11): one portal
job at a time for the whole run (no request dropped by the portal's one job record), at most
3 writes per new client, every room with the template's content, its tags and members; a
rerun writes nothing; an uncertain job is looked for before another starts; on a portal
older than 3.1, or older than 3.7.1 with folders within folders in the template, the row says
so and the skeleton or the per-step path makes the room."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulk_onboard.sandbox import Sandbox, SandboxConfig
from tests.engine.portal_checks import (
    KENJI,
    MARIA,
    clear_counters,
    cli,
    last_run,
    portal_state,
    report_rows,
    rooms_of,
    write_clients,
    writes,
)
from tests.engine.test_dry_run import cli as plain_cli
from tests.helpers import admin, assert_clean, seeded_sandbox
from tests.sandbox.conftest import Api
from tests.sandbox.test_fileops_copy import SKELETON, skeleton, tree

pytestmark = pytest.mark.e2e

TEMPLATE = "Client room template"
PLAYBOOK = f'[room]\ntemplate = "{TEMPLATE}"\ntags = ["onboarded"]\n'
# kept beside the template: not used while the template can be used
WITH_SKELETON = PLAYBOOK + 'skeleton = "Templates/Skeleton"\n'
CRM = '\n[crm]\njsonl_path = "crm.jsonl"\n'
CLIENTS = [
    ("T-1", "Acme", "it@acme.example", MARIA),
    ("T-2", "Globex", "it@globex.example", KENJI),
    ("T-3", "Initech", "it@initech.example", MARIA),
    ("T-4", "Umbrella", "it@umbrella.example", KENJI),
]


@pytest.fixture
async def portal() -> AsyncIterator[Sandbox]:
    async with seeded_sandbox(SandboxConfig(template_ms=40)) as sb:
        yield sb


@pytest.fixture
async def old_portal() -> AsyncIterator[Sandbox]:
    async with seeded_sandbox(SandboxConfig(template_ms=40, docspace_version="3.0.4")) as sb:
        yield sb


async def with_template(sb: Sandbox) -> None:
    """Templates/Skeleton (folders within folders) and a template made from a room that
    holds the same content."""
    async with aiohttp.ClientSession() as session:
        api = Api(session, sb)
        source = await skeleton(api)
        room = await api.room("Template source")
        copy = {"folderIds": [source], "fileIds": [], "destFolderId": room, "content": True}
        assert (await api.put("/api/2.0/files/fileops/copy", copy)).status == 200
        await api.get("/api/2.0/files/fileops")  # polled once the operation had its time
        await _settle(api, room)
    made = await admin(sb, "POST", "/sandbox/templates", {"roomId": room, "title": TEMPLATE})
    assert made["title"] == TEMPLATE


async def _settle(api: Api, room: int) -> None:
    import asyncio

    for _ in range(50):
        if await tree(api, room) == SKELETON:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the skeleton was not copied into the template's source room")


async def run(
    sb: Sandbox, tmp_path: Path, playbook: str, *args: str, clients: int = len(CLIENTS)
) -> str:
    book = tmp_path / "playbook.toml"
    book.write_text(playbook, encoding="utf-8")
    sheet = write_clients(tmp_path / "clients.csv", CLIENTS[:clients])
    code, output = await cli(
        sb, tmp_path / "reports", "run", str(sheet), "--playbook", str(book), *args
    )
    assert code == 0, output
    return output


async def room_tree(sb: Sandbox, client_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    [room] = rooms_of(await portal_state(sb), client_id)
    async with aiohttp.ClientSession() as session:
        return room, await tree(Api(session, sb), room["id"])


async def assert_crm_ids(sb: Sandbox, tmp_path: Path) -> None:
    """Each client's CRM record carries the ids of the room's top-level folders and files (a
    skeleton copy's also the folders within them)."""
    records = [json.loads(line) for line in (tmp_path / "crm.jsonl").read_text().splitlines()]
    assert len(records) == len(CLIENTS)
    async with aiohttp.ClientSession() as session:
        api = Api(session, sb)
        for record in records:
            content = (await api.get(f"/api/2.0/files/{record['room_id']}")).response
            top = {f["id"] for f in content["folders"]}
            assert len(top) == 3 and top <= set(record["folder_ids"])
            assert {f["id"] for f in content["files"]} <= set(record["copy_ids"])
            assert record["copy_ids"]


async def test_rooms_from_the_template_one_job_at_a_time_3_writes_and_a_rerun_writes_nothing(
    portal: Sandbox, tmp_path: Path
) -> None:
    await with_template(portal)
    await clear_counters(portal)
    await run(portal, tmp_path, WITH_SKELETON + CRM)
    assert await writes(portal) == {
        "POST /api/2.0/files/rooms/fromTemplate": 4,
        "PUT /api/2.0/files/rooms/{id}/share": 4,
        "PUT /api/2.0/files/rooms/{id}/links": 4,
    }
    jobs = await admin(portal, "GET", "/sandbox/templates")
    assert jobs["started"] == 4 and jobs["dropped"] == 0  # never two jobs at once
    for client_id, *_ in CLIENTS:
        room, content = await room_tree(portal, client_id)
        assert content == SKELETON  # folders within folders (3.7.1 and later)
        assert sorted(room["tags"]) == sorted([f"client:{client_id}", "onboarded"])
    rows = report_rows(last_run(tmp_path / "reports"))
    assert {r["status"] for r in rows.values()} == {"created"}
    assert all(not r["note"] for r in rows.values())
    await assert_crm_ids(portal, tmp_path)
    await clear_counters(portal)
    await run(portal, tmp_path, WITH_SKELETON + CRM)
    assert await writes(portal) == {}
    assert (await admin(portal, "GET", "/sandbox/templates"))["started"] == 4
    rows = report_rows(last_run(tmp_path / "reports"))
    assert {r["status"] for r in rows.values()} == {"unchanged"}
    await assert_clean(portal)


@pytest.fixture
async def slow_jobs() -> AsyncIterator[Sandbox]:
    async with seeded_sandbox(SandboxConfig(template_ms=1500)) as sb:
        yield sb


async def test_a_job_whose_answer_is_lost_is_looked_for_before_another_starts(
    slow_jobs: Sandbox, tmp_path: Path
) -> None:
    # The job is asked for, its answer lost; it runs longer than the lost write is looked
    # for (the request timeout): the run waits for the portal to be idle and looks again
    # before it would start another job, so the one room is found and nothing made twice.
    await with_template(slow_jobs)
    fault = {
        "fault": "ambiguous_drop",
        "method": "POST",
        "path": "/api/2.0/files/rooms/fromTemplate",
    }
    await admin(slow_jobs, "POST", "/sandbox/faults", {"script": [fault]})
    await run(slow_jobs, tmp_path, PLAYBOOK, "--request-timeout", "1", clients=1)
    jobs = await admin(slow_jobs, "GET", "/sandbox/templates")
    assert jobs["started"] == 1 and jobs["dropped"] == 0
    for client_id, *_ in CLIENTS[:1]:
        assert len(rooms_of(await portal_state(slow_jobs), client_id)) == 1
    rows = report_rows(last_run(tmp_path / "reports"))
    assert {r["status"] for r in rows.values()} == {"created"}
    await assert_clean(slow_jobs)


async def test_an_old_portal_takes_the_skeleton_path_and_says_so(
    old_portal: Sandbox, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as session:
        await skeleton(Api(session, old_portal))
    await clear_counters(old_portal)
    await run(old_portal, tmp_path, WITH_SKELETON + CRM)
    assert await writes(old_portal) == {
        "POST /api/2.0/files/rooms": 4,
        "PUT /api/2.0/files/fileops/copy": 4,
        "PUT /api/2.0/files/rooms/{id}/share": 4,
        "PUT /api/2.0/files/rooms/{id}/links": 4,
    }
    assert (await admin(old_portal, "GET", "/sandbox/templates"))["started"] == 0
    for client_id, *_ in CLIENTS:
        _, content = await room_tree(old_portal, client_id)
        assert content == SKELETON
    rows = report_rows(last_run(tmp_path / "reports"))
    assert {r["status"] for r in rows.values()} == {"created"}
    assert {r["note"] for r in rows.values()} == {
        "the portal runs DocSpace 3.0.4, which has no room templates (3.1 and later have "
        'them); the room was made without it and given the content of "Templates/Skeleton"'
    }
    await assert_crm_ids(old_portal, tmp_path)
    await clear_counters(old_portal)
    await run(old_portal, tmp_path, WITH_SKELETON + CRM)
    assert await writes(old_portal) == {}
    # the dry run reads the version too, and says which path a new row takes
    book = tmp_path / "playbook.toml"
    sheet = write_clients(tmp_path / "new.csv", [("T-9", "Hooli", "it@hooli.example", MARIA)])
    args = ("plan", str(sheet), "--playbook", str(book), "--against-portal")
    code, output = await plain_cli(old_portal, *args)
    assert code == 0, output
    assert "which has no room templates" in output and "the run needs 4 write requests" in output


async def test_a_skeleton_made_rooms_crm_record_carries_the_folder_and_copy_ids(
    portal: Sandbox, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as session:
        await skeleton(Api(session, portal))
    await run(portal, tmp_path, '[room]\nskeleton = "Templates/Skeleton"\n' + CRM)
    await assert_crm_ids(portal, tmp_path)


async def test_an_old_portal_and_a_template_with_nested_folders_take_the_per_step_path(
    tmp_path: Path,
) -> None:
    async with seeded_sandbox(SandboxConfig(template_ms=40, docspace_version="3.6.2")) as sb:
        await with_template(sb)
        await clear_counters(sb)
        await run(sb, tmp_path, PLAYBOOK, clients=1)  # the built-in folders and copies
        assert await writes(sb) == {
            "POST /api/2.0/files/rooms": 1,
            "POST /api/2.0/files/folder/{folderId}": 3,
            "POST /api/2.0/files/file/{fileId}/copyas": 2,
            "PUT /api/2.0/files/rooms/{id}/share": 1,
            "PUT /api/2.0/files/rooms/{id}/links": 1,
        }
        [row] = report_rows(last_run(tmp_path / "reports")).values()
        assert row["status"] == "created" and row["note"] == (
            "the portal runs DocSpace 3.6.2, which copies only the first level of folders of a "
            'room template, and "Client room template" has folders within folders (3.7.1 and '
            "later copy them all); the room was made without it, its folders and copies step "
            "by step"
        )


async def test_the_dry_run_predicts_3_writes_per_client_and_starts_no_job(
    portal: Sandbox, tmp_path: Path
) -> None:
    await with_template(portal)
    book = tmp_path / "playbook.toml"
    book.write_text(PLAYBOOK, encoding="utf-8")
    sheet = write_clients(tmp_path / "clients.csv", CLIENTS)
    await clear_counters(portal)
    code, output = await plain_cli(
        portal, "plan", str(sheet), "--playbook", str(book), "--against-portal"
    )
    assert code == 0, output
    assert "4 rows: 4 would be created" in output
    assert "the run needs 12 write requests" in output  # 3 a client
    assert await writes(portal) == {}
    assert (await admin(portal, "GET", "/sandbox/templates"))["started"] == 0


async def test_undo_archives_a_room_made_from_the_template_with_its_content(
    portal: Sandbox, tmp_path: Path
) -> None:
    await with_template(portal)
    await run(portal, tmp_path, PLAYBOOK, clients=2)
    name = last_run(tmp_path / "reports").name
    code, output = await cli(portal, tmp_path / "reports", "undo", name, "--yes")
    assert code == 0, output
    state = await portal_state(portal)
    for client_id, *_ in CLIENTS[:2]:
        [room] = rooms_of(state, client_id)
        assert room["archived"] is True, output


async def test_a_job_left_running_for_the_client_is_waited_for_and_its_room_taken(
    tmp_path: Path,
) -> None:
    # A job for T-1 is running (a killed run's, or another process's): the run waits for the
    # portal to be idle, finds the room by its tag and starts no job of its own.
    async with seeded_sandbox(SandboxConfig(template_ms=600)) as sb:
        await with_template(sb)
        async with aiohttp.ClientSession() as session:
            api = Api(session, sb)
            listed = await api.get("/api/2.0/files/rooms", params={"searchArea": 4})
            [template] = [t["id"] for t in listed.response["folders"]]
            body = {"templateId": template, "title": "Client - Acme", "tags": ["client:T-1"]}
            assert (await api.post("/api/2.0/files/rooms/fromTemplate", body)).status == 200
        await run(sb, tmp_path, PLAYBOOK, clients=1)
        jobs = await admin(sb, "GET", "/sandbox/templates")
        assert jobs["started"] == 1 and jobs["dropped"] == 0
        assert len(rooms_of(await portal_state(sb), "T-1")) == 1
        [row] = report_rows(last_run(tmp_path / "reports")).values()
        assert row["status"] == "updated"  # the room was there; share and link made
