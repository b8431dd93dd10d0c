"""The report's `changes` cell: from the steps' typed changes, and carried by a retry for the
rows it leaves alone."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.model.outputs import Change, RoomOut, ShareOut
from bulk_onboard.model.records import Origin
from bulk_onboard.runs.report import RowResult, Status, report_values
from bulk_onboard.runs.report_reader import read_results
from bulk_onboard.runs.report_stream import write_reports

WANTED = "title: Client - A → Client - =B; contact: a@x.example → b@x.example"


def _renamed_and_recontacted() -> RowResult:
    room = RoomOut(5, "Client - =B", (Change("title", "Client - A", "Client - =B"),))
    contact = (Change("contact", "a@x.example", "b@x.example"),)
    share = ShareOut((("b@x.example", 2),), 5, changes=contact)
    return RowResult(
        row_key="client:K-1",
        kind="client",
        origin=Origin("clients.csv", None, 2),
        values=(("client_id", "K-1"),),
        status=Status.UPDATED,
        outputs={"room": room.to_json(), "share": share.to_json()},
    )


def test_the_changes_cell_says_what_the_steps_changed_in_step_order() -> None:
    assert report_values(_renamed_and_recontacted(), ["client_id"])["changes"] == WANTED


def test_a_retry_carries_the_changes_of_the_rows_it_leaves_alone(tmp_path: Path) -> None:
    write_reports(tmp_path, [_renamed_and_recontacted()], ["client_id"])
    [carried] = read_results(tmp_path / "report.csv")
    assert carried.carried_changes == WANTED
    again = tmp_path / "again"
    again.mkdir()
    write_reports(again, [carried], ["client_id"])
    [twice] = read_results(again / "report.csv")
    assert twice.carried_changes == WANTED
