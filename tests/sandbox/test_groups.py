"""Groups and rooms shared with them, as docspace-api.md 12 describes the server."""

from __future__ import annotations

from .conftest import Api

G = "/api/2.0/group"


async def _login_as(api: Api, email: str, kind: str) -> tuple[str, str]:
    user_id = await api.person(email, kind, password="Passw0rd!x")
    return user_id, await api.login(email, "Passw0rd!x")


async def test_create_list_and_names_not_unique(api: Api) -> None:
    user = await api.person("u@example.com", "User")
    made = await api.post(G, {"groupName": "Accounting team", "members": [user]})
    assert made.status == 200, made.text
    assert made.response["name"] == "Accounting team"
    assert [m["id"] for m in made.response["members"]] == [user]
    again = await api.post(G, {"groupName": "Accounting team"})
    assert again.status == 200 and again.response["id"] != made.response["id"]  # not unique
    listed = await api.get(G, params={"filterValue": " accounting "})
    assert listed.body["total"] == 2 and listed.body["count"] == 2
    assert {g["membersCount"] for g in listed.response} == {0, 1}
    assert all("members" not in g for g in listed.response)
    one = await api.get(f"{G}/{made.response['id']}")
    assert one.response["members"][0]["email"] == "u@example.com"


async def test_create_refusals(api: Api) -> None:
    guest = await api.person("g@example.com", "Guest")
    with_guest = await api.post(G, {"groupName": "T", "members": [guest]})
    assert with_guest.status == 400 and with_guest.error["message"] == "The user could not be found"
    assert (await api.get(G)).body["total"] == 0  # nothing created
    blank = await api.post(G, {"groupName": "   "})
    assert blank.status == 400 and "whitespace" in blank.error["message"]
    empty = await api.post(G, {"groupName": ""})
    assert empty.status == 400 and empty.body["status"] == 1  # a validation problem
    long = await api.post(G, {"groupName": "x" * 129})
    assert long.status == 400
    missing = await api.get(f"{G}/00000000-0000-0000-0000-000000000001")
    assert missing.status == 404 and missing.error["message"] == "The group could not be found"


async def test_only_docspace_admins_change_groups(api: Api) -> None:
    _, room_admin = await _login_as(api, "ra@example.com", "RoomAdmin")
    _, user = await _login_as(api, "u@example.com", "User")
    assert (await api.post(G, {"groupName": "T"}, token=room_admin)).status == 403
    assert (await api.get(G, token=room_admin)).status == 200  # room admins read groups
    assert (await api.get(G, token=user)).status == 403


async def test_members_added_silently_skipping_guests(api: Api) -> None:
    user = await api.person("u@example.com", "User")
    guest = await api.person("g@example.com", "Guest")
    group = (await api.post(G, {"groupName": "T"})).response["id"]
    added = await api.put(f"{G}/{group}/members", {"members": [user, guest]})
    assert added.status == 200
    assert [m["id"] for m in added.response["members"]] == [user]  # the guest is skipped
    twice = await api.put(f"{G}/{group}/members", {"members": [user]})
    assert twice.response["membersCount"] == 1
    removed = await api.call("DELETE", f"{G}/{group}/members", json_body={"members": [user]})
    assert removed.status == 200 and removed.response["membersCount"] == 0
    assert await api.outbox() == []  # no mail for any of it


async def test_room_shared_with_group_no_mail_never_manager(api: Api) -> None:
    user = await api.person("u@example.com", "User")
    group = (await api.post(G, {"groupName": "T", "members": [user]})).response["id"]
    room = await api.room("Acme", 2)
    manager = await api.share(room, {"id": group, "access": 9})
    assert manager.status == 403
    assert manager.error["message"] == "The role is not available for this user type"
    shared = await api.share(room, {"id": group, "access": 2}, notify=True)
    assert shared.status == 200, shared.text
    entry = shared.response["members"][0]
    assert entry["subjectType"] == 2 and entry["sharedToGroup"]["id"] == group
    assert await api.outbox() == []  # notify or not, group members get nothing
    groups = await api.get(f"/api/2.0/files/rooms/{room}/share", params={"filterType": 32})
    assert [(g["sharedToGroup"]["name"], g["access"]) for g in groups.response] == [("T", 2)]
    users = await api.get(f"/api/2.0/files/rooms/{room}/share", params={"filterType": 16})
    assert all("sharedToGroup" not in m for m in users.response)
    gone = await api.call("DELETE", f"{G}/{group}")
    assert gone.status == 204 and gone.text == ""
    after = await api.get(f"/api/2.0/files/rooms/{room}/share", params={"filterType": 32})
    assert after.response == []  # deleting the group removed its share
