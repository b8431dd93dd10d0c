"""What a fleet keeps of a run and of a portal in the shared state, over a real Redis: the run
journal sent off the run's loop, in order (and a Redis that does not answer costs the run
nothing); the portal's memories (failing rows, rows undo took back, the members it set) known
to another machine; the portal noted running only once a run holds it."""

from __future__ import annotations

import json
import secrets
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry
from structlog.testing import capture_logs

from bulk_onboard.config import build_settings, portal_state_dir
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.root import Job
from bulk_onboard.errors import RunLocked
from bulk_onboard.fleet import nights
from bulk_onboard.fleet.outcome import Outcome
from bulk_onboard.runs.folder import create_run_folder
from bulk_onboard.runs.journal import Journal, read_journal
from bulk_onboard.runs.portal_memory import FAILING, note_failing_rows
from bulk_onboard.runs.progress import NoProgress
from bulk_onboard.runs.set_members import NAME, SetMember, SetMembers
from bulk_onboard.runs.undone_rows import forget_undone, read_undone, remember_undone
from bulk_onboard.state.run_store import (
    KEPT_SECONDS,
    JournalMirror,
    forget_run,
    journal_key,
    run_key,
    stored_lines,
)
from bulk_onboard.state.store import FolderStore, RedisStore

RUN = "20261206-230000-abcde"


def _run_folder(tmp_path: Path, url: str) -> Path:
    source = tmp_path / "clients.csv"
    source.write_text("client_id\n")
    return create_run_folder(tmp_path / "reports", RUN, [source], None, None, portal_url=url).path


def test_each_journal_line_goes_to_redis_in_order_and_a_resumed_journal_replaces_it(
    tmp_path: Path, redis_url: str
) -> None:
    url = f"https://t-{secrets.token_hex(4)}.example.com"
    client = redis.Redis.from_url(redis_url)
    folder = _run_folder(tmp_path, url)
    started = time.perf_counter()
    with Journal(folder / "journal.jsonl", mirror=JournalMirror(client, url, RUN, folder)) as j:
        for n in range(2000):
            j.record(f"client:K-{n}", "room", {"id": n}, "created")
        recorded = time.perf_counter() - started
    local = (folder / "journal.jsonl").read_bytes().splitlines()
    assert stored_lines(client, url, RUN) == local
    assert json.loads(client.get(run_key(url, RUN)))["run_id"] == RUN
    assert 0 < client.ttl(journal_key(url, RUN)) <= KEPT_SECONDS
    print(f"2,000 lines journalled and mirrored in {recorded * 1000:.0f} ms")
    # the run resumed here (its journal torn by a kill): Redis gets the whole local journal
    with (folder / "journal.jsonl").open("ab") as fh:
        fh.write(b'{"row": "client:K-x", "st')
    with Journal(folder / "journal.jsonl", mirror=JournalMirror(client, url, RUN, folder)) as j:
        j.record("client:K-x", "room", {"id": 9}, "created")
    kept = stored_lines(client, url, RUN)
    assert kept == (folder / "journal.jsonl").read_bytes().splitlines() and len(kept) == 2002
    assert read_journal(folder / "journal.jsonl").torn_lines == 1
    forget_run(redis_url, url, RUN)
    assert not client.exists(journal_key(url, RUN), run_key(url, RUN))


def test_a_redis_that_does_not_answer_costs_the_run_nothing(tmp_path: Path) -> None:
    url = "https://acme.example.com"
    folder = _run_folder(tmp_path, url)
    silent = socket.socket()  # takes connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    once = Retry(NoBackoff(), 0)
    clients = {
        "refused": redis.Redis(host="127.0.0.1", port=9, retry=once),
        "silent": redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.6, retry=once),
    }
    mirrors = []
    try:
        for name, client in clients.items():
            path = folder / f"{name}.jsonl"
            with capture_logs() as logs:
                started = time.perf_counter()
                mirror = JournalMirror(client, url, RUN, folder, close_wait=0.3)
                mirrors.append(mirror)
                with Journal(path, mirror=mirror) as journal:
                    for n in range(200):
                        journal.record(f"client:K-{n}", "room", {"id": n}, "created")
                took = time.perf_counter() - started
            assert len(read_journal(path).steps) == 200, name
            assert took < 1.5, (name, took)
            warned = [e for e in logs if e["event"] == "state_store_unreachable"]
            assert warned and warned[-1]["unsent"] > 0, (name, logs)
        assert all(m.join(2) for m in mirrors)  # gone once Redis's calls time out
    finally:
        silent.close()
        structlog.reset_defaults()


