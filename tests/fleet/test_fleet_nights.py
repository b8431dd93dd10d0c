"""A night's outcome decides the next: a portal that needs an operator three nights running
is set aside with its reason (`fleet run` and `fleet enqueue` leave it), `fleet status` says
where each portal stands, and `fleet retry` takes it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulk_onboard.fleet import nights
from bulk_onboard.sandbox import Sandbox
from tests.fleet.conftest import write_fleet
from tests.fleet.test_fleet_run import in_thread
from tests.helpers import assert_sample_onboarded_once, seeded_sandbox


async def test_three_failing_nights_set_a_portal_aside_until_fleet_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with seeded_sandbox() as sb, seeded_sandbox() as other:
        portals: dict[str, Sandbox] = {"acme": sb, "down": other}
        path = write_fleet(tmp_path, portals, own={"down": 'token = "env:DOWN_TOKEN"'})
        said = []
        for night in ("2026-12-04", "2026-12-05", "2026-12-06"):
            monkeypatch.setattr(nights, "tonight", lambda night=night: night)
            result = await in_thread("run", str(path), "--only", "down")
            assert result.exit_code == 9, result.output
            assert "down: needs_operator; " in result.output
            said.append(result.output)
        assert "set aside" not in said[1]
        assert (
            f"set aside after 3 failing nights (bulk-onboard fleet retry {path} --only down)"
            in (said[2])
        )
        monkeypatch.setattr(nights, "tonight", lambda: "2026-12-07")
        result = await in_thread("run", str(path))
        assert result.exit_code == 9, result.output
        assert "down: set_aside; set aside since " in result.output
        assert "acme: done (ok)" in result.output
        await assert_sample_onboarded_once(sb)

        status = await in_thread("status", str(path), "--json")
        assert status.exit_code == 0, status.output
        rows = {r["portal"]: r for r in json.loads(status.output)["portals"]}
        assert rows["down"]["state"] == "set_aside"
        assert "DOWN_TOKEN, which is not set" in rows["down"]["reason"]
        assert rows["acme"]["state"] == "done" and rows["acme"]["verdict"] == "ok"
        assert rows["acme"]["statuses"] == {"created": 85} and rows["acme"]["run_id"]
        assert rows["acme"]["night"] == "2026-12-07"
        text_status = await in_thread("status", str(path))
        assert text_status.output.splitlines()[-1] == "fleet: 2 portals: 1 done, 1 set aside"

        again = await in_thread("retry", str(path))  # not fixed yet: counted afresh
        assert again.exit_code == 9, again.output
        assert "down: no longer set aside (since " in again.output
        assert "down: needs_operator; " in again.output and "failing nights" not in again.output
        monkeypatch.setenv("DOWN_TOKEN", other.token)  # the operator's fix
        retried = await in_thread("retry", str(path))
        assert retried.exit_code == 0, retried.output
        assert "down: done (ok); run " in retried.output and "85 created" in retried.output
        assert "acme" not in retried.output  # its night was done
        status = await in_thread("status", str(path), "--json")
        rows = {r["portal"]: r for r in json.loads(status.output)["portals"]}
        assert (rows["down"]["state"], rows["down"]["next"]) == ("done", "the next night")
        await assert_sample_onboarded_once(other)
