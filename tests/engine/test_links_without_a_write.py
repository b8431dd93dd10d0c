"""Links without a write (docspace-api.md 13): Public and form-filling rooms get their primary
external link at creation, and the link step reads it (GET files/rooms/{id}/link) instead of
writing one: one write less per client than an invitation link, a rerun writes nothing, and
the dry run predicts as much. With a skeleton, such a client costs 3 writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.engine.portal_checks import MARIA, clear_counters, cli, write_clients, writes
from tests.engine.test_dry_run import cli as plain_cli
from tests.engine.test_skeleton import with_skeleton
from tests.helpers import admin

pytestmark = pytest.mark.e2e

PER_STEP_WRITES = {
    "POST /api/2.0/files/rooms": 1,
    "POST /api/2.0/files/folder/{folderId}": 3,
    "POST /api/2.0/files/file/{fileId}/copyas": 2,
    "PUT /api/2.0/files/rooms/{id}/share": 1,
}
SKELETON_WRITES = {
    "POST /api/2.0/files/rooms": 1,
    "PUT /api/2.0/files/fileops/copy": 1,
    "PUT /api/2.0/files/rooms/{id}/share": 1,
}


def _playbook(room_type: str, kind: str, access: str, skeleton: bool = False) -> str:
    text = f'[room]\ntype = "{room_type}"\n'
    if skeleton:
        text += 'skeleton = "Templates/Skeleton"\n'
    return (
        text
        + f'[access]\nclient = "content-creator"\n[link]\nkind = "{kind}"\naccess = "{access}"\n'
    )


async def _run(sb: Sandbox, tmp_path: Path, playbook: str, *args: str) -> tuple[int, str]:
    book = tmp_path / "playbook.toml"
    book.write_text(playbook, encoding="utf-8")
    sheet = write_clients(tmp_path / "clients.csv", [("L-1", "Acme", "it@acme.example", MARIA)])
    if args[0] == "plan":
        return await plain_cli(sb, *args, str(sheet), "--playbook", str(book))
    return await cli(sb, tmp_path / "reports", *args, str(sheet), "--playbook", str(book))


@pytest.mark.parametrize(
    ("room_type", "access"), [("public", "read"), ("form-filling", "fill-forms")]
)
async def test_the_primary_link_is_read_not_written(
    sandbox: Sandbox, tmp_path: Path, room_type: str, access: str
) -> None:
    code, output = await _run(
        sandbox, tmp_path, _playbook(room_type, "external", access), "plan", "--against-portal"
    )
    assert code == 0, output
    assert "the run needs 7 write requests" in output, output  # the dry run: no link write either
    await clear_counters(sandbox)
    code, output = await _run(sandbox, tmp_path, _playbook(room_type, "external", access), "run")
    assert code == 0, output
    assert await writes(sandbox) == PER_STEP_WRITES  # 7: no PUT rooms/{id}/links
    routes = (await admin(sandbox, "GET", "/sandbox/requests"))["byRoute"]
    assert routes["GET /api/2.0/files/rooms/{id}/link"] == 1
    await clear_counters(sandbox)
    code, output = await _run(sandbox, tmp_path, _playbook(room_type, "external", access), "run")
    assert code == 0 and await writes(sandbox) == {}, output


@pytest.mark.parametrize(
    ("room_type", "access"), [("public", "read"), ("form-filling", "fill-forms")]
)
async def test_an_invitation_link_costs_the_one_write_more(
    sandbox: Sandbox, tmp_path: Path, room_type: str, access: str
) -> None:
    code, output = await _run(sandbox, tmp_path, _playbook(room_type, "invitation", access), "run")
    assert code == 0, output
    assert await writes(sandbox) == {**PER_STEP_WRITES, "PUT /api/2.0/files/rooms/{id}/links": 1}


async def test_with_a_skeleton_a_public_client_costs_three_writes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await with_skeleton(sandbox)
    await clear_counters(sandbox)
    code, output = await _run(
        sandbox, tmp_path, _playbook("public", "external", "read", True), "run"
    )
    assert code == 0, output
    assert await writes(sandbox) == SKELETON_WRITES
