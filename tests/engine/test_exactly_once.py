"""Exactly once, without the sandbox: a fake client whose writes can be applied and their
answers lost, a real journal, the real folder action and a create that journals its intent
as the room's does."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from bulk_onboard.api.models import FolderItems, Item
from bulk_onboard.api.protocol import PortalClient
from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.engine.actions.client import ClientActions
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import (
    DIGEST,
    INTENT,
    ExactlyOnce,
    Look,
    LookAgain,
    StillUncertain,
    step_digest,
)
from bulk_onboard.engine.row import RowState, StepDone
from bulk_onboard.errors import AmbiguousWrite, ApiError, PermanentError, StepFailed
from bulk_onboard.model.outputs import Added, FolderOut, RoomOut, ShareOut
from bulk_onboard.model.records import Origin, RoomType, RowKind
from bulk_onboard.model.steps import EnsureFolder, EnsureRoom, Plan, Ref, ShareRoom, Step
from bulk_onboard.runs.journal import Checkpoint, Journal, read_journal

ROW = "client:C-1"
ROOM_ID = 1
FOLDER = EnsureFolder(EnsureFolder.key_for("Invoices"), Ref(EnsureRoom.KEY, "id"), "Invoices")


class Killed(BaseException):
    """The process dies (kill -9): nothing after this point runs."""


@dataclass
class FakeDrive:
    """A fake portal client with folders in one room. Each create takes the next scripted
    fault: `lost` (not applied, answer lost), `landed` (applied, answer lost), `late`
    (applied, visible only from the second listing on), `500` (not applied, the portal's
    own error answer), `refused` (403), `killed` (applied, the process dies before the
    answer)."""

    faults: list[str] = field(default_factory=list)
    folders: dict[str, int] = field(default_factory=dict)
    hidden: dict[str, int] = field(default_factory=dict)  # applied, not listed yet
    creates: int = 0
    listings: int = 0
    shown_at: int = 0  # the listing from which the hidden folders show

    async def items(self, folder_id: int) -> FolderItems:
        self.listings += 1
        if self.hidden and self.listings >= self.shown_at:
            self.folders.update(self.hidden)
            self.hidden.clear()
        return FolderItems(folders=tuple(Item(i, t) for t, i in self.folders.items()))

    async def new_folder(self, parent_id: int, title: str) -> Item:
        self.creates += 1
        fault = self.faults.pop(0) if self.faults else None
        new_id = 100 + self.creates
        if fault == "refused":
            raise PermanentError("forbidden", method="POST", path="/folder", status=403)
        if fault in ("lost", "500"):
            status = 500 if fault == "500" else None
            raise AmbiguousWrite("no answer", method="POST", path="/folder", status=status)
        if fault == "late":
            self.hidden[title] = new_id
            self.shown_at = self.listings + 2
        else:
            self.folders[title] = new_id
        if fault == "landed" or fault == "late":
            raise AmbiguousWrite("answer lost", method="POST", path="/folder", status=502)
        if fault == "killed":
            raise Killed
        return Item(new_id, title)


@dataclass
class Run:
    drive: FakeDrive
    once: ExactlyOnce
    actions: ClientActions
    journal: Journal
    sleeps: list[float]
    path: Path

    def state(self, *steps: Step) -> RowState:
        plan = Plan(ROW, RowKind.CLIENT, Origin("clients.csv", None, 2), (*steps,))
        state = RowState(plan=plan, values=())
        state.outputs[EnsureRoom.KEY] = RoomOut(ROOM_ID, "Client - C").to_json()
        return state

    def lines(self) -> list[dict[str, object]]:
        self.journal.sync()
        return [json.loads(line) for line in self.path.read_text().splitlines()]


OPEN: list[Journal] = []


@pytest.fixture(autouse=True)
def _close_journals() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def start(
    tmp_path: Path,
    faults: Sequence[str] = (),
    checkpoint: Checkpoint | None = None,
    drive: FakeDrive | None = None,
) -> Run:
    drive = drive or FakeDrive()
    drive.faults = list(faults)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    OPEN.append(journal)
    look_again = LookAgain(window=60.0, looks=3, sleep=sleep)
    once = ExactlyOnce(journal, checkpoint or Checkpoint(), RetryPolicy.immediate(), look_again)
    actions = ClientActions(Context(cast(PortalClient, drive)), once)
    return Run(drive, once, actions, journal, sleeps, path)


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def start_parking(tmp_path: Path, faults: Sequence[str]) -> tuple[Run, Clock]:
    """As `start`, with a clock the looks read: for the steps of a run's rows, which park."""
    run = start(tmp_path, faults)
    clock = Clock()

    async def sleep(seconds: float) -> None:
        run.sleeps.append(seconds)

    look_again = LookAgain(window=60.0, looks=3, sleep=sleep, clock=clock)
    run.once = ExactlyOnce(run.journal, Checkpoint(), RetryPolicy.immediate(), look_again)
    run.actions = ClientActions(Context(cast(PortalClient, run.drive)), run.once)
    return run, clock


