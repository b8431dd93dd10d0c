"""Plans as people and programs read them: one text line per step, or stable JSON.

References to earlier results print symbolically: <room.id> is the id the room step will
produce; <client:C-10045/room.id> the room id of another row's plan. The JSON form (keys in a
fixed order, enums as words) is what golden files compare.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from enum import Enum
from typing import Any

from bulk_onboard.intake import Intake
from bulk_onboard.model.records import Access, LinkType, Origin, RoomType, UserType
from bulk_onboard.model.steps import (
    AnnounceCrm,
    CopyFile,
    CopySkeleton,
    EnsureFolder,
    EnsureLink,
    EnsurePerson,
    EnsureRoom,
    FindRoom,
    JoinGroup,
    JoinRoom,
    Member,
    NameContact,
    Plan,
    Ref,
    RoomFromTemplate,
    ShareGroups,
    ShareRoom,
    Step,
    TemplateContent,
    TemplatePath,
)
from bulk_onboard.model.words import ACCESS_NAMES, ROOM_TYPE_NAMES, USER_TYPE_NAMES
from bulk_onboard.runs.summary import unread_sheets_json
from bulk_onboard.sources import InputWarning
from bulk_onboard.validate.files import Invalid

_LINK_NAMES = {LinkType.INVITATION: "invitation", LinkType.EXTERNAL: "external"}


def word(value: Enum) -> str:
    """The word an enum value prints as."""
    if isinstance(value, RoomType):
        return ROOM_TYPE_NAMES[value]
    if isinstance(value, Access):
        return ACCESS_NAMES[value]
    if isinstance(value, UserType):
        return USER_TYPE_NAMES[value]
    if isinstance(value, LinkType):
        return _LINK_NAMES[value]
    return str(value.name).lower()


def action(step: Step) -> str:
    """EnsureRoom → ensure_room."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(step).__name__).lower()


# ---- text ----------------------------------------------------------------------------------


def step_text(step: Step) -> str:
    """What the step will do, in one line."""
    told = _TOLD_APART.get(type(step))
    if told is not None:
        return told(step)
    match step:
        case EnsureRoom(title=title, room_type=room_type, tags=tags):
            extra = f"; tags: {', '.join(tags)}" if tags else ""
            return f'ensure room "{title}" ({word(room_type)}{extra})'
        case FindRoom(title=title):
            return f'find the existing room "{title}"'
        case EnsureFolder(parent=parent, title=title):
            return f'ensure folder "{title}" in {parent}'
        case CopyFile(source=source, dest_folder=dest, dest_title=title):
            what = f'"{source}"' if isinstance(source, TemplatePath) else f"file {source}"
            return f'copy {what} to {dest} as "{title}"'
        case NameContact(email=email, first_name=first, last_name=last):
            return f"ensure the contact {email} is named {first} {last} (a guest, if new)"
        case EnsureLink(room=room, link_type=link_type, access=access, title=title):
            return f'ensure {word(link_type)} link "{title}" ({word(access)}) in {room}'
        case EnsurePerson(
            email=email, first_name=first, last_name=last, user_type=user_type, culture=culture
        ):
            how = f"{first} {last}" if first and last else "invited by e-mail"
            extra = f", {culture}" if culture else ""
            return f"ensure person {email} ({how}, {word(user_type)}{extra})"
        case JoinRoom(room=room, person=person, email=email, access=access, notify=notify):
            note = "notify" if notify else "no notification"
            return f"add {person} ({email}) to {room} as {word(access)}; {note}"
        case AnnounceCrm(fields=fields):
            return "announce to the CRM: " + ", ".join(
                f"{name}={_value_text(value)}" for name, value in fields
            )
    raise TypeError(f"unknown step {step!r}")


def _skeleton_text(step: CopySkeleton) -> str:
    return f'copy the content of "{step.source}" into {step.room} (one copy operation; ' + (
        f"while it is not in the portal: {_fallback_text(step.fallback)})"
        if step.fallback
        else "the playbook has no folders or copies to make instead)"
    )


def _group_text(step: JoinGroup | ShareGroups) -> str:
    if isinstance(step, JoinGroup):
        return (
            f'add {step.person} ({step.email}) to the group "{step.name}" (made once when the '
            "portal has none)"
        )
    names = ", ".join(f'"{name}"' for name in step.groups)
    return (
        f"share {step.room} with the group{'s' if len(step.groups) > 1 else ''} {names} as "
        f"{word(step.access)} (made once when the portal has none); no notification"
    )


def _template_text(step: RoomFromTemplate | TemplateContent) -> str:
    if isinstance(step, TemplateContent):
        instead = _content_text(step.fallback) if step.fallback else "the playbook has none"
        return f'the content comes with "{step.template}" (while it cannot be used: {instead})'
    extra = f"; tags: {', '.join(step.tags)}" if step.tags else ""
    return (
        f'ensure room "{step.title}" from the room template "{step.template}" (one portal job '
        f"at a time{extra}; while the template cannot be used: as a {word(step.room_type)} room)"
    )


