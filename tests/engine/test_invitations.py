"""Invitations of people without names: full batches sent up front (issue 13 item 4), and the
people index keeping no lock for an address once nobody holds it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from bulk_onboard.config import Secret
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.portal_cache import PeopleIndex
from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.progress import NoProgress as Progress
from bulk_onboard.sandbox import Sandbox
from tests.helpers import admin, assert_clean, settings_for


@pytest.mark.e2e
async def test_a_hundred_people_without_names_take_two_invitations(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    users = tmp_path / "users.csv"
    lines = ["email,first_name,last_name,culture"]
    lines += [f"p{n}@example.org,,,{'de-DE' if n >= 95 else ''}" for n in range(100)]
    lines.append("maria.garcia@northwind.example,,,")  # known to the portal: not invited
    lines.append("named@example.org,Nam,Ed,")  # created, not invited
    users.write_text("\n".join(lines) + "\n")
    intake = load_intake([users], load_playbook(None))
    outcome = await modes.start(
        settings_for(sandbox, tmp_path, concurrency=8),
        intake,
        progress=Progress(),
        stop=Stop(),
    )
    assert {
        r.status.value
        for r in outcome.results
        if r.row_key != "user:maria.garcia@northwind.example"
    } == {"created"}
    calls = outcome.document["requests"]["by_call"]
    # 95 without a culture: 50 + 45; 5 in de-DE: one more. Before, the pool's workers sent a
    # request for every few people (100 people took 52).
    assert calls["POST invite_users"] == 3, calls
    outbox = await admin(sandbox, "GET", "/sandbox/outbox")
    invited = [m["to"] for m in outbox["mails"] if m["kind"] == "invitation"]
    assert sorted(invited) == sorted(f"p{n}@example.org" for n in range(100))
    german = {m["to"] for m in outbox["mails"] if m["culture"] == "de-DE"}
    assert german == {f"p{n}@example.org" for n in range(95, 100)}
    await assert_clean(sandbox)

    again = await modes.start(
        settings_for(sandbox, tmp_path), intake, progress=Progress(), stop=Stop()
    )
    assert {r.status.value for r in again.results} == {"unchanged"}
    assert "POST invite_users" not in again.document["requests"]["by_call"]
    assert (await admin(sandbox, "GET", "/sandbox/outbox"))["count"] == outbox["count"]


async def test_an_address_lock_is_dropped_once_nobody_holds_it() -> None:
    people = PeopleIndex(client=None, expected_lookups=1)  # type: ignore[arg-type]
    order: list[str] = []

    async def hold(name: str, *emails: str) -> None:
        async with people.locked(*emails):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(hold("a", "X@example.com", "y@example.com"), hold("b", "x@example.com"))
    assert order == ["a in", "a out", "b in", "b out"]  # one address, one holder at a time
    assert people.locks_held == 0

    waiting = asyncio.create_task(hold("c", "z@example.com"))
    await asyncio.sleep(0)
    assert people.locks_held == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert people.locks_held == 0


@pytest.mark.e2e
async def test_an_invitation_the_portal_refuses_fails_its_row_alone(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Entries of POST people/invite run in order and a refusal stops the batch with the
    earlier ones invited (docspace-api.md 10.5): those rows are created, the refused one
    fails, the rest are sent again; nobody is mailed twice."""
    await admin(
        sandbox,
        "POST",
        "/sandbox/people",
        [{"email": "admin@example.org", "type": 3, "password": "Secret-pass-1"}],
    )
    async with aiohttp.ClientSession() as http:
        reply = await http.post(
            f"{sandbox.url}/api/2.0/authentication",
            json={"userName": "admin@example.org", "password": "Secret-pass-1"},
        )
        session = (await reply.json())["response"]["token"]  # a DocSpace admin, not the owner
    users = tmp_path / "users.csv"
    users.write_text(
        "email,type\na@example.org,user\nb@example.org,docspace-admin\nc@example.org,user\n"
    )
    settings = replace(settings_for(sandbox, tmp_path), token=Secret(session))
    intake = load_intake([users], load_playbook(None))
    outcome = await modes.start(settings, intake, progress=Progress(), stop=Stop())
    status = {r.row_key: (r.status.value, r.error) for r in outcome.results}
    assert status["user:a@example.org"] == ("created", None)
    assert status["user:c@example.org"] == ("created", None)
    assert status["user:b@example.org"] == (
        "failed",
        "the portal refused to invite b@example.org as a docspace-admin (Access denied): a "
        "room admin may invite users only, a DocSpace admin also room admins, only the owner "
        "DocSpace admins; change the type or invite them in DocSpace",
    )
    assert outcome.document["requests"]["by_call"]["POST invite_users"] == 2
    outbox = await admin(sandbox, "GET", "/sandbox/outbox")
    assert sorted(m["to"] for m in outbox["mails"]) == ["a@example.org", "c@example.org"]
    await assert_clean(sandbox)
