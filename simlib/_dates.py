"""One conversion for every date argument: ``datetime.date``, ISO strings and pandas timestamps.

Scenario fields, :meth:`Scenario.day`, ``result.locked_versions(strategy, date)`` and
``apply_overrides(sc, {"start": ...})`` all accept the same spellings through :func:`to_date`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def to_date(value: Any) -> dt.date:
    """``value`` as a :class:`datetime.date`.

    Accepts a ``date``, a ``datetime`` or ``pandas.Timestamp`` at midnight (a time of day is
    refused rather than dropped), a ``numpy.datetime64`` and an ISO string ``YYYY-MM-DD``.
    Raises ``ValueError`` (or ``TypeError`` for other types) with a one-line message.
    """
    if isinstance(value, dt.datetime):  # pandas.Timestamp is a datetime subclass
        if value.time() != dt.time(0) or (value.tzinfo is not None and value.utcoffset()):
            raise ValueError(
                f"must be a date (YYYY-MM-DD), not a time of day ({value.isoformat()})"
            )
        return value.date()
    if isinstance(value, dt.date):
        return value
    if type(value).__name__ == "datetime64":
        import pandas as pd

        return to_date(pd.Timestamp(value).to_pydatetime())
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            shown = text if len(text) <= 40 else text[:40] + "…"
            raise ValueError(f"must be a date (YYYY-MM-DD), not '{shown}'") from None
        return to_date(parsed)
    raise TypeError(
        f"expected a date (datetime.date, 'YYYY-MM-DD' or pandas.Timestamp), not {type(value).__name__}"
    )


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole calendar years; 29 February becomes 28 February in other years."""
    year = day.year + years
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February into a common year
        return day.replace(year=year, day=28)
