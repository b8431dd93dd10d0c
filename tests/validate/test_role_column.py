"""A users-sheet column called "Role" holds a type or an access: "Room admin" is the person's
type, "editing" their access in the room; a column called "Access" is always an access."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.intake import load_intake
from bulk_onboard.model.records import Access, UserType
from bulk_onboard.playbook.reader import default_playbook

ROWS = (
    "ann@hill.example,Ann,Lee,Room admin,\n"
    "bob@hill.example,Bob,Ray,editing,Templates\n"
    "cy@hill.example,Cy,Orr,DocSpace admin,\n"
)


def _users(tmp_path: Path, role: str, extra: str = "") -> Path:
    path = tmp_path / "users.csv"
    path.write_text(f"Email,First name,Last name,{role},Room{extra}\n" + ROWS, encoding="utf-8")
    return path


def test_a_role_column_tells_a_type_from_an_access(tmp_path: Path) -> None:
    intake = load_intake([_users(tmp_path, "Role")], default_playbook())
    assert intake.invalid == ()
    read = {u.email: (u.user_type, u.access) for u in intake.users}
    assert read == {
        "ann@hill.example": (UserType.ROOM_ADMIN, None),
        "bob@hill.example": (UserType.USER, Access.EDITING),
        "cy@hill.example": (UserType.DOCSPACE_ADMIN, None),
    }
    assert dict(intake.users[0].values)["access"] == "Room admin"  # the report keeps the cell


def test_an_access_column_stays_an_access(tmp_path: Path) -> None:
    intake = load_intake([_users(tmp_path, "Access")], default_playbook())
    assert {i.origin.line for i in intake.invalid} == {2, 4}  # "Room admin" is no access
