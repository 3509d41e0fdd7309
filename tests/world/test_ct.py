"""CT enforcement per platform (data/world/ct-enforcement.csv): the dates and the defaults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from simlib.errors import ScenarioError
from simlib.world.ct import checks_revocation, ct_required_after, load_ct


def test_apple_requires_ct_for_certificates_issued_after_2018_10_15() -> None:
    assert ct_required_after("ios") == dt.date(2018, 10, 15)
    assert ct_required_after("chrome") == dt.date(2018, 4, 30)


def test_android_requires_an_opt_in_not_a_date() -> None:
    assert ct_required_after("android") is None
    rules = {r.rule for r in load_ct() if r.platform == "android"}
    assert rules == {"ct_opt_in", "checks_revocation"}


def test_revocation_is_not_checked_by_default_and_is_labelled_an_assumption() -> None:
    assert not checks_revocation("ios") and not checks_revocation("android")
    assert {r.confidence for r in load_ct() if r.rule == "checks_revocation"} == {"unconfirmed"}


def test_a_bad_rule_names_the_file_and_line(world_copy: Path) -> None:
    path = world_copy / "ct-enforcement.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("ct_opt_in", "ct_maybe"), "utf-8")
    with pytest.raises(ScenarioError, match="ct_maybe") as info:
        load_ct(world_copy)
    assert "ct-enforcement.csv" in str(info.value)