def intending(run: Run) -> Callable[[RowState, EnsureFolder, Look], Awaitable[StepDone]]:
    """A create that journals its intent first and withdraws it when refused outright, as
    ClientActions.room does."""

    async def create(state: RowState, step: EnsureFolder, look: Look) -> StepDone:
        contents = run.once.find if look.again else (lambda _look, find: find())

        async def find() -> int | None:
            listed = await run.drive.items(ROOM_ID)
            return next((f.id for f in listed.folders if f.title == step.title), None)

        found = await contents(look, find)
        if found is not None:
            return StepDone.of(FolderOut(found), "found")
        run.once.intend(state.plan.row_key, step.key)
        try:
            made = await run.drive.new_folder(ROOM_ID, step.title)
        except AmbiguousWrite:
            raise
        except ApiError:
            run.once.withdraw(state.plan.row_key, step.key)
            raise
        return StepDone.of(FolderOut(made.id), "created")

    return create


# ---------------------------------------------------------------------- looking again


async def test_a_lost_answer_whose_write_landed_is_found_not_made_again(tmp_path: Path) -> None:
    run = start(tmp_path, ["landed"])
    state = run.state(FOLDER)
    await run.once.run(state, FOLDER, run.actions.folder)
    assert run.drive.creates == 1 and run.drive.folders == {"Invoices": 101}
    # what the write set out to do: it counts as created, with the id it made
    assert state.outcomes[FOLDER.key] == "created"
    assert state.outputs[FOLDER.key] == {"id": 101}
    assert run.sleeps == []  # found at the first look
    [line] = run.lines()
    assert (line["step"], line["outcome"], line["out"]) == (
        FOLDER.key,
        "created",
        {"id": 101, DIGEST: step_digest(FOLDER)},
    )


async def test_a_write_that_lands_late_is_found_by_a_later_look(tmp_path: Path) -> None:
    run = start(tmp_path, ["late"])
    state = run.state(FOLDER)
    await run.once.run(state, FOLDER, run.actions.folder)
    assert run.drive.creates == 1 and run.drive.folders == {"Invoices": 101}
    assert state.outcomes[FOLDER.key] == "created"
    assert run.sleeps == [30.0]  # the second of three looks over the 60 s window


async def test_a_lost_answer_whose_write_did_not_land_creates_after_every_look(
    tmp_path: Path,
) -> None:
    run = start(tmp_path, ["lost"])
    state = run.state(FOLDER)
    await run.once.run(state, FOLDER, run.actions.folder)
    # three looks spread over the window found nothing: then, and only then, created again
    assert run.sleeps == [30.0, 30.0]
    assert run.drive.listings == 4  # the first find, then three looks
    assert run.drive.creates == 2 and run.drive.folders == {"Invoices": 102}
    assert state.outcomes[FOLDER.key] == "created"


async def test_a_500_after_the_action_looks_once(tmp_path: Path) -> None:
    run = start(tmp_path, ["500"])
    state = run.state(FOLDER)
    await run.once.run(state, FOLDER, run.actions.folder)
    # the portal's own 500 comes once its action ended: the write cannot land later
    assert run.sleeps == []
    assert run.drive.listings == 2  # the first find, one look
    assert run.drive.creates == 2 and run.drive.folders == {"Invoices": 102}


async def test_each_attempt_is_told_how_to_look(tmp_path: Path) -> None:
    run = start(tmp_path)
    seen: list[Look] = []
    errors = [
        AmbiguousWrite("dropped", method="POST", path="/x"),
        AmbiguousWrite("error", method="POST", path="/x", status=500),
    ]

    async def attempt(look: Look) -> str:
        seen.append(look)
        if errors:
            raise errors.pop(0)
        return "done"

    assert await run.once.confirm(attempt) == ("done", Look.AFTER_ERROR_ANSWER)
    assert seen == [Look.FIRST, Look.AFTER_LOST_ANSWER, Look.AFTER_ERROR_ANSWER]


# ---------------------------------------------------------------------- a row's step parks


