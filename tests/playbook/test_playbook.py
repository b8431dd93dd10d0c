"""The playbook: defaults, partial files, and a clear ConfigError for every wrong key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.errors import ConfigError
from bulk_onboard.model.records import Access, LinkType, RoomType
from bulk_onboard.model.steps import TemplatePath
from bulk_onboard.playbook.reader import Guard, TemplateCopy, default_playbook, load_playbook
from bulk_onboard.validate.rows import title_keys
from tests.sheets import CLIENT, make_sheet

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "playbook.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "playbook.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_playbook_is_the_documented_one() -> None:
    book = load_playbook(None)
    assert book.room_title == "Client - {client_name}"
    assert book.room_type == RoomType.COLLABORATION
    assert book.folders == ("Invoices", "Contracts", "Deliverables")
    assert book.copies == (
        TemplateCopy(
            TemplatePath("Templates", "Welcome.pdf"),
            "Deliverables",
            "Welcome to your client room.pdf",
        ),
        TemplateCopy(
            TemplatePath("Templates", "Guide.pdf"),
            "Deliverables",
            "How to use the client portal.pdf",
        ),
    )
    assert (book.access.manager, book.access.client, book.access.users) == (
        Access.ROOM_MANAGER,
        Access.READ,
        Access.EDITING,
    )
    assert (book.link.kind, book.link.link_type, book.link.access, book.link.title) == (
        "invitation",
        LinkType.INVITATION,
        Access.READ,
        "Invitation link",
    )
    assert book.invitation.notify is True and book.invitation.message is None
    assert not book.crm.configured and book.crm.max_attempts == 5


def test_sample_playbook_documents_every_key_with_the_default_values() -> None:
    """...except the guard, where the sample shows limits for a nightly job (the default has
    none)."""
    sample = load_playbook(SAMPLE)
    assert sample.source == "playbook.toml"
    assert default_playbook().guard == Guard(None, None)
    assert sample == load_playbook(None).__class__(
        **{
            **{f: getattr(default_playbook(), f) for f in default_playbook().__slots__},
            "source": "playbook.toml",
            "guard": Guard(max_new_rooms=50, max_new_people=200),
        }
    )


def test_a_partial_file_changes_only_its_keys(tmp_path: Path) -> None:
    book = load_playbook(
        write(
            tmp_path,
            """
[room]
type = "custom"
folders = ["Reports"]

[[copies]]
source = 4711
folder = "Reports"
title = "Start here.docx"

[[copies]]
source = "Shared templates/Q1/Checklist.xlsx"
title = "Checklist.xlsx"

[link]
kind = "external"
title = "Client view"

