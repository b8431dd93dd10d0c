"""Groups and their members (docspace-api.md 12.1). Names are neither trimmed nor unique, as
on the server: two groups may share one name."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Group:
    seq: int
    id: str
    name: str
    manager: str | None
    created: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Group:
        return cls(row["seq"], row["id"], row["name"], row["manager"], row["created"])


class GroupsTable:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, name: str, now: float) -> Group:
        group_id = str(uuid.uuid4())
        self._conn.execute(
            "INSERT INTO groups (id, name, created) VALUES (?, ?, ?)", (group_id, name, now)
        )
        found = self.get(group_id)
        assert found is not None
        return found

    def get(self, group_id: str) -> Group | None:
        row = self._conn.execute("SELECT * FROM groups WHERE id = ?", (group_id,)).fetchone()
        return Group.from_row(row) if row else None

    def all(self) -> list[Group]:
        rows = self._conn.execute("SELECT * FROM groups ORDER BY name, seq").fetchall()
        return [Group.from_row(r) for r in rows]

    def delete(self, group_id: str) -> None:
        self._conn.execute("DELETE FROM group_members WHERE group_id = ?", (group_id,))
        self._conn.execute("DELETE FROM groups WHERE id = ?", (group_id,))

    def set_manager(self, group_id: str, user_id: str | None) -> None:
        self._conn.execute("UPDATE groups SET manager = ? WHERE id = ?", (user_id, group_id))

    def members(self, group_id: str) -> list[str]:
        rows = self._conn.execute(
            "SELECT user_id FROM group_members WHERE group_id = ? ORDER BY seq", (group_id,)
        ).fetchall()
        return [str(r["user_id"]) for r in rows]

    def groups_of(self, user_id: str) -> list[str]:
        rows = self._conn.execute(
            "SELECT group_id FROM group_members WHERE user_id = ? ORDER BY seq", (user_id,)
        ).fetchall()
        return [str(r["group_id"]) for r in rows]

    def add_member(self, group_id: str, user_id: str) -> None:
        """Upserted: adding a member again changes nothing."""
        self._conn.execute(
            "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)",
            (group_id, user_id),
        )

    def remove_member(self, group_id: str, user_id: str) -> None:
        self._conn.execute(
            "DELETE FROM group_members WHERE group_id = ? AND user_id = ?", (group_id, user_id)
        )
        group = self.get(group_id)
        if group is not None and group.manager == user_id:
            self.set_manager(group_id, None)  # removing the manager clears the role
