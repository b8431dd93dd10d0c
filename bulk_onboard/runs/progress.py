"""What a run tells whoever watches it while it goes (a progress bar, periodic log lines).

The engine calls a `Progress`; the command line's displays (cli/progress.py) implement it.
`NoProgress` is the display of a run nobody watches (the dry run, tests).
"""

from __future__ import annotations

from typing import Protocol

from bulk_onboard.runs.report import Status


class Progress(Protocol):
    """How far the run is, as it goes."""

    def start(self, total: int, extra_work: int = 0) -> None:
        """`total` rows; `extra_work` units done before some rows finish (the people phase of
        each user row), so an ETA counts them from the start."""

    def work_done(self) -> None:
        """One unit of extra work done (a user row's person is in place)."""

    def row_done(self, status: Status) -> None:
        """A row ended with this status."""

    def row_changed(self, old: Status, new: Status) -> None:
        """A finished row's status was corrected (failed rows of an outage: interrupted)."""

    def close(self) -> None:
        """The run ended."""


class NoProgress:
    """A run nobody watches: every call does nothing."""

    def start(self, total: int, extra_work: int = 0) -> None:
        pass

    def work_done(self) -> None:
        pass

    def row_done(self, status: Status) -> None:
        pass

    def row_changed(self, old: Status, new: Status) -> None:
        pass

    def close(self) -> None:
        pass
