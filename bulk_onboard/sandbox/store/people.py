"""People and login sessions."""

from __future__ import annotations

import re
import sqlite3
import uuid

from bulk_onboard.sandbox.store.rows import Person


def email_key(email: str) -> str:
    """E-mail addresses are compared case-insensitively."""
    return email.strip().lower()


class PeopleTable:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, user_id: str) -> Person | None:
        row = self._conn.execute("SELECT * FROM people WHERE id = ?", (user_id,)).fetchone()
        return Person.from_row(row) if row else None

    def by_email(self, email: str) -> Person | None:
        row = self._conn.execute(
            "SELECT * FROM people WHERE email_key = ?", (email_key(email),)
        ).fetchone()
        return Person.from_row(row) if row else None

    def owner(self) -> Person:
        row = self._conn.execute("SELECT * FROM people WHERE is_owner = 1").fetchone()
        if row is None:
            raise LookupError("the sandbox portal has no owner")
        return Person.from_row(row)

    def all(self) -> list[Person]:
        rows = self._conn.execute("SELECT * FROM people ORDER BY seq").fetchall()
        return [Person.from_row(r) for r in rows]

    def brief_with_activation(self, activation: int) -> list[tuple[str, str, str, int, str]]:
        """(id, display name, user name, type, created by) of the people of one activation
        status, in the order they were added: what an answer listing them all needs."""
        rows = self._conn.execute(
            "SELECT id, first_name, last_name, email, user_name, type, created_by FROM people "
            "WHERE activation = ? ORDER BY seq",
            (activation,),
        ).fetchall()
        return [(r[0], f"{r[1]} {r[2]}".strip() or r[3], r[4], r[5], r[6] or "") for r in rows]

    def with_status(self, status: int) -> list[Person]:
        rows = self._conn.execute(
            "SELECT * FROM people WHERE status = ? ORDER BY seq", (status,)
        ).fetchall()
        return [Person.from_row(r) for r in rows]

    def add(
        self,
        *,
        email: str,
        first_name: str,
        last_name: str,
        type: int,
        status: int,
        activation: int,
        now: float,
        created_by: str | None,
        password: str | None = None,
        culture: str | None = None,
        is_owner: bool = False,
        user_id: str | None = None,
    ) -> Person:
        new_id = user_id or str(uuid.uuid4())
        self._conn.execute(
            """INSERT INTO people (id, email, email_key, first_name, last_name, user_name, type,
                   status, activation, is_owner, password, culture, created, created_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                new_id,
                email.strip(),
                email_key(email),
                first_name,
                last_name,
                self._free_user_name(email),
                type,
                status,
                activation,
                int(is_owner),
                password,
                culture,
                now,
                created_by,
            ),
        )
        person = self.get(new_id)
        assert person is not None
        return person

    def set_type(self, user_id: str, type: int) -> None:
        self._conn.execute("UPDATE people SET type = ? WHERE id = ?", (type, user_id))

    def by_user_name(self, user_name: str) -> Person | None:
        row = self._conn.execute(
            "SELECT * FROM people WHERE user_name = ?", (user_name,)
        ).fetchone()
        return Person.from_row(row) if row else None

    def set_status(self, user_id: str, status: int) -> None:
        self._conn.execute("UPDATE people SET status = ? WHERE id = ?", (status, user_id))

    def set_activation(self, user_id: str, activation: int) -> None:
        self._conn.execute("UPDATE people SET activation = ? WHERE id = ?", (activation, user_id))

    def end_sessions(self, user_id: str) -> None:
        self._conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    def delete(self, user_id: str) -> None:
        """The profile, its sessions, share records and relations."""
        for statement in (
            "DELETE FROM sessions WHERE user_id = ?",
            "DELETE FROM shares WHERE user_id = ?",
            "DELETE FROM relations WHERE user_id = ? OR inviter_id = ?",
            "DELETE FROM people WHERE id = ?",
        ):
            params = (user_id, user_id) if statement.count("?") == 2 else (user_id,)
            self._conn.execute(statement, params)

    # --- relations (inviter → person: UserManager user relations) ----------------------

    def relate(self, inviter_id: str, user_id: str) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO relations (inviter_id, user_id) VALUES (?, ?)",
            (inviter_id, user_id),
        )

    def related(self, inviter_id: str, user_id: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM relations WHERE inviter_id = ? AND user_id = ?", (inviter_id, user_id)
        ).fetchone()
        return row is not None

    def _free_user_name(self, email: str) -> str:
        base = re.sub(r"[^a-z0-9._-]", "", email.split("@", 1)[0].lower()) or "user"
        candidate, n = base, 1
        while self._conn.execute(
            "SELECT 1 FROM people WHERE user_name = ?", (candidate,)
        ).fetchone():
            n += 1
            candidate = f"{base}{n}"
        return candidate

    # --- sessions (POST /api/2.0/authentication) ---------------------------------------

    def add_session(self, token: str, user_id: str, expires: float) -> None:
        self._conn.execute(
            "INSERT INTO sessions (token, user_id, expires) VALUES (?, ?, ?)",
            (token, user_id, expires),
        )

    def session_user(self, token: str, now: float) -> Person | None:
        row = self._conn.execute(
            "SELECT user_id FROM sessions WHERE token = ? AND expires > ?", (token, now)
        ).fetchone()
        return self.get(row["user_id"]) if row else None
