"""The ``monitoring`` block: defaults from the world data, overrides, one-line errors."""

from __future__ import annotations

import datetime as dt

import pytest

from simlib.model.monitoring import CTMonitoring


def test_ios_enforces_from_the_day_after_the_apple_date() -> None:
    ct = CTMonitoring()
    assert ct.enforced_share("ios", dt.date(2018, 10, 15)) == 0.0
    assert ct.enforced_share("ios", dt.date(2018, 10, 16)) == 1.0
    assert ct.enforced_share("android", dt.date(2026, 1, 1)) == 0.0


def test_overrides_replace_the_world_defaults() -> None:
    ct = CTMonitoring(enforcing_share={"android": 0.3}, revocation_share={"ios": 0.2})
    assert ct.enforced_share("android", dt.date(2026, 1, 1)) == 0.3
    assert ct.reach("ios") == 1.0  # blocklist (default) reaches everyone
    revoked = ct.model_copy(update={"response": "revocation"})
    assert revoked.reach("ios") == 0.2 and revoked.reach("android") == 0.0


def test_the_attacker_logs_by_default_only_where_someone_enforces_ct() -> None:
    ct = CTMonitoring()
    assert ct.logged(["android", "ios"], dt.date(2025, 1, 1)) == 1.0
    assert ct.logged(["android"], dt.date(2025, 1, 1)) == 0.0
    assert ct.logged(["ios"], dt.date(2018, 1, 1)) == 0.0
    assert CTMonitoring(logged_share=0.4).logged(["android"], dt.date(2025, 1, 1)) == 0.4


def test_window_is_detection_plus_response() -> None:
    assert CTMonitoring(detection_days=3, response_days=4).window_days == 7


@pytest.mark.parametrize("bad", [{"detection_days": -1}, {"logged_share": 1.5}, {"extra": 1}])
def test_bad_values_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        CTMonitoring(**bad)
