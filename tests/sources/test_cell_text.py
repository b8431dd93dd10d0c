"""Workbook cells as the text Excel shows: numbers, codes, percentages, dates."""

from __future__ import annotations

import datetime as dt

import pytest

from bulk_onboard.sources.cell_text import cell_text

MARCH_5 = dt.datetime(2024, 3, 5)
AFTERNOON = dt.datetime(2024, 3, 5, 14, 7, 9)


@pytest.mark.parametrize(
    ("value", "number_format", "shown"),
    [
        (None, "General", ""),
        ("C-10045", "General", "C-10045"),
        (10045, "General", "10045"),
        (10045.0, "General", "10045"),
        (0.1 + 0.2, "General", "0.3"),
        (4915112345678.0, "General", "4915112345678"),
        (1e20, "General", "1E+20"),
        (True, "General", "TRUE"),
        (42, "00000", "00042"),
        (42, "@", "42"),
        (2.5, "0", "3"),  # Excel rounds halves away from zero
        (3.14159, "0.00", "3.14"),
        (1234.5, "#,##0.00", "1,234.50"),
        (1234567, "#,##0", "1,234,567"),
        (0, "#,##0.00", "0.00"),
        (-3.5, "0.00", "-3.50"),
        (-3.5, "0.00;(0.00)", "(3.50)"),
        (0.256, "0%", "26%"),
        (0.256, "0.0%", "25.6%"),
        (5551234567, "(000) 000-0000", "(555) 123-4567"),
        (12, '"No. "000', "No. 012"),
        (12345.678, "[$€-407]#,##0.00", "€12,345.68"),
        (1234.5, "0.00E+00", "1234.5"),  # scientific: General instead
        (MARCH_5, "mm-dd-yy", "2024-03-05"),  # Excel's regional short date → ISO
        (MARCH_5, "d-mmm-yy", "5-Mar-24"),
        (MARCH_5, "dd.mm.yyyy", "05.03.2024"),
        (MARCH_5, "[$-409]m/d/yyyy", "3/5/2024"),
        (MARCH_5, "dddd, mmmm d, yyyy", "Tuesday, March 5, 2024"),
        (MARCH_5, 'yyyy"年"m"月"d"日"', "2024年3月5日"),
        (MARCH_5, "General", "2024-03-05"),
        (AFTERNOON, "dd.mm.yyyy hh:mm", "05.03.2024 14:07"),
        (AFTERNOON, "h:mm AM/PM", "2:07 PM"),
        (AFTERNOON, "yyyy-mm-dd hh:mm:ss", "2024-03-05 14:07:09"),
        (AFTERNOON, "General", "2024-03-05 14:07:09"),
        (dt.time(9, 30), "h:mm", "9:30"),
        (dt.timedelta(hours=30, minutes=5), "[h]:mm:ss", "30:05:00"),
    ],
)
def test_cell_text(value: object, number_format: str, shown: str) -> None:
    assert cell_text(value, number_format) == shown