[crm]
jsonl_path = "out/crm.jsonl"
secret_env = "CRM_WEBHOOK_SECRET"
webhook_url = "https://crm.example.com/hooks/onboarded"
""",
        )
    )
    assert book.room_type == RoomType.CUSTOM and book.room_title == "Client - {client_name}"
    assert book.copies == (
        TemplateCopy(4711, "Reports", "Start here.docx"),
        TemplateCopy(TemplatePath("Shared templates/Q1", "Checklist.xlsx"), None, "Checklist.xlsx"),
    )
    assert (book.link.kind, book.link.access, book.link.title) == (
        "external",
        Access.READ,
        "Client view",
    )
    assert book.crm.configured and book.crm.jsonl_path == tmp_path / "out" / "crm.jsonl"
    assert book.crm.secret_env == "CRM_WEBHOOK_SECRET" and book.crm.csv_path is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[rooms]\ntitle = "x"', 'playbook.toml: unknown section or key "rooms"'),
        (
            '[room]\ntitel = "x"',
            'playbook.toml: unknown key "room.titel"; [room] accepts allow_partial_view, folders, group_access, groups, rename, skeleton, tags, template, title, type.',
        ),
        ('[[copies]]\nsource = 1\ntitle = "a"\ntarget = "x"', 'unknown key "copies.target"'),
        ('[crm]\nsecret = "hunter2"', 'unknown key "crm.secret"'),
        ("[room\n", "playbook.toml is not valid TOML"),
        ('[room]\nfolders = "Invoices"', "room.folders must be a list of texts"),
        ('[room]\nfolders = ["A", "a"]', 'room.folders names "a" twice'),
        ('[room]\nfolders = ["' + "x" * 166 + '"]', "longer than 165 characters"),
        (
            '[room]\ntype = "kitchen"',
            (
                "room.type is 'kitchen', which is no room type; use "
                "collaboration, custom, public, form-filling, virtual-data"
            ),
        ),
        ('[room]\ntitle = "Client {client_name!r}"', "placeholders can only name a column"),
        ('[room]\ntitle = "Client {client_name"', "has unbalanced braces"),
        ('[room]\ntitle = ""', "room.title must not be empty"),
        ('[access]\nclient = "room-manager"', "access.client cannot be room-manager"),
        ('[access]\nusers = "none"', "access.users cannot be none"),
        ('[access]\nmanager = "read-write"', "which is no room access"),
        ('[link]\nkind = "public"', 'link.kind "public" is not a link kind'),
        ('[link]\naccess = "none"', "link.access cannot be none for a link"),
        ('[invitation]\nnotify = "yes"', "invitation.notify must be true or false"),
        (
            '[invitation]\nculture = "english"',
            'invitation.culture is "english", which is no language code',
        ),
        (
            '[crm]\nsecret_env = "s3cr3t-Value-abc"',
            "crm.secret_env must be the NAME of an environment variable",
        ),
        ('[crm]\nwebhook_url = "crm.example.com/hook"', "is not a web address"),
        ("[crm]\ntimeout_seconds = 0", "crm.timeout_seconds must be a number from 0.1 to 300"),
        ("[crm]\nmax_attempts = 2.5", "crm.max_attempts must be a whole number from 1 to 20"),
        ("[guard]\nmax_new_rooms = -1", "guard.max_new_rooms must be a whole number from 0 to"),
        ('[guard]\nmax_new_people = "50"', "guard.max_new_people must be a whole number"),
        ("[guard]\nmax_rooms = 5", 'unknown key "guard.max_rooms"'),
        (
            '[[copies]]\nsource = "Welcome.pdf"\ntitle = "W.pdf"',
            'copies #1.source must be a file id (a number) or "Room title/File name"',
        ),
        (
            '[[copies]]\nsource = 5\nfolder = "Archive"\ntitle = "W.pdf"',
            'copies #1 ("W.pdf") goes to folder "Archive", which is not in room.folders',
        ),
        (
            '[[copies]]\nsource = 5\ntitle = "W.pdf"\n[[copies]]\nsource = 6\ntitle = "w.pdf"',
            'two copies are titled "w.pdf"',
        ),
        (
            '[[copies]]\nsource = "Templates/Welcome.pdf"\ntitle = "Welcome.docx"',
            (
                'copies #1.title "Welcome.docx" has the extension .docx, but its template '
                '"Templates/Welcome.pdf" has the extension .pdf; the portal would convert the '
                "file instead of copying it (copyas-extension-change). Give copies #1.title the "
                "extension of its template."
            ),
        ),
        (
            '[[copies]]\nsource = "Templates/Guide.pdf"\ntitle = "Read me first"',
            'copies #1.title "Read me first" has no extension, but its template',
        ),
    ],
)
def test_wrong_playbooks_are_config_errors_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_playbook(write(tmp_path, text))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_missing_playbook_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; check the --playbook path"):
        load_playbook(tmp_path / "nope.toml")


def test_numeric_source_in_quotes_is_a_file_id(tmp_path: Path) -> None:
    book = load_playbook(write(tmp_path, '[[copies]]\nsource = " 123 "\ntitle = "x.pdf"'))
    assert book.copies[0].source == 123 and book.copies[0].folder is None


def test_title_placeholders_may_name_any_column_of_the_clients_sheet(tmp_path: Path) -> None:
    book = load_playbook(write(tmp_path, '[room]\ntitle = "{Region} / {company} ({client_id})"'))
    sheet = make_sheet("clients", [{**CLIENT, "Region": "EMEA"}])
    assert title_keys(book, sheet) == {
        "Region": "Region",
        "company": "client_name",
        "client_id": "client_id",
    }


def test_unknown_placeholder_is_a_config_error_naming_it(tmp_path: Path) -> None:
    book = load_playbook(write(tmp_path, '[room]\ntitle = "Client - {regoin}"'))
    with pytest.raises(ConfigError) as raised:
        title_keys(book, make_sheet("clients", [CLIENT]))
    assert str(raised.value) == (
        "The room title pattern of playbook.toml uses {regoin}, but clients.csv has no such "
        "column; use one of its columns, like {client_name}."
    )


def test_a_copy_keeps_its_templates_extension_whatever_the_case(tmp_path: Path) -> None:
    book = load_playbook(write(tmp_path, '[[copies]]\nsource = "T/Guide.PDF"\ntitle = "G.pdf"'))
    assert [c.title for c in book.copies] == ["G.pdf"]
