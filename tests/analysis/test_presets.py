"""Replay tests: every preset runs and its documented outcome holds in direction and order of
magnitude (see the header of each file in data/presets/)."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import time

import pandas as pd
import pytest

import simlib
from simlib.analysis.presets import load_preset, preset, preset_names, presets
from simlib.cli.main import main
from simlib.errors import ScenarioError

NAMES = (
    "le-2024-random-intermediates",
    "le-2025-intermediate-rotation",
    "dst-root-x3-expiry-2021",
    "entrust-distrust-2024",
    "acm-rekey-198d",
    "sc081-2026-2029",
    "cert-manager-1.18-rotation-default",
    "brave-2026-root-pin",
    "barclays-2016-intermediate",
    "le-gen-y-root-inclusion",
)


@functools.cache
def run(name: str):
    return simlib.simulate(load_preset(name))


def summary(name: str) -> pd.DataFrame:
    return run(name).summary.set_index("strategy")


def rate(name: str, strategy: str, day: str) -> float:
    ts = run(name).timeseries
    row = ts[(ts.strategy == strategy) & (ts.date == pd.Timestamp(day))]
    return float(row["lockout_rate"].iloc[0])


def renewals(name: str) -> list[dt.date]:
    return [pd.Timestamp(d).date() for d in run(name).issuances["date"]]


def test_every_preset_is_listed_with_a_question_and_documented() -> None:
    assert set(preset_names()) == set(NAMES)
    for p in presets():
        assert p.question.endswith("?"), p.name
        head = p.file.read_text(encoding="utf-8").split("\nname:")[0]
        for part in ("Narrative:", "Sources:", "Documented outcome:", "Assumptions"):
            assert part in head, (p.name, part)
        assert "data/world/" in head or ".md" in head


def test_unknown_preset_names_the_valid_ones() -> None:
    with pytest.raises(ScenarioError, match="unknown preset 'nope'; valid: acm-rekey-198d"):
        preset("nope")


@pytest.mark.parametrize("name", NAMES)
def test_preset_runs_quickly(name: str) -> None:
    t = time.perf_counter()
    res = simlib.simulate(load_preset(name))
    assert time.perf_counter() - t < 2.0
    assert not res.summary.empty


def test_le_2024_random_intermediates() -> None:
    s = summary("le-2024-random-intermediates")
    # R3-pinned versions: everyone not on a version built after the first renewal from R10/R11.
    assert s.loc["intermediate", "first_lockout_date"] == dt.date(2024, 7, 18)
    assert rate("le-2024-random-intermediates", "intermediate", "2024-07-18") > 0.95
    # the serving-intermediate pin breaks at about half of the later renewals (6 of them)
    later = s.loc["intermediate", "lockout_events"] - 1
    assert 2 <= later <= 4
    assert s.loc["leaf key", "lockout_events"] == s.loc["leaf key", "certificate_changes"]
    for safe in ("root", "root + backup CA", "no pinning"):
        assert s.loc[safe, "lockout_events"] == 0


def test_le_2025_rotation_and_gen_y() -> None:
    s = summary("le-2025-intermediate-rotation")
    iss = run("le-2025-intermediate-rotation").issuances
    first_r12 = iss[iss.intermediate.isin(["R12", "R13"])].date.min()
    first_y = iss[iss.ca == "letsencrypt-gen-y"].date.min()
    assert pd.Timestamp(first_r12).date() >= dt.date(2025, 8, 20)
    assert pd.Timestamp(first_y).date() >= dt.date(2026, 5, 28)
    for day in (first_r12, first_y):
        # the serving-intermediate pin: every version built before the step
        assert rate("le-2025-intermediate-rotation", "intermediate", str(day)) > 0.9
    # all intermediates: at the R12/R13 step only versions built before 2025-08-20 (the new
    # set is not pinned ahead of its first day); at the Gen Y step every version (another CA)
    assert 0.05 < rate("le-2025-intermediate-rotation", "all intermediates", str(first_r12)) < 0.9
    assert rate("le-2025-intermediate-rotation", "all intermediates", str(first_y)) > 0.9
    assert s.loc["all intermediates", "lockout_events"] == 2
    for safe in ("root", "root + Gen Y root", "no pinning"):  # X1 via the cross-sign
        assert s.loc[safe, "lockout_events"] == 0


def test_dst_root_x3_expiry_is_a_trust_failure_not_a_pin_failure() -> None:
    name = "dst-root-x3-expiry-2021"
    # 2 % of iOS (half the users) check anchor expiry and lack ISRG Root X1: 1 % of users;
    # 5 % of Android build legacy paths (OpenSSL 1.0.x) and end at DST: 2.5 % of users
    for strategy in ("no pinning", "intermediate", "root", "root + DST root"):
        assert rate(name, strategy, "2021-09-30") == 0
        assert rate(name, strategy, "2021-10-01") == pytest.approx(0.01 + 0.025, rel=1e-6)
    # Android without X1 (24 % of Android) keeps working through the cross-sign: only the
    # legacy devices fail, with or without X1
    ts = run(name).timeseries
    android = ts[ts.strategy == "no pinning"].set_index("date")["locked_users_android"]
    assert android[pd.Timestamp("2021-09-30")] == 0
    assert android[pd.Timestamp("2021-10-01")] == pytest.approx(0.025 * 1_000_000, rel=1e-6)


def test_entrust_distrust_forces_the_move_at_the_next_renewal() -> None:
    name = "entrust-distrust-2024"
    iss = run(name).issuances
    moved = iss[iss.ca == "digicert"]
    assert len(moved) == 1 and pd.Timestamp(moved.date.iloc[0]).date() > dt.date(2024, 11, 12)
    day = str(moved.date.iloc[0])
    s = summary(name)
    for broken in ("leaf key", "intermediate", "root"):
        assert s.loc[broken, "first_lockout_date"] == pd.Timestamp(day).date()
        assert rate(name, broken, day) > 0.95
    for safe in ("no pinning", "root + backup CA"):
        assert s.loc[safe, "lockout_events"] == 0


def test_acm_rekeys_every_renewal_every_198_minus_lead_days() -> None:
    name = "acm-rekey-198d"
    days = renewals(name)[1:]
    assert days[0] > dt.date(2026, 2, 18)
    assert {(b - a).days for a, b in itertools.pairwise(days)} == {198 - 45}
    assert (run(name).issuances.lifetime_days.iloc[1:] == 198).all()
    s = summary(name)
    assert s.loc["leaf key", "lockout_events"] == s.loc["leaf key", "certificate_changes"] == 3
    assert s.loc["root", "lockout_events"] == 0


def test_sc081_schedule_multiplies_leaf_breaks() -> None:
    iss = run("sc081-2026-2029").issuances
    dates = pd.to_datetime(iss.date)
    per_year = dates.dt.year.value_counts().sort_index()
    assert per_year[2026] <= 3 and per_year[2027] >= 4 and per_year[2029] >= 9
    assert set(iss.lifetime_days) >= {200, 100, 47}
    s = summary("sc081-2026-2029")
    assert s.loc["leaf key", "lockout_events"] == s.loc["leaf key", "certificate_changes"]
    assert s.loc["leaf key + next key", "peak_lockout_rate"] < 0.5
    assert s.loc["root", "lockout_events"] == 0


def test_cert_manager_default_change_ends_key_reuse() -> None:
    name = "cert-manager-1.18-rotation-default"
    s = summary(name)
    assert s.loc["leaf key", "first_lockout_date"] == dt.date(2025, 6, 20)
    assert s.loc["leaf key", "lockout_events"] == 5  # every renewal after the upgrade
    assert s.loc["leaf cert", "first_lockout_date"] < dt.date(2025, 6, 10)
    assert s.loc["root", "lockout_events"] == s.loc["intermediate", "lockout_events"] == 0


def test_brave_root_pin_breaks_without_server_change_and_no_fix_cures_it() -> None:
    name = "brave-2026-root-pin"
    assert dt.date(2026, 1, 16) not in renewals(name)
    assert rate(name, "root", "2026-01-15") == 0
    assert rate(name, "root", "2026-01-16") == 1.0
    assert rate(name, "root", "2026-04-30") == 1.0  # still everyone: no app release cures it
    s = summary(name)
    assert s.loc["root", "fix_releases"] == 0  # no useless fix is shipped
    assert s.loc["root", "incurable_lockout_days"] == 105  # 2026-01-16 … 2026-04-30
    for safe in ("root + intermediates", "all intermediates", "no pinning"):
        assert s.loc[safe, "lockout_events"] == 0


def test_brave_fix_that_learns_to_pin_the_intermediates_cures_it() -> None:
    from simlib.model.overrides import apply_overrides

    sc = apply_overrides(
        load_preset("brave-2026-root-pin"),
        {"incident_response.fix_strategy": "root + intermediates"},
    )
    res = simlib.simulate(sc)
    s = res.summary.set_index("strategy")
    assert s.loc["root", "fix_releases"] == 1
    assert s.loc["root", "incurable_lockout_days"] == 0
    ts = res.timeseries
    root = ts[ts.strategy == "root"].set_index("date")["lockout_rate"]
    assert root[pd.Timestamp("2026-01-16")] == 1.0
    assert root[pd.Timestamp("2026-04-30")] < 0.1  # users move to the fix by their lag


def test_barclays_intermediate_retirement_and_slow_fix() -> None:
    name = "barclays-2016-intermediate"
    assert rate(name, "intermediate", "2016-11-24") > 0.95
    assert rate(name, "intermediate", "2016-12-14") > 0.95  # fix not out yet (1 + 21 days)
    assert 0.1 < rate(name, "intermediate", "2017-01-16") < 0.5  # a month after the fix
    s = summary(name)
    assert s.loc["intermediate", "fix_releases"] >= 1
    assert s.loc["root", "lockout_events"] == s.loc["no pinning", "lockout_events"] == 0


def test_gen_y_inclusion_assumption() -> None:
    name = "le-gen-y-root-inclusion"
    assert "ASSUMPTION" in load_preset(name).description
    assert rate(name, "root", "2026-12-31") == 0
    assert rate(name, "root", "2027-01-01") == pytest.approx(0.5)
    s = summary(name)
    assert s.loc["root + Gen Y root", "lockout_events"] == 0
    gaps = {(b - a).days for a, b in itertools.pairwise(renewals(name))}
    assert {60, 42} <= gaps  # 90-day then 64-day certificates renewed at 2/3


def test_cli_presets_and_run_preset(tmp_path, capsys) -> None:
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in NAMES)
    assert (
        main(["run", "--preset", "entrust-distrust-2024", "--out", str(tmp_path / "r"), "--quiet"])
        == 0
    )
    assert (tmp_path / "r" / "summary.csv").exists()
    assert main(["run", "--preset", "nope", "--out", str(tmp_path / "x")]) == 2
    assert "valid: acm-rekey-198d" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["report", "data/scenarios/quickstart.yaml", "--preset", "sc081-2026-2029"]) == 2