async def test_a_rows_lost_write_not_found_at_once_parks_without_waiting(tmp_path: Path) -> None:
    run, clock = start_parking(tmp_path, ["lost"])
    state = run.state(FOLDER)
    with pytest.raises(StepFailed) as failed:
        await run.once.run(state, FOLDER, run.actions.folder, park=True)
    assert isinstance(failed.value.cause, StillUncertain)
    assert failed.value.cause.deadline == clock.now + 60.0  # the window since the lost answer
    assert run.sleeps == []  # nothing waited in the row: its worker is free
    assert run.drive.listings == 2  # the first find, one look at once
    assert run.drive.creates == 1  # not written again while the first write may land
    assert FOLDER.key not in state.outputs and run.lines() == []
    waiting = run.once.waits(ROW)
    assert waiting is not None and waiting.deadline == clock.now + 60.0


async def test_taken_up_after_the_window_one_look_then_the_write(tmp_path: Path) -> None:
    run, clock = start_parking(tmp_path, ["lost"])
    state = run.state(FOLDER)
    with pytest.raises(StepFailed):
        await run.once.run(state, FOLDER, run.actions.folder, park=True)
    clock.now += 60.0  # the window since the lost answer has passed: nothing can land now
    await run.once.run(state, FOLDER, run.actions.folder, park=True)
    assert run.drive.listings == 3  # one look more, then created again
    assert run.drive.creates == 2 and run.drive.folders == {"Invoices": 102}
    assert state.outcomes[FOLDER.key] == "created"
    assert run.once.waits(ROW) is None and run.sleeps == []


async def test_a_write_that_lands_while_its_row_waits_is_found_not_made_twice(
    tmp_path: Path,
) -> None:
    run, clock = start_parking(tmp_path, ["late"])
    state = run.state(FOLDER)
    with pytest.raises(StepFailed) as failed:
        await run.once.run(state, FOLDER, run.actions.folder, park=True)
    assert isinstance(failed.value.cause, StillUncertain)
    clock.now += 60.0
    await run.once.run(state, FOLDER, run.actions.folder, park=True)
    assert run.drive.creates == 1 and run.drive.folders == {"Invoices": 101}
    # what the lost write set out to do: it counts as created, journalled once
    assert state.outcomes[FOLDER.key] == "created"
    [line] = run.lines()
    assert (line["step"], line["outcome"]) == (FOLDER.key, "created")


async def test_a_rows_lost_write_found_at_once_does_not_park(tmp_path: Path) -> None:
    run, _ = start_parking(tmp_path, ["landed"])
    state = run.state(FOLDER)
    await run.once.run(state, FOLDER, run.actions.folder, park=True)
    assert run.drive.creates == 1 and state.outcomes[FOLDER.key] == "created"
    assert run.once.waits(ROW) is None


async def test_taken_up_too_early_it_parks_again_and_writes_nothing(tmp_path: Path) -> None:
    run, clock = start_parking(tmp_path, ["lost"])
    state = run.state(FOLDER)
    with pytest.raises(StepFailed):
        await run.once.run(state, FOLDER, run.actions.folder, park=True)
    clock.now += 30.0
    with pytest.raises(StepFailed) as failed:
        await run.once.run(state, FOLDER, run.actions.folder, park=True)
    assert isinstance(failed.value.cause, StillUncertain) and failed.value.cause.rounds == 2
    assert run.drive.creates == 1
    waiting = run.once.waits(ROW)
    assert waiting is not None and waiting.rounds == 2 and waiting.deadline == clock.now + 30.0
    run.once.give_up(ROW)
    assert run.once.waits(ROW) is None


async def test_a_500_parks_nothing(tmp_path: Path) -> None:
    run, _ = start_parking(tmp_path, ["500"])
    state = run.state(FOLDER)
    await run.once.run(state, FOLDER, run.actions.folder, park=True)
    # the portal's own 500 comes once its action ended: one look, then the write
    assert run.drive.creates == 2 and run.once.waits(ROW) is None


@pytest.mark.parametrize(
    ("look", "looks", "again"),
    [
        (Look.FIRST, 1, False),
        (Look.AFTER_LOST_ANSWER, 3, True),
        (Look.AFTER_ERROR_ANSWER, 1, True),
    ],
)
def test_the_looks_of_each_mode(look: Look, looks: int, again: bool) -> None:
    assert LookAgain(looks=3).looks_for(look) == looks
    assert look.again is again


async def test_a_write_that_never_answers_fails_the_step_and_journals_nothing(
    tmp_path: Path,
) -> None:
    run = start(tmp_path, ["lost"] * 4)
    state = run.state(FOLDER)
    with pytest.raises(StepFailed) as failed:
        await run.once.run(state, FOLDER, run.actions.folder)
    assert failed.value.step == FOLDER.key
    assert isinstance(failed.value.cause, AmbiguousWrite)
    assert run.drive.creates == 4  # RetryPolicy.immediate(): four attempts
    assert FOLDER.key not in state.outputs and run.lines() == []


