"""A portal's state shared by machines through Redis (state/store.py), each keeping its own
copy: the CRM ledger and the daily-budget note one machine wrote are known to another; a Redis
that lost its keys (no persistence, restarted) does not make a machine announce again what it
delivered. And `fleet status` reading what the runners keep: running, queued, never run."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from redis.backoff import NoBackoff
from redis.retry import Retry
from structlog.testing import capture_logs

from bulk_onboard.cli.commands import main
from bulk_onboard.config import portal_state_dir
from bulk_onboard.crm.ledger import LEDGER_NAME, Ledger
from bulk_onboard.fleet import nights
from bulk_onboard.fleet.file import read_fleet
from bulk_onboard.fleet.outcome import Outcome
from bulk_onboard.fleet.store import FleetStore
from bulk_onboard.runs.portal_memory import budget_refused_recently, remember_budget_refused
from bulk_onboard.state import store as state_store
from bulk_onboard.state.store import FolderStore, RedisStore, redis_prefix, store_for


def _machines(tmp_path: Path, redis_url: str) -> tuple[str, RedisStore, RedisStore]:
    """Two machines' stores of one portal (an address of this test alone: its own keys)."""
    url = f"https://t-{secrets.token_hex(4)}.example.com"
    client = redis.Redis.from_url(redis_url)
    one, two = (
        RedisStore(client, url, FolderStore(portal_state_dir(tmp_path / name, url)))
        for name in ("one", "two")
    )
    return url, one, two


def test_what_one_machine_delivered_and_noted_the_other_knows(
    tmp_path: Path, redis_url: str
) -> None:
    url, one, two = _machines(tmp_path, redis_url)
    Ledger.for_portal(tmp_path / "one", url, store=one).add("client-1")
    assert "client-1" in Ledger.for_portal(tmp_path / "two", url, store=two)
    refused = datetime.now(UTC) - timedelta(hours=2)
    remember_budget_refused(one, at=refused.replace(microsecond=0))
    assert budget_refused_recently(two) == refused.replace(microsecond=0)
    # each write is kept in the machine's own state folder too
    local = portal_state_dir(tmp_path / "one", url)
    assert (local / LEDGER_NAME).read_text() == "client-1\n"
    assert json.loads((local / "write-budget.json").read_text())["refused_at"]


def test_a_redis_that_lost_its_keys_does_not_make_a_machine_announce_again(
    tmp_path: Path, redis_url: str
) -> None:
    url, one, two = _machines(tmp_path, redis_url)
    Ledger.for_portal(tmp_path / "one", url, store=one).add("client-1")
    client = redis.Redis.from_url(redis_url)
    client.delete(*client.keys(f"{redis_prefix(url)}:*"))  # restarted without persistence
    assert "client-1" in Ledger.for_portal(tmp_path / "one", url, store=one)
    assert "client-1" not in Ledger.for_portal(tmp_path / "two", url, store=two)  # said in docs
    # without a shared state the store is the state folder alone, as before
    assert isinstance(store_for(tmp_path / "one", url), FolderStore)


