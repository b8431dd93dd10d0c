"""Who may enter a room: member shares and room links."""

from __future__ import annotations

import sqlite3

from bulk_onboard.sandbox.store.rows import Link, Share


class AccessTable:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # --- member shares -----------------------------------------------------------------

    def share(self, room_id: int, user_id: str) -> Share | None:
        row = self._conn.execute(
            "SELECT * FROM shares WHERE room_id = ? AND user_id = ?", (room_id, user_id)
        ).fetchone()
        return Share.from_row(row) if row else None

    def shares(self, room_id: int) -> list[Share]:
        rows = self._conn.execute(
            "SELECT * FROM shares WHERE room_id = ? ORDER BY created, rowid", (room_id,)
        ).fetchall()
        return [Share.from_row(r) for r in rows]

    def rooms_of(self, user_id: str) -> set[int]:
        rows = self._conn.execute(
            "SELECT room_id FROM shares WHERE user_id = ? AND access != 0", (user_id,)
        ).fetchall()
        return {int(r["room_id"]) for r in rows}

    def all_shares(self) -> list[Share]:
        rows = self._conn.execute("SELECT * FROM shares ORDER BY room_id, created").fetchall()
        return [Share.from_row(r) for r in rows]

    def set_share(self, room_id: int, user_id: str, access: int, now: float) -> None:
        self._conn.execute(
            """INSERT INTO shares (room_id, user_id, access, created) VALUES (?, ?, ?, ?)
               ON CONFLICT (room_id, user_id) DO UPDATE SET access = excluded.access""",
            (room_id, user_id, access, now),
        )

    def remove_share(self, room_id: int, user_id: str) -> None:
        self._conn.execute(
            "DELETE FROM shares WHERE room_id = ? AND user_id = ?", (room_id, user_id)
        )

    def remove_subject(self, subject_id: str) -> None:
        """Every share record of a user or group (FileSecurity.RemoveSubjectAsync)."""
        self._conn.execute("DELETE FROM shares WHERE user_id = ?", (subject_id,))

    # --- links -------------------------------------------------------------------------

    def link(self, link_id: str) -> Link | None:
        row = self._conn.execute("SELECT * FROM links WHERE id = ?", (link_id,)).fetchone()
        return Link.from_row(row) if row else None

    def link_by_code(self, code: str) -> Link | None:
        row = self._conn.execute("SELECT * FROM links WHERE code = ?", (code,)).fetchone()
        return Link.from_row(row) if row else None

    def link_by_request_token(self, token: str) -> Link | None:
        row = self._conn.execute("SELECT * FROM links WHERE request_token = ?", (token,)).fetchone()
        return Link.from_row(row) if row else None

    def links(self, room_id: int) -> list[Link]:
        """Links of a room: the primary external link first, then by creation."""
        rows = self._conn.execute(
            "SELECT * FROM links WHERE room_id = ? ORDER BY subject_type != 4, seq", (room_id,)
        ).fetchall()
        return [Link.from_row(r) for r in rows]

    def all_links(self) -> list[Link]:
        rows = self._conn.execute("SELECT * FROM links ORDER BY room_id, seq").fetchall()
        return [Link.from_row(r) for r in rows]

    def save_link(self, link: Link) -> Link:
        """Insert the link, or replace the stored one with the same id."""
        self._conn.execute(
            """INSERT INTO links (id, room_id, subject_type, access, title, code, request_token,
                   expiration, password, deny_download, internal, max_use_count, created)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET access = excluded.access,
                   title = excluded.title, expiration = excluded.expiration,
                   password = excluded.password, deny_download = excluded.deny_download,
                   internal = excluded.internal, max_use_count = excluded.max_use_count""",
            (
                link.id,
                link.room_id,
                link.subject_type,
                link.access,
                link.title,
                link.code,
                link.request_token,
                link.expiration,
                link.password,
                int(link.deny_download),
                int(link.internal),
                link.max_use_count,
                link.created,
            ),
        )
        saved = self.link(link.id)
        assert saved is not None
        return saved

    def delete_link(self, link_id: str) -> None:
        self._conn.execute("DELETE FROM links WHERE id = ?", (link_id,))
