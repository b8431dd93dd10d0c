"""Run settings: one frozen Settings, built from an environment mapping and explicit options.

Only the CLI reads the process environment; it passes `os.environ` (or any mapping) to
`build_settings`, so this module stays testable and side-effect free apart from reading the
token file it is pointed at.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from platformdirs import user_state_path

from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.errors import ConfigError
from bulk_onboard.logs import LogFormat, redact

LOG_FORMATS: tuple[LogFormat, ...] = ("auto", "console", "json")

TOKEN_ENV = "DOCSPACE_TOKEN"
PORTAL_ENV = "DOCSPACE_URL"
STATE_DIR_ENV = "BULK_ONBOARD_STATE_DIR"
PORTAL_LEASE_ENV = "BULK_ONBOARD_PORTAL_LEASE"

# The portal's own limits (docspace-api.md section 7): 1,500 requests a minute per user (the
# window a server constant of 60 s, its limit the admin's), 50 GETs and 15 other requests in
# flight. By default the rate mirrors the window the portal's refusals name and the writes in
# flight start at 15 (api/pacing.py, api/inflight.py); --rate and --max-writes pin them,
# --rate-window sets another window length.
SERVER_REQUESTS_PER_SECOND = 25.0
SERVER_WINDOW_SECONDS = 60.0
# A self-hosted portal may run without its limiter (the stock configuration disables it).
MAX_REQUESTS_PER_SECOND = 1000.0
SERVER_READ_INFLIGHT = 50
SERVER_WRITE_INFLIGHT = 15
MAX_WRITE_INFLIGHT = 100  # --max-writes above the server's 15: for a portal without a limiter
DEFAULT_READ_INFLIGHT = 40
DEFAULT_CONCURRENCY = 24  # rows at once: enough that the in-flight caps, not rows, bind
DEFAULT_OUTAGE_WAIT = 300.0  # seconds an unreachable portal is waited for


class Secret:
    """A string that does not show itself: repr and str are masked; `reveal()` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs to talk to one portal. Build with `build_settings`."""

    portal_url: str  # scheme://host[:port][/prefix], no trailing slash, no /api/2.0
    token: Secret
    concurrency: int = DEFAULT_CONCURRENCY  # rows worked on at once
    requests_per_second: float | None = None  # None: adaptive (api/pacing.py)
    rate_window: float = SERVER_WINDOW_SECONDS  # the portal's sliding window, seconds
    max_read_inflight: int = DEFAULT_READ_INFLIGHT
    max_write_inflight: int | None = None  # None: 15, lowered by refusals (api/inflight.py)
    outage_wait: float = DEFAULT_OUTAGE_WAIT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    request_timeout: float = 60.0  # seconds for one attempt, connect to last byte
    connect_timeout: float = 15.0
    report_dir: Path = Path("reports")
    log_format: LogFormat = "auto"
    # per-portal state kept across runs and report folders (the CRM ledger)
    state_dir: Path = field(default_factory=lambda: default_state_dir({}))
    # one run per portal whatever machine it runs on: a lease in My documents (engine/lease.py);
    # $BULK_ONBOARD_PORTAL_LEASE=off (or --no-portal-lease) leaves it out
    portal_lease: bool = field(default_factory=lambda: lease_wanted(os.environ))
    # "": the portal's state in state_dir alone; redis://…: shared there too (state/store.py)
    state_store: str = ""

    @property
    def api_url(self) -> str:
        return f"{self.portal_url}/api/2.0"


def build_settings(
    env: Mapping[str, str],
    *,
    portal: str | None = None,
    token_file: str | Path | None = None,
    concurrency: int | None = None,
    requests_per_second: float | None = None,
    rate_window: float | None = None,
    max_read_inflight: int | None = None,
    max_write_inflight: int | None = None,
    outage_wait: float | None = None,
    retry: RetryPolicy | None = None,
    request_timeout: float | None = None,
    report_dir: str | Path | None = None,
    log_format: str | None = None,
    state_dir: str | Path | None = None,
) -> Settings:
    """Settings from the environment mapping and explicit option values (None = not given).

    The token comes from `token_file` (its content, stripped) or else from DOCSPACE_TOKEN;
    there is deliberately no way to pass it as a value on the command line. The portal comes
    from `portal` or else from DOCSPACE_URL. Raises ConfigError with what to do instead.
    """
    return Settings(
        portal_url=_portal(env, portal),
        token=_read_token(env, token_file),
        concurrency=_bounded_int("concurrency", concurrency, DEFAULT_CONCURRENCY, 1, 200),
        requests_per_second=_rate(requests_per_second),
        rate_window=_rate_window(rate_window),
        max_read_inflight=_bounded_int(
            "read in-flight cap", max_read_inflight, DEFAULT_READ_INFLIGHT, 1, SERVER_READ_INFLIGHT
        ),
        max_write_inflight=_write_cap(max_write_inflight),
        outage_wait=_outage_wait(outage_wait),
        retry=retry if retry is not None else RetryPolicy(),
        request_timeout=_timeout(request_timeout),
        report_dir=Path(report_dir) if report_dir is not None else Path("reports"),
        log_format=_log_format(log_format),
        state_dir=Path(state_dir) if state_dir is not None else default_state_dir(env),
    )


def _portal(env: Mapping[str, str], portal: str | None) -> str:
    raw_portal = portal if portal is not None else env.get(PORTAL_ENV)
    if raw_portal is None or not raw_portal.strip():
        raise ConfigError(
            f"no portal address: set {PORTAL_ENV} (e.g. https://example.onlyoffice.com) "
            "or pass --portal"
        )
    return normalize_portal_url(raw_portal)


def portal_state_dir(state_dir: Path, portal_url: str) -> Path:
    """The folder of one portal's state (its CRM ledger, what it refused last): the portal's
    readable host and port, plus a hash of its whole address."""
    address = portal_url.strip().rstrip("/").lower()
    parts = urlsplit(address)
    readable = re.sub(r"[^a-z0-9.-]+", "-", f"{parts.hostname or 'portal'}-{parts.port or ''}")
    digest = hashlib.sha256(address.encode()).hexdigest()[:12]
    return state_dir / "portals" / f"{readable.strip('-')}-{digest}"


def lease_wanted(env: Mapping[str, str]) -> bool:
    """False when $BULK_ONBOARD_PORTAL_LEASE says off (off, no, false, 0), else True."""
    return env.get(PORTAL_LEASE_ENV, "").strip().lower() not in ("off", "no", "false", "0")


def default_state_dir(env: Mapping[str, str]) -> Path:
    """$BULK_ONBOARD_STATE_DIR, else the user's state folder (platformdirs: e.g.
    ~/.local/state/bulk-onboard on Linux, ~/Library/Application Support/bulk-onboard on macOS,
    %LOCALAPPDATA%\\bulk-onboard on Windows)."""
    given = env.get(STATE_DIR_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    return Path(user_state_path("bulk-onboard", appauthor=False))


def normalize_portal_url(raw: str) -> str:
    """`https://host[:port][/prefix]` without a trailing slash or `/api/2.0`.

    A bare host name gets https://, except one on this computer (said: it may be the sandbox,
    which speaks http). Plain http:// is refused unless the host is loopback
    (127.0.0.0/8, ::1, localhost): the token would otherwise cross the network in clear text.
    """
    text = raw.strip()
    bare = "://" not in text
    if bare:
        text = "https://" + text
    parts = urlsplit(text)
    shown = _without_secrets(parts, text)
    scheme = parts.scheme.lower()
    try:
        host = parts.hostname
        parts.port  # noqa: B018  # raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(f"portal address {shown!r} has an invalid port") from None
    if not host:
        raise ConfigError(f"portal address {shown!r} has no host name")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "the portal address must not contain a user name or password; "
            f"give the token through {TOKEN_ENV} or --token-file"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"portal address {shown!r} must not have a query or fragment")
    if bare and is_loopback(host):  # https:// assumed would end in a TLS error, not this
        given = shown.removeprefix("https://")
        raise ConfigError(
            f"portal address {given!r} has no scheme: write http://{given} for a portal on "
            f"this computer (like the sandbox), or https://{given} if it speaks TLS"
        )
    if scheme not in ("https", "http"):
        raise ConfigError(f"portal address {shown!r} must start with https://")
    if scheme == "http" and not is_loopback(host):
        raise ConfigError(
            f"portal address {shown!r} uses plain http://, which would send the API token "
            "unencrypted; use https:// (plain http is only accepted for localhost)"
        )
    path = parts.path.rstrip("/")
    if path.lower().endswith("/api/2.0"):
        path = path[: -len("/api/2.0")]
    netloc = parts.netloc.lower()
    return f"{scheme}://{netloc}{path}"


def _without_secrets(parts: SplitResult, text: str) -> str:
    """The address as an error may show it: no user info, query or fragment (a token pasted
    there must not be printed back), and any key-like text redacted."""
    try:
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a malformed port: show the part before it
        host, port = (parts.netloc.rpartition("@")[2].rsplit(":", 1)[0], ":<invalid>")
    shown = f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else text
    if parts.query or parts.fragment:
        shown += "?…"
    return redact(shown)


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: an address where nothing crosses a network."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


API_KEY_PREFIX = "sk-"


def token_warnings(env: Mapping[str, str], token_file: str | Path | None) -> list[str]:
    """What is odd about the token (never its value): a token that does not look like a
    DocSpace API key, a token file other users can read. Call after build_settings."""
    found: list[str] = []
    if token_file is not None:
        path = Path(token_file)
        source = f"the token file {str(path)!r}"
        try:
            mode = path.stat().st_mode
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return found
        if mode & 0o077:
            found.append(
                f"{source} can be read by other users (mode {mode & 0o777:o}); "
                f"make it private: chmod 600 {path}"
            )
    else:
        source, value = TOKEN_ENV, env.get(TOKEN_ENV, "").strip()
    if value and not value.startswith(API_KEY_PREFIX):
        found.append(
            f"the token in {source} does not look like a DocSpace API key (those start with "
            f"{API_KEY_PREFIX!r}; create one under Developer Tools > API keys); if the portal "
            "refuses it, the run stops with exit code 3"
        )
    return found


def _read_token(env: Mapping[str, str], token_file: str | Path | None) -> Secret:
    if token_file is not None:
        path = Path(token_file)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise ConfigError(f"cannot read the token file {str(path)!r}: {reason}") from None
        source = f"the token file {str(path)!r}"
    else:
        value = env.get(TOKEN_ENV, "").strip()
        source = TOKEN_ENV
    if not value:
        raise ConfigError(
            "no API token: set the environment variable "
            f"{TOKEN_ENV}, or pass --token-file PATH naming a file that holds the token "
            "(create one in DocSpace under Developer Tools > API keys)"
        )
    if any(ch.isspace() for ch in value):
        raise ConfigError(f"{source} must hold the token alone, on one line without spaces")
    return Secret(value)


def _bounded_int(name: str, value: int | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _rate(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not 0 < value <= MAX_REQUESTS_PER_SECOND:
        raise ConfigError(
            f"requests per second must be above 0 and at most {MAX_REQUESTS_PER_SECOND:g}, "
            f"not {value!r} (a portal with its limiter on allows 1,500 a minute: 25 a second)"
        )
    return float(value)


def _write_cap(value: int | None) -> int | None:
    if value is None:
        return None
    return _bounded_int("write in-flight cap", value, 0, 1, MAX_WRITE_INFLIGHT)


def _rate_window(value: float | None) -> float:
    if value is None:
        return SERVER_WINDOW_SECONDS
    if isinstance(value, bool) or not 0.1 <= value <= 3600:
        raise ConfigError(
            f"the rate window must be from 0.1 to 3600 seconds, not {value!r} (the portal's "
            "window is 60 s; only its limit is the portal admin's)"
        )
    return float(value)


def _outage_wait(value: float | None) -> float:
    if value is None:
        return DEFAULT_OUTAGE_WAIT
    if isinstance(value, bool) or not 0 <= value <= 86_400:
        raise ConfigError(f"outage wait must be from 0 to 86400 seconds, not {value!r}")
    return float(value)


def _log_format(value: str | None) -> LogFormat:
    for known in LOG_FORMATS:
        if value is None or value.lower() == known:
            return known if value is not None else "auto"
    raise ConfigError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {value!r}")


def _timeout(value: float | None) -> float:
    if value is None:
        return 60.0
    if isinstance(value, bool) or not 1 <= value <= 3600:
        raise ConfigError(f"request timeout must be from 1 to 3600 seconds, not {value!r}")
    return float(value)
