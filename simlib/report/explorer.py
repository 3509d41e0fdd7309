"""The interactive explorer: controls that re-simulate a scenario and redraw one figure in place.

:class:`Explorer` takes a scenario (parameters in ``__init__``) and offers five controls, each
mapped to dotted-path overrides of that scenario (:func:`simlib.apply_overrides`):

* ``update_speed`` — a multiplier on how fast users update: every adoption lag is divided by it
  (a mixture's ``mean_lag_days``, an empirical curve's ``days``; the never-update share and the
  curve's shares are kept). 2 = twice as fast, 0.5 = half as fast.
* ``lifetime_days`` — the requested certificate lifetime of every host (still capped by
  ``validity_cap``). A host that renews ``renew_before_days`` before expiry keeps renewing at the
  same point of the lifetime (the days are scaled with it, and stay between 1 and the lifetime − 1);
  ``renew_at_fraction`` is a fraction already.
* ``key_policy`` — ``reuse`` or ``rotate`` (a new key at every renewal) for every host, or a
  mapping host name → policy; ``None`` keeps a host as configured. A chosen policy replaces the
  host's dated key-policy steps too (renewal steps stay).
* ``android_share`` — the Android share of users, iOS the rest (a platform missing from the
  scenario is added with its defaults).
* ``strategy`` — which of the scenario's strategies the headline numbers and the highlighted line
  are about (no re-simulation).

A control at the scenario's own value (``defaults()``) produces no override, so the starting
point is the scenario as written. :meth:`Explorer.update` validates values (one-line
:class:`~simlib.errors.ScenarioError`), simulates once per distinct set of overrides (a small
cache: an unchanged setting, or a strategy change, never re-simulates), moves the existing
artists of one figure (``set_ydata``, ``set_width``, ``set_text``: no new figure, axes or lines)
and returns the :class:`Headline` numbers. :meth:`Explorer.widget` wraps it in ipywidgets that
show the figure as a PNG (works in a plain JupyterLab, no ipympl); under papermill call
``update`` directly and display the explorer (``_repr_png_``).

ipywidgets is imported only by :meth:`Explorer.widget`.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from simlib.api import simulate
from simlib.errors import ScenarioError, clip
from simlib.model import Scenario
from simlib.model.overrides import apply_overrides
from simlib.report.plots import readable, text_label
from simlib.report.style import MUTED, PALETTE, styled

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
            f", {self.protected_share:.0%} protected against {_plain(readable(self.attack))}"
            if self.attack is not None
            else ""
        )
        return (
            f"{self.strategy}: {self.users_ever_locked:,.0f} users ever locked, "
            f"{self.locked_user_days:,.0f} locked user-days, peak {self.peak_lockout:.1%}{protected}"
        )


@dataclass(frozen=True)
class _Outcome:
    """What the figure and the headline need from one simulation (kept in the cache)."""

    result: Any
    rates: dict[str, np.ndarray]
    table: pd.DataFrame  # per strategy: users_ever_locked, locked_user_days, peak, mean, protected


def _fail(control: str, message: str) -> ScenarioError:
    return ScenarioError(SOURCE, control, message)


class Explorer:
    """Live what-if controls over one scenario (see the module docstring).

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
            raise _fail(
                "attack", f"unknown attack '{clip(attack)}'; valid: {', '.join(labels) or 'none'}"
            )
        if cache_size < 1:
            raise _fail("cache_size", "must be ≥ 1")
        self.scenario = scenario
        self.attack = attack if attack is not None else (labels[0] if labels else None)
        self.figsize = figsize
        self.cache_size = cache_size
        self.dpi = dpi
        self.strategies: list[str] = [s.name for s in scenario.strategies]
        self.hosts: list[str] = [h.name for h in scenario.hosts]
        self.settings_: dict[str, Any] = self.defaults()
        #: simulations run so far (a cache hit does not count)
        self.simulations_ = 0
        self._cache: OrderedDict[str, _Outcome] = OrderedDict()
        self._baseline: _Outcome | None = None
        self.figure_: Figure | None = None
        self._artists: dict[str, Any] = {}

    # ----------------------------------------------------------------------- controls
    def defaults(self) -> dict[str, Any]:
        """Each control at the scenario's own value (these produce no override)."""
        sc = self.scenario
        pinning = [s.name for s in sc.strategies if s.pin != "none"]
        return {
            "update_speed": 1.0,
            "lifetime_days": self._requested_lifetime(0),
            "key_policy": None,
            "android_share": float(sc.fleet.platforms["android"].share)
            if "android" in sc.fleet.platforms
            else 0.0,
            "strategy": (pinning or self.strategies)[0],
        }

    def _requested_lifetime(self, i: int) -> int:
        host = self.scenario.hosts[i]
        if host.validity_days is not None:
            return int(host.validity_days)
        return int(next(c.validity_days for c in self.scenario.cas if c.name == host.ca))

    def validate(self, **values: Any) -> dict[str, Any]:
        """The current settings with ``values`` applied, checked and normalised.

        Raises a one-line :class:`ScenarioError` (``<explorer>: control: what is wrong``).
        """
        unknown = [k for k in values if k not in CONTROLS]
        if unknown:
            raise _fail(unknown[0], f"unknown control; valid: {', '.join(CONTROLS)}")
        out = dict(self.settings_)
        for name, value in values.items():
            out[name] = getattr(self, f"_check_{name}")(value)
        return out

    @staticmethod
    def _number(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise _fail(name, f"must be a number (got {clip(repr(value))})")
        if not math.isfinite(value):
            raise _fail(name, f"must be finite (got {value})")
        return float(value)

    def _check_update_speed(self, value: Any) -> float:
        v = round(self._number("update_speed", value), 9)  # a log slider's float noise
        lo, hi = SPEED_RANGE
        if not lo <= v <= hi:
            raise _fail("update_speed", f"must be between {lo:g} and {hi:g} (got {v:g})")
        return v

    def _check_lifetime_days(self, value: Any) -> int:
        v = self._number("lifetime_days", value)
        if v != int(v):
            raise _fail("lifetime_days", f"must be a whole number of days (got {v:g})")
        if not 2 <= v <= 36_500:
            raise _fail("lifetime_days", f"must be between 2 and 36500 days (got {v:g})")
        return int(v)

    def _check_key_policy(self, value: Any) -> dict[str, str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dict.fromkeys(self.hosts, value)
        if not isinstance(value, Mapping):
            raise _fail("key_policy", "must be 'reuse', 'rotate', None or a mapping host → policy")
        out: dict[str, str] = {}
        for host, policy in value.items():
            if host not in self.hosts:
                raise _fail(
                    "key_policy", f"unknown host '{clip(host)}'; valid: {', '.join(self.hosts)}"
                )
            if policy is None:
                continue
            if policy not in KEY_POLICIES:
                raise _fail("key_policy", f"'{clip(policy)}' for {host}: must be reuse or rotate")
            out[str(host)] = str(policy)
        return out or None

    def _check_android_share(self, value: Any) -> float:
        v = self._number("android_share", value)
        if not 0.0 <= v <= 1.0:
            raise _fail("android_share", f"must be between 0 and 1 (got {v:g})")
        return round(v, 9)  # a slider's float noise is not a new setting

    def _check_strategy(self, value: Any) -> str:
        if value not in self.strategies:
            raise _fail(
                "strategy", f"unknown strategy '{clip(value)}'; valid: {', '.join(self.strategies)}"
            )
        return str(value)

    # ----------------------------------------------------------------------- overrides
    def overrides(self, **values: Any) -> dict[str, Any]:
        """The dotted-path overrides the settings (current, with ``values`` applied) produce.

        Controls at their default produce none; ``strategy`` never does.
        """
        s = self.validate(**values)
        d = self.defaults()
        sc = self.scenario
        out: dict[str, Any] = {}
        if s["update_speed"] != d["update_speed"]:
            speed = s["update_speed"]
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
        if s["lifetime_days"] != d["lifetime_days"]:
            life = s["lifetime_days"]
            for i, host in enumerate(sc.hosts):
                old = self._requested_lifetime(i)
                out[f"hosts[{i}].validity_days"] = life
                if host.renew_before_days is not None:
                    out[f"hosts[{i}].renew_before_days"] = self._scaled_before(
                        host.renew_before_days, old, life, f"hosts[{i}]"
                    )
                for j, step in enumerate(host.policy_schedule):
                    if step.renew_before_days is not None:
                        out[f"hosts[{i}].policy_schedule[{j}].renew_before_days"] = (
                            self._scaled_before(
                                step.renew_before_days,
                                old,
                                life,
                                f"hosts[{i}].policy_schedule[{j}]",
                            )
                        )
        for host, policy in (s["key_policy"] or {}).items():
            i = self.hosts.index(host)
            spec = sc.hosts[i]
            if spec.key_policy == policy and all(
                st.key_policy is None for st in spec.policy_schedule
            ):
                continue  # already so
            out[f"hosts[{i}].key_policy"] = policy
            if any(st.key_policy is not None for st in spec.policy_schedule):
                steps = [
                    {k: v for k, v in step.items() if k != "key_policy"}
                    for step in sc.to_dict()["hosts"][i]["policy_schedule"]
                ]
                out[f"hosts[{i}].policy_schedule"] = [
                    st for st in steps if st.get("renew_before_days") or st.get("renew_at_fraction")
                ]
        if s["android_share"] != d["android_share"]:
            share = s["android_share"]
            out["fleet.platforms.android.share"] = share
            out["fleet.platforms.ios.share"] = 1.0 - share
        return out

    @staticmethod
    def _scaled_before(before: int, old: int, life: int, where: str) -> int:
        if life < 2:
            raise _fail("lifetime_days", f"{where} renews before expiry: needs at least 2 days")
        return int(min(max(1, round(before * life / old)), life - 1))

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
        table["users_ever_locked"] = result.duration_stats.set_index("strategy")[
            "users_ever_locked"
        ]
        table["locked_user_days"] = summary["locked_user_days"]
        table["peak_lockout"] = summary["peak_lockout_rate"]
        table["mean_lockout"] = summary["mean_lockout_rate"]
        table["protected_share"] = (
            summary[f"mean_protected_{self.attack}"] if self.attack is not None else np.nan
        )
        outcome = _Outcome(result, rates, table)
        if not overrides:
            self._baseline = outcome  # the scenario as written: kept outside the LRU cache
            return outcome
        self._cache[key] = outcome
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return outcome

    def result(self, **values: Any):
        """The simulation result of the settings (cached)."""
        return self._outcome(self.overrides(**values)).result

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
        if self.figure_ is None:
            self._redraw(self.settings_, self._outcome(self.overrides()))
        assert self.figure_ is not None
        return self.figure_

    def _build(self, outcome: _Outcome) -> None:
        with styled():
            fig = Figure(figsize=self.figsize, dpi=self.dpi, layout="constrained")
            FigureCanvasAgg(fig)
            ax, bars_ax = fig.subplots(1, 2, width_ratios=[2.2, 1])
            dates = mdates.date2num(
                pd.date_range(self.scenario.start, self.scenario.end, freq="D").to_numpy()
            )
            zeros = np.zeros(len(dates))
            lines = {
                name: ax.plot(dates, zeros, color=MUTED, linewidth=0.8)[0]
                for name in self.strategies
            }
            baseline = ax.plot(dates, zeros, color="black", linewidth=1.0, linestyle="--")[0]
            ax.xaxis_date()
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_ylim(0, 1.02)
            ax.set_xlim(dates[0], dates[-1])
            ax.set_ylabel("users locked out")
            ax.tick_params(axis="x", labelrotation=30)
            legend = ax.legend(
                handles=[
                    Line2D([], [], color=PALETTE[0], linewidth=2.0, label="selected"),
                    Line2D(
                        [], [], color="black", linewidth=1.0, linestyle="--", label="as configured"
                    ),
                    Line2D([], [], color=MUTED, linewidth=0.8, label="other strategies"),
                ],
                loc="upper center",
                bbox_to_anchor=(0.5, -0.14),
                ncols=3,
            )
            n = len(self.strategies)
            y = np.arange(n)
            h = 0.38
            locked = bars_ax.barh(
                y - h / 2, np.zeros(n), height=h, color=PALETTE[1], label="mean locked out"
            )
            protected = bars_ax.barh(
                y + h / 2,
                np.zeros(n),
                height=h,
                color=PALETTE[2],
                label=f"protected: {readable(self.attack)}" if self.attack else "protected",
            )
            bars_ax.set_yticks(y, [text_label(s) for s in self.strategies])
            bars_ax.invert_yaxis()
            bars_ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            bars_ax.set_xlim(0, 1)
            bars_ax.set_title("mean over the period")
            bars_ax.grid(axis="y", visible=False)
            bars_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=1, fontsize=8)
            ax.set_title("users locked out, per day")
            title = fig.suptitle(" ", fontsize=11)
            # Lay the figure out once, with the longest texts it will show, then freeze the layout:
            # later redraws only move data (constrained layout would cost most of a redraw).
            title.set_text("0\n0")
            fig.canvas.draw()
            fig.set_layout_engine("none")
        self.figure_ = fig
        self._artists = {
            "ax": ax,
            "bars_ax": bars_ax,
            "lines": lines,
            "baseline": baseline,
            "legend": legend,
            "locked": list(locked),
            "protected": list(protected),
            "title": title,
        }

    def _redraw(self, settings: dict[str, Any], outcome: _Outcome) -> None:
        if self.figure_ is None:
            self._build(outcome)
        a = self._artists
        chosen = settings["strategy"]
        for name, line in a["lines"].items():
            line.set_ydata(outcome.rates[name])
            on = name == chosen
            line.set_color(PALETTE[0] if on else MUTED)
            line.set_linewidth(2.0 if on else 0.8)
            line.set_zorder(3 if on else 2)
        a["baseline"].set_ydata(self._outcome({}).rates[chosen])
        a["legend"].get_texts()[0].set_text(text_label(chosen))
        table = outcome.table.reindex(self.strategies)
        for i, name in enumerate(self.strategies):
            alpha = 1.0 if name == chosen else 0.35
            for key, col in (("locked", "mean_lockout"), ("protected", "protected_share")):
                value = float(table[col].iloc[i])
                bar = a[key][i]
                bar.set_width(0.0 if math.isnan(value) else value)
                bar.set_alpha(alpha)
        for label in a["bars_ax"].get_yticklabels():
            label.set_fontweight("bold" if label.get_text() == text_label(chosen) else "normal")
        headline = str(self._headline(settings, outcome))
        a["title"].set_text(text_label(f"{headline}\n{self.describe(settings)}"))

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
            f"Android {s['android_share']:.0%} / iOS {1 - s['android_share']:.0%}"
        )

    def png(self) -> bytes:
        """The figure as PNG bytes, rendered now: one draw of the Agg canvas, encoded from its
        buffer (``savefig`` would lay out and draw again at another size)."""
        return canvas_png(self.figure)

    def _repr_png_(self) -> bytes:
        return self.png()

    # ----------------------------------------------------------------------- widget
    def widget(self):
        """An ipywidgets box: the controls (``continuous_update=False``), the figure as an image
        (redrawn in place on each change), the headline numbers and any error on one line."""
        import html

        import ipywidgets as w

        d = self.settings_
        lo, hi = LIFETIME_RANGE
        style = {"description_width": "initial"}
        layout = w.Layout(width="320px")
        controls: dict[str, Any] = {
            "update_speed": w.FloatLogSlider(
                value=d["update_speed"], base=2, min=math.log2(SPEED_RANGE[0]),
                max=math.log2(SPEED_RANGE[1]), step=0.25, description="update speed ×",
                continuous_update=False, style=style, layout=layout, readout_format=".2f",
            ),
            "lifetime_days": w.IntSlider(
                value=d["lifetime_days"], min=min(lo, d["lifetime_days"]), max=max(hi, d["lifetime_days"]),
                step=1, description="certificate lifetime (days)", continuous_update=False,
                style=style, layout=layout,
            ),
            "android_share": w.FloatSlider(
                value=d["android_share"], min=0.0, max=1.0, step=0.05, description="Android share",
                continuous_update=False, style=style, layout=layout, readout_format=".0%",
            ),
            "strategy": w.Dropdown(
                options=self.strategies, value=d["strategy"], description="strategy", style=style,
                layout=layout,
            ),
        }  # fmt: skip
        policies = {
            host: w.Dropdown(
                options=[(f"as configured ({_policy_name(spec.key_policy)})", None), ("reuse", "reuse"),
                         ("rotate (new key each renewal)", "rotate")],
                value=(d["key_policy"] or {}).get(host), description=f"key policy: {host}",
                style=style, layout=layout,
            )
            for host, spec in zip(self.hosts, self.scenario.hosts, strict=True)
        }  # fmt: skip
        image = w.Image(value=self.png(), format="png")
        status = w.HTML(value=html.escape(str(self.headline())))

        def changed(_change=None) -> None:
            values = {name: c.value for name, c in controls.items()}
            values["key_policy"] = {h: c.value for h, c in policies.items()}
            try:
                headline = self.update(**values)
            except Exception as exc:  # shown on one line; the figure keeps the last good state
                status.value = (
                    f"<span style='color:#b00'>{html.escape(str(exc).splitlines()[0])}</span>"
                )
                return
            image.value = self.png()
            status.value = html.escape(str(headline))

        for c in [*controls.values(), *policies.values()]:
            c.observe(changed, names="value")
        left = w.VBox([controls["strategy"], controls["update_speed"], controls["lifetime_days"]])
        right = w.VBox([controls["android_share"], *policies.values()])
        return w.VBox([w.HBox([left, right]), status, image])


def _plain(text: str) -> str:
    return text.replace("\\$", "$")


def _policy_name(policy: Any) -> str:
    return policy if isinstance(policy, str) else f"rotate every {policy.rotate_every}"


def canvas_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig`` drawn on its Agg canvas at its own size and dpi (fast zlib level:
    the widget shows it at once)."""
    import io

    from PIL import Image

    with styled():
        fig.canvas.draw()
    width, height = fig.canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


__all__ = ["CONTROLS", "Explorer", "Headline", "canvas_png"]
