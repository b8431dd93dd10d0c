"""The columns of the clients and users sheets, and the headers people write for them.

A header matches a column ignoring case, spaces, hyphens, underscores and dots, so
"E-mail Address", "email_address" and "EMAIL ADDRESS" are one header. Matching is per kind:
"Email" is `client_email` in the clients sheet and `email` in the users sheet. The common
German, French and Spanish headers are aliases too.

`classify` tells a table's kind from its columns, whatever the sheet is called: client columns
(a client id, a company or client name, a manager) make a clients sheet, person columns (first
or last name, type, language, room access) a users sheet; a table with both is ambiguous. In a
users sheet "Client ID" names the person's room.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

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
    "contact_first_name",
    "contact_last_name",
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
    "groups",
)
USER_REQUIRED: tuple[str, ...] = ("email",)

# The playbook's [columns.clients] and [columns.users]: an export's header (folded, as
# fold_header folds it) → the column it stands for, per kind of sheet.
ColumnMap = Mapping[RowKind, Mapping[str, str]]
NO_COLUMNS: ColumnMap = {}

COLUMNS: dict[RowKind, tuple[str, ...]] = {
    RowKind.CLIENT: CLIENT_COLUMNS,
    RowKind.USER: USER_COLUMNS,
}
REQUIRED: dict[RowKind, tuple[str, ...]] = {
    RowKind.CLIENT: CLIENT_REQUIRED,
    RowKind.USER: USER_REQUIRED,
}

# Headers (folded) that mark a clients sheet, whatever else it has.
_CLIENT_ID_HEADERS = frozenset(
    {
        "clientid",
        "clientno",
        "clientnumber",
        "clientcode",
        "customerid",
        "customerno",
        "customernumber",
        # German, French, Spanish
        "kundennummer",
        "kundennr",
        "kundenid",
        "idclient",
        "numéroclient",
        "numeroclient",
        "codeclient",
        "idcliente",
        "númerodecliente",
        "numerodecliente",
        "númerocliente",
        "numerocliente",
        "códigocliente",
        "codigocliente",
    }
)

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
        "firma",
        "firmenname",
        "unternehmen",
        "kunde",
        "kundenname",
        "société",
        "societe",
        "entreprise",
        "nomclient",
        "nomdelentreprise",
        "raisonsociale",
        "empresa",
        "cliente",
        "nombrecliente",
        "nombredelcliente",
        "nombreempresa",
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
        "emailadresse",
        "kundenemail",
        "courriel",
        "adresseemail",
        "emailclient",
        "correo",
        "correoelectrónico",
        "correoelectronico",
        "emailcliente",
    ),
    "manager_email": (
        "manageremail",
        "manageremailaddress",
        "manager",
        "accountmanager",
        "accountmanageremail",
        "owner",
        "owneremail",
        "kundenbetreuer",
        "betreuer",
        "betreueremail",
        "gestionnaire",
        "gestionnairedecompte",
        "chargédecompte",
        "gestor",
        "gestordecuenta",
        "emailgestor",
    ),
    "room_title": (
        "roomtitle",
        "roomname",
        "room",
        "title",
        "raum",
        "raumname",
        "salle",
        "nomdelasalle",
        "sala",
        "nombredelasala",
    ),
    "room_type": ("roomtype", "type", "raumtyp", "typedesalle", "tipodesala"),
    "client_access": (
        "clientaccess",
        "access",
        "clientrole",
        "role",
        "clientpermission",
        "zugriff",
        "berechtigung",
        "accès",
        "acces",
        "acceso",
    ),
    "tags": (
        "tags",
        "tag",
        "labels",
        "label",
        "schlagwörter",
        "etiketten",
        "étiquettes",
        "etiquettes",
        "etiquetas",
    ),
    # the name the client contact gets in DocSpace (first and last, or neither)
    "contact_first_name": (
        "contactfirstname",
        "contactgivenname",
        "contactforename",
        "ansprechpartnervorname",
        "vornameansprechpartner",
        "prénomcontact",
        "prenomcontact",
        "prénomducontact",
        "prenomducontact",
        "nombrecontacto",
        "nombredelcontacto",
    ),
    "contact_last_name": (
        "contactlastname",
        "contactsurname",
        "contactfamilyname",
        "ansprechpartnernachname",
        "nachnameansprechpartner",
        "nomcontact",
        "nomducontact",
        "apellidocontacto",
        "apellidodelcontacto",
    ),
}

_USER_ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        "email",
        "emailaddress",
        "mail",
        "useremail",
        "login",
        "emailadresse",
        "courriel",
        "adresseemail",
        "correo",
        "correoelectrónico",
        "correoelectronico",
    ),
    "first_name": (
        "firstname",
        "givenname",
        "forename",
        "first",
        "vorname",
        "prénom",
        "prenom",
        "nombre",
    ),
    "last_name": (
        "lastname",
        "surname",
        "familyname",
        "last",
        "nachname",
        "familienname",
        "nom",
        "nomdefamille",
        "apellido",
        "apellidos",
    ),
    "type": (
        "type",
        "usertype",
        "accounttype",
        "kind",
        "benutzertyp",
        "typedutilisateur",
        "tipodeusuario",
    ),
    # a person's room: its title, or the id of the client whose room it is
    "room": (
        "room",
        "roomtitle",
        "roomname",
        "client",
        "raum",
        "salle",
        "sala",
        *_CLIENT_ID_HEADERS,
    ),
    "access": (
        "access",
        "roomaccess",
        "role",
        "roomrole",
        "permission",
        "permissions",
        "zugriff",
        "berechtigung",
        "rolle",
        "accès",
        "acces",
        "rôle",
        "acceso",
        "rol",
        "permiso",
    ),
    "culture": ("culture", "language", "locale", "lang", "sprache", "langue", "idioma"),
    # the DocSpace groups a person joins, names separated by ";"
    "groups": (
        "groups",
        "group",
        "usergroups",
        "gruppen",
        "gruppe",
        "groupes",
        "groupe",
        "grupos",
        "grupo",
    ),
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


def accepted_headers(kind: RowKind) -> dict[str, str]:
    """Every header a sheet of `kind` accepts, folded, and the column each stands for."""
    return dict(_ALIASES[kind])


def canonical(kind: RowKind, header: str) -> str | None:
    """The column a header stands for in a sheet of `kind`, or None when it is not one."""
    return _ALIASES[kind].get(fold_header(header))


# The columns whose headers tell a clients sheet, and the ones that tell a users sheet.
CLIENT_MARKERS = ("client_id", "client_name", "manager_email")
USER_MARKERS = ("first_name", "last_name", "type", "access", "culture")
_GENERIC = frozenset({"name"})  # a client name in a clients sheet, but proves nothing


@dataclass(frozen=True, slots=True)
class Classified:
    """What a table's header says it is, and the headers (as written) that said so."""

    kind: RowKind | None  # None: neither, or ambiguous
    client_headers: tuple[str, ...]
    user_headers: tuple[str, ...]

    @property
    def ambiguous(self) -> bool:
        return self.kind is None and bool(self.client_headers) and bool(self.user_headers)

    def deciding(self) -> str:
        """The headers that decided, for a message."""
        if self.kind is RowKind.CLIENT:
            return ", ".join(self.client_headers)
        if self.kind is RowKind.USER:
            return ", ".join(self.user_headers)
        return (
            f"client columns {', '.join(self.client_headers)} and person columns "
            f"{', '.join(self.user_headers)}"
        )


