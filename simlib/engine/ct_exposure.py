"""Exposure user-days per attack instance under Certificate Transparency and CT monitoring.

docs/model.md, "CT enforcement and monitoring", states the rule; this module is its one home.
An attack instance starts on day t0 with a certificate issued that day and runs until its
certificate expires (the validity cap of its issue day) or the horizon ends; a logged
certificate is detected ``detection_days`` later and the response ends it ``response_days``
after that for the users it reaches. Exposure user-days add the users exposed on each day the
attack runs; the summary reports their mean over the start days t0 = 0 … T−1.

Numpy only, on the engine's daily series (expected mode and every Monte Carlo replication).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simlib.engine.aggregate import ZERO_ULPS
from simlib.model.monitoring import CT_ATTACK_CLASSES

if TYPE_CHECKING:
    from simlib.model import Scenario

__all__ = ["AttackExposure", "exposure_by_start_day", "exposure_columns", "platform_exposed"]


@dataclass(frozen=True)
class AttackExposure:
    """Exposure user-days of the attack instance started on each day (arrays of length T).

    The ``*_counting_locked`` pair counts locked users as exposed (E = A − P): only protection
    lowers it, so a strategy's pins remove by protection X'(unpinned) − X'(strategy); the rest
    of what its exposure falls is users locked out, which is no protection."""

    monitored: np.ndarray  # CT + monitoring
    ct_only: np.ndarray  # CT enforcement, nobody watching the logs
    monitored_counting_locked: np.ndarray
    ct_only_counting_locked: np.ndarray


def platform_exposed(
    scenario: Scenario,
    series: dict[str, np.ndarray],
    active: np.ndarray,
    label: str,
    count_locked: bool = False,
) -> dict[str, np.ndarray]:
    """Users working and exposed to attack ``label`` per platform and day: active − locked −
    protected, never below 0 (``count_locked``: active − protected, locked users counted as
    exposed). Series without a per-platform split (Monte Carlo panels of dynamic strategies) are
    split by the fleet's platform shares — an approximation."""
    keep = 0.0 if count_locked else 1.0
    platforms = [k.removeprefix("active@") for k in series if k.startswith("active@")]
    if platforms:
        out = {}
        for p in platforms:
            act = series[f"active@{p}"]
            e = act - keep * series[f"locked:{p}"] - series[f"protected:{label}@{p}"]
            # within rounding of 0 is 0, as aggregate.clean does for the counts themselves
            tol = ZERO_ULPS * np.finfo(np.float64).eps * np.maximum(act, 1.0)
            out[p] = np.where(e <= tol, 0.0, e)
        return out
    total = np.asarray(active) - keep * series["locked"] - series[f"protected:{label}"]
    total = np.clip(total, 0, None)
    shares = {p: s.share for p, s in scenario.fleet.platforms.items() if s.share > 0}
    whole = sum(shares.values())
    return {p: total * s / whole for p, s in shares.items()}


def _natural_end(scenario: Scenario, ct_class: bool) -> np.ndarray:
    """(T,) first day the instance started on t0 no longer runs without a response: its
    certificate's expiry (issue day + the cap on that day) for a CA-issued certificate, else T."""
    T = scenario.days
    if not ct_class:
        return np.full(T, T, dtype=np.int64)
    caps = [scenario.validity_cap_days(scenario.date(t)) for t in range(T)]
    return np.array([T if c is None else min(T, t + c) for t, c in enumerate(caps)], np.int64)


@dataclass(frozen=True)
class _DayRules:
    """What depends only on the issue day t0, shared by every strategy's figures."""

    end: np.ndarray  # natural end n(t0)
    logged: np.ndarray  # λ(t0)
    enforced: dict[str, np.ndarray]  # f_p(t0)

    @classmethod
    def of(cls, scenario: Scenario, platforms: list[str], ct_class: bool) -> _DayRules:
        assert scenario.monitoring is not None
        ct = scenario.monitoring.ct
        T = scenario.days
        if not ct_class:  # never logged, never blocked by CT
            zero = np.zeros(T)
            return cls(_natural_end(scenario, False), zero, dict.fromkeys(platforms, zero))
        dates = [scenario.date(t) for t in range(T)]
        enforced = {p: np.array([ct.enforced_share(p, d) for d in dates]) for p in platforms}
        logged = np.array([ct.logged(platforms, d) for d in dates])
        return cls(_natural_end(scenario, True), logged, enforced)


