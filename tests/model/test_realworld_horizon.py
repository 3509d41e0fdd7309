"""The host shorthand past the CA's published roadmap (issue 16): a Let's Encrypt/certbot host
from 2026-06 to 2029-05 runs on extrapolated intermediates, each labelled an assumption in the
warnings, the risk calendar and the report's inputs; the same seed gives the same results."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simlib
from simlib.analysis.risk_calendar import calendar
from simlib.errors import ScenarioError, ScenarioWarning
from simlib.model import load_scenario, scenario_from_dict
from simlib.model.horizon import horizon_gaps
from simlib.report.inputs import scenario_inputs
from simlib.world.extrapolation import assumption_label
from tests.conftest import DATA

LE = DATA / "scenarios" / "le-certbot-2026-2029.yaml"
RSA_2027 = ("letsencrypt extrapolated RSA 2027a", "letsencrypt extrapolated RSA 2027b")
AMAZON_POOL = tuple(f"Amazon RSA 2048 M0{i}" for i in (1, 2, 3, 4))
AMAZON_2029 = tuple(f"amazon extrapolated RSA 2029{c}" for c in "abcd")


def _load(path=LE):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        sc = load_scenario(path)
    return sc, [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]


@pytest.fixture(scope="module")
def result():
    sc, _ = _load()
    return sc, simlib.simulate(sc)


def test_resolves_past_gen_y_with_labelled_stand_ins() -> None:
    sc, messages = _load()
    (ca,) = sc.cas
    names = [i.name for i in ca.intermediates]
    assert names[:2] == ["YR1", "YR2"] and set(RSA_2027) <= set(names)
    assert ca.root == "Root YR"
    changes = [(e.date.isoformat(), tuple(e.active)) for e in sc.events]
    assert changes == [("2026-06-01", ("YR1", "YR2")), ("2028-05-27", RSA_2027)]
    assert any("past its published roadmap" in m and ": assumptions" in m for m in messages)
    assert horizon_gaps(sc) == []


def test_runs_and_issues_from_the_extrapolated_set(result) -> None:
    sc, res = result
    issued = res.issuances
    late = issued[pd.to_datetime(issued["date"]) >= pd.Timestamp("2028-09-03")]
    assert len(late) > 0 and set(late["intermediate"]) <= set(RSA_2027)
    assert (pd.to_datetime(issued["date"]).max().date() - sc.end).days <= 0


def test_the_calendar_labels_the_extrapolated_rows(result) -> None:
    sc, res = result
    frame = calendar(sc, today="2026-06-01", result=res)
    extrapolated = frame[frame["event"].str.contains("extrapolated")]
    kinds = set(extrapolated["kind"])
    # the set changes the shorthand derived are shown once, as the (extrapolated) roadmap rows
    # they came from; the renewals through stand-in intermediates are rows of their own
    assert {"ca_roadmap", "renewal"} <= kinds
    assert extrapolated["assumption"].all()
    assert (extrapolated["confidence"] == "unconfirmed").all()
    published = frame[frame["event"].str.contains("YR1") & ~frame["event"].str.contains("extrap")]
    assert not published.empty


def test_the_inputs_table_labels_them_as_assumptions() -> None:
    sc, _ = _load()
    rows = scenario_inputs(sc)
    named = rows[rows["value"].isin(RSA_2027)]
    assert len(named) >= 2  # the cas entry's intermediates and the intermediate_change
    labelled = rows[rows["source"].str.contains("extrapolated", regex=False)]
    assert labelled["source"].str.contains("assumption").all()
    assert set(named.index) <= set(labelled.index)
    assert not rows[rows["value"] == "YR1"]["source"].str.contains("extrapolated").any()


def test_same_seed_same_results(result) -> None:
    _sc, res = result
    again = simlib.simulate(_load()[0])
    pd.testing.assert_frame_equal(res.summary, again.summary)
    pd.testing.assert_frame_equal(res.issuances, again.issuances)


def test_a_scenario_ending_2028_12_31_runs() -> None:
    data = {
        "name": "to-2028",
        "start": "2026-12-08",
        "end": "2028-12-31",
        "fleet": {
            "users": 1000,
            "release_every_days": 30,
            "adoption": {"components": [{"weight": 1, "mean_lag_days": 10}]},
        },
        "hosts": [{"name": "api.example.com", "ca": "letsencrypt", "key_type": "ecdsa"}],
        "strategies": [{"name": "intermediate", "pin": "intermediate_spki"}],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        sc = scenario_from_dict(data)
    res = simlib.simulate(sc)
    assert {"letsencrypt extrapolated ECDSA 2027a", "letsencrypt extrapolated ECDSA 2027b"} & set(
        res.issuances["intermediate"]
    )
    assert all(assumption_label(i.name) for i in sc.cas[0].intermediates if "extrap" in i.name)


def _plan(ca: str, start: str, end: str, **host) -> dict:
    return {
        "name": "plan",
        "start": start,
        "end": end,
        "fleet": {
            "users": 1000,
            "release_every_days": 30,
            "adoption": {"components": [{"weight": 1, "mean_lag_days": 10}]},
        },
        "hosts": [{"name": "api.example.com", "ca": ca, **host}],
        "strategies": [{"name": "root", "pin": "root_spki"}],
    }


def _resolve(data: dict):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        sc = scenario_from_dict(data)
    return sc, [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]


def test_a_ten_year_acm_plan_runs_past_m01_m04() -> None:
    """M01-M04 expire 2030-08-23: from 2029-07-21 (398 days earlier) ACM issues from the
    stand-in 2029 batch, under a stand-in root generation (2028) cross-signed by Amazon Root
    CA 1; the host moves there at its first renewal from that day."""
    sc, messages = _resolve(_plan("amazon", "2026-12-08", "2036-12-01"))
    assert horizon_gaps(sc) == []
    assert [c.name for c in sc.cas] == ["amazon", "amazon extrapolated root RSA 2028"]
    old, new = sc.cas
    assert old.root == "Amazon Root CA 1" and new.root == "amazon extrapolated root RSA 2028"
    assert new.cross_signed_by is not None
    assert (new.cross_signed_by.ca, new.cross_signed_by.until) == ("amazon", date(2035, 1, 17))
    (move,) = [e for e in sc.events if e.type == "ca_migration"]
    assert (move.date, move.to, move.when) == (date(2029, 7, 21), new.name, "next_renewal")
    assert any("past its published roadmap" in m for m in messages)
    res = simlib.simulate(sc)
    issued = res.issuances.assign(day=pd.to_datetime(res.issuances["date"]).dt.date)
    before = issued[issued["day"] < date(2029, 7, 21)]
    assert set(before["intermediate"]) <= set(AMAZON_POOL) and set(before["ca"]) == {"amazon"}
    # the first issuance under the stand-in root: the first renewal on or after 2029-07-21
    first = issued[issued["ca"] == new.name].iloc[0]
    renewal = issued[(issued["day"] >= date(2029, 7, 21))].iloc[0]
    assert first["day"] == renewal["day"] and first["intermediate"] in AMAZON_2029
    after = issued[issued["day"] > date(2030, 8, 23)]
    assert not after.empty and set(after["ca"]) == {new.name}
    assert not set(after["intermediate"]) & set(AMAZON_POOL)
    frame = calendar(sc, today="2026-12-08", result=res)
    stand_in = frame[frame["event"].str.contains("extrapolated root RSA 2028/Amazon Root CA 1")]
    assert set(stand_in["kind"]) == {"ca_roadmap"} and stand_in["assumption"].all()


def test_the_first_issuance_under_a_stand_in_root_serves_its_cross_sign() -> None:
    """Let's Encrypt from 2035: the 2035 batch is the first under the stand-in root (2035-09-03)
    and takes over on 2036-05-27; Root YR's cross-sign is served until 2042-09-02."""
    sc, _ = _resolve(_plan("letsencrypt", "2035-06-01", "2043-06-01", key_type="ecdsa"))
    names = [c.name for c in sc.cas]
    assert names == ["letsencrypt", "letsencrypt extrapolated root ECDSA 2035"]
    new = sc.cas[1]
    assert new.cross_signed_by.ca == "letsencrypt"
    assert new.cross_signed_by.until == date(2042, 9, 2)
    assert new.intermediates[0].name == "letsencrypt extrapolated ECDSA 2035a"
    res = simlib.simulate(sc)
    issued = res.issuances
    first = issued[issued["ca"] == new.name].iloc[0]
    assert pd.Timestamp(first["date"]).date() >= date(2036, 5, 27)
    assert first["intermediate"] in {
        "letsencrypt extrapolated ECDSA 2035a",
        "letsencrypt extrapolated ECDSA 2035b",
    }
    from simlib.clients.trust import TrustModel
    from simlib.server.calendar import CertificateCalendar

    trust = TrustModel(CertificateCalendar(sc))
    assert new.name in trust._cross  # the cross-certificate is part of the served chain