def classify(headers: list[str]) -> Classified:
    """A clients table has a client id, or two of client id, client name and manager, and no
    person column; a users table has person columns and at most a client id (its room), or
    else an e-mail column and no client columns. Both at once is ambiguous (kind None)."""
    client: dict[str, str] = {}
    user: dict[str, str] = {}
    has_email = False
    for header in headers:
        folded = fold_header(header)
        as_client = _ALIASES[RowKind.CLIENT].get(folded)
        as_user = _ALIASES[RowKind.USER].get(folded)
        has_email = has_email or as_user == "email" or as_client == "client_email"
        if (
            as_client in CLIENT_MARKERS
            and folded not in _GENERIC
            and (as_client == "client_id" or as_user is None)
        ):
            client.setdefault(as_client, header.strip())
        if as_user in USER_MARKERS and as_client is None:
            user.setdefault(as_user, header.strip())
    client_headers, user_headers = tuple(client.values()), tuple(user.values())
    kind: RowKind | None = None
    if user and (not client or set(client) == {"client_id"} or len(client) == 1):
        kind = RowKind.USER
    elif user:
        kind = None  # ambiguous
    elif "client_id" in client or len(client) >= 2:
        kind = RowKind.CLIENT
    elif has_email:
        kind = RowKind.USER
    return Classified(kind, client_headers, user_headers)


def detect_kind(headers: list[str]) -> RowKind | None:
    """The kind `classify` finds (None when neither or ambiguous)."""
    return classify(headers).kind


def close_column(kind: RowKind, header: str) -> str | None:
    """The column a header that is no known one most likely meant ("did you mean")."""
    table = _ALIASES[kind]
    guess = difflib.get_close_matches(fold_header(header), list(table), n=1, cutoff=0.8)
    return table[guess[0]] if guess else None


def known_header_count(headers: list[str]) -> int:
    """How many headers name a column of either kind (used to choose a CSV delimiter)."""
    folded = [fold_header(h) for h in headers]
    return max(sum(1 for h in folded if h in _ALIASES[kind]) for kind in RowKind)


def sheet_kind(name: str) -> RowKind | None:
    """The kind a workbook sheet holds by its name: "Clients", "users", "People" ..."""
    key = fold_header(name)
    if key in ("clients", "client", "kunden", "clientes"):
        return RowKind.CLIENT
    if key in ("users", "user", "people", "benutzer", "personen", "utilisateurs", "usuarios"):
        return RowKind.USER
    return None