def _platforms(exposed: dict[str, np.ndarray], series: dict, active: np.ndarray) -> list[str]:
    """Platforms with users: a platform nobody uses gives the attacker no reason to log."""
    return [p for p in exposed if float(np.sum(series.get(f"active@{p}", active))) > 0]


def exposure_by_start_day(
    scenario: Scenario,
    series: dict[str, np.ndarray],
    active: np.ndarray,
    label: str,
    rules: _DayRules | None = None,
) -> AttackExposure:
    """Exposure user-days of an instance of attack ``label`` started on each day t0.

    With E_p(t) the exposed users of platform p on day t, n(t0) the natural end, s(t0) =
    min(n, t0 + D + R), f_p the share of p's users enforcing CT for the issue day, λ the logged
    share and ρ_p the response's reach: logged = Σ_p [Σ_{t0≤t<n} E_p − ρ_p Σ_{s≤t<n} E_p],
    unlogged = Σ_p (1 − f_p) Σ_{t0≤t<n} E_p; monitored = λ·logged + (1 − λ)·unlogged and
    CT only = λ·Σ_p Σ_{t0≤t<n} E_p + (1 − λ)·unlogged. Attacks CT does not apply to (a user
    CA, a stolen key) are never logged nor blocked by CT: both equal the natural window's sum.
    ``rules``: the day rules of this scenario and attack class, when already computed.
    """
    mon = scenario.monitoring
    if mon is None:
        raise ValueError("exposure under CT monitoring needs a scenario with a monitoring block")
    spec = next(a for a in scenario.attacks if a.label == label)
    exposed = platform_exposed(scenario, series, active, label)
    if rules is None:
        ct_class = spec.name in CT_ATTACK_CLASSES
        rules = _DayRules.of(scenario, _platforms(exposed, series, active), ct_class)
    monitored, ct_only = _user_days(scenario, exposed, rules)
    counting_locked = platform_exposed(scenario, series, active, label, count_locked=True)
    monitored_cl, ct_only_cl = _user_days(scenario, counting_locked, rules)
    return AttackExposure(monitored, ct_only, monitored_cl, ct_only_cl)


def _user_days(
    scenario: Scenario, exposed: dict[str, np.ndarray], rules: _DayRules
) -> tuple[np.ndarray, np.ndarray]:
    """(CT + monitoring, CT only) exposure user-days per start day of the users ``exposed``."""
    assert scenario.monitoring is not None
    ct = scenario.monitoring.ct
    T = scenario.days
    t0 = np.arange(T)
    end = rules.end
    stop = np.minimum(end, t0 + ct.window_days)
    whole = np.zeros(T)
    after_response = np.zeros(T)
    unlogged = np.zeros(T)
    for p, e in exposed.items():
        c = np.concatenate([[0.0], np.cumsum(e)])
        window = c[end] - c[t0]
        whole += window
        after_response += ct.reach(p) * (c[end] - c[stop])
        unlogged += (1.0 - rules.enforced.get(p, np.zeros(T))) * window
    lam = rules.logged
    monitored = lam * (whole - after_response) + (1.0 - lam) * unlogged
    ct_only = lam * whole + (1.0 - lam) * unlogged
    return monitored, ct_only


def exposure_columns(
    scenario: Scenario, series: dict[str, np.ndarray], active: np.ndarray, labels: list[str]
) -> dict[str, float]:
    """Summary columns (with a ``monitoring`` block only): per attack label, the mean over start
    days of the exposure user-days per instance under CT + monitoring
    (``exposure_user_days_<a>``) and under CT alone (``exposure_user_days_ct_only_<a>``)."""
    row: dict[str, float] = {}
    kinds = {a.label: a.name in CT_ATTACK_CLASSES for a in scenario.attacks}
    cached: dict[bool, _DayRules] = {}
    for a in labels:
        if kinds[a] not in cached:
            exposed = platform_exposed(scenario, series, active, a)
            platforms = _platforms(exposed, series, active)
            cached[kinds[a]] = _DayRules.of(scenario, platforms, kinds[a])
        x = exposure_by_start_day(scenario, series, active, a, cached[kinds[a]])
        row[f"exposure_user_days_{a}"] = float(x.monitored.mean())
        row[f"exposure_user_days_ct_only_{a}"] = float(x.ct_only.mean())
    return row
