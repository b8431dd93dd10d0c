"""The sandbox portal's SQLite database: schema, seed, settings and the tables.

One connection, used from the event loop only (calls are short and synchronous). A file
path keeps the portal across processes; ":memory:" lives as long as the Store.
"""

from __future__ import annotations

import secrets
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources

from bulk_onboard.sandbox import enums
from bulk_onboard.sandbox.store.access import AccessTable
from bulk_onboard.sandbox.store.groups import GroupsTable
from bulk_onboard.sandbox.store.outbox import OutboxTable
from bulk_onboard.sandbox.store.people import PeopleTable
from bulk_onboard.sandbox.store.rows import Folder, Link, Mail, Person, Share, StoredFile
from bulk_onboard.sandbox.store.schema import (
    ARCHIVE_ROOT_ID,
    DATA_TABLES,
    DDL,
    FIRST_FILE_ID,
    FIRST_ROOM_ID,
    ROOMS_ROOT_ID,
)
from bulk_onboard.sandbox.store.tree import TreeTable

__all__ = [
    "ARCHIVE_ROOT_ID",
    "ROOMS_ROOT_ID",
    "Folder",
    "Link",
    "Mail",
    "Person",
    "Seed",
    "Share",
    "Store",
    "StoredFile",
]

TEMPLATES_ROOM_TITLE = "Templates"
TEMPLATE_FILES = ("Welcome.pdf", "Guide.pdf")


@dataclass(frozen=True, slots=True)
class Seed:
    """What a client needs to know about a freshly started (or reopened) portal."""

    token: str
    owner_id: str
    owner_email: str
    owner_password: str
    templates_room_id: int
    template_ids: dict[str, int]


def new_api_key() -> str:
    return "sk-" + secrets.token_hex(24)


def template_bytes(name: str) -> bytes:
    return resources.files("bulk_onboard.sandbox").joinpath(name).read_bytes()


class Store:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.people = PeopleTable(conn)
        self.tree = TreeTable(conn)
        self.access = AccessTable(conn)
        self.outbox = OutboxTable(conn)
        self.groups = GroupsTable(conn)
        self._depth = 0

    @classmethod
    def open(cls, path: str) -> Store:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.executescript(DDL)
        return cls(conn)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing; nested calls join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._depth = 0

    # --- settings ----------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row["value"]) if row else None

    def set_setting(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- seed --------------------------------------------------------------------------

    def ensure_seeded(
        self, *, token: str | None, owner_email: str, owner_password: str | None, now: float
    ) -> Seed:
        """Seed an empty database; reopen a seeded one (a given token/password wins)."""
        with self.transaction():
            if token is not None:
                self.set_setting("token", token)
            elif self.setting("token") is None:
                self.set_setting("token", new_api_key())
            if owner_password is not None:
                self.set_setting("owner_password", owner_password)
            elif self.setting("owner_password") is None:
                self.set_setting("owner_password", secrets.token_urlsafe(12))
            if self.setting("owner_email") is None:
                self.set_setting("owner_email", owner_email.strip())
            if self.setting("owner_id") is None:
                self.set_setting("owner_id", str(uuid.uuid4()))
            if self.setting("templates_room_id") is None:
                self._seed_portal(now)
            owner = self.people.owner()
            self.conn.execute(
                "UPDATE people SET password = ? WHERE id = ?",
                (self.setting("owner_password"), owner.id),
            )
        return self.seed_info()

    def reset(self, now: float) -> Seed:
        """Back to the seeded state: same owner, token and password, ids restart."""
        with self.transaction():
            for table in DATA_TABLES:
                self.conn.execute(f"DELETE FROM {table}")
            self.conn.execute(
                "DELETE FROM sqlite_sequence WHERE name IN ('people', 'folders', 'files', "
                "'links', 'outbox', "
                "'groups', 'group_members')"
            )
            self.conn.execute(
                "DELETE FROM settings WHERE key IN ('templates_room_id', 'template_ids')"
            )
            self._seed_portal(now)
        return self.seed_info()

    def seed_info(self) -> Seed:
        ids = {}
        for pair in (self.setting("template_ids") or "").split(","):
            name, _, number = pair.partition("=")
            if name:
                ids[name] = int(number)
        owner = self.people.owner()
        return Seed(
            token=self.setting("token") or "",
            owner_id=owner.id,
            owner_email=owner.email,
            owner_password=self.setting("owner_password") or "",
            templates_room_id=int(self.setting("templates_room_id") or 0),
            template_ids=ids,
        )

    def _seed_portal(self, now: float) -> None:
        owner_id = self.setting("owner_id") or ""
        self.people.add(
            email=self.setting("owner_email") or "",
            first_name="Portal",
            last_name="Owner",
            type=enums.DOCSPACE_ADMIN,
            status=enums.ACTIVE,
            activation=enums.ACTIVATED,
            now=now,
            created_by=None,
            password=self.setting("owner_password"),
            culture="en-US",
            is_owner=True,
            user_id=owner_id,
        )
        for root_id, title, kind in (
            (ROOMS_ROOT_ID, "Rooms", enums.FOLDER_VIRTUAL_ROOMS),
            (ARCHIVE_ROOT_ID, "Archive", enums.FOLDER_ARCHIVE),
        ):
            self.tree.add_folder(
                parent_id=None,
                title=title,
                folder_type=kind,
                room_type=None,
                room_id=None,
                created_by=owner_id,
                now=now,
                folder_id=root_id,
            )
        room = self.tree.add_folder(
            parent_id=ROOMS_ROOT_ID,
            title=TEMPLATES_ROOM_TITLE,
            folder_type=enums.ROOM_FOLDER_TYPE[5],
            room_type=5,
            room_id=None,
            created_by=owner_id,
            now=now,
            folder_id=FIRST_ROOM_ID,
        )
        ids = []
        for offset, name in enumerate(TEMPLATE_FILES):
            stored = self.tree.add_file(
                folder_id=room.id,
                title=name,
                size=len(template_bytes(name)),
                created_by=owner_id,
                now=now,
                file_id=FIRST_FILE_ID + offset,
            )
            ids.append(f"{name}={stored.id}")
        self.set_setting("templates_room_id", str(room.id))
        self.set_setting("template_ids", ",".join(ids))
