"""Schema limits, shorthand shapes and certificate dates: refused at once, as one line naming the
field, whether the scenario comes from a file or from Python."""

from __future__ import annotations

import copy
import datetime as dt
import time

import pytest
import yaml

from simlib.errors import ScenarioError
from simlib.model import load_scenario, scenario_from_dict
from simlib.model.base import (
    MAX_ATTACKS,
    MAX_CAS,
    MAX_COMPONENTS,
    MAX_CURVE_POINTS,
    MAX_EVENTS,
    MAX_HOSTS,
    MAX_ITEMS,
    MAX_STRATEGIES,
)
from simlib.model.budget import _rotations
from tests.conftest import DATA

pytestmark = pytest.mark.hostile

QUICKSTART = DATA / "scenarios" / "quickstart.yaml"
QS = yaml.safe_load(QUICKSTART.read_text(encoding="utf-8"))


def _error(data: dict) -> str:
    started = time.process_time()
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="s.yaml")
    assert time.process_time() - started < 2, "not refused up front"
    text = str(info.value)
    assert "\n" not in text and text.startswith("s.yaml: ")
    return text


def _with(**changes) -> dict:
    data = copy.deepcopy(QS)
    data.update(changes)
    return data


def _fleet(**changes) -> dict:
    return _with(fleet={**QS["fleet"], **changes})


def _strategies(n: int) -> list[dict]:
    return [{"name": f"s{i}", "pin": "none"} for i in range(n)]


def _hosts(n: int) -> list[dict]:
    return [{**QS["hosts"][0], "name": f"h{i}.example.com"} for i in range(n)]


LONG_LISTS = [
    (
        "strategies",
        lambda n: _with(strategies=_strategies(n)),
        MAX_STRATEGIES,
        "strategies: allows at most 1,000",
    ),
    ("hosts", lambda n: _with(hosts=_hosts(n)), MAX_HOSTS, "hosts: allows at most 1,000"),
    (
        "cas",
        lambda n: _with(cas=[*QS["cas"], *({"name": f"ca{i}"} for i in range(n))]),
        MAX_CAS,
        "cas: allows at most",
    ),
    (
        "events",
        lambda n: _with(events=[{"type": "key_compromise", "date": "2025-06-01"}] * n),
        MAX_EVENTS,
        "events: allows at most 10,000",
    ),
    (
        "attacks",
        lambda n: _with(attacks=[{"name": "rogue_ca", "label": f"a{i}"} for i in range(n)]),
        MAX_ATTACKS,
        "attacks: allows at most 100",
    ),
    (
        "components",
        lambda n: _fleet(adoption={"components": [{"weight": 1 / n, "mean_lag_days": 3}] * n}),
        MAX_COMPONENTS,
        "fleet.adoption.components: allows at most 32",
    ),
    (
        "points",
        lambda n: _fleet(adoption={"points": [[i, min(1.0, i / n)] for i in range(n)]}),
        MAX_CURVE_POINTS,
        "fleet.adoption.points: allows at most 100,000",
    ),
    (
        "backup",
        lambda n: _with(
            strategies=[{"name": "b", "pin": "root_spki", "backup": ["ca:other-ca"] * n}]
        ),
        MAX_ITEMS,
        "strategies[0].backup: allows at most 1,000",
    ),
    (
        "intermediates",
        lambda n: _with(
            cas=[
                {"name": "public-ca", "intermediates": [{"name": f"I{i}"} for i in range(n)]},
                QS["cas"][1],
            ]
        ),
        MAX_ITEMS,
        "cas[0].intermediates: allows at most",
    ),
    (
        "policy-schedule",
        lambda n: _with(
            hosts=[
                {
                    **QS["hosts"][0],
                    "policy_schedule": [
                        {
                            "from": str(dt.date(2025, 1, 1) + dt.timedelta(days=i)),
                            "key_policy": "reuse",
                        }
                        for i in range(n)
                    ],
                }
            ]
        ),
        MAX_ITEMS,
        "hosts[0].policy_schedule: allows at most",
    ),
]


@pytest.mark.parametrize(
    ("make", "limit", "fragment"), [c[1:] for c in LONG_LISTS], ids=[c[0] for c in LONG_LISTS]
)
def test_lists_over_their_limit_are_refused(make, limit: int, fragment: str) -> None:
    assert fragment in _error(make(limit + 1))


@pytest.mark.parametrize("n", [100_000])
def test_huge_lists_are_refused_before_anything_per_item(n: int) -> None:
    """100 000 strategies ran the quadratic duplicate check for minutes; now refused at once."""
    assert f"not {n:,}" in _error(_with(strategies=_strategies(n)))
    assert "hosts: allows" in _error(
        _with(hosts=[{"name": "x", "ca": "letsencrypt", "tool": "certbot"}] * n)
    )