async def test_a_share_whose_answer_was_lost_still_says_whom_it_added(tmp_path: Path) -> None:
    """What the writes set out to do (said before each, ExactlyOnce.writing) is what the
    step did when a look finds them applied: undo learns whom the share added and invited."""
    run = start(tmp_path)
    share = ShareRoom(ShareRoom.KEY, Ref(EnsureRoom.KEY, "id"), (), False, None, None)
    state = run.state(share)

    async def action(state: RowState, step: ShareRoom, look: Look) -> StepDone:
        if look.again:  # both entries are in place: found
            return StepDone.of(ShareOut((("a@x.example", 11), ("b@x.example", 11))), "found")
        added = ShareOut((("a@x.example", 11),), ROOM_ID, (Added("a@x.example", "u-a", 11),))
        run.once.writing(state, step.key, "changed", added)
        invited = ShareOut((("b@x.example", 11),), ROOM_ID, (), ("b@x.example",))
        run.once.writing(state, step.key, "changed", invited)
        raise AmbiguousWrite("answer lost", method="PUT", path="/share", status=504)

    await run.once.run(state, share, action)
    assert state.outcomes[share.key] == "changed"
    assert ShareOut.from_json(state.outputs[share.key]) == ShareOut(
        (("a@x.example", 11), ("b@x.example", 11)),
        ROOM_ID,
        (Added("a@x.example", "u-a", 11),),
        ("b@x.example",),
    )
    assert state.attempted == {}


# ---------------------------------------------------------------------- intend / withdraw


async def test_a_kill_between_intent_and_answer_resumes_as_created(tmp_path: Path) -> None:
    run = start(tmp_path, ["killed"])
    state = run.state(FOLDER)
    with pytest.raises(Killed):
        await run.once.run(state, FOLDER, intending(run))
    run.journal.close()
    assert [(line["step"], line["outcome"]) for line in run.lines()] == [
        (FOLDER.key + INTENT, "intent")
    ]
    # --resume: the journal has the intent and no answer; the folder is there
    resumed = start(tmp_path, checkpoint=read_journal(run.path), drive=run.drive)
    state = resumed.state(FOLDER)
    await resumed.once.run(state, FOLDER, intending(resumed))
    assert resumed.drive.creates == 1
    assert state.outcomes[FOLDER.key] == "created"  # made by this run, not found


async def test_a_create_refused_outright_withdraws_its_intent(tmp_path: Path) -> None:
    run = start(tmp_path, ["refused"])
    state = run.state(FOLDER)
    with pytest.raises(StepFailed) as failed:
        await run.once.run(state, FOLDER, intending(run))
    assert isinstance(failed.value.cause, PermanentError)
    run.journal.close()
    assert [(line["step"], line["out"]) for line in run.lines()] == [
        (FOLDER.key + INTENT, {}),
        (FOLDER.key + INTENT, {"spent": True}),
    ]
    # someone else makes the folder; the retry finds it: not this run's creation
    run.drive.folders["Invoices"] = 7
    again = start(tmp_path, checkpoint=read_journal(run.path), drive=run.drive)
    state = again.state(FOLDER)
    await again.once.run(state, FOLDER, intending(again))
    assert state.outcomes[FOLDER.key] == "found"


# ---------------------------------------------------------------------- skip if journalled


async def test_a_journalled_step_is_not_run_again(tmp_path: Path) -> None:
    checkpoint = Checkpoint()
    checkpoint.add(ROW, FOLDER.key, {"id": 55, DIGEST: step_digest(FOLDER)}, "created")
    run = start(tmp_path, checkpoint=checkpoint)
    state = run.state(FOLDER)
    await run.once.run(state, FOLDER, run.actions.folder)
    assert run.drive.listings == 0 and run.drive.creates == 0
    assert state.outputs[FOLDER.key] == {"id": 55}
    assert state.outcomes[FOLDER.key] == "created"  # counts as it did then
    assert run.lines() == []


