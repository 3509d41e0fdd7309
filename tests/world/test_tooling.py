"""Tooling defaults by date: key reuse, renewal timing, ARI."""

from __future__ import annotations

from datetime import date

import pytest

from simlib.errors import ScenarioError
from simlib.world.tooling import defaults_on, tools


def test_cert_manager_reuses_key_until_1_18() -> None:
    before = defaults_on("cert-manager", date(2025, 6, 9))
    after = defaults_on("cert-manager", date(2025, 6, 10))
    assert before.reuses_key is True
    assert after.reuses_key is False
    assert after.facts["reuses_key"].version == "1.18.0"
    assert after.facts["reuses_key"].confidence == "primary"
    assert defaults_on("cert-manager", date(2020, 1, 1)).reuses_key is True


def test_certbot_renewal_moves_from_days_to_fraction_and_gains_ari() -> None:
    old = defaults_on("certbot", date(2025, 4, 6))
    assert (old.reuses_key, old.renew_before_days, old.renew_at_fraction, old.ari) == (
        False,
        30,
        None,
        False,
    )
    v4 = defaults_on("certbot", date(2025, 4, 7))
    assert (v4.renew_before_days, v4.renew_at_fraction, v4.ari) == (None, 0.6667, False)
    v41 = defaults_on("certbot", date(2025, 6, 10))
    assert v41.ari is True and v41.renew_at_fraction == 0.6667


def test_caddy_stops_reusing_keys_with_certmagic_0_18_1() -> None:
    assert defaults_on("caddy", date(2023, 6, 19)).reuses_key is True
    assert defaults_on("certmagic", date(2023, 6, 20)).reuses_key is False
    assert "ari" in defaults_on("caddy", date(2026, 1, 1)).unconfirmed


def test_acm_rekeys_and_its_lead_time_after_2026_02_18_is_an_assumption() -> None:
    old = defaults_on("aws-acm", date(2026, 2, 17))
    new = defaults_on("acm", date(2026, 2, 18))
    assert old.reuses_key is False and old.renew_before_days == 60
    assert new.renew_before_days == 45 and new.unconfirmed == ("renew_before_days",)
    assert new.ari is None  # ACM is not an ACME client: the sources say nothing


def test_unknown_tool_lists_valid_names() -> None:
    assert set(tools()) == {"certbot", "cert-manager", "caddy", "aws-acm"}
    with pytest.raises(ScenarioError, match="unknown tool 'lego'; valid: certbot, "):
        defaults_on("lego", date(2025, 1, 1))