def _content_text(steps: tuple[CopySkeleton | EnsureFolder | CopyFile, ...]) -> str:
    skeleton = next((s for s in steps if isinstance(s, CopySkeleton)), None)
    if skeleton is not None:
        return f'the content of "{skeleton.source}" in one copy operation'
    per_step = tuple(s for s in steps if isinstance(s, EnsureFolder | CopyFile))
    return _fallback_text(per_step)


def _fallback_text(steps: tuple[EnsureFolder | CopyFile, ...]) -> str:
    folders = sum(1 for step in steps if isinstance(step, EnsureFolder))
    copies = len(steps) - folders
    return f"{folders} folders and {copies} copies of the playbook, step by step"


# the steps whose text a function of their own tells
_TOLD_APART: dict[type, Callable[[Any], str]] = {
    RoomFromTemplate: _template_text,
    TemplateContent: _template_text,
    JoinGroup: _group_text,
    ShareGroups: _group_text,
    CopySkeleton: _skeleton_text,
    ShareRoom: lambda step: _share_text(step),
}


def _share_text(step: ShareRoom) -> str:
    who = ", ".join(_member_text(m) for m in step.members)
    notes = ["notify" if step.notify else "no notification"]
    if step.message:
        notes.append(f'message "{step.message}"')
    if step.culture:
        notes.append(f"culture {step.culture}")
    return f"share {step.room} with {who}; {', '.join(notes)}"


def _member_text(member: Member) -> str:
    how = "by user id" if member.by_id else "by e-mail"
    return f"{member.email} as {word(member.access)} ({how})"


def _value_text(value: str | Ref | tuple[Ref, ...]) -> str:
    if isinstance(value, tuple):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


def plan_lines(plan: Plan) -> list[str]:
    width = max(len(s.key) for s in plan.steps)
    lines = [f"{plan.row_key}  ({plan.origin.describe()})"]
    lines.extend(f"  {s.key.ljust(width)}  {step_text(s)}" for s in plan.steps)
    return lines


def invalid_lines(row: Invalid) -> list[str]:
    name = f"{row.kind}:{row.key}" if row.key else f"{row.kind} row"
    lines = [f"{name}  ({row.origin.describe()})  INVALID, not planned"]
    lines.extend(f"  {found.label}: {found.text}" for found in row.problems)
    return lines


def intake_text(intake: Intake) -> str:
    """Every plan, then every invalid row, separated by blank lines."""
    blocks = [plan_lines(p) for p in intake.plans] + [invalid_lines(r) for r in intake.invalid]
    return "\n\n".join("\n".join(block) for block in blocks)


# ---- JSON ----------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """Steps and their parts as plain JSON values."""
    if isinstance(value, Ref):
        ref = {"step": value.step, "field": value.field}
        return {"ref": ref | ({"row": value.row} if value.row else {})}
    if isinstance(value, Enum):
        return word(value)
    if isinstance(value, TemplatePath):
        return {"room_title": value.room_title, "file_title": value.file_title}
    if isinstance(value, AnnounceCrm):
        return {
            "key": value.key,
            "action": action(value),
            "fields": {name: to_json(v) for name, v in value.fields},
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            out[f.name] = to_json(getattr(value, f.name))
            if f.name == "key":
                out["action"] = action(value)  # type: ignore[arg-type]
        return out
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


def origin_json(origin: Origin) -> dict[str, Any]:
    return {"file": origin.file, "sheet": origin.sheet, "line": origin.line}


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "row": plan.row_key,
        "kind": plan.kind,
        **origin_json(plan.origin),
        "steps": [to_json(s) for s in plan.steps],
    }


def invalid_json(row: Invalid) -> dict[str, Any]:
    return {
        "kind": row.kind.plural,
        "key": row.key,
        **origin_json(row.origin),
        "issues": [
            {"column": i.column, "header": i.label, "problem": i.text} for i in row.problems
        ],
    }


def notice_json(warning: InputWarning) -> dict[str, Any]:
    return {
        "file": warning.file,
        "sheet": warning.sheet,
        "line": warning.line,
        "column": warning.column,
        "message": warning.message,
    }


def intake_json(intake: Intake) -> dict[str, Any]:
    return {
        "playbook": intake.playbook.source,
        "summary": {
            "rows": intake.rows,
            "valid": len(intake.plans),
            "invalid": len(intake.invalid),
            "warnings": len(intake.warnings),
        },
        "tables": [
            {
                "file": t.file,
                "sheet": t.sheet,
                "kind": t.kind.plural,
                "header_line": t.header_line,
                "columns_mapped": dict(t.mapped),
            }
            for t in intake.tables
        ],
        "unread_sheets": unread_sheets_json(intake.unread, intake.ignored),
        "plans": [plan_json(p) for p in intake.plans],
        "invalid": [invalid_json(r) for r in intake.invalid],
        "warnings": [notice_json(n) for n in intake.warnings],
    }
