"""A fleet's tokens never appear in what `fleet run`, `fleet validate --check-tokens`,
`fleet status` and `fleet report` leave behind: their output, their debug JSON log,
fleet.json, fleet.html, each portal's fleet-outcome.json and run folder, the portals' state
(the state folder, and every value the shared state put in Redis); a refused token
included."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox
from tests.fleet.conftest import REDIS_URL, write_fleet
from tests.helpers import ROOT
from tests.security.conftest import Ran, artefacts
from tests.security.test_token_secrecy import fragments

pytestmark = pytest.mark.e2e


async def fleet_tool(*args: str, env: dict[str, str]) -> Ran:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bulk_onboard",
        "fleet",
        *args,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def redis_values(client: redis.Redis, keys: set[bytes]) -> dict[str, str]:
    texts = {}
    for key in keys:
        kind = client.type(key)
        if kind == b"list":  # the run journal, room-members.jsonl
            value = b"\n".join(client.lrange(key, 0, -1))
        else:
            value = client.get(key) if kind == b"string" else b"\n".join(client.smembers(key))
        texts[f"redis {key.decode()}"] = (value or b"").decode(errors="replace")
    return texts


async def test_fleet_commands_keep_every_token_out(
    tmp_path: Path, three_portals: dict[str, Sandbox], state_dir: Path
) -> None:
    shared = redis.Redis.from_url(REDIS_URL)
    before = set(shared.keys("bulk-onboard:*"))
    path = write_fleet(
        tmp_path,
        three_portals,
        own={"globex": 'token = "env:FLEET_TOKEN_{id}"'},
        fleet=f'state = "{REDIS_URL}"',
    )
    wrong = "sk-" + secrets.token_hex(24)
    (tmp_path / "tokens" / "initech.token").write_text(wrong)
    env = {"FLEET_TOKEN_globex": three_portals["globex"].token}
    ran = await fleet_tool(
        "run", str(path), "--log-format", "json", "--log-level", "debug", env=env
    )
    assert ran.exit_code == 9, ran.stdout + ran.stderr
    assert "acme: done (ok)" in ran.stdout and "globex: done (ok)" in ran.stdout
    assert "initech: needs_operator (token_refused)" in ran.stdout
    checked = await fleet_tool("validate", str(path), "--check-tokens", env=env)
    assert checked.exit_code == 2, checked.stdout + checked.stderr
    assert "acme: token accepted" in checked.stdout
    assert "initech: token refused or portal unusable" in checked.stdout
    reported = await fleet_tool("report", str(path), env=env)
    assert reported.exit_code == 0, reported.stderr
    status = await asyncio.to_thread(
        CliRunner().invoke, main, ["fleet", "status", str(path), "--json"]
    )
    assert status.exit_code == 0, status.output
    made = set(shared.keys("bulk-onboard:*")) - before
    texts = {
        "run stdout": ran.stdout,
        "run log": ran.stderr,
        "validate": checked.stdout + checked.stderr,
        "status": status.output,
        **artefacts(tmp_path / "reports"),
        **{f"state {k}": v for k, v in artefacts(state_dir).items()},
        **redis_values(shared, made),
    }
    if made:  # another suite sharing this Redis may have removed them already
        shared.delete(*made)
    # the places searched are the real ones
    assert {"fleet.json", "fleet.html", "fleet-outcome.json", "journal.jsonl"} <= set(texts)
    assert "state fleet-portal.json" in texts
    assert any(name.endswith(":fleet-portal.json") for name in texts)  # in Redis
    assert any(name.endswith(":room-members.jsonl") for name in texts)
    events = [json.loads(line)["event"] for line in ran.stderr.splitlines() if line.strip()]
    assert "portal_finished" in events and "request_finished" in events
    for token in (*(sb.token for sb in three_portals.values()), wrong):
        for name, found in texts.items():
            for piece in fragments(token):
                assert piece not in found, f"a token ({piece[:6]}…) is in {name}"