def test_entrust_says_it_creates_nothing_and_identrust_cannot_be_named() -> None:
    sc, messages = _resolve(_plan("entrust", "2026-01-01", "2031-01-01"))
    assert [i.name for i in sc.cas[0].intermediates] == ["Entrust Issuing CA (stand-in)"]
    assert any("entrust creates no new intermediates" in m for m in messages)
    with pytest.raises(ScenarioError, match="identrust creates no new intermediates") as info:
        _resolve(_plan("identrust", "2026-01-01", "2031-01-01"))
    assert "\n" not in str(info.value) and "hosts[0]" in str(info.value)


USABLE = ("letsencrypt", "amazon", "digicert", "google", "entrust")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(USABLE),
    start=st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)),
    years=st.integers(min_value=1, max_value=40),
)
def test_every_usable_ca_runs_any_horizon(name: str, start: date, years: int) -> None:
    """Any start in 2015-2035 (from the CA's first published set on), any horizon up to the
    scenario maximum: resolves, validates and every issuance finds an active intermediate."""
    from simlib.server.calendar import CertificateCalendar
    from simlib.world import catalogue

    start = max(start, min(s.start for s in catalogue().ca(name).active_sets))
    end = min(start + timedelta(days=365 * years), start + timedelta(days=366 * 40 - 1))
    sc, _ = _resolve(_plan(name, start.isoformat(), end.isoformat()))
    assert horizon_gaps(sc) == []
    cal = CertificateCalendar(sc)  # raises "no active intermediate on <day>" otherwise
    assert cal.issuances and cal.issuances[-1].day <= sc.days
    assert all(i.intermediate for i in cal.issuances)


def test_without_a_practice_running_out_fails_at_validation(monkeypatch) -> None:
    """A CA whose published sets expire inside the horizon and that documents no cadence: the
    resolve step refuses the scenario (validate), instead of run stopping on 2028-09-03."""
    import dataclasses

    import simlib.world.extrapolation as extrapolation

    real = extrapolation.ca
    monkeypatch.setattr(
        extrapolation, "ca", lambda name: dataclasses.replace(real(name), practice=())
    )
    extrapolation.extend.cache_clear()
    try:
        with (
            pytest.raises(ScenarioError, match="no active rsa intermediate after 2028-09-02"),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore", ScenarioWarning)
            load_scenario(LE)
    finally:
        extrapolation.extend.cache_clear()


def test_the_command_line_says_so(capsys) -> None:
    from simlib.cli.main import main

    assert main(["validate", str(LE)]) == 0
    out, err = capsys.readouterr()
    assert ": ok" in out and "extrapolated from its practice" in err and err.count("\n") == 1
    assert main(["calendar", str(LE), "--today", "2028-05-01"]) == 0
    out, _ = capsys.readouterr()
    rows = [line for line in out.splitlines() if "extrapolated" in line]
    assert rows and all("[assumption]" in line for line in rows)
