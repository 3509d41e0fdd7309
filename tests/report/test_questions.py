"""The seed questions: variants built from the scenario's own hosts and CAs, numbers that follow
from the model in closed form, and answers that quote those numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simlib
from simlib.report import decision, questions
from tests.conftest import make

# BASE (tests/conftest.py): one Android host on ca1, 90-day certificates renewed 30 days early
# (a renewal every 60 days), a new key each time; ca2 declared but unused; no strategies of note.
MIGRATION = {"type": "ca_migration", "date": "2025-07-01", "to": "ca2", "when": "immediate"}
TWO_HOSTS = [
    {"name": "api.test", "ca": "ca1", "validity_days": 90, "renew_before_days": 30},
    {"name": "auth.test", "ca": "ca1", "validity_days": 200, "renew_at_fraction": 0.5},
]


def row(answer: questions.Answer, strategy: str, world: str = questions.AS_GIVEN) -> pd.Series:
    t = answer.table
    return t[(t["world"] == world) & (t["strategy"] == strategy)].iloc[0]


@pytest.fixture(scope="module")
def spki() -> questions.Answer:
    return questions.spki_vs_certificate(make(attacks=["rogue_ca"]))


def test_certificate_pin_breaks_at_every_renewal(spki) -> None:
    cert = row(spki, "certificate pin")
    assert cert["certificate_changes"] == 6  # renewals on days 60, 120, …, 360 of 2025
    assert cert["breaks"] == cert["certificate_changes"]
    assert cert["peak_lockout"] == pytest.approx(1.0)  # a renewal locks every old version
    reused = row(spki, "certificate pin", "keys reused at renewal")
    assert reused["breaks"] == reused["certificate_changes"] == 6


def test_key_pin_with_reused_key_never_locks_on_renewal(spki) -> None:
    key = row(spki, "key (SPKI) pin", "keys reused at renewal")
    assert key["breaks"] == 0
    assert key["locked_user_days"] == 0
    # with keys rotated, the key pin breaks exactly like the certificate pin
    assert row(spki, "key (SPKI) pin")["locked_user_days"] == pytest.approx(
        row(spki, "certificate pin")["locked_user_days"]
    )


def test_answer_quotes_its_numbers(spki) -> None:
    cert = row(spki, "certificate pin")
    assert f"broke {cert['breaks']} times" in spki.text
    assert f"{cert['locked_user_days']:,.0f} locked user-days" in spki.text
    assert spki.question in spki.markdown()


def test_key_reuse_world_is_skipped_when_keys_are_already_reused() -> None:
    a = questions.spki_vs_certificate(make({"hosts[0].key_policy": "reuse"}))
    assert a.table["world"].unique().tolist() == [questions.AS_GIVEN]
    assert row(a, "key (SPKI) pin")["breaks"] == 0


def test_backup_from_another_ca_survives_the_scenarios_migration() -> None:
    a = questions.backup_other_ca(make(events=[MIGRATION]))
    assert "ca2" in a.question  # the CA the scenario moves to is the backup
    assert a.table["world"].unique().tolist() == [questions.AS_GIVEN]
    assert row(a, "root pin")["locked_user_days"] > 0
    assert row(a, "root pin + ca2 root")["locked_user_days"] == 0
    assert row(a, "root pin + ca2 root")["breaks"] == 0


def test_backup_ca_is_added_and_a_migration_world_built_when_the_scenario_has_none() -> None:
    a = questions.backup_other_ca(make())
    worlds = a.table["world"].unique().tolist()
    assert len(worlds) == 2 and worlds[0] == questions.AS_GIVEN
    moved = worlds[1]
    assert questions.BACKUP_CA in moved and "2025-07-02" in moved  # half-way through 2025
    assert row(a, f"root pin + {questions.BACKUP_CA} root", moved)["locked_user_days"] == 0
    assert row(a, "root pin", moved)["locked_user_days"] > 0
    # without a move a backup changes nothing on Android
    assert row(a, f"root pin + {questions.BACKUP_CA} root")["locked_user_days"] == 0
    assert row(a, "root pin")["locked_user_days"] == 0


def test_spare_ca_named_as_backup_is_preferred() -> None:
    sc = make(strategies=[{"name": "r", "pin": "root_spki", "backup": ["ca:ca2"]}])
    assert "ca2" in questions.backup_other_ca(sc).question


def test_dynamic_list_follows_rotations_a_static_leaf_pin_cannot() -> None:
    a = questions.dynamic_pinning(make(attacks=["rogue_ca"]))
    static = row(a, "leaf key, static")
    fail_open = row(a, "leaf key, dynamic list (fail open)")
    assert static["locked_user_days"] > 0
    assert fail_open["locked_user_days"] < 0.01 * static["locked_user_days"]
    assert fail_open["protected_rogue_ca"] > static["protected_rogue_ca"]
    assert a.caveat


def test_expiry_lowers_lockout_monotonically_and_never_past_the_horizon() -> None:
    a = questions.pin_expiry(make(attacks=["rogue_ca"]), days=(30, 90, 400))
    never = row(a, "leaf key, no expiry")["locked_user_days"]
    locked = [
        row(a, f"leaf key, expires after {n} days")["locked_user_days"] for n in (30, 90, 400)
    ]
    assert locked[0] <= locked[1] <= locked[2] <= never
    assert locked[0] < never
    assert locked[2] == pytest.approx(never)  # 400 days outlast the one-year run
    assert a.table["expires_after_days"].dropna().tolist() == [30, 90, 400]


def test_report_only_reports_exactly_what_enforcing_locks() -> None:
    sc = make(
        strategies=[{"name": "leaf", "pin": "leaf_spki"}, {"name": "root", "pin": "root_spki"}]
    )
    a = questions.report_only_first(sc)
    enforced, report = row(a, "leaf"), row(a, "leaf (report-only)")
    assert report["mode"] == "report-only" and enforced["mode"] == "enforced"
    assert report["locked_user_days"] == 0 and report["protected_mean"] == 0
    assert report["violation_user_days"] == pytest.approx(enforced["locked_user_days"])
    assert report["first_violation"] == enforced["first_lockout"]
    day = (report["first_violation"] - pd.Timestamp(sc.start)).days
    assert f"shorter than {day} days" in a.text
    assert "root" in a.text.split("never locked")[0].split(".")[-1]  # root cleared by a trial
    assert "not modelled" in a.caveat


def test_what_if_changes_every_host() -> None:
    sc = make(hosts=TWO_HOSTS, strategies=[{"name": "leaf", "pin": "leaf_spki"}])
    short = questions.with_validity(sc, 47)
    assert [h.validity_days for h in short.hosts] == [47, 47]
    assert short.hosts[0].renew_before_days == 15  # a third of 47, shorter than 30
    assert short.hosts[1].renew_at_fraction == 0.5
    a = questions.what_if_validity(sc, 47)
    before, after = row(a, "leaf"), row(a, "leaf", "47-day certificates")
    assert after["certificate_changes"] > before["certificate_changes"]
    assert after["locked_user_days"] > before["locked_user_days"]
    assert "2 host(s)" in a.text


def test_fix_strategy_named_by_reference_and_missing_attacks_are_handled() -> None:
    sc = make(
        strategies=[{"name": "leaf", "pin": "leaf_spki"}, {"name": "root", "pin": "root_spki"}],
        incident_response={"fix_strategy": "root"},
        attacks=[],
    )
    for q in questions.QUESTIONS:
        a = q(sc)
        assert "protected_rogue_ca" in a.table
        assert np.isfinite(a.table["locked_user_days"]).all()
        assert a.text


def test_headline_distribution_and_frontier() -> None:
    sc = make(strategies=[{"name": "leaf", "pin": "leaf_spki"}, {"name": "none", "pin": "none"}],
              attacks=["rogue_ca"])  # fmt: skip
    res = simlib.simulate(sc)
    h = questions.headline(res)
    assert h["strategy"].tolist() == ["leaf", "none"]
    assert h["locked user-days"].iloc[0] == pytest.approx(res.summary["locked_user_days"].iloc[0])
    assert "protected: rogue CA" in h
    mc = simlib.simulate(sc, mode="monte_carlo", replications=5)
    d = questions.distribution(mc.summary)
    assert d.columns[0] == "strategy" and "locked user days p50" in d
    f = questions.frontier(decision.pareto(decision.ranked_table(res)))
    # none locks nobody and protects nobody (Android validates a rogue CA), leaf the opposite
    assert f.to_dict("records") == [
        {"attack": "rogue CA", "on the frontier": "none, leaf", "dominated": "–"}
    ]
    assert questions.format_table(h).to_html()
    assert sc.name in questions.describe(sc)
