"""The DocSpace REST API client: limits, retries and one method per API action."""

from bulk_onboard.api.backoff import RetryPolicy
from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.api.limits import ClientStats
from bulk_onboard.api.models import FolderContents, JsonObject

__all__ = ["ClientStats", "DocSpaceClient", "FolderContents", "JsonObject", "RetryPolicy"]
