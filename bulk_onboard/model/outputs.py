"""What each step kind confirmed: one frozen dataclass per kind, with its JSON form.

The JSON form is what the journal records (one line per confirmed step), what a row's
outputs hold for later steps (a `Ref` names a field of it), what the report shows and a
retry reads back, and what undo reads to learn what a run did. `to_json` writes exactly the
fields the journal has always had, so a journal written before these types existed reads
the same; `from_json` takes a journal line's `out` (extra fields, such as the step's digest,
are ignored).

    step kind     key            output        JSON fields
    EnsureRoom    room           RoomOut       id, title
    FindRoom      room           RoomOut       id, title
    EnsureFolder  folder:<t>     FolderOut     id
    CopyFile      copy:<t>       FileOut       id
    CopySkeleton  skeleton       SkeletonOut   folders, files (the room's top-level items)
    RoomFromTemplate room        RoomOut       id, title
    TemplateContent content      SkeletonOut   folders, files (what the job or fallback made)
    NameContact   contact        ContactOut    id, email
    ShareRoom     share          ShareOut      set (found); set, room, added, invited (changed)
    EnsureLink    link           LinkOut       id, url
    EnsurePerson  person         PersonOut     id
    JoinRoom      membership     MembershipOut (found: none); room, person, access, added
    JoinGroup     group:<name>   GroupOut      id, name, person, added
    ShareGroups   groups         GroupShareOut room, given, added, created
    AnnounceCrm   crm            CrmOut        idempotency_key, then each sink's outcome

A step that changed something that existed (a room renamed, a manager or contact replaced, an
access changed) also has `changes`: [[what, old, new], ...] (`Change`), only when it has any;
`changes_in` gathers a row's, which the report, plan --against-portal and the CRM show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

from bulk_onboard.model import Json


class Output(Protocol):
    def to_json(self) -> Json: ...


@dataclass(frozen=True, slots=True)
class Change:
    """One thing a run changed on what existed: `what` (title, manager, contact, or a
    member's e-mail for an access), its old and its new value ("" for none)."""

    what: str
    old: str
    new: str

    def text(self) -> str:
        return f"{self.what}: {self.old or '(none)'} → {self.new or '(none)'}"

    def to_json(self) -> list[str]:
        return [self.what, self.old, self.new]

    def as_dict(self) -> dict[str, str]:
        return {"what": self.what, "old": self.old, "new": self.new}


def _changes_json(out: Json, changes: tuple[Change, ...]) -> Json:
    if changes:
        out["changes"] = [c.to_json() for c in changes]
    return out


def _changes_of(out: Mapping[str, Any]) -> tuple[Change, ...]:
    found: list[Change] = []
    for item in out.get("changes") or ():
        if isinstance(item, list | tuple) and len(item) == 3:
            found.append(Change(str(item[0]), str(item[1]), str(item[2])))
    return tuple(found)


def changes_in(outputs: Mapping[str, Mapping[str, Any]]) -> tuple[Change, ...]:
    """Every change a row's steps made, in step order (none: nothing that existed changed)."""
    return tuple(
        c for out in outputs.values() if isinstance(out, Mapping) for c in _changes_of(out)
    )


def changes_text(changes: tuple[Change, ...]) -> str:
    """The report's `changes` cell: "title: A → B; contact: old@x → new@x"."""
    return "; ".join(c.text() for c in changes)


@dataclass(frozen=True, slots=True)
class RoomOut:
    """A client's room (EnsureRoom) or an existing room named by title (FindRoom)."""

    id: int
    title: str = ""
    changes: tuple[Change, ...] = ()  # a rename: ("title", old, new)

    def to_json(self) -> Json:
        return _changes_json({"id": self.id, "title": self.title}, self.changes)

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> RoomOut:
        return cls(int(out["id"]), str(out.get("title") or ""), _changes_of(out))

    @classmethod
    def read(cls, out: Mapping[str, Any] | None) -> RoomOut | None:
        """The room of a row's outputs, or None when the step gave no id."""
        return cls.from_json(out) if out is not None and "id" in out else None


@dataclass(frozen=True, slots=True)
class FolderOut:
    id: int

    def to_json(self) -> Json:
        return {"id": self.id}

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> FolderOut:
        return cls(int(out["id"]))


@dataclass(frozen=True, slots=True)
class FileOut:
    """A template copied into the room."""

    id: int

    def to_json(self) -> Json:
        return {"id": self.id}

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> FileOut:
        return cls(int(out["id"]))


@dataclass(frozen=True, slots=True)
class SkeletonOut:
    """The skeleton's top-level folders and files in the room: found there, or made (or
    merged into) by the copy."""

    folders: tuple[int, ...] = ()
    files: tuple[int, ...] = ()

    def to_json(self) -> Json:
        return {"folders": list(self.folders), "files": list(self.files)}

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> SkeletonOut:
        return cls(
            tuple(int(i) for i in out.get("folders") or ()),
            tuple(int(i) for i in out.get("files") or ()),
        )


@dataclass(frozen=True, slots=True)
class Added:
    """A member a share added: undo removes them (by id; "" for an e-mail entry)."""

    email: str
    person_id: str
    access: int


@dataclass(frozen=True, slots=True)
class ShareOut:
    """Whom this tool gave access in the room (`given`: e-mail, access), and when it sent a
    share, the room and what undo takes back: the members it added, the addresses it invited.
    A share that found everything in place has no room (its JSON only `set`)."""

    given: tuple[tuple[str, int], ...]
    room: int | None = None
    added: tuple[Added, ...] = ()
    invited: tuple[str, ...] = ()
    # manager or contact replaced, an access changed (and whom it removed: `removed`)
    changes: tuple[Change, ...] = ()
    removed: tuple[str, ...] = ()

    def to_json(self) -> Json:
        out: Json = {"set": [[email, access] for email, access in self.given]}
        if self.room is not None:
            out["room"] = self.room
            out["added"] = [[a.email, a.person_id, a.access] for a in self.added]
            out["invited"] = list(self.invited)
        if self.removed:
            out["removed"] = list(self.removed)
        return _changes_json(out, self.changes)

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> ShareOut:
        room = out.get("room")
        return cls(
            tuple((str(email), int(access)) for email, access in out.get("set") or []),
            int(room) if room is not None else None,
            tuple(Added(str(e), str(p), int(a)) for e, p, a in out.get("added") or []),
            tuple(str(email) for email in out.get("invited") or []),
            _changes_of(out),
            tuple(str(email) for email in out.get("removed") or []),
        )


@dataclass(frozen=True, slots=True)
class LinkOut:
    id: str | None = None
    url: str | None = None
    changes: tuple[Change, ...] = ()  # its access set: ("link", old, new)

    def to_json(self) -> Json:
        return _changes_json({"id": self.id, "url": self.url}, self.changes)

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> LinkOut:
        link_id, url = out.get("id"), out.get("url")
        return cls(
            str(link_id) if link_id is not None else None,
            str(url) if url is not None else None,
            _changes_of(out),
        )


@dataclass(frozen=True, slots=True)
class PersonOut:
    id: str
    changes: tuple[Change, ...] = ()  # a type raised: ("type", old, new)

    def to_json(self) -> Json:
        return _changes_json({"id": self.id}, self.changes)

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> PersonOut:
        return cls(str(out.get("id", "")), _changes_of(out))


@dataclass(frozen=True, slots=True)
class ContactOut:
    """The client contact as a person of the portal (what undo needs: the id and address)."""

    id: str
    email: str

    def to_json(self) -> Json:
        return {"id": self.id, "email": self.email}

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> ContactOut:
        return cls(str(out.get("id", "")), str(out.get("email", "")))


@dataclass(frozen=True, slots=True)
class MembershipOut:
    """A person's access in a room: set by this run (room, person, access; `added` when they
    were not a member before, what undo takes back), or found in place (no room)."""

    room: int | None = None
    person: str = ""
    access: int | None = None
    added: bool = False
    changes: tuple[Change, ...] = ()  # an access changed: (e-mail, old, new)

    def to_json(self) -> Json:
        if self.room is None:
            return {}
        out: Json = {
            "room": self.room,
            "person": self.person,
            "access": self.access,
            "added": self.added,
        }
        return _changes_json(out, self.changes)

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> MembershipOut:
        if out.get("room") is None:
            return cls()
        access = out.get("access")
        return cls(
            int(out["room"]),
            str(out.get("person", "")),
            int(access) if access is not None else None,
            bool(out.get("added")),
            _changes_of(out),
        )


@dataclass(frozen=True, slots=True)
class CrmOut:
    """The record's idempotency key, and each sink's outcome (or "taken before")."""

    idempotency_key: str
    sinks: tuple[tuple[str, str], ...] = field(default=())

    def to_json(self) -> Json:
        return {"idempotency_key": self.idempotency_key, **dict(self.sinks)}

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> CrmOut:
        sinks = tuple((str(k), str(v)) for k, v in out.items() if k != "idempotency_key")
        return cls(str(out.get("idempotency_key", "")), tuple(s for s in sinks if s[0][0] != "_"))


@dataclass(frozen=True, slots=True)
class GroupOut:
    """A person in a group: the group (made by this step when its outcome is `created`),
    the person, and whether this step added them (what undo takes back)."""

    id: str
    name: str
    person: str = ""
    added: bool = False

    def to_json(self) -> Json:
        return {"id": self.id, "name": self.name, "person": self.person, "added": self.added}

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> GroupOut:
        return cls(
            str(out.get("id", "")),
            str(out.get("name", "")),
            str(out.get("person", "")),
            bool(out.get("added")),
        )


@dataclass(frozen=True, slots=True)
class GroupShareOut:
    """A client room shared with the playbook's groups: each group (id, name, access), the
    ids of those this step gave access (undo takes them back), and the groups it made
    (id, name)."""

    room: int
    given: tuple[tuple[str, str, int], ...] = ()
    added: tuple[str, ...] = ()
    created: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> Json:
        return {
            "room": self.room,
            "given": [list(g) for g in self.given],
            "added": list(self.added),
            "created": [list(c) for c in self.created],
        }

    @classmethod
    def from_json(cls, out: Mapping[str, Any]) -> GroupShareOut:
        return cls(
            int(out.get("room") or 0),
            tuple((str(i), str(n), int(a)) for i, n, a in out.get("given") or []),
            tuple(str(i) for i in out.get("added") or []),
            tuple((str(i), str(n)) for i, n in out.get("created") or []),
        )


StepOutput: TypeAlias = (
    RoomOut
    | FolderOut
    | FileOut
    | SkeletonOut
    | ShareOut
    | LinkOut
    | PersonOut
    | ContactOut
    | MembershipOut
    | CrmOut
    | GroupOut
    | GroupShareOut
)
