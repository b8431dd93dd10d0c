"""copy_into (api/portal.py): PUT files/fileops/copy polled through files/fileops to its end,
against the sandbox over HTTP: the finished operation's entries, an operation answered
elsewhere (gone from the list: finished), one still running after the window (AmbiguousWrite:
the copy may land), and the body sent (Skip, content, a single operation)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from bulk_onboard.api import DocSpaceClient
from bulk_onboard.api.bodies import copy_body
from bulk_onboard.errors import AmbiguousWrite
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox
from tests.sandbox.conftest import Api
from tests.sandbox.test_fileops_copy import SKELETON, skeleton, tree

from .test_client_sandbox import settings_for

Portal = tuple[Sandbox, DocSpaceClient, Api]  # the sandbox, a client of it, its admin API


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    async with (
        start_sandbox(SandboxConfig(db=":memory:", fileop_ms=100.0)) as sb,
        DocSpaceClient(settings_for(sb)) as client,
        aiohttp.ClientSession() as session,
    ):
        yield sb, client, Api(session, sb)


async def test_a_content_copy_is_polled_to_its_end(portal: Portal) -> None:
    _, client, api = portal
    source, room = await skeleton(api), await api.room("Acme")
    done = await client.copy_into(room, folder_ids=[source], content=True, interval=0.02)
    assert done.finished and done.error == ""
    assert sorted(f.title for f in done.made.folders) == ["Contracts", "Deliverables", "Invoices"]
    assert [f.title for f in done.made.files] == ["Guide.pdf"]
    assert await tree(api, room) == SKELETON


async def test_an_operation_answered_elsewhere_counts_as_finished(portal: Portal) -> None:
    sb, _, api = portal
    source, room = await skeleton(api), await api.room("Acme")

    async def someone_else_polls(seconds: float) -> None:
        await asyncio.sleep(0.15)
        await api.get("/api/2.0/files/fileops")  # takes the finished operation off the list

    retry = replace(settings_for(sb).retry, sleep=someone_else_polls)
    async with DocSpaceClient(settings_for(sb, retry=retry)) as client:
        done = await client.copy_into(room, folder_ids=[source], content=True)
    assert done.finished and done.made.folders == ()  # what it made is not known
    assert await tree(api, room) == SKELETON


async def test_a_copy_still_running_after_the_window_is_ambiguous(portal: Portal) -> None:
    _, client, api = portal
    source, room = await skeleton(api), await api.room("Acme")
    with pytest.raises(AmbiguousWrite, match="did not finish the copy into folder"):
        await client.copy_into(
            room, folder_ids=[source], content=True, give_up_after=0.02, interval=0.01
        )


def test_the_body_skips_titles_there_and_asks_for_one_operation() -> None:
    assert copy_body([7], [], 9, content=True) == {
        "folderIds": [7],
        "fileIds": [],
        "destFolderId": 9,
        "content": True,
        "conflictResolveType": 0,
        "deleteAfter": False,
        "returnSingleOperation": True,
    }
    with pytest.raises(TypeError):
        copy_body(["7"], [], 9, content=True)  # type: ignore[list-item]
