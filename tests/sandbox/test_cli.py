"""`bulk-onboard sandbox`: options, the announcement, loopback only, stopping by itself.

The command calls asyncio.run(); in-process invocations run in a worker thread so that they
never touch the event loop pytest-asyncio leaves installed on the main thread.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner, Result

from bulk_onboard.sandbox.cli import sandbox_command


async def invoke(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, sandbox_command, list(args))


async def test_announces_url_token_owner_and_templates() -> None:
    result = await invoke(
        "--stop-after", "0.2", "--token", "sk-00112233445566778899", "--rate-limit", "off"
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(r"listening on http://127\.0\.0\.1:\d+", out)
    assert "API token:       sk-00112233445566778899" in out
    assert "Owner e-mail:" in out and "Owner password:" in out
    assert "Welcome.pdf=1000001" in out and "Guide.pdf=1000002" in out
    assert "Rate limit:      off" in out and "--stop-after reached" in out


async def test_refuses_a_non_loopback_host() -> None:
    result = await invoke("--host", "0.0.0.0", "--stop-after", "0")
    assert result.exit_code == 2
    assert "not a loopback address" in result.output


async def test_refuses_a_malformed_token() -> None:
    result = await invoke("--token", "secret", "--stop-after", "0")
    assert result.exit_code == 2 and "sk-" in result.output


def test_serves_http_and_stops_by_itself(tmp_path: Path) -> None:
    db = tmp_path / "portal.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bulk_onboard.sandbox",
            "--stop-after",
            "2",
            "--db",
            str(db),
            "--window-limit",
            "5",
            "--latency-ms",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert url, first
        token = re.search(r"sk-[0-9a-f]+", proc.stdout.readline())
        assert token
        request = urllib.request.Request(
            url.group(0) + "/api/2.0/people/@self",
            headers={"Authorization": f"Bearer {token.group(0)}"},
        )
        with urllib.request.urlopen(request, timeout=5) as reply:
            assert json.load(reply)["response"]["isOwner"] is True
        started = time.monotonic()
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert time.monotonic() - started < 3
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert db.exists()
