"""How the report layer writes numbers and words, in one place: shares, counts, percentage
points, dates and lists. A missing or non-finite number is ``n/a`` (tables may show their own
``na_rep`` instead)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _missing(v: Any) -> bool:
    return v is None or not np.isfinite(v)


#: Significant figures of a share in a sentence: 12.5 %, not 12 % (a 4 % misstatement).
PCT_FIGURES = 3
#: Below this a share reads as ``< 0.001 %`` (3 significant figures of a count no one needs).
PCT_FLOOR = 1e-5


def pct(v: float) -> str:
    """A share in a sentence to :data:`PCT_FIGURES` significant figures, trailing zeros
    dropped: ``0 %``, ``< 0.001 %``, ``4.23 %``, ``12.5 %``, ``37 %``, ``100 %``. Rounding never
    reaches ``100 %`` (or ``0 %``) unless the share is exactly that: ``99.96 %``."""
    if _missing(v):
        return "n/a"
    if v == 0:
        return "0 %"
    if abs(v) < PCT_FLOOR:
        return f"{'> -' if v < 0 else '< '}{PCT_FLOOR:.3%}".replace("%", " %")
    figures = PCT_FIGURES
    text = f"{v * 100:.{figures}g}"
    while abs(v) < 1 and abs(float(text)) >= 100 and figures < 17:  # 99.96 % is not all
        figures += 1
        text = f"{v * 100:.{figures}g}"
    if "e" in text:  # 1000 % and more: whole percent, no exponent
        text = f"{v * 100:,.0f}"
    return f"{text} %"


def share(v: float, digits: int = 1, *, sign: bool = False) -> str:
    """A share with a fixed number of decimals, for tables and headlines: ``12.3%`` (with
    ``sign``, a change of share: ``+4.2%``)."""
    return "n/a" if _missing(v) else f"{v:{'+' if sign else ''}.{digits}%}"


def num(v: float) -> str:
    """A count in full with thousands separators: ``173,312,004``."""
    return "n/a" if _missing(v) else f"{v:,.0f}"


def human_count(value: float, _pos: object = None) -> str:
    """A count in three significant digits with k/M/B: ``950``, ``12k``, ``3.5M``, ``1.2B`` —
    axis ticks without an offset like ``1e8``, and short counts in sentences. Usable as a
    matplotlib ``FuncFormatter`` (``_pos`` is ignored)."""
    if _missing(value):
        return "n/a"
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:.3g}{unit}"
    return f"{value:.3g}"


def pp(v: float) -> str:
    """A difference of shares in percentage points: ``+4.2 points``."""
    return f"{v * 100:+.1f} points"


def iso_date(v: Any) -> str:
    return "never" if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat()


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def join(items: list[str]) -> str:
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
