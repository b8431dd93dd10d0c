"""logs.configure: renderers, context binding, and the token never reaching the output."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from bulk_onboard import logs


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_json_lines_off_a_tty_with_context_merged() -> None:
    out = io.StringIO()
    logs.configure(fmt="auto", stream=out)
    structlog.contextvars.bind_contextvars(row="client:42", step="create_room")
    structlog.get_logger().info("step_started", room_title="Acme")
    event = json.loads(out.getvalue())
    assert event["event"] == "step_started"
    assert event["row"] == "client:42"
    assert event["step"] == "create_room"
    assert event["room_title"] == "Acme"
    assert event["level"] == "info"
    assert event["timestamp"].endswith("Z")


def test_console_renderer_on_a_tty() -> None:
    out = TtyStream()
    logs.configure(fmt="auto", stream=out)
    structlog.get_logger().warning("run_paused", resume_in=3)
    text = out.getvalue()
    assert "run_paused" in text
    assert "resume_in" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_format_can_be_forced() -> None:
    out = TtyStream()
    logs.configure(fmt="json", stream=out)
    structlog.get_logger().info("run_started")
    assert json.loads(out.getvalue())["event"] == "run_started"


def test_level_filters() -> None:
    out = io.StringIO()
    logs.configure(fmt="json", level="warning", stream=out)
    structlog.get_logger().info("request_finished")
    structlog.get_logger().warning("rate_limited")
    assert [json.loads(line)["event"] for line in out.getvalue().splitlines()] == ["rate_limited"]
    with pytest.raises(ValueError):
        logs.configure(level="chatty")


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_configured_token_and_key_patterns_are_redacted_everywhere(fmt: logs.LogFormat) -> None:
    secret = "plain-session-token-7f3a9c"  # not an sk- key: matched by exact value
    key = "sk-99aa88bb77cc66dd55ee"
    out = io.StringIO()
    logs.configure(fmt=fmt, stream=out, secrets=[secret])
    structlog.contextvars.bind_contextvars(row=f"user:{secret}")
    log = structlog.get_logger()
    log.info(
        "request_failed",
        reason=f"Authorization: Bearer {secret}",
        nested={"headers": [f"Bearer {key}"], "n": 3},
        error=RuntimeError(f"refused {key}"),
    )
    try:
        raise ValueError(f"bad token {secret}")
    except ValueError:
        log.exception("run_stopped")
    text = out.getvalue()
    assert secret not in text
    assert key not in text
    assert text.count(logs.REDACTED) >= 5
    assert "ValueError" in text  # the traceback is still there, only masked


def test_redact_leaves_ordinary_words_alone() -> None:
    assert logs.redact("task-force sk-abc desk-0123456789") == "task-force sk-abc desk-0123456789"
    assert logs.redact("key sk-0123456789abcdef!") == f"key {logs.REDACTED}!"
    assert logs.redact("x secret-y x", ["secret-y"]) == f"x {logs.REDACTED} x"


def test_event_vocabulary_is_snake_case() -> None:
    assert {"request_retrying", "rate_limited", "run_paused", "request_failed"} <= logs.EVENTS
    assert all(name.islower() and " " not in name and "-" not in name for name in logs.EVENTS)
