"""A workbook cell as the text Excel shows for it, from its value and number format.

Covers what a contact list holds: integers stay integers ("10045", not "10045.0"), fixed
decimals, thousands separators, percentages, zero-padded codes ("00042"), literal text in a
format ("000-000"), and dates and times written the way the cell's date format writes them.
Excel's locale-dependent short date (built-in format 14, stored as "mm-dd-yy") is written as
ISO 2024-03-15, which reads the same in every country. Anything more exotic (fractions,
scientific notation) falls back to Excel's General format.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Excel's own "system" formats, whose display depends on the computer's regional settings.
_SYSTEM_DATE_FORMATS = {"mm-dd-yy": "yyyy-mm-dd", "m/d/yy h:mm": "yyyy-mm-dd hh:mm"}

_BRACKET = re.compile(r"\[([^\]]*)\]")
_DATE_TOKEN = re.compile(
    r'"[^"]*"|\\.|_.|\*.|AM/PM|am/pm|A/P|a/p|\[[hms]+\]|y+|m+|d+|h+|s+|\.0+|[eE]|.',
    re.IGNORECASE,
)


def cell_text(value: object, number_format: str = "General") -> str:
    """What the cell shows. None is the empty string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return format_number(value, number_format)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return format_datetime(value, number_format)
    if isinstance(value, dt.timedelta):
        return _format_elapsed(value)
    return str(value)


