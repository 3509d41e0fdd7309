"""Which assumptions would change the answer: one-way sensitivity of the recommendation.

Pure functions of an expected-mode result (and its scenario); no plotting.

:func:`one_way` varies, one at a time, every numeric assumption: each input whose origin in
:func:`~simlib.report.inputs.scenario_inputs` is ``default`` (or whose source says
"assumption"), and the world's behaviour of :data:`BEHAVIOUR` (lags, release cadence, platform
shares, incident response, costs, event rates) whatever its origin — a given lag is still a
guess about users. Each varies over a stated range (:meth:`Assumption.range_label`), every
other input at its value; the search finds where the recommended group (the rank-1 strategies
of :func:`~simlib.report.decision.ranked_table`) changes: a coarse grid outward from the
current value on each side, then bisection to :attr:`Assumption.tolerance`. Cost inputs
(``economics.*``) change no simulation: they re-rank the same result. At most
``max_simulations`` simulations are run; grids go first, so the cap widens intervals before it
hides a change, and the result says so. Every variant keeps the scenario's seed.

The Monte Carlo band on the ranked table is :mod:`simlib.report.mc_band`.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from simlib.errors import ScenarioError
from simlib.model import Scenario, ScenarioWarning, apply_overrides, parse_path
from simlib.report.decision import CostInputs, cost_inputs, ranked_table

__all__ = [
    "BEHAVIOUR",
    "MAX_SIMULATIONS",
    "Assumption",
    "Change",
    "OneWay",
    "Sensitivity",
    "assumptions",
    "one_way",
]

#: Simulations one sensitivity search may run (the report's budget).
MAX_SIMULATIONS = 120
#: A positive scale varies from ×SCALE[0] to ×SCALE[1] of its current value.
SCALE = (0.25, 4.0)
#: A share of 0 varies over [0, ZERO_SHARE_TOP] (it has no scale).
ZERO_SHARE_TOP = 0.25
#: Inputs that are assumptions about the world, not choices, even when the scenario gives them.
BEHAVIOUR = re.compile(
    r"^(fleet\.(adoption\.|release_every_days$|build_lead_days$|platforms\.\w+\.share$)"
    r"|incident_response\.|economics\.|events\[\d+\]\.(rate_per_year|within_days|share)$"
    r"|hosts\[\d+\]\.renew_at_fraction$)"
)
#: Never varied: identities, the horizon, the run's own options and the strategies (choices).
_FIXED = re.compile(r"^(name|seed|start|end|monte_carlo\.|metrics\.|strategies\[|fleet\.users$)")
_SHARE_KEYS = ("share", "weight", "fraction", "threshold", "probability")


# ------------------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class Assumption:
    """One input to vary: its override path, current value and range. ``coupled`` paths are
    siblings rescaled so that their sum with this one stays 1 (mixture weights, platform
    shares); ``cost`` inputs re-rank the result without simulating."""

    path: str
    value: float
    low: float
    high: float
    share: bool
    integer: bool
    origin: str
    coupled: tuple[tuple[str, float], ...] = ()

    @property
    def cost(self) -> bool:
        return self.path.startswith("economics.")

    @property
    def range_label(self) -> str:
        span = f"{_v(self.low)}…{_v(self.high)}"
        if self.share and self.value == 0:
            return f"{span} (a share of 0: [0, {ZERO_SHARE_TOP:g}])"
        clip = ", clipped to [0, 1]" if self.share else ""
        return f"{span} (×{SCALE[0]:g}…×{SCALE[1]:g}{clip})"

    @property
    def tolerance(self) -> float:
        """Bisection stops when the change lies within this much (integers: adjacent values)."""
        if self.integer:
            return 1.0
        return 0.005 if self.share else 0.01 * abs(self.value)

    def overrides(self, x: float) -> dict[str, Any]:
        value: Any = round(x) if self.integer else float(x)
        out: dict[str, Any] = {self.path: value}
        rest = sum(w for _, w in self.coupled)
        for path, w in self.coupled:  # keep the sum at 1, siblings in their proportions
            out[path] = w * (1 - x) / rest if rest > 0 else (1 - x) / len(self.coupled)
        return out


def _get(data: Any, path: str) -> Any:
    for part in parse_path(path):
        data = data[part]
    return data


def _siblings(data: dict, path: str) -> tuple[tuple[str, float], ...] | None:
    """The other members of a sum-to-one group ``path`` belongs to (``()``: none), or ``None``
    for a group of one (nothing can vary)."""
    if m := re.fullmatch(r"(.*\.components)\[(\d+)\]\.weight", path):
        comps, i = _get(data, m.group(1)), int(m.group(2))
        paths = [(f"{m.group(1)}[{j}].weight", float(c["weight"])) for j, c in enumerate(comps)]
    elif m := re.fullmatch(r"(.*\.platforms)\.(\w+)\.share", path):
        plats = _get(data, m.group(1))
        names = list(plats)
        i = names.index(m.group(2))
        paths = [(f"{m.group(1)}.{n}.share", float(plats[n]["share"])) for n in names]
    else:
        return ()
    if len(paths) == 1:
        return None
    return tuple(p for j, p in enumerate(paths) if j != i)


def _span(value: float, share: bool, integer: bool) -> tuple[float, float] | str:
    """The range an input varies over, or why it cannot vary."""
    if share:
        lo, hi = (0.0, ZERO_SHARE_TOP) if value == 0 else (value * SCALE[0], value * SCALE[1])
        lo, hi = max(0.0, lo), min(1.0, hi)
    elif value > 0:
        lo, hi = value * SCALE[0], value * SCALE[1]
        if integer:
            lo, hi = max(1, round(lo)), round(hi)
    else:
        return f"{_v(value)} has no scale"
    return "its range is a single value" if lo == hi else (lo, hi)


def _priced(a: Assumption, inputs: CostInputs) -> Assumption | None:
    """A cost assumption at the value ``inputs`` use (a report may be given its own), or
    ``None`` when that value cannot vary."""
    field, _, label = a.path.removeprefix("economics.").partition(".")
    if field == "cost_per_locked_user_day":
        value = inputs.per_locked_user_day
    elif field == "attack_probability_per_day":
        value = inputs.attack_probability.get(label, a.value)
    elif label or len(set(inputs.loss.values())) == 1:  # one loss for every attack
        value = inputs.loss[label] if label else next(iter(inputs.loss.values()))
    else:
        value = a.value
    if value == a.value:
        return a
    span = _span(value, a.share, False)
    return None if isinstance(span, str) else replace(a, value=value, low=span[0], high=span[1])


def assumptions(scenario: Scenario) -> tuple[list[Assumption], dict[str, str]]:
    """The inputs :func:`one_way` varies, and those it skips with the reason."""
    from simlib.report.inputs import scenario_inputs

    data = scenario.to_dict()
    rows = scenario_inputs(scenario)
    out: list[Assumption] = []
    skipped: dict[str, str] = {}
    varied_groups: set[frozenset[str]] = set()
    for path, origin, source in zip(rows["input"], rows["origin"], rows["source"], strict=True):
        # Behaviour of the world (lags, cadence, response, costs) is assumed even when given.
        assumed = bool(BEHAVIOUR.match(path)) or (
            origin != "unknown" and (origin == "default" or "assumption" in source)
        )
        if not assumed or _FIXED.match(path):
            continue
        value = _get(data, path)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        coupled = _siblings(data, path)
        if coupled is None:
            skipped[path] = "the only member of a group that sums to 1"
            continue
        group = frozenset([path, *(p for p, _ in coupled)])
        if len(group) == 2 and group in varied_groups:
            continue  # one share of a pair says everything about the other
        varied_groups.add(group)
        keys = path.split(".")[-2:]  # attack_probability_per_day.<attack> is a share too
        share = any(k in key for key in keys for k in _SHARE_KEYS) and 0 <= value <= 1
        integer = isinstance(value, int)
        span = _span(value, share, integer)
        if isinstance(span, str):
            skipped[path] = span
            continue
        out.append(Assumption(path, value, *span, share, integer, origin, coupled))
    return out, skipped


# ------------------------------------------------------------------------------ search
@dataclass(frozen=True)
class Change:
    """The answer is the current one at ``same`` and ``answer`` at ``at`` (the nearest change
    on that side of the current value lies between them); ``exact``: bisected to tolerance."""

    same: float
    at: float
    answer: tuple[str, ...]
    exact: bool


@dataclass(frozen=True)
class Sensitivity:
    """One input's search: the nearest change below and above the current value (``None``: no
    change on the grid within the range), values validation refused, whether it was searched."""

    assumption: Assumption
    lower: Change | None
    higher: Change | None
    refused: tuple[float, ...]
    searched: bool


@dataclass(frozen=True)
class OneWay:
    """Every input's search, the current answer and what the search cost."""

    answer: tuple[str, ...]
    rows: tuple[Sensitivity, ...]
    skipped: dict[str, str]
    simulations: int
    max_simulations: int
    costs_rank: bool

    @property
    def capped(self) -> bool:
        """Whether the simulation cap cut a grid or a bisection short."""
        return any(
            not r.searched or any(c is not None and not c.exact for c in (r.lower, r.higher))
            for r in self.rows
        )

    def frame(self) -> pd.DataFrame:
        """The table of the report: input, origin, current value, range, change, new answer."""
        out = []
        for r in self.rows:
            a = r.assumption
            row = {"input": a.path, "origin": a.origin, "current": _v(a.value)}
            row["range"] = a.range_label
            changes = [
                (side, c) for side, c in (("lower", r.lower), ("higher", r.higher)) if c is not None
            ]
            if not changes:
                row["changes at"] = (
                    "does not change within the range"
                    if r.searched
                    else "not searched in full: cap reached"
                )
                row["new recommendation"] = ""
            else:
                row["changes at"] = "; ".join(_change_text(side, c) for side, c in changes)
                row["changes at"] += "" if r.searched else "; the cap cut the other side"
                row["new recommendation"] = "; ".join(_label(c.answer) for _, c in changes)
            if r.refused:
                row["range"] += f"; refused by validation: {', '.join(map(_v, r.refused))}"
            out.append(row)
        cols = ["input", "origin", "current", "range", "changes at", "new recommendation"]
        return pd.DataFrame(out, columns=cols)


