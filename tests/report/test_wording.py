"""How the report writes shares in sentences: never rounded past what a reader would accept."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from simlib.report.wording import PCT_FLOOR, pct


def test_a_share_keeps_three_significant_figures() -> None:
    # the quickstart's "protects 12 %" was 12.5 %: a 4 % misstatement
    assert pct(0.125) == "12.5 %"
    assert [pct(v) for v in (0.37, 0.0423, 0.8412, 0.1, 1.0)] == [
        "37 %", "4.23 %", "84.1 %", "10 %", "100 %"
    ]  # fmt: skip
    assert (pct(0), pct(1e-7), pct(float("nan")), pct(None)) == ("0 %", "< 0.001 %", "n/a", "n/a")
    assert pct(0.9996) == "99.96 %" and pct(12.345) == "1,234 %"


@given(st.floats(PCT_FLOOR, 1.0).filter(lambda v: v < 1))
def test_rounding_never_misstates_a_share(v: float) -> None:
    """Within half a unit of the third significant figure (0.5 % of the share), and never "all"
    for less than all."""
    text = pct(v)
    shown = float(text.removesuffix(" %").replace(",", "")) / 100
    assert math.isclose(shown, v, rel_tol=0.005) and text != "100 %" and text != "0 %"
