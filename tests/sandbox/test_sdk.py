"""The official SDK (docspace-api-sdk, PyPI) calls the section 10 endpoints against the
sandbox: update_room, archive_room/unarchive_room with get_operation_statuses,
update_user_type, update_user_status, delete_member, resend_user_invites and
set_room_security. The SDK is synchronous, so each call runs in a thread while the
in-process sandbox serves on the test's event loop."""

from __future__ import annotations

import asyncio
import importlib
import warnings
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from .conftest import Api

# The SDK takes about 6 s to import (its pydantic models), so it is imported by the first test
# that needs it, not when the suite is collected; these tests are whole-SDK checks (e2e).
pytestmark = pytest.mark.e2e

NAMES = {
    "OperationsApi": "docspace_api_sdk.api.files.operations_api",
    "ProfilesApi": "docspace_api_sdk.api.people.profiles_api",
    "UserStatusApi": "docspace_api_sdk.api.people.user_status_api",
    "UserTypeApi": "docspace_api_sdk.api.people.user_type_api",
    "RoomsApi": "docspace_api_sdk.api.rooms.rooms_api",
    "ArchiveRoomRequest": "docspace_api_sdk.models.archive_room_request",
    "UpdateMembersRequestDto": "docspace_api_sdk.models.update_members_request_dto",
    "UpdateRoomRequest": "docspace_api_sdk.models.update_room_request",
}


@pytest.fixture(scope="module")
def sdk() -> Any:
    """The SDK package, with the API and model classes these tests use as attributes."""
    with warnings.catch_warnings():
        # The SDK's models shadow BaseModel.copy, which pydantic warns about at import time.
        warnings.simplefilter("ignore", UserWarning)
        package = pytest.importorskip(
            "docspace_api_sdk", reason="docspace-api-sdk is not installed (it is in the test extra)"
        )
        found = {
            name: getattr(importlib.import_module(module), name) for name, module in NAMES.items()
        }
    return SimpleNamespace(
        **found,
        **{
            name: getattr(package, name)
            for name in (
                "Configuration",
                "ApiClient",
                "ApiException",
                "EmployeeType",
                "EmployeeStatus",
            )
        },
    )


async def _run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(call, *args, **kwargs)


def _client(sdk: Any, api: Api) -> Any:
    config = sdk.Configuration(host=api.base, access_token=api.sandbox.token)
    return sdk.ApiClient(config)


async def test_sdk_updates_archives_and_restores_a_room(api: Api, sdk: Any) -> None:
    room = await api.room("Acme")
    with _client(sdk, api) as client:
        rooms, operations = sdk.RoomsApi(client), sdk.OperationsApi(client)
        updated = await _run(
            rooms.update_room, room, sdk.UpdateRoomRequest(title="Acme/Sales", tags=["vip"])
        )
        assert updated.status_code == 200
        assert updated.response.title == "Acme_Sales" and updated.response.tags == ["vip"]
        started = await _run(rooms.archive_room, room, sdk.ArchiveRoomRequest(delete_after=False))
        assert started.response.finished is False
        op_id = started.response.id
        await asyncio.sleep(0.35)
        # GET files/fileops is [AllowAnonymous], and the SDK sends no credentials for it:
        # the portal answers the anonymous caller's (empty) list.
        anonymous = await _run(operations.get_operation_statuses, id=op_id)
        assert anonymous.response == []
        auth = {"Authorization": f"Bearer {api.sandbox.token}"}
        for _ in range(100):
            polled = await _run(operations.get_operation_statuses, id=op_id, _headers=auth)
            if polled.response and polled.response[0].finished:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the archive operation never finished")
        assert polled.response[0].progress == 100
        # get_room_info is sent without credentials too (the spec allows anonymous access).
        info = await _run(rooms.get_room_info, room, _headers=auth)
        assert info.response.root_folder_type == 20
        restored = await _run(rooms.unarchive_room, room, sdk.ArchiveRoomRequest())
        assert restored.response.id
    await asyncio.sleep(0.35)
    assert (await api.get(f"/api/2.0/files/rooms/{room}")).response["rootFolderType"] == 14


async def test_sdk_without_an_archive_body_gets_the_server_answer(api: Api, sdk: Any) -> None:
    """docspace-api.md 10.2: archive_room(id) sends the JSON content type and no body → 400."""
    room = await api.room("Acme")
    with _client(sdk, api) as client, pytest.raises(sdk.ApiException) as info:
        await _run(sdk.RoomsApi(client).archive_room, room)
    assert info.value.status == 400


async def test_sdk_changes_people_state(api: Api, sdk: Any) -> None:
    guest = await api.person("g@example.com", "Guest")
    pending = await api.person("p@example.com", "User", status="Pending")
    with _client(sdk, api) as client:
        types, statuses, profiles = (
            sdk.UserTypeApi(client),
            sdk.UserStatusApi(client),
            sdk.ProfilesApi(client),
        )
        raised = await _run(
            types.update_user_type,
            sdk.EmployeeType.USER,
            sdk.UpdateMembersRequestDto(user_ids=[guest]),
        )
        assert raised.response[0].is_collaborator is True
        resent = await _run(
            profiles.resend_user_invites, sdk.UpdateMembersRequestDto(user_ids=[pending])
        )
        assert [str(p.id) for p in resent.response] == [pending]
        disabled = await _run(
            statuses.update_user_status,
            sdk.EmployeeStatus(2),
            sdk.UpdateMembersRequestDto(user_ids=[guest]),
        )
        assert disabled.response[0].status == 2
        deleted = await _run(profiles.delete_member, guest)
        assert str(deleted.response.id) == guest
    kinds = [m["kind"] for m in await api.outbox()]
    assert kinds == ["type_changed", "invitation"]
