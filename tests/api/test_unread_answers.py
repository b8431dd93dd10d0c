"""An answer the tool does not read is not decoded: an invitation's answer lists every pending
user of the portal. A failure still reads as one."""

from __future__ import annotations

import json

import pytest

from bulk_onboard.api.wire import read_reply
from bulk_onboard.errors import PermanentError


def _envelope(response: object, status: int = 0, code: int = 200) -> bytes:
    body = {"response": response, "count": 1, "links": [], "status": status, "statusCode": code}
    return json.dumps(body).encode()


def test_an_unread_success_is_not_decoded() -> None:
    raw = _envelope([{"id": f"u{n}"} for n in range(1000)])
    reply = read_reply(
        "POST", "/api/2.0/people/invite", 200, raw, {}, max_retry_after=60, unread=True
    )
    assert reply.status == 200 and reply.response is None
    compact = raw.replace(b": ", b":").replace(b", ", b",")  # as the server writes it
    assert (
        read_reply("POST", "/p", 200, compact, {}, max_retry_after=60, unread=True).response is None
    )
    read = read_reply("POST", "/p", 200, raw, {}, max_retry_after=60)
    assert len(read.response) == 1000


def test_an_unread_failure_is_still_a_failure() -> None:
    problem = {"title": "One or more validation errors occurred.", "errors": {"Email": ["bad"]}}
    raw = _envelope(problem, status=1, code=400)
    with pytest.raises(PermanentError) as info:
        read_reply("POST", "/p", 200, raw, {}, max_retry_after=60, unread=True)
    assert info.value.status == 400
    not_json = b"<html>gateway</html>"
    with pytest.raises(Exception, match="not the DocSpace API"):
        read_reply("POST", "/p", 200, not_json, {}, max_retry_after=60, unread=True)
