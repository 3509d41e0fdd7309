"""What each event model refers to and what it does, in closed form (``model/effects.py``)."""

from __future__ import annotations

import datetime as dt

import pytest

from simlib.model import (
    CADistrust,
    CAMigration,
    IntermediateChange,
    KeyCompromise,
    MassRevocation,
    TrustStoreChange,
)
from simlib.model.effects import (
    ActiveIntermediates,
    AnchorChange,
    Distrust,
    PlannedSwitch,
    Reference,
    Reissue,
    Revocation,
)

START = dt.date(2025, 1, 1)
D = dt.date(2025, 3, 1)


def day_of(date: dt.date) -> int:
    return (date - START).days


def test_ca_migration():
    now = CAMigration(type="ca_migration", date=D, to="ca2", hosts=["a", "b"])
    assert list(now.references()) == [
        Reference("to", "ca", "ca2"),
        Reference("hosts[0]", "host", "a"),
        Reference("hosts[1]", "host", "b"),
    ]
    assert now.issuance_effects("a", 59, day_of) == (Reissue(59, "ca_migration", switch_to="ca2"),)
    assert now.issuance_effects("c", 59, day_of) == ()  # not one of its hosts
    later = CAMigration(type="ca_migration", date=D, to="ca2", when="next_renewal")
    assert later.issuance_effects("c", 59, day_of) == (PlannedSwitch(59, "ca2"),)
    assert now.trust_effects(day_of) == now.ca_effects(day_of) == ()


def test_key_compromise():
    every = KeyCompromise(type="key_compromise", rate_per_year=2.0)
    assert list(every.references()) == []
    # a rate-based event: the effect falls on the drawn day it is asked about
    assert every.issuance_effects("a", 17, day_of) == (Reissue(17, "key_compromise", rekey=True),)
    one = KeyCompromise(type="key_compromise", date=D, host="a")
    assert list(one.references()) == [Reference("host", "host", "a")]
    assert one.issuance_effects("b", 59, day_of) == ()
    assert one.issuance_effects("a", 59, day_of) == (Reissue(59, "key_compromise", rekey=True),)


def test_mass_revocation():
    ev = MassRevocation(type="mass_revocation", date=D, ca="ca1", within_days=3)
    assert list(ev.references()) == [Reference("ca", "ca", "ca1")]
    # every host is told; the schedule applies it only to certificates of ca1
    assert ev.issuance_effects("a", 59, day_of) == (Revocation(59, "ca1", 3),)
    assert ev.trust_effects(day_of) == ()


def test_intermediate_change():
    ev = IntermediateChange(type="intermediate_change", date=D, ca="ca1", active=["I2", "I3"])
    assert list(ev.references()) == [
        Reference("ca", "ca", "ca1"),
        Reference("active[0]", "intermediate", "I2", of="ca1"),
        Reference("active[1]", "intermediate", "I3", of="ca1"),
    ]
    assert ev.ca_effects(day_of) == (ActiveIntermediates(59, "ca1", ("I2", "I3")),)
    assert ev.issuance_effects("a", 59, day_of) == ()
    assert list(ev.problems()) == []
    empty = IntermediateChange(type="intermediate_change", date=D, ca="ca1", active=[])
    assert list(empty.problems()) == [("active", "needs at least one intermediate")]


def test_ca_distrust():
    bare = CADistrust(type="ca_distrust", date=D, ca="old")
    assert list(bare.references()) == [Reference("ca", "ca", "old")]
    assert bare.issuance_effects("a", 59, day_of) == ()  # no replacement: hosts stay
    assert bare.trust_effects(day_of) == (Distrust(59, "old", None),)
    moved = CADistrust(
        type="ca_distrust",
        date=D,
        ca="old",
        replacement="new",
        migrate_on=dt.date(2025, 2, 1),
        platforms=["android"],
    )
    assert list(moved.references())[1] == Reference("replacement", "ca", "new")
    # next renewal on or after migrate_on, only for hosts still on the distrusted CA
    assert moved.issuance_effects("a", 59, day_of) == (PlannedSwitch(31, "new", "old"),)
    assert moved.trust_effects(day_of) == (Distrust(59, "old", ("android",)),)
    now = moved.model_copy(update={"when": "immediate", "migrate_on": None})
    assert now.issuance_effects("a", 59, day_of) == (
        Reissue(59, "distrust_migration", switch_to="new", only_if_on_ca="old"),
    )
    late = moved.model_copy(update={"migrate_on": dt.date(2025, 4, 1)})
    assert list(late.problems()) == [("migrate_on", "must be on or before the distrust date")]


def test_trust_store_change():
    ev = TrustStoreChange(
        type="trust_store_change",
        date=D,
        platforms=["ios"],
        share=0.25,
        add=["ca1/I1"],
        remove=["ca2"],
        path_building="legacy",
    )
    assert list(ev.references()) == [
        Reference("add[0]", "anchor", "ca1/I1"),
        Reference("remove[0]", "anchor", "ca2"),
    ]
    (change,) = ev.trust_effects(day_of)
    assert change == AnchorChange(59, ("ios",), 0.25, ("ca1/I1",), ("ca2",), "legacy")
    assert change.reaches("ios") and not change.reaches("android")
    assert ev.issuance_effects("a", 59, day_of) == ()
    nothing = TrustStoreChange(type="trust_store_change", date=D)
    assert list(nothing.problems()) == [
        ("", "a trust_store_change needs 'add', 'remove' or 'path_building'")
    ]
    every = TrustStoreChange(type="trust_store_change", date=D, remove=["ca2"])
    assert every.trust_effects(day_of)[0].reaches("android")


def test_effects_are_frozen_values():
    """Effects compare by value, and a consumer cannot change what the event declared."""
    effect = Reissue(1, "x")
    assert effect == Reissue(1, "x", rekey=False) != Reissue(1, "x", rekey=True)
    with pytest.raises(AttributeError):
        effect.day = 2  # type: ignore[misc]
