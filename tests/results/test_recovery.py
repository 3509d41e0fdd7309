"""Time to recover, against hand-worked series and a naive scan."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.results.recovery import recovery_days


def test_recovery_days_by_hand() -> None:
    rate = np.array([0.0, 0.5, 0.2, 0.05, 0.009, 0.0005, 0.3, 0.3])
    assert recovery_days(rate, np.array([1]), 0.01).tolist() == [3.0]
    assert recovery_days(rate, np.array([1]), 0.001).tolist() == [4.0]
    assert recovery_days(rate, np.array([6]), 0.01).tolist() == [np.inf]
    assert recovery_days(rate, np.array([5]), 0.01).tolist() == [0.0]


def test_recovery_is_measured_over_the_level_before_the_break() -> None:
    # 2 % never update: the plateau must not hide a 2-day recovery from the second break.
    rate = np.array([0.0, 0.6, 0.1, 0.02, 0.02, 0.5, 0.1, 0.025, 0.021, 0.02])
    assert recovery_days(rate, np.array([1, 5]), 0.01).tolist() == [np.inf, 2.0]
    assert recovery_days(rate, np.array([5]), 0.001).tolist() == [4.0]


def naive_recovery(rate, events, level):
    out = []
    for e in events:
        base = rate[e - 1] if e > 0 else 0.0
        later = [t for t in range(e, len(rate)) if rate[t] - base < level]
        out.append(float(later[0] - e) if later else np.inf)
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 0.001, 0.005, 0.02, 0.1, 0.5, 1.0]), min_size=1, max_size=70),
    st.data(),
)
def test_recovery_days_equal_the_naive_scan(values, data) -> None:
    rate = np.array(values)
    events = np.array(data.draw(st.lists(st.integers(0, len(rate) - 1), max_size=10)), dtype=int)
    for level in (0.01, 0.001):
        assert recovery_days(rate, events, level).tolist() == naive_recovery(rate, events, level)
