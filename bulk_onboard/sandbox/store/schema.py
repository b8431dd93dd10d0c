"""The sandbox's SQLite schema. Folder and file ids come from disjoint ranges, so a client
that sends a file id where a folder id belongs gets "not found" instead of a silent hit."""

from __future__ import annotations

ROOMS_ROOT_ID = 1
ARCHIVE_ROOT_ID = 2
FIRST_ROOM_ID = 101
FIRST_FILE_ID = 1_000_001

TABLES = (
    "settings",
    "people",
    "sessions",
    "folders",
    "files",
    "shares",
    "links",
    "outbox",
    "relations",
    "groups",
    "group_members",
)
DATA_TABLES = TABLES[1:]

DDL = """
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS people (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    user_name TEXT NOT NULL UNIQUE,
    type INTEGER NOT NULL,
    status INTEGER NOT NULL,
    activation INTEGER NOT NULL,
    is_owner INTEGER NOT NULL DEFAULT 0,
    password TEXT,
    culture TEXT,
    created REAL NOT NULL,
    created_by TEXT
);
-- Every authenticated request looks up the owner; invitation answers list people by status.
CREATE INDEX IF NOT EXISTS people_owner ON people(is_owner) WHERE is_owner = 1;
CREATE INDEX IF NOT EXISTS people_status ON people(status, seq);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS folders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id INTEGER,
    title TEXT NOT NULL,
    folder_type INTEGER NOT NULL,
    room_type INTEGER,
    room_id INTEGER,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    created_by TEXT NOT NULL,
    private INTEGER NOT NULL DEFAULT 0,
    indexing INTEGER NOT NULL DEFAULT 0,
    deny_download INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS folders_parent ON folders(parent_id);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    folder_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    created_by TEXT NOT NULL,
    source_id INTEGER
);
CREATE INDEX IF NOT EXISTS files_folder ON files(folder_id);
CREATE TABLE IF NOT EXISTS shares (
    room_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    access INTEGER NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE TABLE IF NOT EXISTS links (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    room_id INTEGER NOT NULL,
    subject_type INTEGER NOT NULL,
    access INTEGER NOT NULL,
    title TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    request_token TEXT NOT NULL,
    expiration REAL,
    password TEXT,
    deny_download INTEGER NOT NULL DEFAULT 0,
    internal INTEGER NOT NULL DEFAULT 0,
    max_use_count INTEGER,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS links_room ON links(room_id);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    to_email TEXT NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT,
    room_id INTEGER,
    subject TEXT NOT NULL,
    message TEXT,
    link TEXT,
    culture TEXT,
    time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS relations (
    inviter_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (inviter_id, user_id)
);
CREATE TABLE IF NOT EXISTS groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    manager TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS group_members (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    UNIQUE (group_id, user_id)
);
"""
