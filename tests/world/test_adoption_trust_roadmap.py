"""Adoption curves in the scenario's shape, published points, trust-store coverage, roadmap."""

from __future__ import annotations

import importlib
import math
from datetime import date

import pytest

from simlib.errors import ScenarioError
from simlib.world.adoption import curve, curve_info, curve_names, points
from simlib.world.roadmap import events
from simlib.world.trust import coverage


def _mixture(d: float, adoption: dict) -> float:
    n = adoption["never_update_share"]
    return (1 - n) * sum(
        c["weight"] * (1 - math.exp(-d / c["mean_lag_days"])) for c in adoption["components"]
    )


def test_central_curve_matches_the_reference_table() -> None:
    central = curve("central")
    assert central == {
        "components": [
            {"weight": 0.47, "mean_lag_days": 3.3},
            {"weight": 0.53, "mean_lag_days": 29.0},
        ],
        "never_update_share": 0.02,
    }
    # adoption-costs-studies.md §1.7: D7 52 %, D30 80 %, D180 98 %
    assert _mixture(7, central) == pytest.approx(0.52, abs=0.01)
    assert _mixture(30, central) == pytest.approx(0.80, abs=0.01)
    assert _mixture(180, central) == pytest.approx(0.98, abs=0.01)
    assert curve_info("central").confidence == "unconfirmed"


def test_every_curve_is_a_valid_scenario_adoption() -> None:
    model = None
    for module in ("simlib.model", "simlib.model.fleet", "simlib.scenario"):
        try:
            model = getattr(importlib.import_module(module), "Adoption", None)
        except ImportError:
            continue
        if model is not None:
            break
    if model is None:
        pytest.skip("the scenario Adoption model moved")
    assert set(curve_names()) == {"central", "pessimistic", "pessimistic-capped", "optimistic"}
    for name in curve_names():
        model.model_validate(curve(name))


def test_unknown_curve_lists_valid_names() -> None:
    with pytest.raises(ScenarioError, match="unknown adoption curve 'fast'; valid: central"):
        curve("fast")


def test_published_points() -> None:
    neurons = points("neurons-dk-2015")
    assert [(p.days, p.share) for p in neurons][:2] == [(1, 0.155), (2, 0.289)]
    assert all(p.share_of == "installs" and p.confidence == "primary" for p in neurons)
    assert {p.share_of for p in points("giacomoballi-2012")} == {"updaters"}


def test_trust_store_coverage() -> None:
    x1 = coverage("ISRG Root X1", "android")
    measured = [(c.date, c.share) for c in x1 if c.basis == "devices"]
    assert measured == sorted(measured) and measured[0] == (date(2020, 11, 6), 0.662)
    assert {c.min_version for c in x1} == {"7.1.1"}
    assert all(c.share == 0.0 for c in coverage("Root YR") + coverage("Root YE"))


def test_roadmap() -> None:
    le = events("letsencrypt", start=date(2024, 6, 6), end=date(2024, 6, 6))
    assert [(e.kind, e.certificates) for e in le] == [
        ("intermediate_rotation", ("R10", "R11", "E5", "E6"))
    ]
    entrust = events("entrust")
    assert [e.date for e in entrust if e.kind == "distrust"] == [
        date(2024, 11, 11),
        date(2024, 11, 15),
        date(2024, 11, 30),
    ]
    rotation = events("letsencrypt", start=date(2025, 8, 20), end=date(2025, 8, 20))[0]
    assert rotation.confidence == "unconfirmed"


def test_roadmap_names_only_catalogue_certificates() -> None:
    from simlib.world.catalogue import catalogue

    known = set(catalogue().certificates)
    for event in events():
        assert set(event.certificates) <= known, event
        assert event.ca is None or event.ca in catalogue().cas
