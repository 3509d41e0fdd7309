"""The small stored Monte Carlo sweep the sweep-reading and sensitivity-figure tests share (the
``stored`` and ``stats`` fixtures in ``conftest.py``): lifetime 90 / 40 / 60 (base 90) × slow
lag 20 / 5, 4 fleets."""

from __future__ import annotations

LIFETIME, LAG = "hosts[0].validity_days", "fleet.adoption.components[1].mean_lag_days"
STRATEGIES = [
    {"name": "none", "pin": "none"},
    {"name": "leaf", "pin": "leaf_spki"},
    {"name": "intermediate", "pin": "intermediate_spki"},
]


def lockout(stats, strategy="leaf"):
    return stats[(stats["metric"] == "mean_lockout_rate") & (stats["strategy"] == strategy)]
