"""The official SDK (docspace-api-sdk, PyPI) calls the section 10 endpoints against the
sandbox: update_room, archive_room/unarchive_room with get_operation_statuses,
update_user_type, update_user_status, delete_member, resend_user_invites and
set_room_security. The SDK is synchronous, so each call runs in a thread while the
in-process sandbox serves on the test's event loop."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Api

with warnings.catch_warnings():
    # The SDK's models shadow BaseModel.copy, which pydantic warns about at import time.
    warnings.simplefilter("ignore", UserWarning)
    sdk = pytest.importorskip(
        "docspace_api_sdk", reason="docspace-api-sdk is not installed (it is in the test extra)"
    )
    from docspace_api_sdk.api.files.operations_api import OperationsApi
    from docspace_api_sdk.api.people.profiles_api import ProfilesApi
    from docspace_api_sdk.api.people.user_status_api import UserStatusApi
    from docspace_api_sdk.api.people.user_type_api import UserTypeApi
    from docspace_api_sdk.api.rooms.rooms_api import RoomsApi
    from docspace_api_sdk.models.archive_room_request import ArchiveRoomRequest
    from docspace_api_sdk.models.update_members_request_dto import UpdateMembersRequestDto
    from docspace_api_sdk.models.update_room_request import UpdateRoomRequest


async def _run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(call, *args, **kwargs)


def _client(api: Api) -> Any:
    config = sdk.Configuration(host=api.base, access_token=api.sandbox.token)
    return sdk.ApiClient(config)


async def test_sdk_updates_archives_and_restores_a_room(api: Api) -> None:
    room = await api.room("Acme")
    with _client(api) as client:
        rooms, operations = RoomsApi(client), OperationsApi(client)
        updated = await _run(
            rooms.update_room, room, UpdateRoomRequest(title="Acme/Sales", tags=["vip"])
        )
        assert updated.status_code == 200
        assert updated.response.title == "Acme_Sales" and updated.response.tags == ["vip"]
        started = await _run(rooms.archive_room, room, ArchiveRoomRequest(delete_after=False))
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
        restored = await _run(rooms.unarchive_room, room, ArchiveRoomRequest())
        assert restored.response.id
    await asyncio.sleep(0.35)
    assert (await api.get(f"/api/2.0/files/rooms/{room}")).response["rootFolderType"] == 14


async def test_sdk_without_an_archive_body_gets_the_server_answer(api: Api) -> None:
    """docspace-api.md 10.2: archive_room(id) sends the JSON content type and no body → 400."""
    room = await api.room("Acme")
    with _client(api) as client, pytest.raises(sdk.ApiException) as info:
        await _run(RoomsApi(client).archive_room, room)
    assert info.value.status == 400


async def test_sdk_changes_people_state(api: Api) -> None:
    guest = await api.person("g@example.com", "Guest")
    pending = await api.person("p@example.com", "User", status="Pending")
    with _client(api) as client:
        types, statuses, profiles = UserTypeApi(client), UserStatusApi(client), ProfilesApi(client)
        raised = await _run(
            types.update_user_type, sdk.EmployeeType.USER, UpdateMembersRequestDto(user_ids=[guest])
        )
        assert raised.response[0].is_collaborator is True
        resent = await _run(
            profiles.resend_user_invites, UpdateMembersRequestDto(user_ids=[pending])
        )
        assert [str(p.id) for p in resent.response] == [pending]
        disabled = await _run(
            statuses.update_user_status,
            sdk.EmployeeStatus(2),
            UpdateMembersRequestDto(user_ids=[guest]),
        )
        assert disabled.response[0].status == 2
        deleted = await _run(profiles.delete_member, guest)
        assert str(deleted.response.id) == guest
    kinds = [m["kind"] for m in await api.outbox()]
    assert kinds == ["type_changed", "invitation"]
