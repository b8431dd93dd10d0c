"""`bulk-onboard run` announces each client once per portal, whatever --report-dir or working
directory; a fresh portal reusing room ids is announced in full; --reannounce sends again."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.crm.ledger import LEDGER_NAME, portal_state_dir
from bulk_onboard.sandbox import Sandbox
from tests.helpers import CASES, admin, seeded_sandbox

pytestmark = pytest.mark.e2e  # whole runs against the sandbox

SECRET = "whsec-test-0123456789"


def _playbook(tmp_path: Path, sb: Sandbox) -> Path:
    path = tmp_path / f"playbook-{sb.url.rsplit(':', 1)[1]}.toml"
    path.write_text(
        "[crm]\n"
        f'webhook_url = "{sb.url}/sandbox/webhook"\n'
        'secret_env = "CRM_WEBHOOK_SECRET"\n'
        "max_attempts = 2\n"
    )
    return path


def _run(sb: Sandbox, playbook: Path, reports: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(CASES / "sample_clients.csv"),
            "--playbook",
            str(playbook),
            "--report-dir",
            str(reports),
            "--no-progress",
            "--log-format",
            "json",
            *extra,
        ],
        env={"DOCSPACE_TOKEN": sb.token, "DOCSPACE_URL": sb.url, "CRM_WEBHOOK_SECRET": SECRET},
    )
    return result.exit_code, result.output


async def _announced(sb: Sandbox) -> int:
    return int((await admin(sb, "GET", "/sandbox/webhook"))["count"])


async def test_the_ledger_belongs_to_the_portal_not_to_the_report_folder(
    sandbox: Sandbox, tmp_path: Path, state_dir: Path
) -> None:
    await admin(sandbox, "POST", "/sandbox/webhook/config", {"secret": SECRET})
    playbook = _playbook(tmp_path, sandbox)
    code, output = await asyncio.to_thread(_run, sandbox, playbook, tmp_path / "a")
    assert code == 0, output
    assert await _announced(sandbox) == 3

    # another report folder, run from another working directory: nothing is announced again
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    here = Path.cwd()
    os.chdir(elsewhere)
    try:
        code, output = await asyncio.to_thread(_run, sandbox, playbook, Path("b"))
    finally:
        os.chdir(here)
    assert code == 0, output
    assert await _announced(sandbox) == 3

    ledger = portal_state_dir(state_dir, sandbox.url) / LEDGER_NAME
    assert len(ledger.read_text().splitlines()) == 3
    assert not list(tmp_path.rglob(LEDGER_NAME))  # none in any report folder

    # --reannounce sends every record again
    code, output = await asyncio.to_thread(_run, sandbox, playbook, tmp_path / "c", "--reannounce")
    assert code == 0, output
    assert await _announced(sandbox) == 6
    assert len(ledger.read_text().splitlines()) == 3


async def test_a_fresh_portal_reusing_room_ids_gets_every_client(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    await admin(sandbox, "POST", "/sandbox/webhook/config", {"secret": SECRET})
    code, output = await asyncio.to_thread(
        _run, sandbox, _playbook(tmp_path, sandbox), tmp_path / "reports"
    )
    assert code == 0, output
    async with seeded_sandbox() as fresh:  # the same room ids, another address
        await admin(fresh, "POST", "/sandbox/webhook/config", {"secret": SECRET})
        code, output = await asyncio.to_thread(
            _run, fresh, _playbook(tmp_path, fresh), tmp_path / "reports"
        )
        assert code == 0, output
        assert await _announced(fresh) == 3
