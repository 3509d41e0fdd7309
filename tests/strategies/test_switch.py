"""A strategy that learns (simlib.strategies.switch): builds before the switch day ship the base
strategy's pins, builds on or after it the fix strategy's; the rest stays the base's own."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.strategies.strategy import PinSet
from simlib.strategies.switch import SwitchedStrategy

from . import HOST, I2_ANNOUNCED, RENEW, calendar, strategy

ROOT1 = 0


def _switched(switch_day: int, **base_fields: object) -> SwitchedStrategy:
    base = strategy("leaf_spki", **base_fields)
    return SwitchedStrategy(base, strategy("root_spki", backup=["ca:ca2"]), switch_day)


@pytest.mark.parametrize("switch_day", [1, RENEW - 1, RENEW, RENEW + 1, 364])
def test_the_switch_day_is_the_first_build_with_the_fix_pins(switch_day: int) -> None:
    cal = calendar()
    s = _switched(switch_day)
    before, on = switch_day - 1, switch_day
    assert s.pins(cal, HOST, before) == PinSet(frozenset({cal.serving(HOST, before).leaf_key}))
    assert s.pins(cal, HOST, on) == PinSet(ca=frozenset({ROOT1, 4}))  # ca1's root + ca2's root
    assert s.pins(cal, HOST, before) == s.base.pins(cal, HOST, before)
    assert s.pins(cal, HOST, on) == s.fix.pins(cal, HOST, on)


@pytest.mark.parametrize("switch_day", [-30, 0])
def test_a_switch_on_or_before_the_start_is_the_fix_from_day_0(switch_day: int) -> None:
    cal, s = calendar(), _switched(switch_day)
    assert all(s.pins(cal, HOST, d) == s.fix.pins(cal, HOST, d) for d in (0, 1, RENEW, 364))


def test_a_switch_after_the_horizon_is_the_base_throughout() -> None:
    cal = calendar()
    s = _switched(cal.days)
    assert all(s.pins(cal, HOST, d) == s.base.pins(cal, HOST, d) for d in (0, RENEW, cal.days - 1))


def test_the_switched_strategy_keeps_the_base_identity_with_static_pins() -> None:
    s = _switched(RENEW, expires_after_days=30, enforce=False, dynamic={"refresh_days": 7})
    assert (s.name, s.pin, s.level, s.expires_after_days, s.enforce) == (
        "s",
        "leaf_spki",
        "leaf",
        30,
        False,
    )
    assert s.dynamic is None and s.base.dynamic is not None  # the base is not changed
    assert s.pins_by_day  # the build day decides which strategy applies
    assert (s.base.pins_by_day, s.fix.pins_by_day) == (False, False)
    assert repr(s) == (
        "SwitchedStrategy(PinningStrategy('s', pin='leaf_spki', backup=[]) → "
        "PinningStrategy('s', pin='root_spki', backup=['ca:ca2']) from day 60)"
    )


def test_a_fix_that_depends_on_the_day_reads_the_build_day() -> None:
    cal = calendar()
    fix = strategy("intermediate_spki", intermediates="all")
    s = SwitchedStrategy(strategy("leaf_spki"), fix, switch_day=0)
    assert s.pins(cal, HOST, I2_ANNOUNCED - 1) == PinSet(ca=frozenset({1}))
    assert s.pins(cal, HOST, I2_ANNOUNCED) == PinSet(ca=frozenset({1, 2}))


@settings(max_examples=100, deadline=None)
@given(switch_day=st.integers(-10, 400), day=st.integers(0, 364))
def test_property_pins_are_the_base_before_and_the_fix_from_the_switch(
    switch_day: int, day: int
) -> None:
    cal = calendar()
    s = _switched(switch_day, backup=["next_key"])
    chosen = s.fix if day >= switch_day else s.base
    assert s.pins(cal, HOST, day) == chosen.pins(cal, HOST, day)
    # the pins of other hosts follow the same rule (the switch is per build, not per host)
    assert s.pins(cal, "other.test", day) == chosen.pins(cal, "other.test", day)