def _v(x: float) -> str:
    if isinstance(x, int) or abs(x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _label(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names) + " (tied)"


def _change_text(side: str, c: Change) -> str:
    lo, hi = sorted((c.same, c.at))
    where = f"between {_v(lo)} and {_v(hi)}" if lo != hi else _v(lo)
    cut = " (cap reached before tolerance)" if not c.exact else ""
    return f"{'below' if side == 'lower' else 'above'} the current value: {where}{cut}"


def _top(table: pd.DataFrame) -> tuple[str, ...]:
    return tuple(str(n) for n in table.loc[table["rank"] == 1, "strategy"])


class _Search:
    """The answer at one value of one input, simulations counted, each value simulated once."""

    def __init__(self, result, inputs: CostInputs, cap: int) -> None:
        self.result, self.inputs, self.cap = result, inputs, cap
        self.simulations = 0
        self._seen: dict[tuple[str, float], tuple[str, ...] | None] = {}

    def can(self, a: Assumption) -> bool:
        return a.cost or self.simulations < self.cap

    def answer(self, a: Assumption, x: float) -> tuple[str, ...] | None:
        """The rank-1 group at ``x`` (``None``: validation refused the value)."""
        key = (a.path, x)
        if key not in self._seen:
            self._seen[key] = self._cost(a, x) if a.cost else self._simulate(a, x)
        return self._seen[key]

    def _simulate(self, a: Assumption, x: float) -> tuple[str, ...] | None:
        from simlib.api import simulate

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ScenarioWarning)
                variant = apply_overrides(self.result.scenario, a.overrides(x))
        except ScenarioError:
            return None
        self.simulations += 1
        return _top(ranked_table(simulate(variant), self.inputs))

    def _cost(self, a: Assumption, x: float) -> tuple[str, ...]:
        field, _, label = a.path.removeprefix("economics.").partition(".")
        i = self.inputs
        if field == "cost_per_locked_user_day":
            i = replace(i, per_locked_user_day=x)
        elif field == "attack_probability_per_day":
            i = replace(i, attack_probability={**i.attack_probability, label: x})
        elif field == "loss_per_successful_attack":
            loss = {k: (x if not label or k == label else v) for k, v in i.loss.items()}
            i = replace(i, loss=loss)
        return _top(ranked_table(self.result, i))