def test_fleet_status_says_running_queued_and_never_run(tmp_path: Path, redis_url: str) -> None:
    path = tmp_path / "fleet.toml"
    portals = "".join(
        f'[[portal]]\nid = "{name}"\nurl = "https://{name}-{secrets.token_hex(3)}.example.com"\n'
        for name in ("acme", "globex", "initech")
    )
    path.write_text(
        f'[fleet]\nstate = "{redis_url}"\n[defaults]\ntoken = "env:T"\ninput = "x.csv"\n{portals}'
    )
    fleet = read_fleet(path)
    store = FleetStore(fleet)
    store.client.set(store.lease_key("acme"), "worker-2:4242:abcd", ex=60)
    acme = fleet.chosen(["acme"])[0]
    acme_store = store_for(tmp_path / "unused", acme.url, fleet.state)
    nights.mark_running(acme_store, nights.tonight(), "20261206-020000-abcde", "worker-2:4242:abcd")
    store.mark_queued(nights.tonight(), "globex")
    result = CliRunner().invoke(main, ["fleet", "status", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "acme: running; run 20261206-020000-abcde; the portal's lease is held by "
        "worker-2:4242:abcd; next: running"
    )
    assert lines[1] == f"globex: queued; queued for {nights.tonight()}; next: a worker takes it"
    assert lines[2] == "initech: never_run; next: its first night"
    assert lines[3] == "fleet: 3 portals: 1 never run, 1 queued, 1 running"


def test_a_portal_is_set_aside_by_three_failing_nights_in_a_row_only(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    failed = Outcome("acme", "https://acme.example.com", "failed", reason="unreachable")
    done = Outcome("acme", "https://acme.example.com", "done", verdict="ok")
    said = [
        nights.record_night(store, n, o)
        for n, o in (
            ("2026-12-01", failed),
            ("2026-12-02", failed),
            ("2026-12-03", done),
            ("2026-12-04", failed),
            ("2026-12-04", failed),
            ("2026-12-05", failed),
        )
    ]
    assert said == [None] * 6  # a done night between, and one night counted once
    aside = nights.record_night(store, "2026-12-06", failed)
    assert aside is not None and aside["reason"] == "unreachable"
    assert aside["nights"] == ["2026-12-04", "2026-12-05", "2026-12-06"]
    assert nights.lift(store, "2026-12-07") == aside
    assert nights.record_night(store, "2026-12-07", failed) is None  # counted afresh
    assert nights.read_record(store)["set_aside"] is None


def test_a_redis_that_does_not_answer_leaves_the_state_folder_alone(tmp_path: Path) -> None:
    url = "https://acme.example.com"
    gone = redis.Redis(host="127.0.0.1", port=9, retry=Retry(NoBackoff(), 0))
    store = RedisStore(gone, url, FolderStore(tmp_path))
    ledger = Ledger.for_portal(tmp_path / "unused", url, store=store)
    ledger.add("client-1")
    assert "client-1" in Ledger.for_portal(tmp_path / "unused", url, store=store)
    remember_budget_refused(store)
    assert budget_refused_recently(store) is not None
    assert (tmp_path / LEDGER_NAME).read_text() == "client-1\n"


def test_a_redis_that_takes_connections_and_never_answers_stalls_the_run_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger, the nights record and the members memory are written on the run's loop: a
    Redis that hangs costs one call's timeout, one warning, then the local folder alone."""
    silent = socket.socket()  # takes connections (its backlog), never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    monkeypatch.setattr(state_store, "TIMEOUT", 0.5, raising=False)
    redis_url = f"redis://127.0.0.1:{silent.getsockname()[1]}"
    url = "https://acme.example.com"
    done: dict[str, object] = {}

    def run() -> None:
        store = store_for(tmp_path, url, redis_url)
        ledger = Ledger.for_portal(tmp_path, url, store=store)
        for n in range(20):
            ledger.add(f"client-{n}")
        remember_budget_refused(store)
        done["known"] = "client-19" in Ledger.for_portal(
            tmp_path, url, store=store_for(tmp_path, url, redis_url)
        )
        done["refused"] = budget_refused_recently(store) is not None

    try:
        with capture_logs() as logs:
            started = time.perf_counter()
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            worker.join(5)
            took = time.perf_counter() - started
        assert not worker.is_alive(), "a Redis that never answers held the run"
        assert done == {"known": True, "refused": True}
        assert took < 2.0, took
        warned = [e for e in logs if e["event"] == "state_store_unreachable"]
        assert len(warned) == 1 and warned[0]["error"] == "TimeoutError", warned
        ledger_file = portal_state_dir(tmp_path, url) / LEDGER_NAME
        assert ledger_file.read_text().splitlines() == [f"client-{n}" for n in range(20)]
    finally:
        silent.close()
        getattr(state_store, "_state_clients", {}).pop(redis_url, None)
