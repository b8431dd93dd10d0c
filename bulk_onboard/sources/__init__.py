"""Spreadsheet files in, RawRows out: the edge where bytes become text.

`open_sources` looks at each file's bytes (never its extension alone) to tell a CSV from a
workbook (.xlsx, .xls, .ods) from something unusable, reads the header, resolves header aliases to the
canonical columns and hands back one Sheet per clients or users table. A Sheet's rows are read
lazily, once, so a 100,000-row file never sits in memory twice.

Anything that makes a file unusable is an InputError whose message is one sentence naming the
file and saying what to do. Cell-level oddities (a formula without a saved result, a value
under a blank header) are Notices, and the row is still read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bulk_onboard.errors import InputError
from bulk_onboard.model.records import RowKind
from bulk_onboard.sources.csv_file import read_csv
from bulk_onboard.sources.table import NO_COLUMNS, ColumnMap, Header, InputWarning, RawRow, Sheet
from bulk_onboard.sources.workbook import read_workbook

__all__ = [
    "ColumnMap",
    "Header",
    "InputWarning",
    "RawRow",
    "Sheet",
    "display_names",
    "open_sources",
    "sniff_format",
]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


def display_names(paths: Sequence[Path]) -> list[str]:
    """File names as messages show them: the bare name, unless two inputs share it."""
    names = [p.name for p in paths]
    return [n if names.count(n) == 1 else str(p) for n, p in zip(names, paths, strict=True)]


def open_sources(
    paths: Sequence[Path], kind: RowKind | None = None, columns: ColumnMap = NO_COLUMNS
) -> list[Sheet]:
    """Every clients/users table in the files. `kind` restricts (workbooks) or decides (CSV);
    `columns` maps an export's own headers to columns (the playbook's [columns])."""
    sheets: list[Sheet] = []
    for path, name in zip(paths, display_names(paths), strict=True):
        data = _read_bytes(path, name)
        fmt = sniff_format(data, name)
        if fmt == "csv":
            sheets.append(read_csv(data, name, kind, columns))
        else:
            sheets.extend(read_workbook(data, name, kind, fmt, columns))
    return sheets


def _read_bytes(path: Path, name: str) -> bytes:
    """The file's bytes; a file that cannot be read is named by the path as given."""
    given = str(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{given} does not exist; check the file name and folder.") from None
    except IsADirectoryError:
        raise InputError(
            f"{given} is a folder ({path.resolve()}), not a file; name the spreadsheet files "
            f"in it, e.g. {path / 'clients.csv'}."
        ) from None
    except PermissionError:
        raise InputError(
            f"{given} cannot be opened (permission denied); close it in other programs or "
            "check its permissions and try again."
        ) from None
    except OSError as exc:
        raise InputError(f"{given} cannot be read ({exc.strerror}); check the file.") from None


def sniff_format(data: bytes, name: str) -> str:
    """'xlsx', 'xls', 'ods' or 'csv' from the bytes; InputError for everything we cannot read."""
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise InputError(f"{name} is empty; export the spreadsheet again and try again.")
    if data.startswith(_OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise InputError(
                f"{name} is protected with a password; open it in Excel, remove the password "
                "(File > Info > Protect Workbook), save it and try again."
            )
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            return "xls"
        raise InputError(
            f"{name} is an old Microsoft Office document, not a spreadsheet this tool reads; "
            "save the list as .xlsx or CSV and try again."
        )
    if data.startswith(_ZIP_MAGIC):
        return _zip_kind(data, name)
    if data.startswith(b"%PDF"):
        raise InputError(
            f"{name} is a PDF document, not a spreadsheet; export the list as .xlsx or CSV "
            "and try again."
        )
    return "csv"


def _zip_kind(data: bytes, name: str) -> str:
    head = data[:4096]
    if b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in head:
        return "ods"
    if b"mimetypeapplication/vnd.oasis.opendocument" in head:
        raise InputError(
            f"{name} is an OpenDocument file, not a spreadsheet; save the list as .xlsx or CSV "
            "and try again."
        )
    if b"xl/" in data:
        return "xlsx"
    if b"word/" in data or b"ppt/" in data:
        raise InputError(
            f"{name} is a Word or PowerPoint document, not a spreadsheet; put the list in an "
            ".xlsx or CSV file and try again."
        )
    raise InputError(
        f"{name} is a ZIP archive, not a spreadsheet; unpack it and name the .xlsx or CSV "
        "file inside."
    )
