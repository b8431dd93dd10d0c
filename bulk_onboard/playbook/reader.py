"""The playbook: what bulk-onboard does for every client and person, read from TOML.

A playbook file holds only the keys it changes; everything else comes from the packaged
`default.toml` (tables merge key by key, lists and values replace). Every key of the
user's file is checked: an unknown key, a wrong type or an impossible value is a ConfigError
naming the file and the key. Checks that depend on a row (a link or access that the row's
room type does not allow) are made per row by `validate`.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeAlias
from urllib.parse import urlsplit

from bulk_onboard.config import is_loopback
from bulk_onboard.errors import ConfigError
from bulk_onboard.model.columns import ColumnMap
from bulk_onboard.model.records import (
    FOLDER_TITLE_MAX,
    GROUP_NAME_MAX,
    Access,
    LinkType,
    RoomType,
)
from bulk_onboard.model.steps import FileSource, FolderPath, TemplatePath
from bulk_onboard.model.words import ACCESS_NAMES, NOT_ROOM_ROLES
from bulk_onboard.playbook.columns import read_columns, read_ignored_sheets
from bulk_onboard.playbook.values import Reader, check_keys, merge, parse_toml

LinkKind: TypeAlias = Literal["external", "invitation", "none"]

DEFAULT_NAME = "the built-in playbook"
_LINK_TITLES = {"invitation": "Invitation link", "external": "Shared link", "none": ""}

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class TemplateCopy:
    """A template file copied into every client room."""

    source: FileSource  # a file id, or "Room title/File name"
    folder: str | None  # one of the playbook's folders; None is the room itself
    title: str  # the copy's title in the room


@dataclass(frozen=True, slots=True)
class Accesses:
    """Default accesses: the account manager's, the client's, and people's from the users sheet."""

    manager: Access
    client: Access
    users: Access


@dataclass(frozen=True, slots=True)
class RoomLink:
    """The link made in every client room; kind "none" makes none."""

    kind: LinkKind
    access: Access
    title: str

    @property
    def link_type(self) -> LinkType | None:
        return {"external": LinkType.EXTERNAL, "invitation": LinkType.INVITATION}.get(self.kind)


@dataclass(frozen=True, slots=True)
class Invitation:
    """How people are told: notify existing members, the message, the mail language."""

    notify: bool
    message: str | None
    culture: str | None


@dataclass(frozen=True, slots=True)
class Crm:
    """Where onboarded clients are announced. secret_env is the NAME of a variable."""

    webhook_url: str | None
    secret_env: str | None
    timeout_seconds: float
    max_attempts: int
    jsonl_path: Path | None
    csv_path: Path | None

    @property
    def configured(self) -> bool:
        """Whether any sink is set, so that plans announce clients."""
        return bool(self.webhook_url or self.jsonl_path or self.csv_path)


@dataclass(frozen=True, slots=True)
class Guard:
    """How many rooms and people one run may create; None is no limit."""

    max_new_rooms: int | None = None
    max_new_people: int | None = None

    @property
    def set(self) -> bool:
        return self.max_new_rooms is not None or self.max_new_people is not None


@dataclass(frozen=True, slots=True)
class Notify:
    """Who is told how a run ended: a signed webhook and/or e-mail; `on` is "failures" (only
    after a run that did not end "ok") or "always"."""

    webhook_url: str | None = None
    secret_env: str | None = None
    on: str = "failures"
    email_to: tuple[str, ...] = ()  # addresses mailed through SMTP (the server: from the env)
    email_from: str = "bulk-onboard@localhost"

    @property
    def configured(self) -> bool:
        return bool(self.webhook_url or self.email_to)


@dataclass(frozen=True, slots=True)
class Playbook:
    source: str  # the file it came from, for messages
    room_title: str  # a pattern: "Client - {client_name}"
    room_type: RoomType
    tags: tuple[str, ...]
    folders: tuple[str, ...]
    copies: tuple[TemplateCopy, ...]
    access: Accesses
    link: RoomLink
    invitation: Invitation
    crm: Crm
    guard: Guard = Guard()
    # a client's room whose title differs from the sheet's: renamed (true) or kept, reported
    rename_rooms: bool = True
    # [room] allow_partial_view: client rooms made with a key that cannot see every room
    allow_partial_view: bool = False
    # [columns.clients] and [columns.users]: the export's headers → columns (folded → column)
    columns: ColumnMap = field(default_factory=dict)
    ignored_sheets: tuple[str, ...] = ()  # [sheets] ignore: workbook sheets not read
    # [limits] rate_window: the portal's sliding window in seconds (None: the server's 60 s)
    rate_window: float | None = None
    keep_runs: int | None = None  # [runs] keep: run folders kept after a run; None keeps all
    notify: Notify = Notify()  # [notify]: who is told how a run ended
    # [room] skeleton: a folder whose content each new client room gets by one copy; while
    # set, room.folders and [[copies]] are not used
    skeleton: FolderPath | None = None
    # [room] groups: every client room is shared with these groups (by exact name, made once
    # when the portal has none), with [room] group_access
    groups: tuple[str, ...] = ()
    group_access: Access = Access.READ
    # [room] template: the title of a room template each new client room is made from (one
    # portal job at a time); while it can be used, the skeleton, folders and copies are not
    template: str = ""

    @property
    def title_fields(self) -> tuple[str, ...]:
        """The placeholders of the room title pattern, in order, without repeats."""
        return placeholders(self.room_title, self.source)