def test_the_portal_memories_round_trip_through_redis(tmp_path: Path, redis_url: str) -> None:
    url = f"https://t-{secrets.token_hex(4)}.example.com"
    client = redis.Redis.from_url(redis_url)
    one, two = (
        RedisStore(client, url, FolderStore(portal_state_dir(tmp_path / name, url)))
        for name in ("one", "two")
    )
    old, new = SetMember("manager", "old@x.example", 9), SetMember("manager", "new@x.example", 9)
    members = SetMembers.for_portal(one, url, earlier_runs=tmp_path / "reports")
    members.record("client:K-1", 12, [old])
    members.claim("client:K-1", 12, [new])
    assert SetMembers.for_portal(two, url).get("client:K-1", 12) == (old, new)
    for n in range(150):  # compacted in Redis as in the folder
        members.record("client:K-2", 13, [SetMember("contact", f"c{n}@x.example", 2)])
    assert client.llen(f"{one.prefix}:{NAME}") < 150
    assert SetMembers.for_portal(two, url).get("client:K-2", 13)[0].email == "c149@x.example"
    # the same names in the machine's own state folder
    local = portal_state_dir(tmp_path / "one", url)
    assert SetMembers(FolderStore(local)).get("client:K-1", 12) == (old, new)
    at = datetime(2026, 12, 6, 23, tzinfo=UTC)
    remember_undone(one, {"user:a@x.example": "users.csv"}, RUN, at)
    assert set(read_undone(two)) == {"user:a@x.example"}
    forget_undone(two, ["user:a@x.example"])
    assert read_undone(one) == {}
    note_failing_rows(one, ["client:K-3"], "night-1")
    assert note_failing_rows(two, ["client:K-3"], "night-2") == {"client:K-3": "night-1"}
    assert json.loads((local / FAILING).read_text()) == {"client:K-3": "night-1"}


async def test_a_run_is_told_it_holds_the_portal_only_once_it_does(tmp_path: Path) -> None:
    settings = build_settings(
        {"DOCSPACE_TOKEN": "sk-journal"},
        portal="https://acme.example.com",
        report_dir=tmp_path / "reports",
        state_dir=tmp_path / "state",
    )
    told: list[str] = []

    class Built(Exception):
        pass

    def job() -> Job:
        assert told == [RUN]  # the portal's lock (and lease) are held: told before the job
        raise Built

    launch: modes.Launch = {"progress": NoProgress(), "stop": Stop(), "on_held": told.append}
    with modes.portal_locked(settings, "another-run", tmp_path / "other"), pytest.raises(RunLocked):
        await modes.locked_run(settings, tmp_path / "reports" / RUN, RUN, job, launch)
    assert told == []  # another run won: nothing noted for this one
    with pytest.raises(Built):
        await modes.locked_run(settings, tmp_path / "reports" / RUN, RUN, job, launch)
    assert told == [RUN]


def test_the_run_to_resume_is_the_one_the_shared_record_names(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    stopped = Outcome("acme", "https://acme.example.com", "stopped", run_id="run-1")
    done = Outcome("acme", "https://acme.example.com", "done", verdict="ok", run_id="run-2")
    nights.mark_running(store, "2026-12-06", "run-1", "vm:1:ab")
    assert nights.resumable_run(nights.read_record(store), None) == "run-1"  # its runner died
    nights.record_night(store, "2026-12-06", stopped)
    assert nights.resumable_run(nights.read_record(store), None) == "run-1"  # another machine's
    nights.record_night(store, "2026-12-07", done)
    assert nights.resumable_run(nights.read_record(store), stopped) is None  # done since
