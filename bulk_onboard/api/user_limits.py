"""The limits one API user's requests meet on one portal, shared by every client of a run.

The portal counts an API user's requests together, whichever client sends them
(docspace-api.md 7): in its sliding window (1,500 a minute) and in flight (15 writes, 50
reads). A run talks to the portal through two clients, its own and its lease's
(engine/lease.py): they share one pacer and one pair of in-flight caps, so the lease's beats
neither take a place the run's writes fill nor spend the window's allowance behind the
pacer's back (each was refused, and each refusal of the run's own requests after a beat
lowered what the run allowed itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from bulk_onboard.api.inflight import InflightCap
from bulk_onboard.api.pacing import Pacer


@dataclass(frozen=True, slots=True)
class UserLimits:
    """The pacer (the window) and the in-flight caps (reads, writes) of one API user."""

    pacer: Pacer
    reads: InflightCap
    writes: InflightCap
