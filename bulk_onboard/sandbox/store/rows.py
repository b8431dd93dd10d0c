"""Typed, frozen rows of the sandbox database."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from bulk_onboard.sandbox import enums


@dataclass(frozen=True, slots=True)
class Person:
    seq: int
    id: str
    email: str
    first_name: str
    last_name: str
    user_name: str
    type: int
    status: int
    activation: int
    is_owner: bool
    password: str | None
    culture: str | None
    created: float
    created_by: str | None

    @property
    def is_admin(self) -> bool:
        """Owner or DocSpace admin: may see and manage everything."""
        return self.is_owner or self.type == enums.DOCSPACE_ADMIN

    @property
    def display_name(self) -> str:
        """'First Last'; falls back to the e-mail when both are blank (as the server does)."""
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Person:
        return cls(
            seq=row["seq"],
            id=row["id"],
            email=row["email"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            user_name=row["user_name"],
            type=row["type"],
            status=row["status"],
            activation=row["activation"],
            is_owner=bool(row["is_owner"]),
            password=row["password"],
            culture=row["culture"],
            created=row["created"],
            created_by=row["created_by"],
        )


@dataclass(frozen=True, slots=True)
class Folder:
    id: int
    parent_id: int | None
    title: str
    folder_type: int
    room_type: int | None
    room_id: int | None
    created: float
    updated: float
    created_by: str
    private: bool
    indexing: bool
    deny_download: bool
    tags: tuple[str, ...]

    @property
    def is_room(self) -> bool:
        return self.room_type is not None

    @property
    def is_system(self) -> bool:
        """The 'Rooms' and 'Archive' roots: not rooms, not folders in a room."""
        return self.room_id is None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Folder:
        return cls(
            id=row["id"],
            parent_id=row["parent_id"],
            title=row["title"],
            folder_type=row["folder_type"],
            room_type=row["room_type"],
            room_id=row["room_id"],
            created=row["created"],
            updated=row["updated"],
            created_by=row["created_by"],
            private=bool(row["private"]),
            indexing=bool(row["indexing"]),
            deny_download=bool(row["deny_download"]),
            tags=tuple(json.loads(row["tags"])),
        )


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: int
    folder_id: int
    title: str
    size: int
    created: float
    updated: float
    created_by: str
    source_id: int | None

    @property
    def extension(self) -> str:
        dot = self.title.rfind(".")
        return self.title[dot:].lower() if dot > 0 else ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredFile:
        return cls(
            id=row["id"],
            folder_id=row["folder_id"],
            title=row["title"],
            size=row["size"],
            created=row["created"],
            updated=row["updated"],
            created_by=row["created_by"],
            source_id=row["source_id"],
        )


@dataclass(frozen=True, slots=True)
class Share:
    room_id: int
    user_id: str
    access: int
    created: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Share:
        return cls(
            room_id=row["room_id"],
            user_id=row["user_id"],
            access=row["access"],
            created=row["created"],
        )


@dataclass(frozen=True, slots=True)
class Link:
    seq: int
    id: str
    room_id: int
    subject_type: int
    access: int
    title: str
    code: str
    request_token: str
    expiration: float | None
    password: str | None
    deny_download: bool
    internal: bool
    max_use_count: int | None
    created: float

    @property
    def link_type(self) -> int:
        """LinkType on the wire: 0 invitation, 1 external (primary or additional)."""
        return 0 if self.subject_type == enums.SUBJECT_INVITATION_LINK else 1

    @property
    def primary(self) -> bool:
        return self.subject_type == enums.SUBJECT_PRIMARY_LINK

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Link:
        return cls(
            seq=row["seq"],
            id=row["id"],
            room_id=row["room_id"],
            subject_type=row["subject_type"],
            access=row["access"],
            title=row["title"],
            code=row["code"],
            request_token=row["request_token"],
            expiration=row["expiration"],
            password=row["password"],
            deny_download=bool(row["deny_download"]),
            internal=bool(row["internal"]),
            max_use_count=row["max_use_count"],
            created=row["created"],
        )


@dataclass(frozen=True, slots=True)
class Mail:
    seq: int
    to: str
    kind: str
    user_id: str | None
    room_id: int | None
    subject: str
    message: str | None
    link: str | None
    culture: str | None
    time: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Mail:
        return cls(
            seq=row["seq"],
            to=row["to_email"],
            kind=row["kind"],
            user_id=row["user_id"],
            room_id=row["room_id"],
            subject=row["subject"],
            message=row["message"],
            link=row["link"],
            culture=row["culture"],
            time=row["time"],
        )
