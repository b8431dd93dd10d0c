"""Every e-mail the real portal would have sent."""

from __future__ import annotations

import sqlite3

from bulk_onboard.sandbox.store.rows import Mail

# Mail kinds
ACTIVATION = "activation"  # POST people: confirm your e-mail / set a password
INVITATION = "invitation"  # POST people/invite: join the portal
ROOM_INVITATION = "room_invitation"  # PUT rooms/{id}/share to a new or pending address
ROOM_NOTIFICATION = "room_notification"  # PUT rooms/{id}/share with notify to an active user
TYPE_CHANGED = "type_changed"  # PUT people/type/{type}: "your user type was changed"
KINDS = (ACTIVATION, INVITATION, ROOM_INVITATION, ROOM_NOTIFICATION, TYPE_CHANGED)


class OutboxTable:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def send(
        self,
        *,
        to: str,
        kind: str,
        subject: str,
        now: float,
        user_id: str | None = None,
        room_id: int | None = None,
        message: str | None = None,
        link: str | None = None,
        culture: str | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown mail kind {kind!r}")
        self._conn.execute(
            """INSERT INTO outbox (to_email, kind, user_id, room_id, subject, message, link,
                   culture, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (to, kind, user_id, room_id, subject, message, link, culture, now),
        )

    def all(self) -> list[Mail]:
        rows = self._conn.execute("SELECT * FROM outbox ORDER BY seq").fetchall()
        return [Mail.from_row(r) for r in rows]
