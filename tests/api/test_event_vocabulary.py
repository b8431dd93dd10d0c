"""Every event the code logs is a word of the fixed vocabulary in logs.EVENTS."""

from __future__ import annotations

import ast
from pathlib import Path

from bulk_onboard import logs

PACKAGE = Path(__file__).resolve().parents[2] / "bulk_onboard"
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}


def _logged_events() -> set[tuple[str, str]]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if "sandbox" in path.parts:  # the sandbox keeps its own, plain logging
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in (*LEVELS, "log")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log"
            ):
                # log.info("event", ...) or log.log(level, "event", ...)
                args = node.args[1:] if node.func.attr == "log" else node.args
                if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                    found.add((args[0].value, f"{path.name}:{node.lineno}"))
    return found


def test_every_logged_event_is_in_the_vocabulary() -> None:
    events = _logged_events()
    assert len(events) >= 15  # the scan really found the log calls
    unknown = sorted((name, where) for name, where in events if name not in logs.EVENTS)
    assert unknown == []


def test_every_word_of_the_vocabulary_is_logged_somewhere() -> None:
    """No event is promised that the code never emits."""
    emitted = {name for name, _ in _logged_events()}
    assert sorted(logs.EVENTS - emitted) == []
