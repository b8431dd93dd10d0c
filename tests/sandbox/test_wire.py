"""Envelopes, error shapes, authentication challenges and the JSON reading rules."""

from __future__ import annotations

import re

from .conftest import Api

API_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}(Z|[+-]\d\d:\d\d)$")


async def test_success_envelope_for_an_object(api: Api) -> None:
    reply = await api.post("/api/2.0/files/rooms", {"title": "Acme", "roomType": 2})
    assert reply.status == 200
    body = reply.body
    assert set(body) == {"response", "count", "links", "status", "statusCode"}
    assert body["count"] == 1 and body["status"] == 0 and body["statusCode"] == 200
    assert body["links"] == [{"href": f"{api.base}/api/2.0/files/rooms", "action": "POST"}]
    assert reply.headers["Content-Type"].startswith("application/json")
    assert API_DATE.match(reply.response["created"])


async def test_list_envelope_counts_items_and_carries_total(api: Api) -> None:
    await api.people({"email": "a@example.com"}, {"email": "b@example.com"})
    reply = await api.get("/api/2.0/people/filter", params={"count": 2, "startIndex": 1})
    assert reply.body["count"] == 2 and reply.body["total"] == 3
    assert reply.body["links"][0]["href"].endswith("/api/2.0/people/filter?count=2&startIndex=1")
    assert reply.body["links"][0]["action"] == "GET"


async def test_null_properties_are_omitted(api: Api) -> None:
    room = await api.room()
    folder = (await api.post(f"/api/2.0/files/folder/{room}", {"title": "Docs"})).response
    assert "roomType" not in folder and "tags" not in folder
    assert folder["parentRoomType"] == 19 and folder["fileEntryType"] == 1
    assert None not in folder.values()


async def test_error_envelope_shape(api: Api) -> None:
    reply = await api.get("/api/2.0/files/rooms/987654")
    assert reply.status == 404
    assert reply.body == {
        "error": {
            "message": "The required folder was not found",
            "type": "ASC.Common.Web.ItemNotFoundException",
            "stack": reply.error["stack"],
            "hresult": reply.error["hresult"],
        },
        "status": 1,
        "statusCode": 404,
    }
    assert reply.error["stack"].startswith("   at ") and isinstance(reply.error["hresult"], int)


async def test_validation_error_travels_in_the_success_wrapper(api: Api) -> None:
    reply = await api.post("/api/2.0/files/rooms", {"roomType": 2})
    assert reply.status == 400
    body = reply.body
    assert body["status"] == 1 and body["statusCode"] == 400 and body["count"] == 1
    problem = body["response"]
    assert problem["title"] == "One or more validation errors occurred."
    assert problem["status"] == 400 and problem["type"].startswith("https://tools.ietf.org/")
    assert problem["errors"] == {"Title": ["The Title field is required."]}
    assert problem["traceId"].startswith("00-")


async def test_missing_and_wrong_credentials_get_an_empty_401(api: Api) -> None:
    for token in (
        None,
        "Bearer sk-0123456789abcdef0123",
        "Bearer not-a-session",
        "Bearer aaa.bbb.ccc",
        "Basic b3duZXI6d3Jvbmc=",
    ):
        reply = await api.get("/api/2.0/people/@self", token=token)
        assert (reply.status, reply.text) == (401, ""), token


async def test_property_names_are_case_insensitive_and_unknown_ones_ignored(api: Api) -> None:
    reply = await api.post(
        "/api/2.0/files/rooms", {"TITLE": "Acme", "ROOMTYPE": "editingroom", "colour": "red"}
    )
    assert reply.status == 200
    assert reply.response["title"] == "Acme" and reply.response["roomType"] == 2


async def test_numbers_may_be_sent_as_strings(api: Api) -> None:
    reply = await api.post(
        "/api/2.0/files/rooms", {"title": "Acme", "roomType": "6", "quota": "1024"}
    )
    assert reply.status == 200 and reply.response["roomType"] == 6


async def test_wrong_json_types_are_validation_errors(api: Api) -> None:
    reply = await api.post("/api/2.0/files/rooms", {"title": 5, "roomType": 2})
    assert reply.status == 400 and list(reply.response["errors"]) == ["$.title"]
    reply = await api.post("/api/2.0/files/rooms", {"title": "x", "roomType": 2, "private": "yes"})
    assert reply.status == 400 and list(reply.response["errors"]) == ["$.private"]


async def test_empty_and_malformed_bodies_are_validation_errors(api: Api) -> None:
    empty = await api.call(
        "POST", "/api/2.0/files/rooms", data=b"", headers={"Content-Type": "application/json"}
    )
    assert empty.status == 400 and empty.body["status"] == 1
    assert "A non-empty request body is required." in empty.response["errors"][""]
    broken = await api.call(
        "POST",
        "/api/2.0/files/rooms",
        data=b"{title:",
        headers={"Content-Type": "application/json"},
    )
    assert broken.status == 400 and "$" in broken.response["errors"]
    array = await api.post("/api/2.0/files/rooms", [{"title": "x"}])
    assert array.status == 400


async def test_unknown_routes_and_methods(api: Api) -> None:
    missing = await api.get("/api/2.0/files/nothing-here")
    assert (missing.status, missing.text) == (404, "")
    wrong = await api.call("DELETE", "/api/2.0/files/rooms")
    assert wrong.status == 405 and wrong.text == ""


async def test_sandbox_endpoints_need_no_auth_and_are_not_api_requests(api: Api) -> None:
    await api.get("/sandbox/state", token=None)
    await api.get("/api/2.0/people/@self")
    counts = (await api.get("/sandbox/requests", token=None)).body
    assert counts["total"] == 1
    assert counts["byRoute"] == {"GET /api/2.0/people/@self": 1}
    assert counts["byStatus"] == {"200": 1}