def _grid(a: Assumption, side: str) -> list[float]:
    """Two values on ``side`` of the current one, nearest first, the range's end last."""
    end = a.low if side == "lower" else a.high
    if (side == "lower") == (end >= a.value) or end == a.value:
        return []
    mid = math.sqrt(a.value * end) if not a.share and end > 0 else (a.value + end) / 2
    pts = [round(mid) if a.integer else mid, end]
    return [p for i, p in enumerate(pts) if p != a.value and p not in pts[:i]]


def _bisect(s: _Search, a: Assumption, same: float, at: float, answer: tuple[str, ...]) -> Change:
    base = s.answer(a, a.value)
    log = not a.share and same > 0 and at > 0 and not a.integer
    while abs(at - same) > a.tolerance:
        if not s.can(a):
            return Change(same, at, answer, False)
        mid = math.sqrt(same * at) if log else (same + at) / 2
        if a.integer:
            mid = math.floor(mid) if at > same else math.ceil(mid)
            if mid in (same, at):
                break
        got = s.answer(a, mid)
        if got is None:
            break  # validation refused a value between two it accepted: stop here
        if got == base:
            same = mid
        else:
            at, answer = mid, got
    return Change(same, at, answer, True)


def one_way(
    result,
    inputs: CostInputs | None = None,
    *,
    max_simulations: int = MAX_SIMULATIONS,
    only: Collection[str] | None = None,
) -> OneWay:
    """One-way sensitivity of the recommendation to every assumption (module docstring), or to
    those of ``only`` (override paths). Deterministic: every variant keeps the scenario seed."""
    if isinstance(max_simulations, bool) or not isinstance(max_simulations, int):
        raise TypeError(
            f"max_simulations must be a whole number, not {type(max_simulations).__name__}"
        )
    if max_simulations < 0:
        raise ScenarioError(
            "one_way()", "max_simulations", f"must be 0 or more, not {max_simulations}"
        )
    inputs = inputs or cost_inputs(result.scenario)
    base = _top(ranked_table(result, inputs))
    found, skipped = assumptions(result.scenario)
    if only is not None:
        found = [a for a in found if a.path in set(only)]
        skipped = {p: why for p, why in skipped.items() if p in set(only)}
    if not inputs.from_scenario:  # costs do not rank: they cannot change the answer
        found = [a for a in found if not a.cost]
    priced = {a.path: _priced(a, inputs) if a.cost else a for a in found}
    skipped |= {p: "a cost of 0 has no scale" for p, a in priced.items() if a is None}
    found = [a for a in priced.values() if a is not None]
    found.sort(key=lambda a: not a.cost)  # free re-rankings first, then simulations
    s = _Search(result, inputs, max_simulations)
    for a in found:
        s._seen[(a.path, a.value)] = base
    # Grids of every input first, so the cap shortens bisections before it hides a change.
    first: dict[tuple[str, str], tuple[float, float, tuple[str, ...]] | None] = {}
    refused: dict[str, list[float]] = {}
    searched: dict[str, bool] = {}
    for a in found:
        searched[a.path] = True
        for side in ("lower", "higher"):
            first[(a.path, side)], prev = None, a.value
            for x in _grid(a, side):
                if not s.can(a):
                    searched[a.path] = False
                    break
                got = s.answer(a, x)
                if got is None:
                    refused.setdefault(a.path, []).append(x)
                    continue
                if got != base:
                    first[(a.path, side)] = (prev, x, got)
                    break
                prev = x
    rows = []
    for a in found:
        sides = []
        for side in ("lower", "higher"):
            hit = first[(a.path, side)]
            sides.append(None if hit is None else _bisect(s, a, *hit))
        rows.append(
            Sensitivity(a, sides[0], sides[1], tuple(refused.get(a.path, ())), searched[a.path])
        )
    return OneWay(base, tuple(rows), skipped, s.simulations, max_simulations, inputs.from_scenario)
