"""CrmDelivery: the secret from the environment, every sink per record, safe repeats."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from bulk_onboard.cli.demo import read_webhooks
from bulk_onboard.crm import CrmDelivery, check_crm
from bulk_onboard.errors import ConfigError, CrmError
from bulk_onboard.logs import redact
from bulk_onboard.playbook.reader import Crm

from .conftest import CLIENT, SECRET, Receiver, Sleeps

FIELDS: dict[str, Any] = {
    **CLIENT,
    "link_url": "https://portal.example/s/abc",
    "folder_ids": (5013, 5014),
    "copy_ids": (7001,),
}
ENV = {"CRM_WEBHOOK_SECRET": SECRET}
NO_SINKS = Crm(None, None, 10.0, 5, None, None)


def crm(url: str | None = None, tmp: Path | None = None, **kw: Any) -> Crm:
    files = {"jsonl_path": tmp / "crm.jsonl", "csv_path": tmp / "crm.csv"} if tmp else {}
    secret_env = "CRM_WEBHOOK_SECRET" if url else None
    return replace(NO_SINKS, webhook_url=url, secret_env=secret_env, **(files | kw))


@pytest.mark.parametrize(
    ("env", "problem"),
    [({}, "which is not set"), ({"CRM_WEBHOOK_SECRET": "  "}, "which is empty")],
)
def test_a_webhook_without_its_secret_is_a_config_error(env: dict[str, str], problem: str) -> None:
    book = crm("https://crm.example.com/hook")
    with pytest.raises(ConfigError) as raised:
        CrmDelivery(book, env=env, source="playbook.toml")
    message = str(raised.value)
    assert message.startswith("playbook.toml: crm.webhook_url needs the signing secret")
    assert "CRM_WEBHOOK_SECRET" in message and problem in message


def test_a_webhook_without_secret_env_is_a_config_error() -> None:
    book = replace(crm("https://crm.example.com/hook"), secret_env=None)
    with pytest.raises(ConfigError, match=r"crm\.secret_env is not"):
        check_crm(book, ENV, "playbook.toml")


def test_check_crm_returns_the_secret_bytes_and_none_without_a_webhook() -> None:
    assert check_crm(crm("https://crm.example.com/hook"), ENV) == SECRET.encode()
    assert check_crm(NO_SINKS, {}) is None


def test_the_secret_is_registered_for_redaction() -> None:
    secret = "whsec-only-in-this-test-93b1"
    CrmDelivery(crm("https://crm.example.com/hook"), env={"CRM_WEBHOOK_SECRET": secret})
    assert secret not in redact(f"header was {secret}")


async def test_every_sink_gets_the_record_and_a_rerun_adds_no_duplicate(
    receiver: Receiver, sleeps: Sleeps, tmp_path: Path
) -> None:
    book = crm(receiver.url, tmp_path)
    for run_id in ("run-1", "run-2"):  # the same client in two runs
        async with CrmDelivery(book, env=ENV, sleep=sleeps) as delivery:
            result = await delivery.announce(
                FIELDS, run_id=run_id, portal_url="https://portal.example"
            )
        outcome = "written" if run_id == "run-1" else "duplicate"
        assert result.outputs() == {
            "idempotency_key": result.idempotency_key,
            "jsonl": outcome,
            "csv": outcome,
            "webhook": "delivered",
        }
    lines = (tmp_path / "crm.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["run_id"] == "run-1"
    assert len((tmp_path / "crm.csv").read_text("utf-8").splitlines()) == 2  # header + 1
    listing = await receiver.listing()
    assert (listing["count"], listing["uniqueKeys"]) == (2, 1)  # the key lets the CRM drop it
    assert listing["deliveries"][0]["body"]["room_url"] == (
        "https://portal.example/rooms/shared/5012/filter?folder=5012"
    )


async def test_a_failing_webhook_does_not_stop_the_files_and_a_retry_completes(
    receiver: Receiver, sleeps: Sleeps, tmp_path: Path
) -> None:
    book = crm(receiver.url, tmp_path, max_attempts=2)
    await receiver.script(outage=True, status=503)
    async with CrmDelivery(book, env=ENV, sleep=sleeps) as delivery:
        with capture_logs() as logs, pytest.raises(CrmError) as raised:
            await delivery.announce(FIELDS, run_id="run-1", portal_url="https://p.example")
        assert raised.value.transient is True
        assert "failed 2 times; last: HTTP 503" in raised.value.message
        assert SECRET not in raised.value.message + repr(logs)
        assert len((tmp_path / "crm.jsonl").read_text("utf-8").splitlines()) == 1
        await receiver.script(outage=False)
        result = await delivery.announce(FIELDS, run_id="run-1", portal_url="https://p.example")
    assert [(s.sink, s.outcome) for s in result.sinks] == [
        ("jsonl", "duplicate"),
        ("csv", "duplicate"),
        ("webhook", "delivered"),
    ]
    assert (await receiver.listing())["accepted"] == 1


async def test_one_permanent_failure_makes_the_whole_error_permanent(
    receiver: Receiver, sleeps: Sleeps, tmp_path: Path
) -> None:
    (tmp_path / "crm.csv").write_text("name,phone\n", encoding="utf-8")
    book = crm(receiver.url, tmp_path)
    with pytest.raises(CrmError, match="has other columns") as raised:
        async with CrmDelivery(book, env=ENV, sleep=sleeps):
            pass  # the CSV is refused when the sinks open, before anything is sent
    assert raised.value.transient is False
    assert (await receiver.listing())["count"] == 0
    (tmp_path / "crm.csv").unlink()
    await receiver.script(fail_next=1, status=422)
    async with CrmDelivery(book, env=ENV, sleep=sleeps) as delivery:
        with pytest.raises(CrmError, match="HTTP 422") as raised:
            await delivery.announce(FIELDS, run_id="r", portal_url="https://p.example")
    assert raised.value.transient is False


async def test_files_only_needs_no_secret(tmp_path: Path) -> None:
    async with CrmDelivery(crm(None, tmp_path), env={}) as delivery:
        assert delivery.sinks == (f"jsonl {tmp_path / 'crm.jsonl'}", f"csv {tmp_path / 'crm.csv'}")
        result = await delivery.announce(FIELDS, run_id="r", portal_url="https://p.example")
    assert [s.sink for s in result.sinks] == ["jsonl", "csv"]


async def test_deliver_outside_the_block_is_a_bug(tmp_path: Path) -> None:
    delivery = CrmDelivery(crm(None, tmp_path), env={})
    with pytest.raises(RuntimeError, match="outside its `async with` block"):
        await delivery.deliver({"idempotency_key": "k"})


async def test_the_demo_reads_what_the_receiver_got(receiver: Receiver, sleeps: Sleeps) -> None:
    await receiver.script(fail_next=1, status=503)
    async with CrmDelivery(crm(receiver.url), env=ENV, sleep=sleeps) as delivery:
        for _ in range(2):
            await delivery.announce(FIELDS, run_id="r", portal_url="https://p.example")
    hooks = await read_webhooks(receiver.sandbox.url)
    assert [d["status"] for d in hooks.deliveries] == [503, 200, 200]
    assert (hooks.accepted, hooks.unique_keys) == (2, 1)
    assert hooks.summary() == (
        "3 requests: 2 accepted for 1 client (1 repeat), 1 refused or failed"
    )
