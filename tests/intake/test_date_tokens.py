"""Each kind of date-format token: calendar (y, m, d), clock (m as minutes, h, s, .0, AM/PM)
and literal text, including the cases the common formats of test_cell_text leave out."""

from __future__ import annotations

import datetime as dt

import pytest

from bulk_onboard.sources.cell_text import cell_text

EVENING = dt.datetime(2024, 3, 5, 21, 4, 9, 250000)


@pytest.mark.parametrize(
    ("value", "number_format", "shown"),
    [
        (EVENING, "yy", "24"),
        (EVENING, "mmmmm", "M"),  # a month's first letter
        (EVENING, "ddd dd", "Tue 05"),
        (EVENING, "mm:ss", "04:09"),  # m before seconds: minutes
        (EVENING, "hh:mm:ss.00", "21:04:09.25"),
        (EVENING, "h A/P", "9 P"),
        (EVENING, "hh am/pm", "09 PM"),
        (EVENING, "d\\-m_)*-", "5-3 "),  # an escaped character, a space, a fill
        (dt.time(7, 8), "yyyy-mm-dd hh:mm", "yyyy-mm-dd 07:08"),  # no date: its tokens stay
    ],
)
def test_date_tokens(value: object, number_format: str, shown: str) -> None:
    assert cell_text(value, number_format) == shown
