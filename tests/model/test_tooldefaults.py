"""A tool's published renewal rule that no longer fits the lifetime gives way to 2/3 of it.

ACM's "renew 45 days before expiry" (tooling-defaults.csv aws-acm, 198-day certificates) left
47-day certificates (CA/B cap from 2029-03-15) renewed every 2 days: 508 certificate changes in
six years. From the first date a tool's ``renew_before_days`` would leave less than a third of a
lifetime in force, the host shorthand switches to ``renew_at_fraction: 2/3`` with a warning; a
rule the user wrote is kept (``model/checks.py`` warns about it).
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simlib.errors import ScenarioWarning
from simlib.model import scenario_from_dict
from simlib.model.tooldefaults import FALLBACK_FRACTION, fit_to_lifetimes, too_short
from simlib.server.calendar import CertificateCalendar
from tests.model.test_realworld import _scenario

CAP_47 = dt.date(2029, 3, 15)  # CA/B SC-081v3 phase 3 (validity-caps.csv cabf)


def _load(host: dict, start: str, end: str) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        sc = scenario_from_dict(_scenario(host, start, end), source="s.yaml")
    return sc, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def acm() -> tuple[object, list[str]]:
    return _load({"ca": "amazon", "tool": "acm"}, "2026-01-01", "2031-12-31")


def test_acm_switches_to_two_thirds_when_the_cap_reaches_47_days(acm):
    sc, messages = acm
    (host,) = sc.hosts
    assert host.renew_before_days == 60  # ACM's rule for the 395-day certificates of start
    assert [(s.from_, s.renew_before_days, s.renew_at_fraction) for s in host.policy_schedule] == [
        (dt.date(2026, 2, 18), 45, None),  # ACM's published rule for 198-day certificates
        (CAP_47, None, FALLBACK_FRACTION),
    ]
    assert host.policy_on(CAP_47 - dt.timedelta(days=1))[1:] == (45, None)
    (msg,) = [m for m in messages if "less than a third" in m]
    assert msg.startswith("s.yaml: hosts[0] (api.example.com): from 2029-03-15, ")
    assert "'renew 45 days before expiry'" in msg and "47-day certificates every 2 day(s)" in msg
    assert msg.endswith("an assumption")


def test_resolving_the_fitted_scenario_again_changes_nothing_and_warns_nothing(acm):
    sc, _ = acm
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        assert scenario_from_dict(sc.to_dict()) == sc
    assert not [w for w in caught if "less than a third" in str(w.message)]


def test_acm_calendar_renews_at_least_a_third_of_each_lifetime_apart(acm):
    """Closed form from 2029-03-15: 47-day certificates renewed after ⌊2/3 · 47⌋ = 31 days (not
    47 − 45 = 2); before it the published rules fit (198 − 45, 100 − 45 days)."""
    sc, _ = acm
    items = CertificateCalendar(sc).by_host["api.example.com"]
    for it, nxt in itertools.pairwise(items):
        gap = nxt.day - it.day
        assert 3 * gap >= it.lifetime_days - 2, (sc.date(it.day), it.lifetime_days, gap)
        if sc.date(it.day) >= CAP_47:
            assert (it.lifetime_days, gap) == (47, 31)
    assert len(items) < 80  # 508 certificate changes before the fix


def test_an_explicit_rule_is_kept_with_one_warning():
    """certbot has no later default; the user's 35 days leave 45 − 35 = 10 < 15 days of a
    45-day Let's Encrypt certificate (classic from 2028-02-16): kept, warned once."""
    sc, messages = _load(
        {"ca": "letsencrypt", "tool": "certbot", "renew_before_days": 35},
        "2028-03-01",
        "2028-12-31",
    )
    (host,) = sc.hosts
    assert (host.renew_before_days, host.renew_at_fraction, host.policy_schedule) == (35, None, [])
    (msg,) = [m for m in messages if "less than a third" in m]
    assert msg.startswith(
        "s.yaml: hosts[0] (api.example.com): renew_before_days 35 renews the 45-day"
    )
    assert "every 10 day(s)" in msg and "kept as written" in msg


def test_a_rule_that_fits_is_left_alone():
    sc, messages = _load({"ca": "amazon", "tool": "acm"}, "2026-01-01", "2029-03-14")
    assert [s.renew_before_days for s in sc.hosts[0].policy_schedule] == [45]
    assert not [m for m in messages if "less than a third" in m]


lifetimes = st.lists(
    st.tuples(st.integers(0, 3000), st.integers(2, 400)), min_size=1, max_size=6
).map(lambda xs: sorted({dt.date(2026, 1, 1) + dt.timedelta(days=d): n for d, n in xs}.items()))
rules = st.lists(st.tuples(st.integers(1, 3000), st.integers(1, 400)), max_size=4)


@given(lifetimes, st.integers(1, 400), rules, st.booleans())
def test_every_tool_rule_in_force_leaves_a_third(lives, base, steps, own_base):
    """Invariant: after the fit, on every lifetime or step date the rule in force is the user's
    base, a fraction, or a tool ``renew_before_days`` that leaves ≥ 1/3 of the lifetime; steps
    that fit and the base are unchanged, and a warning is given exactly when something changed."""
    start = lives[0][0]
    schedule = sorted(
        {start + dt.timedelta(days=d): n for d, n in steps}.items()  # one step per date
    )
    host = {
        "name": "h",
        "renew_before_days": base,
        "policy_schedule": [{"from": d, "renew_before_days": n} for d, n in schedule],
    }
    original = {k: (list(v) if isinstance(v, list) else v) for k, v in host.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        fit_to_lifetimes(host, lives, "acm", "hosts[0]", own_base)
    assert host["renew_before_days"] == base
    assert (host != original) == bool(caught)
    by_day = {s["from"]: s for s in host.get("policy_schedule", [])}
    before, tools = base, not own_base
    for day in sorted({d for d, _ in lives} | set(by_day)):
        step = by_day.get(day)
        if step is not None:
            before, tools = step.get("renew_before_days"), True
        life = [n for d, n in lives if d <= day][-1]
        if tools and before is not None:
            assert not too_short(before, life)
    kept = {d: n for d, n in schedule}
    for day, step in by_day.items():
        if "renew_before_days" in step:
            assert step["renew_before_days"] == kept[day]
