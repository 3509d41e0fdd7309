"""The scenario with one change, built from its own hosts, CAs and strategies (dotted-path
overrides on its resolved form, strategy specs as in ``docs/scenario.md``), and simulated in
expected mode into one row of metrics per world and strategy."""

from __future__ import annotations

import copy
import datetime as dt
import warnings
from typing import Any

import numpy as np
import pandas as pd

from simlib.api import simulate
from simlib.model import Scenario, ScenarioWarning, apply_overrides
from simlib.model.overrides import lifetime_overrides
from simlib.report.wording import iso_date

#: World label of the scenario as given.
AS_GIVEN = "as given"
#: Name of the CA added when a scenario has no spare CA to back up to.
BACKUP_CA = "Backup CA"


# ------------------------------------------------------------------------------ scenario edits
def resolved(sc: Scenario) -> dict[str, Any]:
    """The resolved scenario as a dict, ready for its strategies to be replaced: a fix strategy
    named by reference is inlined, and an attack is scored even when the scenario lists none."""
    data = copy.deepcopy(sc.to_dict())
    ir = data.get("incident_response")
    if ir and isinstance(ir.get("fix_strategy"), str):
        spec = next((s for s in data["strategies"] if s["name"] == ir["fix_strategy"]), None)
        ir["fix_strategy"] = None if spec is None else {**spec, "dynamic": None}
    if not data.get("attacks"):
        data["attacks"] = ["rogue_ca"]
    return data


def variant(data: dict[str, Any], overrides: dict[str, Any]) -> Scenario:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return apply_overrides(data, overrides)


def strategy(name: str, pin: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "pin": pin, **options}


def numbered(name: str):
    yield name
    for i in range(2, 1000):
        yield f"{name} {i}"


def midpoint(sc: Scenario) -> dt.date:
    return sc.start + (sc.end - sc.start) / 2


# ------------------------------------------------------------------------------ SPKI vs certificate
def keys_reused(data: dict[str, Any]) -> dict[str, Any]:
    hosts = copy.deepcopy(data["hosts"])
    for h in hosts:
        h["key_policy"] = "reuse"
        for step in h.get("policy_schedule") or []:
            if step.get("key_policy") is not None:
                step["key_policy"] = "reuse"
    return hosts


# ------------------------------------------------------------------------------ backup CA
def backup_target(sc: Scenario) -> tuple[str | None, str | None]:
    """(backup CA, world label) when the scenario itself moves hosts to another CA."""
    for e in sc.events:
        if e.type == "ca_migration":
            return e.to, f"hosts migrate to {e.to} on {iso_date(e.date)} (a scenario event)"
        if e.type == "ca_distrust" and getattr(e, "replacement", None):
            return e.replacement, (
                f"{e.ca} is distrusted on {iso_date(e.date)} and hosts move to {e.replacement} "
                "(a scenario event)"
            )
    return None, None


def spare_ca(sc: Scenario) -> str | None:
    """A CA of the scenario that no host uses, that strategies already name as a backup, that
    cross-signs nothing and whose root outlives the scenario."""
    used = {h.ca for h in sc.hosts}
    signers = {c.cross_signed_by.ca for c in sc.cas if c.cross_signed_by is not None}
    named = [
        str(b).removeprefix("ca:")
        for s in sc.strategies
        for b in s.backup
        if str(b).startswith("ca:")
    ]
    cas = {c.name: c for c in sc.cas}
    for name in named:
        ca = cas.get(name)
        if (
            ca is not None
            and name not in used | signers
            and (ca.root_not_after is None or ca.root_not_after > sc.end)
        ):
            return name
    return None


# ------------------------------------------------------------------------------ what-if
def with_validity(sc: Scenario, days: int) -> Scenario:
    """``sc`` with every host requesting ``days``-day certificates
    (:func:`~simlib.model.overrides.lifetime_overrides`: renewed at most a third of the lifetime
    before expiry, a host's own earlier renewal kept when shorter)."""
    return variant(resolved(sc), lifetime_overrides(sc, days))


# ------------------------------------------------------------------------------ simulating
def metrics(res, world: str) -> pd.DataFrame:
    """One row per strategy of one simulated world."""
    s = res.summary.set_index("strategy")
    d = res.duration_stats.set_index("strategy")
    ts = res.timeseries
    labels = [c.removeprefix("mean_protected_") for c in s if c.startswith("mean_protected_")]
    rows = []
    for name in s.index:
        g = ts[ts["strategy"] == name]
        violating = g.loc[g["pin_violation_rate"] > 0, "date"]
        row = {
            "world": world,
            "strategy": name,
            "certificate_changes": int(s.at[name, "certificate_changes"]),
            "breaks": int(s.at[name, "lockout_events"]),
            "locked_user_days": float(s.at[name, "locked_user_days"]),
            "mean_lockout": float(s.at[name, "mean_lockout_rate"]),
            "peak_lockout": float(s.at[name, "peak_lockout_rate"]),
            "users_ever_locked": float(d.at[name, "users_ever_locked"]),
            "first_lockout": pd.to_datetime(s.at[name, "first_lockout_date"]),
            "violation_user_days": float(s.at[name, "pin_violation_user_days"]),
            "peak_violation": float(g["pin_violation_rate"].max()),
            "first_violation": violating.min() if len(violating) else pd.NaT,
        }
        for a in labels:
            row[f"protected_{a}"] = float(s.at[name, f"mean_protected_{a}"])
        row["protected_mean"] = float(np.mean([row[f"protected_{a}"] for a in labels]))
        rows.append(row)
    return pd.DataFrame(rows)


def compare(worlds: dict[str, Scenario]) -> pd.DataFrame:
    """Simulate each world (expected mode) and stack their per-strategy metrics."""
    return pd.concat(
        [metrics(simulate(w), label) for label, w in worlds.items()], ignore_index=True
    )
