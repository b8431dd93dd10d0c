"""`bulk-onboard template FILE.xlsx`: an input workbook to fill in, written with xlsxwriter.

A clients and a users sheet with every column's header (bold, frozen), a note on each header
(a cell comment: what the column holds, whether it is required, the values it takes), and
drop-down lists (data validation) for the room type, the client's and people's access and the
user type. The id columns are formatted as text, so Excel keeps 00456 as typed. The workbook
carries a custom property that marks it as the template: `validate` reads the empty template as
"no rows yet" (exit 0), where any other workbook without rows is an input error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulk_onboard.model.columns import COLUMNS, REQUIRED
from bulk_onboard.model.records import Access, RowKind, UserType
from bulk_onboard.model.words import ACCESS_NAMES, ROOM_TYPE_NAMES, USER_TYPE_NAMES

TEMPLATE_PROPERTY = "bulk-onboard template"
ROWS = 5000  # the rows the drop-down lists cover

ROOM_ROLES = [
    ACCESS_NAMES[a]
    for a in (
        Access.CONTENT_CREATOR,
        Access.EDITING,
        Access.REVIEW,
        Access.COMMENT,
        Access.FILL_FORMS,
        Access.READ,
    )
]
CHOICES: dict[RowKind, dict[str, list[str]]] = {
    RowKind.CLIENT: {
        "room_type": list(ROOM_TYPE_NAMES.values()),
        "client_access": ROOM_ROLES,
    },
    RowKind.USER: {
        "type": [
            USER_TYPE_NAMES[t]
            for t in (UserType.USER, UserType.ROOM_ADMIN, UserType.DOCSPACE_ADMIN)
        ],
        "access": [ACCESS_NAMES[Access.ROOM_MANAGER], *ROOM_ROLES],
    },
}
TEXT_COLUMNS = frozenset(
    {"client_id", "room", "culture", "groups"}
)  # typed as text, never a number

NOTES: dict[RowKind, dict[str, str]] = {
    RowKind.CLIENT: {
        "client_id": "The client's id, unique; its room is tagged client:<client_id>.",
        "client_name": "The client's name; the room title uses it.",
        "client_email": "The client contact's e-mail; invited if the portal does not know them.",
        "manager_email": "An existing room admin or DocSpace admin, made the room's manager.",
        "room_title": "The room's title (empty: the playbook's pattern, Client - {client_name}).",
        "room_type": "The room's type (empty: the playbook's).",
        "client_access": "The client contact's access in the room (empty: the playbook's).",
        "tags": "The room's tags, comma-separated, added to the playbook's.",
        "contact_first_name": "With contact_last_name, or neither: the contact's name in "
        "DocSpace (empty: they enter one when joining).",
        "contact_last_name": "See contact_first_name.",
    },
    RowKind.USER: {
        "email": "The person's e-mail.",
        "first_name": "With last_name, or neither: a person with names is created, one "
        "without is invited.",
        "last_name": "See first_name.",
        "type": "user (the default), room-admin or docspace-admin.",
        "room": "A client_id of the clients sheet, or the exact title of an existing room.",
        "access": "The person's access in that room (empty: the playbook's).",
        "culture": "The language of the person's mails, e.g. de-DE (empty: the playbook's).",
        "groups": "DocSpace groups the person joins: exact names separated by ; (a group the "
        "portal lacks is made).",
    },
}


def write_template(path: Path) -> None:
    """The input workbook at `path` (overwritten)."""
    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    book = xlsxwriter.Workbook(str(path))
    book.set_custom_property(TEMPLATE_PROPERTY, True)
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = book.add_format({"num_format": "@"})
    for kind in RowKind:
        _sheet(book, kind, bold, text)
    try:
        book.close()
    except FileCreateError as exc:  # xlsxwriter's wrapping of the OSError
        raise OSError(str(exc.args[0]) if exc.args else str(path)) from None


def _sheet(book: Any, kind: RowKind, bold: Any, text: Any) -> None:
    sheet = book.add_worksheet(kind.plural)
    sheet.freeze_panes(1, 0)
    for col, column in enumerate(COLUMNS[kind]):
        required = column in REQUIRED[kind]
        sheet.set_column(
            col, col, max(14, len(column) + 4), text if column in TEXT_COLUMNS else None
        )
        sheet.write_string(0, col, column, bold)
        note = ("Required. " if required else "") + NOTES[kind][column]
        choices = CHOICES[kind].get(column)
        if choices:
            note += " One of: " + ", ".join(choices) + "."
            sheet.data_validation(
                1, col, ROWS, col, {"validate": "list", "source": choices, "ignore_blank": True}
            )
        sheet.write_comment(0, col, note, {"x_scale": 2, "y_scale": 1.5})
