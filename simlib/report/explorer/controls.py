"""What each explorer control means for one scenario: its default, its valid values, and the
dotted-path overrides (:func:`simlib.apply_overrides`) it produces.

* ``update_speed`` — a multiplier on how fast users update: every adoption lag is divided by it
  (a mixture's ``mean_lag_days``, an empirical curve's ``days``; the never-update share and the
  curve's shares are kept). 2 = twice as fast, 0.5 = half as fast.
* ``lifetime_days`` — the requested certificate lifetime of every host (still capped by
  ``validity_cap``), renewed at most a third of the lifetime before expiry (a host's own earlier
  renewal is kept when shorter; ``renew_at_fraction`` is a fraction already): the rule of
  :func:`~simlib.model.overrides.lifetime_overrides`, the same as the what-if question's.
* ``key_policy`` — ``reuse`` or ``rotate`` (a new key at every renewal) for every host, or a
  mapping host name → policy; ``None`` keeps a host as configured. A chosen policy replaces the
  host's dated key-policy steps too (renewal steps stay).
* ``android_share`` — the Android share of users, iOS the rest (a platform missing from the
  scenario is added with its defaults).
* ``strategy`` — which of the scenario's strategies the headline numbers and the highlighted line
  are about (no re-simulation).

A control at the scenario's own value (:meth:`Controls.defaults`) produces no override, so the
starting point is the scenario as written. A bad value is a one-line
:class:`~simlib.errors.ScenarioError` (``<explorer>: control: what is wrong``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from simlib.errors import ScenarioError, clip
from simlib.model import Scenario
from simlib.model.overrides import lifetime_overrides

#: The controls, in the order the widget shows them.
CONTROLS: tuple[str, ...] = (
    "update_speed",
    "lifetime_days",
    "key_policy",
    "android_share",
    "strategy",
)
#: Range of ``update_speed`` (a factor on update speed; lags are divided by it).
SPEED_RANGE: tuple[float, float] = (0.25, 4.0)
#: Range of ``lifetime_days`` (the widget's; ``update`` accepts any lifetime from 2 days that the
#: hosts' renewal rules allow).
LIFETIME_RANGE: tuple[int, int] = (7, 398)
KEY_POLICIES: tuple[str, ...] = ("reuse", "rotate")
SOURCE = "<explorer>"


def fail(control: str, message: str) -> ScenarioError:
    return ScenarioError(SOURCE, control, message)


class Controls:
    """The controls over one scenario (see the module docstring). Parameters: ``scenario``."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.strategies: list[str] = [s.name for s in scenario.strategies]
        self.hosts: list[str] = [h.name for h in scenario.hosts]

    def defaults(self) -> dict[str, Any]:
        """Each control at the scenario's own value (these produce no override)."""
        sc = self.scenario
        pinning = [s.name for s in sc.strategies if s.pin != "none"]
        return {
            "update_speed": 1.0,
            "lifetime_days": self.requested_lifetime(0),
            "key_policy": None,
            "android_share": float(sc.fleet.platforms["android"].share)
            if "android" in sc.fleet.platforms
            else 0.0,
            "strategy": (pinning or self.strategies)[0],
        }

    def requested_lifetime(self, i: int) -> int:
        host = self.scenario.hosts[i]
        if host.validity_days is not None:
            return int(host.validity_days)
        return int(next(c.validity_days for c in self.scenario.cas if c.name == host.ca))

    def validate(self, settings: dict[str, Any], **values: Any) -> dict[str, Any]:
        """``settings`` with ``values`` applied, checked and normalised.

        Raises a one-line :class:`ScenarioError` (``<explorer>: control: what is wrong``).
        """
        unknown = [k for k in values if k not in CONTROLS]
        if unknown:
            raise fail(unknown[0], f"unknown control; valid: {', '.join(CONTROLS)}")
        out = dict(settings)
        for name, value in values.items():
            out[name] = getattr(self, f"_check_{name}")(value)
        return out

    @staticmethod
    def _number(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise fail(name, f"must be a number (got {clip(repr(value))})")
        if not math.isfinite(value):
            raise fail(name, f"must be finite (got {value})")
        return float(value)

    def _check_update_speed(self, value: Any) -> float:
        v = round(self._number("update_speed", value), 9)  # a log slider's float noise
        lo, hi = SPEED_RANGE
        if not lo <= v <= hi:
            raise fail("update_speed", f"must be between {lo:g} and {hi:g} (got {v:g})")
        return v

    def _check_lifetime_days(self, value: Any) -> int:
        v = self._number("lifetime_days", value)
        if v != int(v):
            raise fail("lifetime_days", f"must be a whole number of days (got {v:g})")
        if not 2 <= v <= 36_500:
            raise fail("lifetime_days", f"must be between 2 and 36500 days (got {v:g})")
        return int(v)

    def _check_key_policy(self, value: Any) -> dict[str, str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dict.fromkeys(self.hosts, value)
        if not isinstance(value, Mapping):
            raise fail("key_policy", "must be 'reuse', 'rotate', None or a mapping host → policy")
        out: dict[str, str] = {}
        for host, policy in value.items():
            if host not in self.hosts:
                raise fail(
                    "key_policy", f"unknown host '{clip(host)}'; valid: {', '.join(self.hosts)}"
                )
            if policy is None:
                continue
            if policy not in KEY_POLICIES:
                raise fail("key_policy", f"'{clip(policy)}' for {host}: must be reuse or rotate")
            out[str(host)] = str(policy)
        return out or None

    def _check_android_share(self, value: Any) -> float:
        v = self._number("android_share", value)
        if not 0.0 <= v <= 1.0:
            raise fail("android_share", f"must be between 0 and 1 (got {v:g})")
        return round(v, 9)  # a slider's float noise is not a new setting

    def _check_strategy(self, value: Any) -> str:
        if value not in self.strategies:
            raise fail(
                "strategy", f"unknown strategy '{clip(value)}'; valid: {', '.join(self.strategies)}"
            )
        return str(value)

    def overrides(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The dotted-path overrides validated ``settings`` produce.

        Controls at their default produce none; ``strategy`` never does.
        """
        d = self.defaults()
        sc = self.scenario
        out: dict[str, Any] = {}
        if settings["update_speed"] != d["update_speed"]:
            speed = settings["update_speed"]
            adoption = sc.fleet.adoption
            if adoption.components is not None:
                for i, comp in enumerate(adoption.components):
                    out[f"fleet.adoption.components[{i}].mean_lag_days"] = (
                        comp.mean_lag_days / speed
                    )
            else:
                out["fleet.adoption.points"] = [
                    [d_ / speed, share] for d_, share in adoption.points
                ]
        if settings["lifetime_days"] != d["lifetime_days"]:
            out.update(lifetime_overrides(sc, settings["lifetime_days"]))
        for host, policy in (settings["key_policy"] or {}).items():
            i = self.hosts.index(host)
            spec = sc.hosts[i]
            if spec.key_policy == policy and all(
                st.key_policy is None for st in spec.policy_schedule
            ):
                continue  # already so
            out[f"hosts[{i}].key_policy"] = policy
            if any(st.key_policy is not None for st in spec.policy_schedule):
                # the steps' renewal, as the lifetime control may have set it
                steps = [
                    {k: v for k, v in step.items() if k != "key_policy"}
                    | _popped(out, f"hosts[{i}].policy_schedule[{j}].renew_before_days")
                    for j, step in enumerate(sc.to_dict()["hosts"][i]["policy_schedule"])
                ]
                out[f"hosts[{i}].policy_schedule"] = [
                    st for st in steps if st.get("renew_before_days") or st.get("renew_at_fraction")
                ]
        if settings["android_share"] != d["android_share"]:
            share = settings["android_share"]
            out["fleet.platforms.android.share"] = share
            out["fleet.platforms.ios.share"] = 1.0 - share
        return out


def _popped(overrides: dict[str, Any], path: str) -> dict[str, Any]:
    """``{"renew_before_days": value}`` of ``path`` taken out of ``overrides``, or ``{}``."""
    return {"renew_before_days": overrides.pop(path)} if path in overrides else {}
