"""Rooms, folders and files: one tree under the 'Rooms' root."""

from __future__ import annotations

import json
import sqlite3

from bulk_onboard.sandbox.store.rows import Folder, StoredFile


class TreeTable:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def folder(self, folder_id: int) -> Folder | None:
        row = self._conn.execute("SELECT * FROM folders WHERE id = ?", (folder_id,)).fetchone()
        return Folder.from_row(row) if row else None

    def room(self, room_id: int) -> Folder | None:
        found = self.folder(room_id)
        return found if found is not None and found.is_room else None

    def subfolders(self, parent_id: int) -> list[Folder]:
        rows = self._conn.execute(
            "SELECT * FROM folders WHERE parent_id = ? ORDER BY id", (parent_id,)
        ).fetchall()
        return [Folder.from_row(r) for r in rows]

    def all_folders(self) -> list[Folder]:
        rows = self._conn.execute("SELECT * FROM folders ORDER BY id").fetchall()
        return [Folder.from_row(r) for r in rows]

    def add_folder(
        self,
        *,
        parent_id: int | None,
        title: str,
        folder_type: int,
        room_type: int | None,
        room_id: int | None,
        created_by: str,
        now: float,
        private: bool = False,
        indexing: bool = False,
        deny_download: bool = False,
        tags: tuple[str, ...] = (),
        folder_id: int | None = None,
    ) -> Folder:
        cursor = self._conn.execute(
            """INSERT INTO folders (id, parent_id, title, folder_type, room_type, room_id,
                   created, updated, created_by, private, indexing, deny_download, tags)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                folder_id,
                parent_id,
                title,
                folder_type,
                room_type,
                room_id,
                now,
                now,
                created_by,
                int(private),
                int(indexing),
                int(deny_download),
                json.dumps(tags),
            ),
        )
        new_id = int(cursor.lastrowid or 0)
        if room_type is not None and room_id is None:  # a room contains itself
            self._conn.execute("UPDATE folders SET room_id = ? WHERE id = ?", (new_id, new_id))
        created = self.folder(new_id)
        assert created is not None
        return created

    def delete_room(self, room_id: int) -> bool:
        """Remove a room with its folders, files, members and links (a room deleted in
        DocSpace and its trash emptied). False when there is no such room."""
        if self.room(room_id) is None:
            return False
        folders = "SELECT id FROM folders WHERE id = ? OR room_id = ?"
        self._conn.execute(f"DELETE FROM files WHERE folder_id IN ({folders})", (room_id, room_id))
        self._conn.execute("DELETE FROM folders WHERE id = ? OR room_id = ?", (room_id, room_id))
        self._conn.execute("DELETE FROM shares WHERE room_id = ?", (room_id,))
        self._conn.execute("DELETE FROM links WHERE room_id = ?", (room_id,))
        return True

    def personal_root(self, user_id: str, folder_type: int) -> Folder | None:
        """A person's own root folder of the type ("My documents" or Trash), if made."""
        row = self._conn.execute(
            "SELECT * FROM folders WHERE parent_id IS NULL AND folder_type = ? AND created_by = ?",
            (folder_type, user_id),
        ).fetchone()
        return Folder.from_row(row) if row else None

    def delete_tree(self, folder_id: int) -> None:
        """Remove a folder with everything below it (deleted for good, not to the Trash)."""
        below = """WITH RECURSIVE below(id) AS (
                       SELECT :root UNION ALL
                       SELECT f.id FROM folders f JOIN below b ON f.parent_id = b.id)
                   SELECT id FROM below"""
        self._conn.execute(f"DELETE FROM files WHERE folder_id IN ({below})", {"root": folder_id})
        self._conn.execute(f"DELETE FROM folders WHERE id IN ({below})", {"root": folder_id})

    def move(self, folder_id: int, parent_id: int, now: float) -> None:
        self._conn.execute(
            "UPDATE folders SET parent_id = ?, updated = ? WHERE id = ?",
            (parent_id, now, folder_id),
        )

    def update(
        self,
        folder_id: int,
        now: float,
        *,
        title: str | None = None,
        tags: tuple[str, ...] | None = None,
        indexing: bool | None = None,
        deny_download: bool | None = None,
    ) -> None:
        """Change the given settings (None = unchanged) and stamp `updated`."""
        changes: dict[str, object] = {"updated": now}
        if title is not None:
            changes["title"] = title
        if tags is not None:
            changes["tags"] = json.dumps(tags)
        if indexing is not None:
            changes["indexing"] = int(indexing)
        if deny_download is not None:
            changes["deny_download"] = int(deny_download)
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self._conn.execute(
            f"UPDATE folders SET {assignments} WHERE id = ?", (*changes.values(), folder_id)
        )

    def reassign(self, from_user: str, to_user: str) -> None:
        """A deleted user's rooms and folders pass to another owner."""
        self._conn.execute(
            "UPDATE folders SET created_by = ? WHERE created_by = ?", (to_user, from_user)
        )

    def all_tags(self) -> set[str]:
        """Every custom tag of the portal, lower-cased (tags are portal-wide)."""
        rows = self._conn.execute("SELECT tags FROM folders WHERE tags != '[]'").fetchall()
        return {tag.lower() for row in rows for tag in json.loads(row["tags"])}

    def touch(self, folder_id: int, now: float) -> None:
        self._conn.execute("UPDATE folders SET updated = ? WHERE id = ?", (now, folder_id))

    def counts(self, folder_id: int) -> tuple[int, int]:
        """(files, folders) anywhere below the folder, as FolderDto reports them."""
        row = self._conn.execute(
            """WITH RECURSIVE below(id) AS (
                   SELECT id FROM folders WHERE parent_id = :root
                   UNION ALL SELECT f.id FROM folders f JOIN below b ON f.parent_id = b.id)
               SELECT (SELECT COUNT(*) FROM files WHERE folder_id = :root
                          OR folder_id IN (SELECT id FROM below)) AS files,
                      (SELECT COUNT(*) FROM below) AS folders""",
            {"root": folder_id},
        ).fetchone()
        return int(row["files"]), int(row["folders"])

    def path(self, folder: Folder) -> list[Folder]:
        """The folders from the root down to (and including) this one."""
        chain = [folder]
        while chain[0].parent_id is not None:
            parent = self.folder(chain[0].parent_id)
            if parent is None:
                break
            chain.insert(0, parent)
        return chain

    # --- files -------------------------------------------------------------------------

    def file(self, file_id: int) -> StoredFile | None:
        row = self._conn.execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone()
        return StoredFile.from_row(row) if row else None

    def files_in(self, folder_id: int) -> list[StoredFile]:
        rows = self._conn.execute(
            "SELECT * FROM files WHERE folder_id = ? ORDER BY id", (folder_id,)
        ).fetchall()
        return [StoredFile.from_row(r) for r in rows]

    def all_files(self) -> list[StoredFile]:
        rows = self._conn.execute("SELECT * FROM files ORDER BY id").fetchall()
        return [StoredFile.from_row(r) for r in rows]

    def add_file(
        self,
        *,
        folder_id: int,
        title: str,
        size: int,
        created_by: str,
        now: float,
        source_id: int | None = None,
        file_id: int | None = None,
    ) -> StoredFile:
        cursor = self._conn.execute(
            """INSERT INTO files (id, folder_id, title, size, created, updated, created_by,
                   source_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (file_id, folder_id, title, size, now, now, created_by, source_id),
        )
        created = self.file(int(cursor.lastrowid or 0))
        assert created is not None
        return created