def general(value: float) -> str:
    """Excel's General format: integers without a decimal point, up to 15 significant digits."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}".replace("e", "E")


def _sections(fmt: str) -> list[str]:
    """Split a format at semicolons outside quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in fmt:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _clean(section: str) -> str:
    """Drop colours and conditions; keep a currency symbol from [$€-407]."""

    def keep_symbol(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("$"):
            return '"' + inner[1:].split("-")[0] + '"'
        if re.fullmatch(r"[hms]+", inner, re.IGNORECASE):
            return match.group(0)
        return ""

    return _BRACKET.sub(keep_symbol, section)


def format_number(value: float, number_format: str) -> str:
    sections = _number_sections(number_format or "General")
    section = sections[0]
    negative = value < 0
    if negative and len(sections) >= 2 and sections[1].strip():
        section, value, negative = sections[1], -value, False
    elif value == 0 and len(sections) >= 3 and sections[2].strip():
        section = sections[2]
    plan = _number_plan(section)
    text = general(abs(value)) if plan is None else _pattern(abs(value), plan)
    return "-" + text if negative and text.strip("0.,% ") else text


def _unquoted(section: str) -> str:
    return re.sub(r'"[^"]*"|\\.', "", section)


@lru_cache(maxsize=256)
def _number_sections(number_format: str) -> list[str]:
    return _sections(number_format)


@dataclass(frozen=True, slots=True)
class _NumberPlan:
    """What a format section like '#,##0.00', '0%' or '"No. "000-000' does to a number."""

    prefix: str
    suffix: str
    percent: bool
    quantum: Decimal  # the rounding step
    frac_digits: int
    required_frac: int
    int_zone: tuple[str, ...]
    grouped: bool  # thousands separators
    zeros: int  # required integer digits (grouped formats)
    plain: bool  # the integer part is #s then 0s, nothing between them


@lru_cache(maxsize=512)
def _number_plan(section: str) -> _NumberPlan | None:
    """The section's plan, or None where Excel's General format is written instead."""
    section = _clean(section)
    plain = section.strip()
    if plain.lower() in ("general", "", "@") or re.search(r"[eE][+-]|/|\?", _unquoted(plain)):
        return None
    tokens = re.findall(r'"[^"]*"|\\.|_.|\*.|.', section)
    literal = [
        t[1:-1]
        if t.startswith('"')
        else t[1:]
        if t[0] == "\\"
        else " "
        if t[0] == "_"
        else ""
        if t[0] == "*"
        else t
        for t in tokens
    ]
    is_digit = [t in ("0", "#") for t in tokens]
    if not any(is_digit):
        return None
    first = is_digit.index(True)
    last = len(tokens) - 1 - is_digit[::-1].index(True)
    zone = tokens[first : last + 1]
    point = zone.index(".") if "." in zone else len(zone)
    int_zone, frac_zone = zone[:point], zone[point + 1 :]
    frac_digits = sum(1 for t in frac_zone if t in ("0", "#"))
    return _NumberPlan(
        prefix="".join(literal[:first]),
        suffix="".join(literal[last + 1 :]),
        percent="%" in tokens,
        quantum=Decimal(1).scaleb(-frac_digits),
        frac_digits=frac_digits,
        required_frac=sum(1 for t in frac_zone if t == "0"),
        int_zone=tuple(int_zone),
        grouped="," in int_zone,
        zeros=sum(1 for t in int_zone if t == "0"),
        plain=re.fullmatch("#*0*", "".join(int_zone)) is not None,
    )


def _pattern(value: float, plan: _NumberPlan) -> str:
    """Fill a format section's plan with value."""
    if plan.percent:
        value *= 100
    rounded = Decimal(repr(float(value))).quantize(plan.quantum, ROUND_HALF_UP)
    whole, _, frac = f"{rounded:f}".partition(".")
    frac = frac.rstrip("0").ljust(plan.required_frac, "0") if plan.frac_digits else ""
    if plan.grouped:
        zeros = plan.zeros
        number = f"{int(whole):,}" if int(whole) or zeros else ""
        number = number.rjust(zeros + (zeros - 1) // 3, "0") if zeros > len(number) else number
    elif plan.plain:
        number = whole.lstrip("0").rjust(plan.zeros, "0")
    else:
        number = _fill_integer(whole, plan.int_zone)
    if frac:
        number += "." + frac
    return plan.prefix + number + plan.suffix


def _fill_integer(digits: str, zone: Sequence[str]) -> str:
    """Put digits into the placeholders right to left, literals in between (phone formats)."""
    digits = digits.lstrip("0")
    out: list[str] = []
    remaining = digits
    slots = [i for i, t in enumerate(zone) if t in ("0", "#")]
    for i in range(len(zone) - 1, -1, -1):
        token = zone[i]
        if token in ("0", "#"):
            if i == slots[0]:
                out.append(remaining if remaining else ("0" if token == "0" else ""))
                remaining = ""
            elif remaining:
                out.append(remaining[-1])
                remaining = remaining[:-1]
            elif token == "0":
                out.append("0")
        elif remaining or any(zone[j] == "0" for j in slots if j < i):
            out.append(token[1:-1] if token.startswith('"') else token.lstrip("\\"))
    return "".join(reversed(out))


def format_datetime(value: dt.datetime | dt.date | dt.time, number_format: str) -> str:
    plan = _date_plan(number_format or "General")
    if plan is None:
        if isinstance(value, dt.datetime):
            fallback = "yyyy-mm-dd" if value.time() == dt.time() else "yyyy-mm-dd hh:mm:ss"
        else:
            fallback = "yyyy-mm-dd" if isinstance(value, dt.date) else "hh:mm:ss"
        plan = _date_plan(fallback)
        assert plan is not None
    date = value if isinstance(value, dt.date) else None
    time = (
        value.time()
        if isinstance(value, dt.datetime)
        else value
        if isinstance(value, dt.time)
        else dt.time()
    )
    return "".join(part if isinstance(part, str) else part(date, time) for part in plan)


_Part = Callable[[dt.date | None, dt.time], str]


@lru_cache(maxsize=256)
def _date_plan(number_format: str) -> tuple[str | _Part, ...] | None:
    """The format's pieces: literal text, or what to write of the date and time. None for a
    format without date or time parts."""
    fmt = _clean(_sections(number_format)[0]).strip()
    fmt = _SYSTEM_DATE_FORMATS.get(fmt.lower(), fmt)
    if not re.search(r"[ymdhs]", _unquoted(fmt), re.IGNORECASE):
        return None
    tokens = _DATE_TOKEN.findall(fmt)
    twelve_hour = any(t.lower() in ("am/pm", "a/p") for t in tokens)
    return tuple(
        _date_part(token, _is_minute(tokens, i), twelve_hour) for i, token in enumerate(tokens)
    )


def _is_minute(tokens: list[str], i: int) -> bool:
    """An m/mm token means minutes right after hours or right before seconds."""
    before = [t for t in tokens[:i] if t[0].lower() in "ymdhs"]
    after = [t for t in tokens[i + 1 :] if t[0].lower() in "ymdhs"]
    return bool(before and before[-1][0].lower() == "h") or bool(
        after and after[0][0].lower() == "s"
    )


def _date_part(token: str, minute: bool, twelve: bool) -> str | _Part:
    """One token of a date format: its text, or how to write it for a date and time (a
    date part of a value without a date is written as the token itself)."""
    low = token.lower()
    if low[0] == "m" and len(low) <= 2 and minute:
        return _clock_part(token, twelve)
    if low[0] in "ymd":
        return _calendar_part(token)
    if low[0] in "hs" or low.startswith(".0") or low in ("am/pm", "a/p"):
        return _clock_part(token, twelve)
    return _literal_part(token)


def _calendar_part(token: str) -> _Part:
    """How to write a year (y), month (m) or day (d) token."""
    low = token.lower()
    size = len(low)
    if low[0] == "y":
        if size <= 2:
            return lambda d, t: f"{d.year % 100:02d}" if d else token
        return lambda d, t: f"{d.year:04d}" if d else token
    if low[0] == "m":

        def month(d: dt.date | None, t: dt.time) -> str:
            if not d:
                return token
            name = _MONTHS[d.month - 1]
            return {1: str(d.month), 2: f"{d.month:02d}", 3: name[:3], 5: name[0]}.get(size, name)

        return month

    def day(d: dt.date | None, t: dt.time) -> str:
        if not d:
            return token
        name = _DAYS[d.weekday()]
        return {1: str(d.day), 2: f"{d.day:02d}", 3: name[:3]}.get(size, name)

    return day


def _clock_part(token: str, twelve: bool) -> _Part:
    """How to write a minute (m), hour (h), second (s), fraction (.0) or AM/PM token."""
    low = token.lower()
    size = len(low)
    if low[0] == "m":
        return lambda d, t: f"{t.minute:0{size}d}"
    if low[0] == "h":
        width = min(size, 2)
        if twelve:
            return lambda d, t: f"{t.hour % 12 or 12:0{width}d}"
        return lambda d, t: f"{t.hour:0{width}d}"
    if low[0] == "s":
        width = min(size, 2)
        return lambda d, t: f"{t.second:0{width}d}"
    if low.startswith(".0"):
        return lambda d, t: "." + f"{t.microsecond:06d}"[: size - 1]
    return lambda d, t: ("AM" if t.hour < 12 else "PM")[: 2 if low == "am/pm" else 1]


def _literal_part(token: str) -> str:
    """The text a token that is not a date or time part writes."""
    low = token.lower()
    if token[0] == '"':
        return token[1:-1]
    if token[0] == "\\":
        return token[1:]
    if token[0] == "_":
        return " "
    if token[0] == "*" or token[0] == "[" or low == "e":
        return ""
    return token


def _format_elapsed(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
