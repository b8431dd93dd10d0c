"""What DocSpaceClient gives the groups of calls mixed into it (api/changes.py, groups.py,
templates.py): one request under the run's limits, declared here for the type checker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


class CallsMixin:
    """A group of DocSpaceClient's calls; DocSpaceClient provides `_call`."""

    if TYPE_CHECKING:  # what DocSpaceClient provides, declared for the type checker only

        async def _call(
            self,
            method: str,
            action: str,
            path: str,
            *,
            params: dict[str, str | int] | None = None,
            body: Any = None,
        ) -> Any: ...