def placeholders(pattern: str, source: str) -> tuple[str, ...]:
    """The {names} of a title pattern; ConfigError for anything but plain {name} fields."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ConfigError(
            f"{source}: room.title {pattern!r} has unbalanced braces ({exc}); write a placeholder "
            "as {client_name} and a literal brace as {{ or }}."
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not re.fullmatch(r"\w[\w ]*", name) or spec or conversion:
            raise ConfigError(
                f"{source}: room.title uses {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}}, but placeholders can only name a column, like "
                "{client_name}."
            )
        if name not in names:
            names.append(name)
    return tuple(names)


def load_playbook(path: Path | None = None) -> Playbook:
    """The playbook in `path` over the built-in defaults; the defaults alone when None."""
    if path is None:
        return default_playbook()
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"The playbook {path} does not exist; check the --playbook path."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The playbook {path} cannot be read ({exc}); check the file.") from None
    data = parse_toml(text, name)
    check_keys(data, name)
    return _build(merge(_default_data(), data), name, path.parent)


@cache
def default_playbook() -> Playbook:
    return _build(_default_data(), DEFAULT_NAME, Path("."))


def _default_data() -> dict[str, Any]:
    text = resources.files("bulk_onboard.playbook").joinpath("default.toml").read_text("utf-8")
    return parse_toml(text, DEFAULT_NAME)


def _build(data: dict[str, Any], name: str, folder: Path) -> Playbook:
    read = Reader(name)
    room, access, link, invite, crm = (
        data.get(s, {}) for s in ("room", "access", "link", "invitation", "crm")
    )
    title = read.text(room, "room", "title", required=True)
    placeholders(title, name)
    folders = read.titles(room, "room", "folders", FOLDER_TITLE_MAX)
    accesses = _accesses(read, access)
    return Playbook(
        source=name,
        room_title=title,
        room_type=read.room_type(room, "room", "type"),
        tags=read.tags(room, "room", "tags"),
        folders=folders,
        copies=_copies(read, data.get("copies", []), folders),
        access=accesses,
        link=_link(read, link),
        invitation=Invitation(
            notify=read.boolean(invite, "invitation", "notify"),
            message=read.text(invite, "invitation", "message") or None,
            culture=read.culture(invite, "invitation", "culture"),
        ),
        crm=_crm(read, crm, folder),
        guard=_guard(read, data.get("guard", {})),
        rename_rooms=read.boolean(room, "room", "rename"),
        allow_partial_view=read.boolean(room, "room", "allow_partial_view"),
        columns=read_columns(name, data.get("columns", {})),
        ignored_sheets=read_ignored_sheets(name, data.get("sheets", {})),
        rate_window=_rate_window(read, data.get("limits", {})),
        keep_runs=_keep_runs(read, data.get("runs", {})),
        notify=_notify(read, data.get("notify", {})),
        skeleton=_skeleton(read, room),
        groups=_groups(read, room),
        group_access=_group_access(read, room),
        template=read.text(room, "room", "template"),
    )


def _notify(read: Reader, table: dict[str, Any]) -> Notify:
    """[notify]: the webhook (signed like the CRM's: its secret_env is required), `on` and
    the e-mail addresses (the SMTP server comes from the environment: runs/notice_mail.py)."""
    url = read.text(table, "notify", "webhook_url") or None
    secret_env = read.text(table, "notify", "secret_env") or None
    if url is not None:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
            raise ConfigError(f'{read.name}: notify.webhook_url "{url}" is not a web address.')
        _check_webhook_url(read.name, url, "notify.webhook_url")
        if secret_env is None or not _ENV_NAME.fullmatch(secret_env):
            raise ConfigError(
                f"{read.name}: notify.webhook_url needs notify.secret_env, the NAME of the "
                "environment variable holding the signing secret, like secret_env = "
                '"NOTIFY_SECRET".'
            )
    on = read.text(table, "notify", "on") or "failures"
    if on not in ("failures", "always"):
        raise ConfigError(f'{read.name}: notify.on must be "failures" or "always", not "{on}".')
    return Notify(url, secret_env, on, *_emails(read, table))


def _emails(read: Reader, table: dict[str, Any]) -> tuple[tuple[str, ...], str]:
    """notify.email_to (a list of addresses, or one) and notify.email_from."""
    given = table.get("email_to", [])
    listed = [given] if isinstance(given, str) else given
    if not isinstance(listed, list) or not all(
        isinstance(a, str) and re.fullmatch(r"[^@\s,]+@[^@\s,]+", a.strip()) for a in listed
    ):
        raise ConfigError(
            f"{read.name}: notify.email_to must be a list of e-mail addresses, like "
            '["ops@example.com"].'
        )
    sender = read.text(table, "notify", "email_from") or "bulk-onboard@localhost"
    return tuple(a.strip() for a in listed), sender


def _keep_runs(read: Reader, table: dict[str, Any]) -> int | None:
    """[runs] keep: how many run folders the report folder keeps after a run (None: all)."""
    if "keep" not in table:
        return None
    return int(read.number(table, "runs", "keep", low=1, high=100_000, integer=True))


def _groups(read: Reader, room: dict[str, Any]) -> tuple[str, ...]:
    """room.groups: group names, exact (the portal's names are case-sensitive here, not
    trimmed and at most 128 characters, docspace-api.md 12.1)."""
    names = read.strings(room, "room", "groups")
    for name in names:
        if not name or len(name) > GROUP_NAME_MAX:
            raise ConfigError(
                f'{read.name}: room.groups has "{name}"; a group name has 1 to '
                f"{GROUP_NAME_MAX} characters."
            )
    if len(set(names)) != len(names):
        raise ConfigError(f"{read.name}: room.groups names a group twice; name each once.")
    return names


def _group_access(read: Reader, room: dict[str, Any]) -> Access:
    """room.group_access: the access the groups get (read unless set); never room-manager
    (the portal refuses it for groups, 12.2) and never none."""
    if "group_access" not in room:
        return Access.READ
    access = read.access(room, "room", "group_access")
    if access in (Access.ROOM_MANAGER, Access.NONE):
        raise ConfigError(
            f"{read.name}: room.group_access cannot be {'room-manager' if access else 'none'}: "
            "DocSpace gives groups no room-manager role; choose content-creator, editing or read."
        )
    return access


def _skeleton(read: Reader, room: dict[str, Any]) -> FolderPath | None:
    """room.skeleton: "Room title/Folder[/Sub-folder…]", or empty for none."""
    value = read.text(room, "room", "skeleton")
    if not value:
        return None
    parts = [part.strip() for part in value.strip().strip("/").split("/")]
    if len(parts) < 2 or not all(parts):
        raise ConfigError(
            f'{read.name}: room.skeleton must name a folder in a room, as "Room title/Folder" '
            f"(sub-folders with more /), not {value!r}."
        )
    return FolderPath(parts[0], tuple(parts[1:]))


def _accesses(read: Reader, table: dict[str, Any]) -> Accesses:
    """The [access] table: what the manager, the client and the people get in a room."""
    accesses = Accesses(
        manager=read.access(table, "access", "manager"),
        client=read.access(table, "access", "client"),
        users=read.access(table, "access", "users"),
    )
    if accesses.client == Access.ROOM_MANAGER:
        raise ConfigError(
            f"{read.name}: access.client cannot be room-manager: a client is invited by e-mail "
            "and joins as a guest, and guests cannot manage rooms; choose content-creator, "
            "editing or read."
        )
    for key, value in (
        ("manager", accesses.manager),
        ("client", accesses.client),
        ("users", accesses.users),
    ):
        if value == Access.NONE:
            raise ConfigError(
                f"{read.name}: access.{key} cannot be none; that would remove the person."
            )
    return accesses


GUARD_MAX = 10_000_000


def _guard(read: Reader, table: dict[str, Any]) -> Guard:
    def limit(key: str) -> int | None:
        if key not in table:
            return None
        return int(read.number(table, "guard", key, low=0, high=GUARD_MAX, integer=True))

    return Guard(limit("max_new_rooms"), limit("max_new_people"))


def _rate_window(read: Reader, table: dict[str, Any]) -> float | None:
    if "rate_window" not in table:
        return None
    return float(read.number(table, "limits", "rate_window", low=0.1, high=3600))


def _copies(read: Reader, tables: Any, folders: tuple[str, ...]) -> tuple[TemplateCopy, ...]:
    if not isinstance(tables, list):
        raise ConfigError(f"{read.name}: copies must be a list of [[copies]] tables.")
    copies: list[TemplateCopy] = []
    for number, table in enumerate(tables, 1):
        where = f"copies #{number}"
        title = read.text(table, where, "title", required=True)
        folder = read.text(table, where, "folder") or None
        if folder is not None and folder not in folders:
            raise ConfigError(
                f'{read.name}: {where} ("{title}") goes to folder "{folder}", which is not in '
                f"room.folders ({', '.join(folders) or 'none'}); add the folder or leave "
                "folder empty for the room itself."
            )
        if any(c.title.casefold() == title.casefold() for c in copies):
            raise ConfigError(f'{read.name}: two copies are titled "{title}"; titles must differ.')
        source = _source(read, table, where)
        if isinstance(source, TemplatePath):
            _check_extension(read.name, where, title, source)
        copies.append(TemplateCopy(source, folder, title))
    return tuple(copies)


def _extension(title: str) -> str:
    name = title.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[1].lower() if "." in name.strip(".") else ""


def _check_extension(name: str, where: str, title: str, source: TemplatePath) -> None:
    """A copy whose title has another extension than its template would be a conversion
    (POST copyas with another extension, docspace-api.md 5.3): a playbook error."""
    want, have = _extension(source.file_title), _extension(title)
    if want == have:
        return

    def described(extension: str) -> str:
        return f"the extension .{extension}" if extension else "no extension"

    raise ConfigError(
        f'{name}: {where}.title "{title}" has {described(have)}, but its template "{source}" '
        f"has {described(want)}; the portal would convert the file instead of copying it "
        f"(copyas-extension-change). Give {where}.title the extension of its template."
    )


def _source(read: Reader, table: dict[str, Any], where: str) -> FileSource:
    value = table.get("source")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, str) and "/" in value.strip("/ "):
        room_title, _, file_title = value.strip().rpartition("/")
        if room_title.strip() and file_title.strip():
            return TemplatePath(room_title.strip(), file_title.strip())
    raise ConfigError(
        f'{read.name}: {where}.source must be a file id (a number) or "Room title/File name", '
        f"not {value!r}."
    )


def _link(read: Reader, table: dict[str, Any]) -> RoomLink:
    kind = read.text(table, "link", "kind", required=True).lower()
    if kind not in _LINK_TITLES:
        raise ConfigError(
            f'{read.name}: link.kind "{kind}" is not a link kind; use external, invitation or none.'
        )
    access = read.access(table, "link", "access")
    if kind != "none" and (
        access in (Access.NONE, Access.ROOM_MANAGER) or access in NOT_ROOM_ROLES
    ):
        raise ConfigError(
            f"{read.name}: link.access cannot be {ACCESS_NAMES[access]} for a link; choose read, "
            "editing, review, comment, fill-forms or content-creator."
        )
    title = read.text(table, "link", "title") or _LINK_TITLES[kind]
    if len(title) > 255:
        raise ConfigError(f"{read.name}: link.title is longer than 255 characters; shorten it.")
    return RoomLink(kind, access, title)  # type: ignore[arg-type]  # kind checked above


def _crm(read: Reader, table: dict[str, Any], folder: Path) -> Crm:
    url = read.text(table, "crm", "webhook_url") or None
    if url is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise ConfigError(
            f'{read.name}: crm.webhook_url "{url}" is not a web address; write it as '
            "https://crm.example.com/hooks/onboarded."
        )
    if url is not None:
        _check_webhook_url(read.name, url)
    secret_env = read.text(table, "crm", "secret_env") or None
    if secret_env is not None and not _ENV_NAME.fullmatch(secret_env):
        raise ConfigError(
            f"{read.name}: crm.secret_env must be the NAME of an environment variable in "
            "capitals, like CRM_WEBHOOK_SECRET, never the secret itself; put the secret in that "
            "variable."
        )
    if url is not None and secret_env is None:
        raise ConfigError(
            f"{read.name}: crm.webhook_url is set but crm.secret_env is not; every webhook "
            "request is signed, so name the environment variable that holds the signing "
            'secret, like secret_env = "CRM_WEBHOOK_SECRET".'
        )
    paths = [read.text(table, "crm", key) for key in ("jsonl_path", "csv_path")]
    jsonl, csv_ = (folder / p if p else None for p in paths)
    return Crm(
        webhook_url=url,
        secret_env=secret_env,
        timeout_seconds=read.number(table, "crm", "timeout_seconds", low=0.1, high=300),
        max_attempts=int(read.number(table, "crm", "max_attempts", low=1, high=20, integer=True)),
        jsonl_path=jsonl,
        csv_path=csv_,
    )


def _check_webhook_url(name: str, url: str, key: str = "crm.webhook_url") -> None:
    """https anywhere; plain http only to this computer, where nothing crosses a network."""
    parts = urlsplit(url)
    try:
        host = parts.hostname or ""
        parts.port  # noqa: B018  # raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(f'{name}: {key} "{url}" has an invalid port.') from None
    if parts.scheme.lower() == "http" and not is_loopback(host):
        raise ConfigError(
            f'{name}: {key} "{url}" uses plain http://, which would send client '
            "details unencrypted; use https:// (plain http is only accepted for localhost, "
            "127.0.0.1 and ::1)."
        )
