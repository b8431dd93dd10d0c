"""The vocabulary of a plan: frozen Step objects that refer to earlier results symbolically.

A Plan is the exact list of DocSpace actions that onboards one spreadsheet row. It is data:
`bulk-onboard plan` prints it, tests compare it, the journal records which steps the portal
confirmed. Later steps name the outputs of earlier ones with a Ref (the room id a folder needs,
the folder id a copy needs); a user's membership may name the room step of a client row.

Each step kind owns its key in a plan (`KEY`; a folder's and a copy's key adds the title
to it) and the type of what it confirms (`OUTPUT`, model/outputs.py, whose docstring has the
table of every kind's key and output fields).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias, get_args

from bulk_onboard.model.outputs import (
    ContactOut,
    CrmOut,
    FileOut,
    FolderOut,
    GroupOut,
    GroupShareOut,
    LinkOut,
    MembershipOut,
    PersonOut,
    RoomOut,
    ShareOut,
    SkeletonOut,
    StepOutput,
)
from bulk_onboard.model.records import Access, LinkType, Origin, RoomType, RowKind, UserType


@dataclass(frozen=True, slots=True)
class Ref:
    """Output `field` of step `step`: in the same plan, or in the plan of row `row`."""

    step: str
    field: str
    row: str | None = None

    def __str__(self) -> str:
        where = f"{self.row}/" if self.row else ""
        return f"<{where}{self.step}.{self.field}>"


@dataclass(frozen=True, slots=True)
class TemplatePath:
    """A template file named by the title of the room holding it and its file title."""

    room_title: str
    file_title: str

    def __str__(self) -> str:
        return f"{self.room_title}/{self.file_title}"


FileSource: TypeAlias = int | TemplatePath


@dataclass(frozen=True, slots=True)
class FolderPath:
    """A folder named by the title of the room holding it and the titles of the folders
    down to it ("Templates/Client room skeleton")."""

    room_title: str
    folders: tuple[str, ...]

    def __str__(self) -> str:
        return "/".join((self.room_title, *self.folders))


@dataclass(frozen=True, slots=True)
class EnsureRoom:
    """Find the client's room by its client:<client_id> tag (rename it to `title` unless
    `rename` is off), else create it."""

    KEY: ClassVar[str] = "room"
    OUTPUT: ClassVar[type[StepOutput]] = RoomOut

    key: str
    title: str
    room_type: RoomType
    tags: tuple[str, ...]
    rename: bool = True


@dataclass(frozen=True, slots=True)
class FindRoom:
    """An existing room named by exact title (a user row's `room` that is not a client_id)."""

    KEY: ClassVar[str] = "room"
    OUTPUT: ClassVar[type[StepOutput]] = RoomOut

    key: str
    title: str


class KeyedByName:
    """A step kind of which a row has one per name: its key is KEY and the name (a folder's
    or a copy's title, a group's name)."""

    __slots__ = ()
    KEY: ClassVar[str]

    @classmethod
    def key_for(cls, name: str) -> str:
        return cls.KEY + name

    @classmethod
    def title_of(cls, key: str) -> str | None:
        """The name in a step key of this kind, or None for another kind's key."""
        return key[len(cls.KEY) :] if key.startswith(cls.KEY) else None


@dataclass(frozen=True, slots=True)
class EnsureFolder(KeyedByName):
    KEY: ClassVar[str] = "folder:"
    OUTPUT: ClassVar[type[StepOutput]] = FolderOut

    key: str
    parent: Ref
    title: str


@dataclass(frozen=True, slots=True)
class CopyFile(KeyedByName):
    """POST files/file/{source}/copyas into dest_folder, skipped if that title is already there."""

    KEY: ClassVar[str] = "copy:"
    OUTPUT: ClassVar[type[StepOutput]] = FileOut

    key: str
    source: FileSource
    dest_folder: Ref
    dest_title: str


@dataclass(frozen=True, slots=True)
class CopySkeleton:
    """The content of the skeleton folder into the room, by one copy operation (PUT
    files/fileops/copy, content): nothing sent when every item is there; only the missing
    ones land when some are (titles already there are skipped, folders merged into). While
    the skeleton is not in the portal, the `fallback` steps (the playbook's folders and
    copies) run in its place, each as its own step."""

    KEY: ClassVar[str] = "skeleton"
    OUTPUT: ClassVar[type[StepOutput]] = SkeletonOut

    key: str
    room: Ref
    source: FolderPath
    fallback: tuple[EnsureFolder | CopyFile, ...] = ()


@dataclass(frozen=True, slots=True)
class RoomFromTemplate(EnsureRoom):
    """The client's room as EnsureRoom finds it (by its tag); a new one is made from the
    room template `template` by the portal's room-from-template job (one at a time per
    portal, docspace-api.md 11), tags sent with it. While the template cannot be used (not
    in the portal, a portal older than 3.1, or older than 3.7.1 with nested folders in the
    template) the room is created as EnsureRoom creates it and TemplateContent makes its
    content."""

    template: str = ""


@dataclass(frozen=True, slots=True)
class TemplateContent:
    """The content of a room made from the template `template`: nothing to do while the
    template is used (the job copied it); otherwise the `fallback` steps (the skeleton's copy,
    or the playbook's folders and copies), each as its own step. Its output: the folders and
    files the job (or the fallback) put in the room."""

    KEY: ClassVar[str] = "content"
    OUTPUT: ClassVar[type[StepOutput]] = SkeletonOut

    key: str
    room: Ref
    template: str
    fallback: tuple[CopySkeleton | EnsureFolder | CopyFile, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    """One entry of a share request.

    by_id: the person must already exist (looked up by e-mail, shared by user id), as the
    account manager must. Otherwise the entry is sent by e-mail, so an unknown address becomes
    a pending Guest and gets the portal's invitation mail.
    """

    email: str
    access: Access
    by_id: bool


@dataclass(frozen=True, slots=True)
class NameContact:
    """The client contact with a name: an address the portal does not know becomes a named
    guest (POST people/active, type Guest: activation pending, no mail), whom the share's
    e-mail entry then sends the one room invitation; a person the portal has is left as is."""

    KEY: ClassVar[str] = "contact"
    OUTPUT: ClassVar[type[StepOutput]] = ContactOut

    key: str
    email: str
    first_name: str
    last_name: str


@dataclass(frozen=True, slots=True)
class ShareRoom:
    """One PUT files/rooms/{id}/share carrying every member; nothing sent if already so."""

    KEY: ClassVar[str] = "share"
    OUTPUT: ClassVar[type[StepOutput]] = ShareOut

    key: str
    room: Ref
    members: tuple[Member, ...]
    notify: bool
    message: str | None
    culture: str | None


@dataclass(frozen=True, slots=True)
class EnsureLink:
    """The primary external link (GET rooms/{id}/link) or the room's invitation link."""

    KEY: ClassVar[str] = "link"
    OUTPUT: ClassVar[type[StepOutput]] = LinkOut

    key: str
    room: Ref
    link_type: LinkType
    access: Access
    title: str


@dataclass(frozen=True, slots=True)
class EnsurePerson:
    """Find by e-mail; else POST people (with names) or POST people/invite (without)."""

    KEY: ClassVar[str] = "person"
    OUTPUT: ClassVar[type[StepOutput]] = PersonOut

    key: str
    email: str
    first_name: str | None
    last_name: str | None
    user_type: UserType
    culture: str | None


@dataclass(frozen=True, slots=True)
class JoinRoom:
    """Give an existing person (by id) an access in a room."""

    KEY: ClassVar[str] = "membership"
    OUTPUT: ClassVar[type[StepOutput]] = MembershipOut

    key: str
    room: Ref
    person: Ref
    email: str
    access: Access
    notify: bool


@dataclass(frozen=True, slots=True)
class JoinGroup(KeyedByName):
    """Put a person (by id) into the group with exactly this name, made once per run when
    the portal has none (docspace-api.md 12.1)."""

    KEY: ClassVar[str] = "group:"
    OUTPUT: ClassVar[type[StepOutput]] = GroupOut

    key: str
    name: str
    person: Ref
    email: str


@dataclass(frozen=True, slots=True)
class ShareGroups:
    """One PUT files/rooms/{id}/share giving each group (by exact name, made once per run
    when the portal has none) this access, with notify off: group members get no mail
    (docspace-api.md 12.2); nothing sent if already so."""

    KEY: ClassVar[str] = "groups"
    OUTPUT: ClassVar[type[StepOutput]] = GroupShareOut

    key: str
    room: Ref
    groups: tuple[str, ...]
    access: Access


@dataclass(frozen=True, slots=True)
class AnnounceCrm:
    """Hand the onboarded client to the CRM sinks; fields are literals or Refs."""

    KEY: ClassVar[str] = "crm"
    OUTPUT: ClassVar[type[StepOutput]] = CrmOut

    key: str
    fields: tuple[tuple[str, str | Ref | tuple[Ref, ...]], ...]


Step: TypeAlias = (
    EnsureRoom
    | FindRoom
    | EnsureFolder
    | CopyFile
    | CopySkeleton
    | RoomFromTemplate
    | TemplateContent
    | NameContact
    | ShareRoom
    | EnsureLink
    | EnsurePerson
    | JoinRoom
    | AnnounceCrm
    | JoinGroup
    | ShareGroups
)


STEP_TYPES: tuple[type[Step], ...] = get_args(Step)  # every kind a plan may hold


def output_type(step_key: str) -> type[StepOutput] | None:
    """The output type of the step a journal line names by its key (None: no step's key)."""
    for kind in STEP_TYPES:
        if step_key == kind.KEY or (kind.KEY.endswith(":") and step_key.startswith(kind.KEY)):
            return kind.OUTPUT
    return None


@dataclass(frozen=True, slots=True)
class Plan:
    """Every step that onboards one row, in the order they must run."""

    row_key: str  # "client:<client_id>" or "user:<email>"
    kind: RowKind
    origin: Origin
    steps: tuple[Step, ...]
    # the row's cells as read, for its report line (the record's own tuple, not a copy)
    values: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)

    def step(self, key: str) -> Step:
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(key)
