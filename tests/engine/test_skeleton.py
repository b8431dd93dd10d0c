"""A client room's skeleton in one copy (playbook room.skeleton, docspace-api.md 13): 4 writes
per new client instead of 8, every folder and file in place, a rerun writes nothing, a room
holding part of the skeleton gets only the missing items, an uncertain copy is looked for
before copying again, and undo archives the room with what was copied into it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulk_onboard.sandbox import Sandbox
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
from tests.helpers import admin, assert_clean
from tests.sandbox.conftest import Api
from tests.sandbox.test_fileops_copy import SKELETON, skeleton, tree

pytestmark = pytest.mark.e2e

PLAYBOOK = '[room]\nskeleton = "Templates/Skeleton"\n'
# the per-step path, kept beside the skeleton: not used while the skeleton is set
BOTH = PLAYBOOK + 'folders = ["Invoices", "Deliverables", "Old"]\n'
PER_STEP = """[room]
folders = ["Contracts", "Extra"]
[[copies]]
source = "Templates/Guide.pdf"
title = "Guide.pdf"
"""
CLIENTS = [
    ("S-1", "Acme", "it@acme.example", MARIA),
    ("S-2", "Globex", "it@globex.example", KENJI),
    ("S-3", "Initech", "it@initech.example", MARIA),
]


async def with_skeleton(sb: Sandbox) -> None:
    async with aiohttp.ClientSession() as session:
        await skeleton(Api(session, sb))


async def room_tree(sb: Sandbox, client_id: str) -> dict[str, Any]:
    [room] = rooms_of(await portal_state(sb), client_id)
    async with aiohttp.ClientSession() as session:
        return await tree(Api(session, sb), room["id"])


async def run(sb: Sandbox, tmp_path: Path, playbook: str, *args: str) -> str:
    book = tmp_path / "playbook.toml"
    book.write_text(playbook, encoding="utf-8")
    sheet = write_clients(tmp_path / "clients.csv", CLIENTS)
    code, output = await cli(
        sb, tmp_path / "reports", "run", str(sheet), "--playbook", str(book), *args
    )
    assert code == 0, output
    return output


async def test_four_writes_per_client_every_item_in_place_and_a_rerun_writes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await with_skeleton(sandbox)
    await clear_counters(sandbox)
    await run(sandbox, tmp_path, BOTH)
    assert await writes(sandbox) == {
        "POST /api/2.0/files/rooms": 3,
        "PUT /api/2.0/files/fileops/copy": 3,
        "PUT /api/2.0/files/rooms/{id}/share": 3,
        "PUT /api/2.0/files/rooms/{id}/links": 3,
    }
    for client_id, *_ in CLIENTS:
        assert await room_tree(sandbox, client_id) == SKELETON
    rows = report_rows(last_run(tmp_path / "reports"))
    assert {r["status"] for r in rows.values()} == {"created"}
    await clear_counters(sandbox)
    await run(sandbox, tmp_path, BOTH)
    assert await writes(sandbox) == {}
    assert {r["status"] for r in report_rows(last_run(tmp_path / "reports")).values()} == {
        "unchanged"
    }
    await assert_clean(sandbox)


async def test_a_room_with_part_of_the_skeleton_gets_only_what_is_missing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await with_skeleton(sandbox)
    await run(sandbox, tmp_path, PER_STEP)  # Contracts (empty), Extra, Guide.pdf
    await clear_counters(sandbox)
    await run(sandbox, tmp_path, PLAYBOOK)
    assert await writes(sandbox) == {"PUT /api/2.0/files/fileops/copy": 3}
    for client_id, *_ in CLIENTS:
        assert await room_tree(sandbox, client_id) == {**SKELETON, "Extra": {}}
    rows = report_rows(last_run(tmp_path / "reports"))
    assert {r["status"] for r in rows.values()} == {"updated"}
    await assert_clean(sandbox)  # no folder or file twice


async def test_an_uncertain_copy_is_looked_for_before_copying_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await with_skeleton(sandbox)
    # the first copy is made, its answer lost: the room is looked at, nothing copied again
    fault = {"fault": "ambiguous_drop", "method": "PUT", "path": "/api/2.0/files/fileops/copy"}
    await admin(sandbox, "POST", "/sandbox/faults", {"script": [fault]})
    await clear_counters(sandbox)
    await run(sandbox, tmp_path, PLAYBOOK)
    copies = (await writes(sandbox))["PUT /api/2.0/files/fileops/copy"]
    assert copies == 3  # one each; the lost one was found, not sent again
    for client_id, *_ in CLIENTS:
        assert await room_tree(sandbox, client_id) == SKELETON
    await assert_clean(sandbox)


async def test_a_missing_skeleton_takes_the_per_step_path_and_says_so(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await clear_counters(sandbox)
    await run(sandbox, tmp_path, PLAYBOOK)  # the default folders and copies are beside it
    assert await writes(sandbox) == {
        "POST /api/2.0/files/rooms": 3,
        "POST /api/2.0/files/folder/{folderId}": 9,
        "POST /api/2.0/files/file/{fileId}/copyas": 6,
        "PUT /api/2.0/files/rooms/{id}/share": 3,
        "PUT /api/2.0/files/rooms/{id}/links": 3,
    }
    rows = report_rows(last_run(tmp_path / "reports"))
    assert {r["status"] for r in rows.values()} == {"created"}
    assert all(
        'the skeleton folder "Templates/Skeleton" is not in the portal' in r["note"]
        and "the playbook's folders and copies were made step by step" in r["note"]
        for r in rows.values()
    ), rows
    assert await room_tree(sandbox, "S-1") == {
        "Invoices": {},
        "Contracts": {},
        "Deliverables": {
            "Welcome to your client room.pdf": None,
            "How to use the client portal.pdf": None,
        },
    }
    await clear_counters(sandbox)
    await run(sandbox, tmp_path, PLAYBOOK)
    assert await writes(sandbox) == {}
    await assert_clean(sandbox)


async def test_a_missing_skeleton_with_nothing_instead_fails_the_row_with_a_sentence(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    book = tmp_path / "playbook.toml"
    book.write_text("copies = []\n" + PLAYBOOK + "folders = []\n", encoding="utf-8")
    sheet = write_clients(tmp_path / "clients.csv", CLIENTS[:1])
    code, output = await cli(
        sandbox, tmp_path / "reports", "run", str(sheet), "--playbook", str(book)
    )
    assert code == 1, output
    [row] = report_rows(last_run(tmp_path / "reports")).values()
    assert row["failed_step"] == "skeleton"
    assert 'the skeleton folder "Templates/Skeleton" is not in the portal' in row["error"]


async def test_undo_archives_a_skeleton_room_with_its_content(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await with_skeleton(sandbox)
    await run(sandbox, tmp_path, PLAYBOOK)
    name = last_run(tmp_path / "reports").name
    code, output = await cli(sandbox, tmp_path / "reports", "undo", name, "--yes")
    assert code == 0, output
    state = await portal_state(sandbox)
    for client_id, *_ in CLIENTS:
        [room] = rooms_of(state, client_id)
        assert room["archived"] is True, output
        assert await room_tree(sandbox, client_id) == SKELETON  # went with the room


async def test_the_dry_run_shows_which_path_a_row_takes(sandbox: Sandbox, tmp_path: Path) -> None:
    book = tmp_path / "playbook.toml"
    book.write_text(PLAYBOOK, encoding="utf-8")
    sheet = write_clients(tmp_path / "clients.csv", CLIENTS[:1])
    args = ("plan", str(sheet), "--playbook", str(book), "--against-portal")
    code, output = await plain_cli(sandbox, *args)
    assert code == 0, output
    assert "folder:Invoices" in output and "the run needs 8 write requests" in output
    await with_skeleton(sandbox)
    code, output = await plain_cli(sandbox, *args)
    assert code == 0, output
    assert "folder:Invoices" not in output and "the run needs 4 write requests" in output
    assert await writes(sandbox) == {
        "POST /api/2.0/files/folder/{folderId}": 5,  # the test's own skeleton
        "POST /api/2.0/files/file/{fileId}/copyas": 2,
    }
