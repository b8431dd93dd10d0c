"""The portal's shapes stay in api/: the engine reads typed rooms, members, links and people
(api/models.py) and typed refusals (PermanentError.refusal), never DocSpace's camelCase keys
(`sharedToUser`, `rootFolderType`, `activationStatus` ...) nor the text of an error message.
Read from the source, as test_imports reads the layers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "bulk_onboard"
ENGINE = PACKAGE / "engine"
QUOTED_CAMEL = re.compile(r"[\"'][a-z]+[A-Z][A-Za-z]*[\"']")  # "sharedToUser", 'isOwner'
CAMEL = re.compile(r"[a-z]+[A-Z][A-Za-z]*")
# Wire names seen in the engine before, named so that prose cannot bring them back either.
WIRE_NAMES = (
    "sharedTo",
    "sharedToUser",
    "sharedLink",
    "shareLink",
    "rootFolderType",
    "roomType",
    "activationStatus",
    "isOwner",
    "isAdmin",
    "isRoomAdmin",
    "isCollaborator",
    "isVisitor",
)


def _engine_files() -> list[Path]:
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) > 10, "the engine's modules were not found"
    return files


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(PACKAGE.parent)}:{line}"


def test_the_engine_quotes_no_camel_case_name() -> None:
    """What `grep -rnE '"[a-z]+[A-Z][A-Za-z]*"' bulk_onboard/engine` finds, and the same in
    single quotes: a DocSpace key read from a dict."""
    found = [
        f"{_where(path, number)}: {line.strip()}"
        for path in _engine_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if QUOTED_CAMEL.search(line)
    ]
    assert found == [], "DocSpace wire names in the engine; decode them in api/models.py"


def test_the_engine_has_no_camel_case_string_at_all() -> None:
    """Every string constant of the engine, however it is spelled or built (a key in a
    subscript, an f-string's part, a constant named elsewhere), holds no camelCase word."""
    found = []
    for path in _engine_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if CAMEL.fullmatch(node.value.strip()):
                found.append(f"{_where(path, node.lineno)}: {node.value!r}")
    assert found == []


def test_no_known_wire_name_appears_in_the_engine() -> None:
    found = [
        f"{_where(path, number)}: {name}"
        for path in _engine_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for name in WIRE_NAMES
        if re.search(rf"\b{name}\b", line)
    ]
    assert found == []


def _reads_message(node: ast.expr) -> bool:
    return any(
        isinstance(sub, ast.Attribute) and sub.attr in ("message", "body_excerpt")
        for sub in ast.walk(node)
    ) or any(
        isinstance(sub, ast.Call)
        and isinstance(sub.func, ast.Name)
        and sub.func.id == "str"
        and sub.args
        and isinstance(sub.args[0], ast.Name)
        and sub.args[0].id in ("exc", "err", "error")
        for sub in ast.walk(node)
    )


def test_the_engine_matches_no_error_message_text() -> None:
    """`"already registered" in exc.message`, `"..." not in str(exc).lower()`, a message's
    `startswith`: each is a refusal to classify in api/wire.py (errors.Refusal)."""
    found = []
    for path in _engine_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(
                isinstance(op, (ast.In, ast.NotIn)) for op in node.ops
            ):
                if any(_reads_message(side) for side in node.comparators):
                    found.append(_where(path, node.lineno))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("startswith", "endswith", "find", "search", "match")
                and _reads_message(node.func.value)
            ):
                found.append(_where(path, node.lineno))
    assert found == []


def test_the_portal_client_answers_with_no_dto() -> None:
    """PortalClient (what the engine may ask) answers with api/models.py's types: no method
    returns the portal's dicts (`Json`)."""
    tree = ast.parse((PACKAGE / "api" / "protocol.py").read_text(encoding="utf-8"))
    (protocol,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "PortalClient"]
    methods = [n for n in protocol.body if isinstance(n, ast.AsyncFunctionDef)]
    assert len(methods) > 15
    answers = {m.name: ast.unparse(m.returns) for m in methods if m.returns is not None}
    assert {name: text for name, text in answers.items() if "Json" in text or "dict" in text} == {}


def test_the_checks_see_what_they_look_for() -> None:
    """The rules above are not vacuous: each finds the kind of line they forbid."""
    assert QUOTED_CAMEL.search('user = share.get("sharedToUser") or {}')
    assert CAMEL.fullmatch("rootFolderType")
    compare = ast.parse('"already registered" not in exc.message.lower()').body[0]
    assert isinstance(compare, ast.Expr) and isinstance(compare.value, ast.Compare)
    assert _reads_message(compare.value.comparators[0])
    call = ast.parse("str(exc).startswith('x')").body[0]
    assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)
    assert isinstance(call.value.func, ast.Attribute)
    assert _reads_message(call.value.func.value)
