"""An exploring session over one scenario: the current settings, one simulation per distinct set
of overrides (a small cache: an unchanged setting, or a strategy change, never re-simulates), the
:class:`Headline` numbers, and the figure redrawn in place."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlib.api import simulate
from simlib.errors import clip
from simlib.model import Scenario
from simlib.model.overrides import apply_overrides
from simlib.report.explorer.controls import Controls, fail
from simlib.report.explorer.figure import LockoutFigure, canvas_png
from simlib.report.plots import readable
from simlib.report.wording import num, share


@dataclass(frozen=True)
class Headline:
    """The numbers one explorer setting gives for the selected strategy."""

    strategy: str
    #: users present at the start who are locked out on at least one day
    users_ever_locked: float
    #: sum over days of users locked out
    locked_user_days: float
    #: highest share of active users locked out on one day
    peak_lockout: float
    #: mean share of users working and rejecting ``attack`` (NaN without attacks)
    protected_share: float
    attack: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        protected = (
            f", {share(self.protected_share, 0)} protected against {_plain(readable(self.attack))}"
            if self.attack is not None
            else ""
        )
        # users_ever_locked is NaN for dynamic strategies (not tracked per user): "n/a"
        return (
            f"{self.strategy}: {num(self.users_ever_locked)} users ever locked, "
            f"{num(self.locked_user_days)} locked user-days, "
            f"peak {share(self.peak_lockout)}{protected}"
        )


@dataclass(frozen=True)
class _Outcome:
    """What the figure and the headline need from one simulation (kept in the cache)."""

    rates: dict[str, np.ndarray]
    table: pd.DataFrame  # per strategy: users_ever_locked, locked_user_days, peak, mean, protected


class Explorer:
    """Live what-if controls over one scenario (see :mod:`simlib.report.explorer`).

    Parameters: ``scenario``; ``attack`` (label of the attack whose protected share is the
    headline; default the scenario's first attack); ``figsize``; ``cache_size`` (simulations
    kept besides the scenario as written, least recently used dropped first); ``dpi`` of the
    figure (and of its PNG).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        attack: str | None = None,
        figsize: tuple[float, float] = (11.0, 4.8),
        cache_size: int = 32,
        dpi: int = 90,
    ) -> None:
        if not isinstance(scenario, Scenario):
            raise TypeError("Explorer needs a simlib Scenario (simlib.load_scenario(path))")
        labels = [a.label for a in scenario.attacks]
        if attack is not None and attack not in labels:
            raise fail(
                "attack", f"unknown attack '{clip(attack)}'; valid: {', '.join(labels) or 'none'}"
            )
        if cache_size < 1:
            raise fail("cache_size", "must be ≥ 1")
        self.scenario = scenario
        self.attack = attack if attack is not None else (labels[0] if labels else None)
        self.figsize = figsize
        self.cache_size = cache_size
        self.dpi = dpi
        self.controls = Controls(scenario)
        self.strategies: list[str] = self.controls.strategies
        self.hosts: list[str] = self.controls.hosts
        self.settings_: dict[str, Any] = self.defaults()
        #: simulations run so far (a cache hit does not count)
        self.simulations_ = 0
        self._cache: OrderedDict[str, _Outcome] = OrderedDict()
        self._baseline: _Outcome | None = None
        #: the figure and its artists, created at the first draw
        self.drawing_: LockoutFigure | None = None

    # ----------------------------------------------------------------------- controls
    def defaults(self) -> dict[str, Any]:
        """Each control at the scenario's own value (these produce no override)."""
        return self.controls.defaults()

    def validate(self, **values: Any) -> dict[str, Any]:
        """The current settings with ``values`` applied, checked and normalised.

        Raises a one-line :class:`ScenarioError` (``<explorer>: control: what is wrong``).
        """
        return self.controls.validate(self.settings_, **values)

    def overrides(self, **values: Any) -> dict[str, Any]:
        """The dotted-path overrides the settings (current, with ``values`` applied) produce.

        Controls at their default produce none; ``strategy`` never does.
        """
        return self.controls.overrides(self.validate(**values))

    def scenario_for(self, **values: Any) -> Scenario:
        """The overridden scenario of the settings (current, with ``values`` applied)."""
        return apply_overrides(self.scenario, self.overrides(**values))

    # ----------------------------------------------------------------------- simulation
    def _outcome(self, overrides: dict[str, Any]) -> _Outcome:
        key = json.dumps(overrides, sort_keys=True, default=str)
        if not overrides and self._baseline is not None:
            return self._baseline
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        scenario = apply_overrides(self.scenario, overrides) if overrides else self.scenario
        result = simulate(scenario)
        self.simulations_ += 1
        ts = result.timeseries
        rates = {
            name: g["lockout_rate"].to_numpy() for name, g in ts.groupby("strategy", sort=False)
        }
        summary = result.summary.set_index("strategy")
        table = pd.DataFrame(index=summary.index)
        durations = result.duration_stats.set_index("strategy")
        # NaN for dynamic strategies; absent when every strategy is dynamic
        table["users_ever_locked"] = durations.get("users_ever_locked", np.nan)
        table["locked_user_days"] = summary["locked_user_days"]
        table["peak_lockout"] = summary["peak_lockout_rate"]
        table["mean_lockout"] = summary["mean_lockout_rate"]
        table["protected_share"] = (
            summary[f"mean_protected_{self.attack}"] if self.attack is not None else np.nan
        )
        outcome = _Outcome(rates, table)
        if not overrides:
            self._baseline = outcome  # the scenario as written: kept outside the LRU cache
            return outcome
        self._cache[key] = outcome
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return outcome

    def headline(self, **values: Any) -> Headline:
        """The headline numbers of the settings, without drawing."""
        settings = self.validate(**values)
        return self._headline(settings, self._outcome(self.overrides(**values)))

    def _headline(self, settings: dict[str, Any], outcome: _Outcome) -> Headline:
        row = outcome.table.loc[settings["strategy"]]
        return Headline(
            strategy=settings["strategy"],
            users_ever_locked=float(row["users_ever_locked"]),
            locked_user_days=float(row["locked_user_days"]),
            peak_lockout=float(row["peak_lockout"]),
            protected_share=float(row["protected_share"]),
            attack=self.attack,
        )

    def update(self, **values: Any) -> Headline:
        """Set controls (the others keep their current value), re-simulate if the overrides
        changed, redraw the figure in place and return the headline numbers."""
        settings = self.validate(**values)
        outcome = self._outcome(self.overrides(**values))
        self.settings_ = settings
        self._redraw(settings, outcome)
        return self._headline(settings, outcome)

    # ----------------------------------------------------------------------- figure
    @property
    def figure(self) -> Figure:
        """The explorer's figure, drawn for the current settings (created once)."""
        if self.drawing_ is None:
            self._redraw(self.settings_, self._outcome(self.overrides()))
        assert self.drawing_ is not None
        return self.drawing_.figure

    def _redraw(self, settings: dict[str, Any], outcome: _Outcome) -> None:
        if self.drawing_ is None:
            self.drawing_ = LockoutFigure(
                self.strategies,
                self.attack,
                self.scenario.start,
                self.scenario.end,
                figsize=self.figsize,
                dpi=self.dpi,
            )
        chosen = settings["strategy"]
        headline = str(self._headline(settings, outcome))
        self.drawing_.redraw(
            chosen,
            outcome.rates,
            outcome.table,
            self._outcome({}).rates[chosen],
            f"{headline}\n{self.describe(settings)}",
        )

    def describe(self, settings: dict[str, Any] | None = None) -> str:
        """The settings in words (the second line of the figure's title)."""
        s = settings or self.settings_
        policy = s["key_policy"]
        keys = (
            "keys as configured"
            if not policy
            else "keys: " + ", ".join(f"{h} {p}" for h, p in policy.items())
            if len(set(policy.values())) > 1 or len(policy) < len(self.hosts)
            else f"keys: {next(iter(policy.values()))} on every host"
        )
        return (
            f"{self.scenario.name}: updates ×{s['update_speed']:g}, "
            f"{s['lifetime_days']}-day certificates, {keys}, "
            f"Android {share(s['android_share'], 0)} / iOS {share(1 - s['android_share'], 0)}"
        )

    def png(self) -> bytes:
        """The figure as PNG bytes, rendered now: one draw of the Agg canvas, encoded from its
        buffer (``savefig`` would lay out and draw again at another size)."""
        return canvas_png(self.figure)

    def _repr_png_(self) -> bytes:
        return self.png()

    def widget(self):
        """An ipywidgets box: the controls, the figure as an image (redrawn in place on each
        change), the headline numbers and any error on one line."""
        from simlib.report.explorer.widget import widget  # the one place ipywidgets is imported

        return widget(self)


def _plain(text: str) -> str:
    return text.replace("\\$", "$")