async def test_a_step_whose_digest_changed_runs_again(tmp_path: Path) -> None:
    """A corrected cell (a retry): the step runs again, with the journal's outputs as its
    hint, and finding what the earlier attempt made counts as that attempt did."""
    checkpoint = Checkpoint()
    checkpoint.add(ROW, FOLDER.key, {"id": 101, DIGEST: "0123456789abcdef"}, "created")
    drive = FakeDrive(folders={"Invoices": 101})
    run = start(tmp_path, checkpoint=checkpoint, drive=drive)
    state = run.state(FOLDER)
    await run.once.run(state, FOLDER, run.actions.folder)
    assert run.drive.listings == 1 and run.drive.creates == 0
    assert state.hints[FOLDER.key] == {"id": 101}
    assert state.outcomes[FOLDER.key] == "created"
    [line] = run.lines()
    assert line["out"] == {"id": 101, DIGEST: step_digest(FOLDER)}


def test_the_room_is_checked_against_the_portal_every_time(tmp_path: Path) -> None:
    room = EnsureRoom(EnsureRoom.KEY, "Client - C", RoomType.COLLABORATION, ())
    checkpoint = Checkpoint()
    checkpoint.add(ROW, room.key, {"id": 5, "title": "Client - C", DIGEST: step_digest(room)})
    run = start(tmp_path, checkpoint=checkpoint)
    state = run.state(room)
    assert run.once.take_journalled(state, room) is False
    assert state.hints[room.key] == {"id": 5, "title": "Client - C"}
    # a room found that is not the journal's: the row's later journal lines no longer hold
    run.once.as_journalled(state, room, StepDone.of(RoomOut(6, "Client - C"), "created"))
    assert state.journal_stale
    # so the folder the journal holds (in the other room) is looked for again
    checkpoint.add(ROW, FOLDER.key, {"id": 55, DIGEST: step_digest(FOLDER)}, "created")
    assert run.once.take_journalled(state, FOLDER) is False
    assert state.hints[FOLDER.key] == {"id": 55}


async def test_a_group_runs_once_for_the_members_the_journal_does_not_hold(
    tmp_path: Path,
) -> None:
    checkpoint = Checkpoint()
    checkpoint.add("client:A", FOLDER.key, {"id": 1, DIGEST: step_digest(FOLDER)}, "found")
    run = start(tmp_path, checkpoint=checkpoint)
    b = run.state(FOLDER)
    a = RowState(plan=Plan("client:A", RowKind.CLIENT, b.plan.origin, (FOLDER,)), values=())
    calls: list[list[str]] = []

    async def group(members: Sequence[tuple[RowState, Step]], look: Look) -> dict[str, StepDone]:
        calls.append([s.plan.row_key for s, _ in members])
        return {s.plan.row_key: StepDone.of(FolderOut(2), "created") for s, _ in members}

    assert await run.once.run_group([(a, FOLDER), (b, FOLDER)], group) == {}
    assert calls == [[ROW]]
    assert a.outputs[FOLDER.key] == {"id": 1} and b.outputs[FOLDER.key] == {"id": 2}


# ---------------------------------------------------------------------- the journal's format


def test_a_journal_written_today_still_resumes(tmp_path: Path) -> None:
    """Lines exactly as this version writes them (digest included): the steps they hold are
    taken from the journal, their outputs read by the typed outputs."""
    path = tmp_path / "journal.jsonl"
    path.write_text(
        '{"row":"client:C-1","step":"room~intent","out":{},"at":"2026-12-01T10:00:00.000+00:00",'
        '"outcome":"intent"}\n'
        '{"row":"client:C-1","step":"room","out":{"id":1,"title":"Client - C",'
        '"_step":"0f0e0d0c0b0a0908"},"at":"2026-12-01T10:00:00.100+00:00","outcome":"created"}\n'
        '{"row":"client:C-1","step":"folder:Invoices","out":{"id":101,'
        '"_step":"92015d48e71bc460"},"at":"2026-12-01T10:00:00.200+00:00","outcome":"created"}\n'
        '{"row":"client:C-1","step":"share","out":{"set":[["c@x.example",11]],"room":1,'
        '"added":[["c@x.example","",11]],"invited":["c@x.example"],"_step":"aaaaaaaaaaaaaaaa"},'
        '"at":"2026-12-01T10:00:00.300+00:00","outcome":"changed"}\n'
    )
    checkpoint = read_journal(path)
    run = start(tmp_path, checkpoint=checkpoint)
    state = run.state(FOLDER)
    assert run.once.take_journalled(state, FOLDER)  # the digest of today's step is unchanged
    assert FolderOut.from_json(state.outputs[FOLDER.key]) == FolderOut(101)
    share = checkpoint.outputs(ROW)["share"]
    typed = ShareOut.from_json(share)
    assert typed.room == 1 and typed.invited == ("c@x.example",)
    assert typed.to_json() == {k: v for k, v in share.items() if k != DIGEST}
