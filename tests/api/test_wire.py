"""The wire format: envelopes, Retry-After and the one classification table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bulk_onboard.api import wire
from bulk_onboard.errors import (
    AmbiguousWrite,
    ApiError,
    BudgetExhausted,
    FatalError,
    PermanentError,
    PortalUnreachable,
    PortalUnusable,
    RateLimited,
    TokenRefused,
    TransientError,
)

from .conftest import TOKEN

PATH = "/api/2.0/files/rooms"


def reply(status: int, body: object = None, raw: bytes | None = None, **headers: str) -> wire.Reply:
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return wire.read_reply(
        "GET", PATH, status, data, headers, max_retry_after=300.0, secrets=(TOKEN,)
    )


def failure(method: str, status: int, body: object = None, **headers: str) -> ApiError:
    data = b"" if body is None else json.dumps(body).encode()
    with pytest.raises(ApiError) as info:
        wire.read_reply(method, PATH, status, data, headers, max_retry_after=300.0)
    return info.value


# ---------------------------------------------------------------- envelopes


def test_success_envelope_is_unwrapped_with_count_and_total() -> None:
    got = reply(200, {"response": [{"id": 1}], "count": 1, "total": 57, "status": 0})
    assert got == wire.Reply(status=200, response=[{"id": 1}], count=1, total=57)


def test_success_without_response_and_empty_body() -> None:
    assert reply(200, {"count": 0, "status": 0, "statusCode": 200}).response is None
    assert reply(200, raw=b"").response is None


def test_status_one_with_http_400_lists_the_validation_errors() -> None:
    problem = {
        "response": {
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": {"Title": ["The field Title must be a string with a maximum length of 170."]},
        },
        "count": 1,
        "status": 1,
        "statusCode": 400,
    }
    err = failure("POST", 400, problem)
    assert type(err) is PermanentError
    assert err.status == 400
    assert err.message == (
        "One or more validation errors occurred: "
        "Title: The field Title must be a string with a maximum length of 170."
    )


def test_status_one_with_http_200_is_a_failure() -> None:
    problem = {"response": {"title": "Bad", "errors": {"Email": ["Incorrect email"]}}}
    err = failure("POST", 200, {**problem, "status": 1, "statusCode": 400})
    assert type(err) is PermanentError
    assert err.status == 400
    assert "Email: Incorrect email" in err.message
    # no statusCode at all: still a failure, reported with the HTTP status
    assert type(failure("GET", 200, {"status": 1})) is PermanentError


def test_error_envelope_message_is_used() -> None:
    body = {
        "error": {"message": "The required folder was not found", "type": "X", "stack": "at"},
        "status": 1,
        "statusCode": 404,
    }
    err = failure("GET", 404, body)
    assert type(err) is PermanentError
    assert err.message == "The required folder was not found"
    assert str(err) == f"GET {PATH} (HTTP 404): The required folder was not found"


def test_empty_401_is_fatal_and_says_what_to_do() -> None:
    err = failure("GET", 401)
    assert type(err) is TokenRefused
    assert "check DOCSPACE_TOKEN" in err.message
    assert err.body_excerpt == ""


def test_json_401_keeps_the_portal_message() -> None:
    err = failure("POST", 401, {"error": {"message": "User authentication failed"}, "status": 1})
    assert type(err) is TokenRefused
    assert "User authentication failed" in err.message


def test_non_json_success_means_the_url_is_not_the_api() -> None:
    with pytest.raises(FatalError, match="DOCSPACE_URL"):
        reply(200, raw=b"<html><body>Welcome</body></html>")


def test_non_json_error_body_is_accepted() -> None:
    err = failure("GET", 502)
    assert type(err) is TransientError
    with pytest.raises(PermanentError) as info:
        wire.read_reply("GET", PATH, 404, b"<html>nope</html>", {}, max_retry_after=1)
    assert info.value.message == "not found"
    assert info.value.body_excerpt == "<html>nope</html>"


def test_redirect_is_fatal_and_names_the_target_without_query() -> None:
    with pytest.raises(FatalError) as info:
        wire.read_reply(
            "POST", PATH, 302, b"", {"Location": "https://x.test/login?t=1"}, max_retry_after=1
        )
    assert "https://x.test/login" in info.value.message
    assert "t=1" not in info.value.message


def test_body_excerpt_is_short_single_line_and_redacted() -> None:
    body = {"error": {"message": f"token {TOKEN} bad\n\nagain", "stack": "x" * 500}}
    err = failure("GET", 400, body)
    assert TOKEN not in err.body_excerpt
    assert TOKEN not in err.message
    assert "\n" not in err.body_excerpt
    assert len(err.body_excerpt) <= wire.EXCERPT_CHARS


# ---------------------------------------------------------------- Retry-After


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert wire.parse_retry_after(value, now) == expected


# ---------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("status", "get_kind", "post_kind"),
    [
        (400, PermanentError, PermanentError),
        (402, PermanentError, PermanentError),
        (403, PermanentError, PermanentError),
        (404, PermanentError, PermanentError),
        (409, PermanentError, PermanentError),
        (401, TokenRefused, TokenRefused),
        (429, RateLimited, RateLimited),
        (500, TransientError, AmbiguousWrite),
        (502, TransientError, AmbiguousWrite),
        (503, TransientError, AmbiguousWrite),
        (504, TransientError, AmbiguousWrite),
        (501, PermanentError, PermanentError),
    ],
)
def test_classification_by_status_and_method(
    status: int, get_kind: type[ApiError], post_kind: type[ApiError]
) -> None:
    assert type(failure("GET", status)) is get_kind
    assert type(failure("POST", status)) is post_kind
    assert type(failure("PUT", status)) is post_kind
    assert failure("GET", status).status == status


def test_429_carries_retry_after_and_is_retryable() -> None:
    err = failure("POST", 429, None, **{"Retry-After": "12"})
    assert isinstance(err, RateLimited)
    assert isinstance(err, TransientError)
    assert err.retry_after == 12.0
    no_header = failure("GET", 429)
    assert isinstance(no_header, RateLimited)
    assert no_header.retry_after is None


def test_429_longer_than_the_policy_allows_is_budget_exhausted() -> None:
    err = failure("POST", 429, None, **{"Retry-After": "86000"})
    assert isinstance(err, BudgetExhausted)
    assert not isinstance(err, TransientError)
    assert err.retry_after == 86000.0
    assert "23h53m" in err.message


def test_status_code_inside_a_200_envelope_drives_the_class() -> None:
    err = failure("POST", 200, {"error": {"message": "boom"}, "status": 1, "statusCode": 500})
    assert type(err) is AmbiguousWrite
    assert err.status == 500


@pytest.mark.parametrize(
    ("failure_kind", "get_kind", "post_kind"),
    [
        # no connection: certainly no effect, retried like any transient failure
        ("connect", PortalUnreachable, PortalUnreachable),
        ("connect_timeout", PortalUnreachable, PortalUnreachable),
        ("timeout", TransientError, AmbiguousWrite),
        ("disconnect", TransientError, AmbiguousWrite),
        ("tls", PortalUnusable, PortalUnusable),
    ],
)
def test_transport_failures(
    failure_kind: wire.TransportFailure, get_kind: type[ApiError], post_kind: type[ApiError]
) -> None:
    assert type(wire.transport_error("GET", PATH, failure_kind, "x")) is get_kind
    assert issubclass(PortalUnreachable, TransientError)
    post = wire.transport_error("POST", PATH, failure_kind, f"reset {TOKEN}")
    assert type(post) is post_kind
    assert post.status is None
    assert TOKEN not in str(post)


@pytest.mark.parametrize(
    ("failure", "may_have_applied"),
    [("connect", False), ("connect_timeout", False), ("timeout", True), ("disconnect", True)],
)
def test_a_write_refused_at_connect_is_not_uncertain(failure: Any, may_have_applied: bool) -> None:
    """Connection refused: nothing was sent, so nothing needs looking for; a write that was
    sent and lost its answer may have been applied."""
    err = wire.transport_error("POST", "/api/2.0/files/rooms", failure, "detail")
    assert err.may_have_applied is may_have_applied
    assert isinstance(err, AmbiguousWrite) is may_have_applied
    assert wire.transport_error("GET", "/x", failure, "d").may_have_applied is False
