"""The columns of the clients and users sheets, and the headers people write for them.

A header matches a column ignoring case, spaces, hyphens, underscores and dots, so
"E-mail Address", "email_address" and "EMAIL ADDRESS" are one header. Matching is per kind:
"Email" is `client_email` in the clients sheet and `email` in the users sheet.
"""

from __future__ import annotations

from bulk_onboard.model.records import RowKind

CLIENT_COLUMNS: tuple[str, ...] = (
    "client_id",
    "client_name",
    "client_email",
    "manager_email",
    "room_title",
    "room_type",
    "client_access",
    "tags",
)
CLIENT_REQUIRED: tuple[str, ...] = ("client_id", "client_name", "client_email", "manager_email")

USER_COLUMNS: tuple[str, ...] = (
    "email",
    "first_name",
    "last_name",
    "type",
    "room",
    "access",
    "culture",
)
USER_REQUIRED: tuple[str, ...] = ("email",)

COLUMNS: dict[RowKind, tuple[str, ...]] = {
    RowKind.CLIENT: CLIENT_COLUMNS,
    RowKind.USER: USER_COLUMNS,
}
REQUIRED: dict[RowKind, tuple[str, ...]] = {
    RowKind.CLIENT: CLIENT_REQUIRED,
    RowKind.USER: USER_REQUIRED,
}

# Headers (folded) that mark a clients sheet, whatever else it has.
_CLIENT_ID_HEADERS = frozenset({"clientid", "clientno", "clientnumber", "clientcode", "customerid"})

_CLIENT_ALIASES: dict[str, tuple[str, ...]] = {
    "client_id": tuple(_CLIENT_ID_HEADERS),
    "client_name": (
        "clientname",
        "client",
        "name",
        "company",
        "companyname",
        "customer",
        "customername",
        "organisation",
        "organization",
        "organisationname",
        "organizationname",
        "account",
        "accountname",
    ),
    "client_email": (
        "clientemail",
        "clientemailaddress",
        "email",
        "emailaddress",
        "mail",
        "contactemail",
        "contactemailaddress",
        "customeremail",
    ),
    "manager_email": (
        "manageremail",
        "manageremailaddress",
        "manager",
        "accountmanager",
        "accountmanageremail",
        "owner",
        "owneremail",
    ),
    "room_title": ("roomtitle", "roomname", "room", "title"),
    "room_type": ("roomtype", "type"),
    "client_access": ("clientaccess", "access", "clientrole", "role", "clientpermission"),
    "tags": ("tags", "tag", "labels", "label"),
}

_USER_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "mail", "useremail", "login"),
    "first_name": ("firstname", "givenname", "forename", "first"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "type": ("type", "usertype", "accounttype", "kind"),
    "room": ("room", "roomtitle", "roomname", "client"),
    "access": ("access", "roomaccess", "role", "roomrole", "permission", "permissions"),
    "culture": ("culture", "language", "locale", "lang"),
}


def fold_header(header: str) -> str:
    """The form headers are compared in."""
    out = header.strip().lower().replace("\u00a0", "").replace("\ufeff", "")
    for char in " -_.":
        out = out.replace(char, "")
    return out


def _alias_map(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for column, words in aliases.items():
        table[fold_header(column)] = column
        for word in words:
            table.setdefault(word, column)
    return table


_ALIASES: dict[RowKind, dict[str, str]] = {
    RowKind.CLIENT: _alias_map(_CLIENT_ALIASES),
    RowKind.USER: _alias_map(_USER_ALIASES),
}


def canonical(kind: RowKind, header: str) -> str | None:
    """The column a header stands for in a sheet of `kind`, or None when it is not one."""
    return _ALIASES[kind].get(fold_header(header))


def detect_kind(headers: list[str]) -> RowKind | None:
    """clients when a client_id header is there; users when an e-mail header is; else None."""
    folded = {fold_header(h) for h in headers}
    if folded & _CLIENT_ID_HEADERS:
        return RowKind.CLIENT
    if any(_ALIASES[RowKind.USER].get(h) == "email" for h in folded):
        return RowKind.USER
    return None


def known_header_count(headers: list[str]) -> int:
    """How many headers name a column of either kind (used to choose a CSV delimiter)."""
    folded = [fold_header(h) for h in headers]
    return max(sum(1 for h in folded if h in _ALIASES[kind]) for kind in RowKind)


def sheet_kind(name: str) -> RowKind | None:
    """The kind a workbook sheet holds by its name: "Clients", "users", "People" ..."""
    key = fold_header(name)
    if key in ("clients", "client"):
        return RowKind.CLIENT
    if key in ("users", "user", "people"):
        return RowKind.USER
    return None
