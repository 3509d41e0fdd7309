"""What an app version pins (simlib.strategies.strategy): the level's targets in the certificate
served on the build day, backup pins per kind, the ATS lists they fill, and which strategies
depend on the build day itself — each against the closed-form calendar of tests/strategies."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.server.certificates import RealPki
from simlib.strategies.strategy import PinSet, build_strategies, literal_identity
from simlib.vocabulary import PIN_LEVELS

from . import HOST, I2_ANNOUNCED, I2_FROM, I3_ANNOUNCED, I3_FROM, RENEW, calendar, strategy

ROOT1, I1, I2, I3, ROOT2 = 0, 1, 2, 3, 4  # identities of ca1's root and intermediates, ca2's root
FOREIGN = "spki:" + base64.b64encode(bytes(range(32))).decode()
BACKUPS = ["next_key", "ca:ca2", "intermediates:ca1", FOREIGN]


def _served(day: int):
    return calendar().serving(HOST, day)


def test_issuance_k_is_served_from_day_60k() -> None:
    cal = calendar()
    for item in cal.by_host[HOST]:
        assert item.day == RENEW * item.seq
        assert _served(item.day) == item and _served(item.end_day) == item
    assert [i.intermediate for i in cal.by_host[HOST]] == ["I1", "I1"] + ["I2"] * 5


@pytest.mark.parametrize("day", [0, RENEW - 1, RENEW, 2 * RENEW - 1, 2 * RENEW, 364])
def test_leaf_levels_pin_the_certificate_served_on_the_build_day(day: int) -> None:
    cal, served = calendar(), _served(day)
    assert strategy("leaf_spki").pins(cal, HOST, day) == PinSet(frozenset({served.leaf_key}))
    assert strategy("leaf_cert").pins(cal, HOST, day) == PinSet(frozenset({served.cert}))
    assert served.cert != served.leaf_key


def test_a_renewal_changes_leaf_pins_but_not_root_pins() -> None:
    cal = calendar()
    leaf, root = strategy("leaf_spki"), strategy("root_spki")
    assert leaf.pins(cal, HOST, RENEW - 1) != leaf.pins(cal, HOST, RENEW)
    assert root.pins(cal, HOST, 0) == root.pins(cal, HOST, 364) == PinSet(ca=frozenset({ROOT1}))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (0, {I1}),
        (I2_FROM, {I1}),  # I2 issues from day 100, but the certificate served (day 60) is I1's
        (2 * RENEW - 1, {I1}),
        (2 * RENEW, {I2}),
        (I3_FROM, {I2}),
    ],
)
def test_intermediate_serving_pins_the_served_intermediate(day: int, expected: set[int]) -> None:
    assert strategy("intermediate_spki").pins(calendar(), HOST, day) == PinSet(
        ca=frozenset(expected)
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (I2_ANNOUNCED - 1, {I1}),
        (I2_ANNOUNCED, {I1, I2}),  # announced: pinned before it issues
        (I2_FROM - 1, {I1, I2}),
        (I2_FROM, {I1, I2}),  # I1 retired, but it signed the certificate the app was built on
        (2 * RENEW - 1, {I1, I2}),
        (2 * RENEW, {I2}),
        (I3_ANNOUNCED - 1, {I2}),
        (I3_ANNOUNCED, {I2, I3}),
        (I3_FROM, {I2, I3}),
        (364, {I2, I3}),
    ],
)
def test_all_intermediates_pins_what_the_ca_has_on_the_build_day(
    day: int, expected: set[int]
) -> None:
    cal = calendar()
    s = strategy("intermediate_spki", intermediates="all")
    assert s.pins(cal, HOST, day) == PinSet(ca=frozenset(expected))
    # targets default to the issue day, so a list published then misses later announcements
    issued = _served(day)
    assert s.targets(cal, issued) == s.targets(cal, issued, issued.day)


def test_backup_pins_per_kind() -> None:
    cal = calendar()
    day = I2_ANNOUNCED  # I2 announced, I1 served
    served = _served(day)

    def backup(pin: str, entry: str) -> PinSet:
        return strategy(pin, backup=[entry]).backup_pins(cal, served, day)

    assert backup("leaf_spki", "next_key") == PinSet(leaf=frozenset({served.next_key}))
    assert backup("leaf_spki", "ca:ca2") == PinSet(ca=frozenset({ROOT2}))
    assert backup("leaf_spki", "intermediates:ca1") == PinSet(ca=frozenset({I1, I2}))
    assert backup("leaf_spki", "intermediates:ca2") == PinSet(ca=frozenset({5}))
    # A literal pin nobody in the scenario has: a foreign key, at the strategy's own level.
    foreign = backup("leaf_spki", FOREIGN)
    assert foreign.ca == frozenset() and len(foreign.leaf) == 1
    assert backup("root_spki", FOREIGN) == PinSet(ca=foreign.leaf)
    assert not foreign.leaf & {ROOT1, I1, I2, I3, ROOT2, served.leaf_key}


def test_a_literal_pin_of_a_scenario_ca_is_that_ca_key() -> None:
    cal = calendar()
    pin = RealPki.for_calendar(cal).spki_pin(ROOT2)
    assert literal_identity(cal, pin) == (ROOT2, "ca")
    s = strategy("leaf_spki", backup=[f"spki:{pin}"])
    assert s.pins(cal, HOST, 0) == PinSet(frozenset({_served(0).leaf_key}), frozenset({ROOT2}))
    assert literal_identity(cal, pin) == (ROOT2, "ca")  # cached, same answer


def test_next_key_backup_without_a_published_next_key_pins_nothing_more() -> None:
    cal = calendar(next_key=False)
    assert cal.serving(HOST, 0).next_key is None
    s = strategy("leaf_spki", backup=["next_key"])
    assert s.pins(cal, HOST, 0) == strategy("leaf_spki").pins(cal, HOST, 0)


def test_hosts_limits_every_pin_including_backups() -> None:
    cal = calendar()
    s = strategy("leaf_spki", hosts=[HOST], backup=["ca:ca2"])
    assert s.pins_host(HOST) and not s.pins_host("other.test")
    assert s.pins(cal, "other.test", 0) == PinSet() and PinSet().empty
    assert not s.pins(cal, HOST, 0).empty
    assert strategy("leaf_spki").pins_host("other.test")  # no list: every host
    assert strategy("none").pins(cal, HOST, 0) == PinSet() and not strategy("none").pins_host(HOST)


@pytest.mark.parametrize(
    ("pin", "backup", "lists"),
    [
        ("none", [], set()),
        ("leaf_spki", [], {"leaf"}),
        ("leaf_cert", [], {"leaf"}),
        ("leaf_spki", ["ca:ca2"], {"leaf", "ca"}),
        ("leaf_spki", ["intermediates:ca1"], {"leaf", "ca"}),
        ("leaf_spki", [FOREIGN, "next_key"], {"leaf"}),
        ("root_spki", ["next_key"], {"leaf", "ca"}),
        ("intermediate_spki", [FOREIGN], {"ca"}),
    ],
)
def test_ats_lists_are_the_lists_the_pins_fill(
    pin: str, backup: list[str], lists: set[str]
) -> None:
    s = strategy(pin, backup=backup)
    assert s.ats_lists == lists
    pins = s.pins(calendar(), HOST, 0)
    assert {name for name, ids in (("leaf", pins.leaf), ("ca", pins.ca)) if ids} == lists


@pytest.mark.parametrize(
    ("fields", "by_day"),
    [
        ({"pin": "leaf_spki"}, False),
        ({"pin": "intermediate_spki"}, False),
        ({"pin": "intermediate_spki", "intermediates": "all"}, True),
        ({"pin": "leaf_spki", "backup": ["ca:ca2", "next_key"]}, False),
        ({"pin": "leaf_spki", "backup": ["intermediates:ca2"]}, True),
    ],
)
def test_pins_by_day_is_true_only_when_the_build_day_itself_matters(
    fields: dict, by_day: bool
) -> None:
    assert strategy(**fields).pins_by_day is by_day


def test_build_strategies_keeps_order_and_specs() -> None:
    specs = [strategy(p).spec for p in ("root_spki", "leaf_spki")]
    built = build_strategies(specs)
    assert [b.spec for b in built] == specs and [b.pin for b in built] == ["root_spki", "leaf_spki"]
    assert repr(built[0]) == "PinningStrategy('s', pin='root_spki', backup=[])"


def test_only_a_validated_spec_builds_a_strategy() -> None:
    from simlib.strategies.strategy import PinningStrategy

    with pytest.raises(TypeError, match="StrategySpec"):
        PinningStrategy({"name": "x", "pin": "leaf_spkii"})  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ properties
_levels = st.sampled_from([p for p in PIN_LEVELS if p != "none"])
_backups = st.lists(st.sampled_from(BACKUPS), unique=True, max_size=4)
_days = st.integers(0, 364)


@settings(max_examples=80, deadline=None)
@given(pin=_levels, backup=_backups, intermediates=st.sampled_from(["serving", "all"]), day=_days)
def test_pins_are_the_targets_plus_the_backups(
    pin: str, backup: list[str], intermediates: str, day: int
) -> None:
    cal = calendar()
    s = strategy(pin, backup=backup, intermediates=intermediates)
    served = _served(day)
    pins = s.pins(cal, HOST, day)
    primary = pins.leaf if s.level == "leaf" else pins.ca
    assert s.targets(cal, served, day) <= primary
    assert s.backup_pins(cal, served, day).leaf <= pins.leaf
    assert s.backup_pins(cal, served, day).ca <= pins.ca
    assert pins == PinSet(**{s.level: s.targets(cal, served, day)}) | s.backup_pins(
        cal, served, day
    )


@settings(max_examples=80, deadline=None)
@given(
    pin=_levels,
    backup=_backups,
    intermediates=st.sampled_from(["serving", "all"]),
    a=_days,
    b=_days,
)
def test_pins_change_only_with_the_certificate_unless_they_depend_on_the_day(
    pin: str, backup: list[str], intermediates: str, a: int, b: int
) -> None:
    cal = calendar()
    s = strategy(pin, backup=backup, intermediates=intermediates)
    if _served(a) == _served(b) and not s.pins_by_day:
        assert s.pins(cal, HOST, a) == s.pins(cal, HOST, b)
    # pins depend only on the day and the calendar: the same call gives the same set
    assert s.pins(cal, HOST, a) == s.pins(cal, HOST, a)


_ids = st.frozensets(st.integers(0, 20), max_size=5)
_pinsets = st.builds(PinSet, _ids, _ids)


@given(x=_pinsets, y=_pinsets, z=_pinsets)
def test_pin_set_union_is_a_commutative_monoid(x: PinSet, y: PinSet, z: PinSet) -> None:
    assert x | y == y | x and (x | y) | z == x | (y | z)
    assert x | PinSet() == x and (x | x) == x
    assert (x | y).empty == (x.empty and y.empty)
