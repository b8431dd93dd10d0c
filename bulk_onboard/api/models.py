"""What the client returns: the portal's DTOs as plain dicts, plus a few stable accessors.

Methods return the `response` objects exactly as the portal sent them (camelCase keys:
`FolderDto`, `FileDto`, `FileShareDto`, `EmployeeFullDto`, docspace-api.md section 5.7), so
nothing is lost and nothing is renamed. The accessors below read the fields the engine needs
in one place, tolerating the obsolete `sharedTo` duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bulk_onboard.model import Json


@dataclass(frozen=True, slots=True)
class FolderContents:
    """Everything in one folder or room, all pages joined."""

    files: tuple[Json, ...]
    folders: tuple[Json, ...]
    current: Json = field(default_factory=dict)  # the folder itself, if the portal said

    def file_titled(self, title: str) -> Json | None:
        return next((f for f in self.files if f.get("title") == title), None)

    def folder_titled(self, title: str) -> Json | None:
        return next((f for f in self.folders if f.get("title") == title), None)


def share_link(share: Json | None) -> str | None:
    """The URL of a link `FileShareDto` (`sharedLink.shareLink`)."""
    link = _linked(share, "sharedLink")
    url = link.get("shareLink") if link else None
    return url if isinstance(url, str) else None


def link_id(share: Json | None) -> str | None:
    link = _linked(share, "sharedLink")
    value = link.get("id") if link else None
    return value if isinstance(value, str) else None


def member_user(share: Json) -> Json | None:
    """The user of a member `FileShareDto` (`sharedToUser`), None for links and groups."""
    return _linked(share, "sharedToUser")


def member_email(share: Json) -> str | None:
    user = member_user(share)
    email = user.get("email") if user else None
    return email.lower() if isinstance(email, str) else None


def _linked(share: Json | None, key: str) -> Json | None:
    if not share:
        return None
    value = share.get(key)
    if isinstance(value, dict):
        return value
    legacy = share.get("sharedTo")  # obsolete duplicate of sharedToUser / sharedLink
    if isinstance(legacy, dict):
        is_link = "shareLink" in legacy or "linkType" in legacy
        if is_link == (key == "sharedLink"):
            return legacy
    return None