def test_a_thousand_strategies_and_hosts_are_checked_quickly() -> None:
    data = _with(strategies=_strategies(MAX_STRATEGIES))
    started = time.process_time()
    assert len(scenario_from_dict(data).strategies) == MAX_STRATEGIES
    data = _with(hosts=_hosts(MAX_HOSTS), end="2025-03-31")
    assert len(scenario_from_dict(data).hosts) == MAX_HOSTS
    assert time.process_time() - started < 5


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (
            {"android": [1, 2]},
            "fleet.platforms.android: must be a share (such as 0.6) or a mapping",
        ),
        ({"android": True, "ios": 0}, "fleet.platforms.android: must be a share"),
        ({"android": "half", "ios": 0.5}, "fleet.platforms.android: must be a share"),
        ({"symbian": 1.0}, "fleet.platforms.symbian: not a platform (android, ios)"),
        ({1: 1.0}, "'1' is not a platform"),
        ({"ios\u202e": 1.0}, "'ios\\u202e' is not a platform"),
        ({"android": None, "ios": 1.0}, "fleet.platforms.android.share: required field is missing"),
    ],
)
def test_platform_shapes(value, fragment: str) -> None:
    assert fragment in _error(_fleet(platforms=value))


def test_platform_shorthand_still_reads() -> None:
    sc = scenario_from_dict(
        _fleet(platforms={"android": 0.25, "ios": {"share": 0.75, "client": "trustkit"}})
    )
    assert (
        sc.fleet.platforms["android"].client == "nsc"
        and sc.fleet.platforms["ios"].client == "trustkit"
    )


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (
            "root_not_after",
            "2019-12-31",
            "cas[0].root_not_after: 2019-12-31 is before the CA certificates begin (2020-01-01",
        ),
        (
            "intermediates",
            [{"name": "Int A1", "not_after": "1999-01-01"}],
            "cas[0].intermediates[0].not_after: 1999-01-01",
        ),
        (
            "cross_signed_by",
            {"ca": "other-ca", "until": "2010-01-01"},
            "cas[0].cross_signed_by.until: 2010-01-01",
        ),
    ],
)
def test_ca_certificates_cannot_end_before_they_begin(path: str, value, fragment: str) -> None:
    data = copy.deepcopy(QS)
    data["cas"][0][path] = value
    assert fragment in _error(data)


def test_ca_expiry_on_the_first_day_is_allowed() -> None:
    data = copy.deepcopy(QS)
    data["cas"][0]["root_not_after"] = "2020-01-01"  # start 2025-01-01 − 5 years
    assert scenario_from_dict(data).cas[0].root_not_after == dt.date(2020, 1, 1)


def test_ca_window_starts_no_earlier_than_1950() -> None:
    data = copy.deepcopy(QS)
    data.update(start="1952-01-01", end="1953-01-01")
    data["cas"][0]["root_not_after"] = "1950-01-01"
    assert scenario_from_dict(data).cas[0].root_not_after == dt.date(1950, 1, 1)


def test_rotations_in_one_pass_equal_policy_on() -> None:
    """The budget's one-pass schedule walk gives what policy_on gives date by date."""
    import random

    rng = random.Random(3)
    for _ in range(50):
        steps = []
        day = dt.date(2024, 1, 1)
        for _ in range(rng.randint(0, 8)):
            day += dt.timedelta(days=rng.randint(1, 200))
            policy = rng.choice([None, "reuse", "rotate", {"rotate_every": rng.randint(1, 5)}])
            steps.append({"from": str(day), **({"key_policy": policy} if policy else {})})
        data = _with(
            hosts=[
                {
                    **QS["hosts"][0],
                    "key_policy": rng.choice(["reuse", "rotate"]),
                    "policy_schedule": steps,
                }
            ]
        )
        sc = scenario_from_dict(data)
        host = sc.hosts[0]
        expected = [host.policy_on(sc.start)[0]] + [
            host.policy_on(s.from_)[0] for s in host.policy_schedule
        ]
        assert _rotations(host, sc.start) == expected


def test_curve_file_longer_than_the_limit(tmp_path, monkeypatch) -> None:
    import simlib.model.fleet as fleet

    monkeypatch.setattr(fleet, "MAX_CURVE_POINTS", 50)
    (tmp_path / "curve.csv").write_text(
        "days,share\n" + "".join(f"{i},{i / 1000}\n" for i in range(60))
    )
    text = QUICKSTART.read_text(encoding="utf-8").replace(
        "    never_update_share: 0.02\n    components:\n      - {weight: 0.47, mean_lag_days: 3.3}\n"
        "      - {weight: 0.53, mean_lag_days: 29}\n",
        "    curve: curve.csv\n",
    )
    (tmp_path / "s.yaml").write_text(text)
    with pytest.raises(ScenarioError, match=r"curve.csv: line 52: more than 50 points"):
        load_scenario(tmp_path / "s.yaml")


def test_key_budget_refuses_a_slow_key_type(monkeypatch):
    """The key budget is a guard: with today's sub-millisecond keys the issuance cap comes first,
    so a slow key type is simulated by raising its estimate."""
    from simlib.model import budget
    from tests.conftest import make

    sc = make({"hosts[0].key_policy": "rotate"})
    assert budget.budget_problem(sc) is None
    monkeypatch.setitem(budget.KEY_SECONDS, sc.hosts[0].key, 10**6)
    field, message = budget.budget_problem(sc)
    assert field == "hosts" and message.startswith("too many RSA keys to derive")
