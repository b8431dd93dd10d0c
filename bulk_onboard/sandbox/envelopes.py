"""What goes over the wire: error types, the two envelopes, dates.

Success: {response, count, total?, links:[{href, action}], status: 0, statusCode: 200}, nulls
omitted. Errors: {error:{message,type,stack,hresult}, status: 1, statusCode}, nulls kept.
Model-validation failures travel as HTTP 400 through the *success* wrapper with status 1 and a
ProblemDetails response. A missing/invalid credential is a bare 401 with no body.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bulk_onboard.sandbox.fields import requested_fields, trim

JSON_TYPE = "application/json"


class ApiError(Exception):
    """An exception the server's CustomExceptionHandler turns into the error envelope."""

    status = 500
    type_name: str | None = "System.Exception"
    hresult = -2146233088
    origin = "ASC.Api.Core.Middleware.CustomExceptionHandler"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ApiError):
    status = 404
    type_name = "ASC.Common.Web.ItemNotFoundException"
    origin = "ASC.Files.Core.Services.FileStorageService"


class FileNotFound(ApiError):
    status = 404
    type_name = "System.IO.FileNotFoundException"
    hresult = -2147024894
    origin = "ASC.Files.Core.Services.FileStorageService"


class BadArgument(ApiError):
    status = 400
    type_name = "System.ArgumentException"
    hresult = -2147024809


class ArgumentOutOfRange(BadArgument):
    type_name = "System.ArgumentOutOfRangeException"
    hresult = -2146233086


class ArgumentNull(BadArgument):
    type_name = "System.ArgumentNullException"
    hresult = -2147467261


class Forbidden(ApiError):
    """SecurityException: the handler always answers 'Access denied'."""

    status = 403
    type_name = "System.Security.SecurityException"
    hresult = -2146233078

    def __init__(self, message: str = "Access denied") -> None:
        super().__init__("Access denied")


class InvalidOperation(ApiError):
    """InvalidOperationException: 403 carrying the exception text."""

    status = 403
    type_name = "System.InvalidOperationException"
    hresult = -2146233079


class AuthenticationFailed(ApiError):
    """AuthenticationException: 401 with a JSON body; details suppressed."""

    status = 401
    type_name = None
    hresult = 0


class ServerFault(ApiError):
    status = 500


class ValidationFailed(Exception):
    """ASP.NET model validation: HTTP 400 ProblemDetails inside the success wrapper."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class Unauthenticated(Exception):
    """No or wrong credentials on a protected endpoint: bare 401, empty body."""


# Messages of the English server resources (docspace-api.md section 2).
FOLDER_NOT_FOUND = "The required folder was not found"
FILE_NOT_FOUND = "The required file was not found"
USER_NOT_FOUND = "The user could not be found"
ROLE_NOT_AVAILABLE = "The role is not available for this user type"
EMAIL_TAKEN = "User with this email is already registered"
INCORRECT_EMAIL = "Incorrect email"
INCORRECT_NAME = "Incorrect firstname or lastname"
AUTH_FAILED = "User authentication failed"
INVALID_OPERATION = "Operation is not valid due to the current state of the object."


def max_links_message(limit: int) -> str:
    return f"The maximum number of links may not exceed {limit}"


def required_message(field: str) -> str:
    return f"The {field} field is required."


def length_message(field: str, limit: int) -> str:
    return f"The field {field} must be a string with a maximum length of {limit}."


def range_message(field: str, low: int, high: int) -> str:
    return f"The field {field} must be between {low} and {high}."


def conversion_message(path: str, target: str) -> str:
    return f"The JSON value could not be converted to {target}. Path: {path} | LineNumber: 0."


# --- envelopes ---------------------------------------------------------------------------


def prune(value: Any) -> Any:
    """Drop null properties everywhere (System.Text.Json WhenWritingNull)."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def _links(request: web.Request) -> list[dict[str, str]]:
    return [{"href": str(request.url), "action": request.method}]


def json_response(payload: Any, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        content_type=JSON_TYPE,
        charset="utf-8",
        headers=headers or None,
    )


def success(
    request: web.Request,
    response: Any,
    *,
    count: int | None = None,
    total: int | None = None,
    pruned: bool = False,
) -> web.Response:
    """The success envelope; `pruned` says the response has no null property anywhere."""
    envelope: dict[str, Any] = {}
    if response is not None:
        envelope["response"] = _trimmed(request, response if pruned else prune(response))
    if count is None:
        count = len(response) if isinstance(response, list) else (0 if response is None else 1)
    envelope["count"] = count
    if total is not None:
        envelope["total"] = total
    envelope["links"] = _links(request)
    envelope["status"] = 0
    envelope["statusCode"] = 200
    return json_response(envelope)


def _trimmed(request: web.Request, response: Any) -> Any:
    """`fields=` trims the envelope's `response` only (docspace-api.md 10.3)."""
    rules = requested_fields(request)
    return response if rules is None else trim(response, rules)


def error_response(error: ApiError) -> web.Response:
    suppressed = error.type_name is None
    body = {
        "error": {
            "message": error.message,
            "type": error.type_name,
            "stack": None if suppressed else f"   at {error.origin}.Invoke(HttpContext context)",
            "hresult": error.hresult,
        },
        "status": 1,
        "statusCode": error.status,
    }
    return json_response(body, status=error.status)


def validation_response(request: web.Request, failure: ValidationFailed) -> web.Response:
    problem = {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": failure.errors,
        "traceId": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00",
    }
    envelope = {
        "response": _trimmed(request, problem),
        "count": 1,
        "links": _links(request),
        "status": 1,
        "statusCode": 400,
    }
    return json_response(envelope, status=400)


# --- dates -------------------------------------------------------------------------------


def api_datetime(timestamp: float) -> str:
    """ApiDateTime: yyyy-MM-ddTHH:mm:ss.fffffff in the portal time zone (UTC here) + 'Z'."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def parse_api_datetime(text: str) -> float | None:
    """Read an ApiDateTime / ISO-8601 string into epoch seconds; None if it is not one."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    if "." in value:  # .NET writes 7 fractional digits; Python reads at most 6
        head, _, tail = value.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits) :]
        value = f"{head}.{digits[:6]}{zone}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
