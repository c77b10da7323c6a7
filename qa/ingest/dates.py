"""Swedish dates as written in web pages and notes, turned into ISO strings."""

from __future__ import annotations

import re

MONTHS = {
    "januari": 1, "februari": 2, "mars": 3, "april": 4, "maj": 5, "juni": 6,
    "juli": 7, "augusti": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
}
WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")

_MONTH = "|".join(MONTHS)
_WEEKDAY = "|".join(WEEKDAYS)
# "fredag 23 november 2012", "31 januari 2020", "den 16 februari 2024"
WRITTEN_DATE = re.compile(
    rf"(?:(?P<weekday>{_WEEKDAY})\s+)?(?:den\s+)?(?P<day>\d{{1,2}})\s+(?P<month>{_MONTH})\s+(?P<year>(?:19|20)\d\d)",
    re.IGNORECASE,
)
# "20170619" or "2017-06-19" inside a heading
COMPACT_DATE = re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)-?(?P<month>[01]\d)-?(?P<day>[0-3]\d)(?!\d)")
YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def _iso(year: int, month: int, day: int) -> str | None:
    if 1 <= month <= 12 and 1 <= day <= 31:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def parse_written(match: re.Match[str]) -> str | None:
    """ISO date of a :data:`WRITTEN_DATE` match."""
    return _iso(int(match["year"]), MONTHS[match["month"].lower()], int(match["day"]))


def find_date(text: str) -> str | None:
    """The first full date stated in ``text`` (written or compact), as ``YYYY-MM-DD``."""
    m = WRITTEN_DATE.search(text)
    if m:
        return parse_written(m)
    m = COMPACT_DATE.search(text)
    if m:
        return _iso(int(m["year"]), int(m["month"]), int(m["day"]))
    return None


def find_year(text: str) -> str | None:
    """A lone year in a heading ("Seminarium i Almedalen 2015") when no full date is given."""
    m = YEAR.search(text)
    return m.group(1) if m else None
