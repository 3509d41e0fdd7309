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
hides a change, and the result says so. Every variant keeps the scenario's seed. A value
validation refuses cuts the range: the table says so in plain words, with the bound and how far
the search reached ("values of 1 and above are not valid: searched to 0.8334").

The Monte Carlo band on the ranked table is :mod:`simlib.report.mc_band`.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass, replace

import pandas as pd

from simlib.errors import ScenarioError
from simlib.model import ScenarioWarning, apply_overrides
from simlib.report.decision import CostInputs, cost_inputs, ranked_table
from simlib.report.varied import BEHAVIOUR, Assumption, assumptions, number, priced

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
    #: How refused values cut the range, in words ("values of 1 and above are not valid, …").
    limits: tuple[str, ...] = ()


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
            row = {"input": a.name, "origin": a.origin, "current": number(a.value)}
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
            if r.limits:
                row["range"] += "; " + "; ".join(r.limits)
            out.append(row)
        cols = ["input", "origin", "current", "range", "changes at", "new recommendation"]
        return pd.DataFrame(out, columns=cols)


def _label(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names) + " (tied)"


def _change_text(side: str, c: Change) -> str:
    lo, hi = sorted((c.same, c.at))
    where = f"between {number(lo)} and {number(hi)}" if lo != hi else number(lo)
    cut = " (cap reached before tolerance)" if not c.exact else ""
    return f"{'below' if side == 'lower' else 'above'} the current value: {where}{cut}"


def _top(table: pd.DataFrame) -> tuple[str, ...]:
    return tuple(str(n) for n in table.loc[table["rank"] == 1, "strategy"])


class _Search:
    """The answer at one value of one input, simulations counted, each value simulated once."""

    def __init__(self, result, inputs: CostInputs, cap: int) -> None:
        self.result, self.inputs, self.cap = result, inputs, cap
        self.simulations = 0
        self.refusals: dict[tuple[str, float], str] = {}  # why validation refused a value
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
        except ScenarioError as exc:
            self.refusals[(a.path, x)] = exc.message
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


_BOUND = re.compile(r"must be (<=|>=|<|>|≤|≥) (-?[\d.]+)")
_BEYOND = {
    "<": "values of {} and above are not valid",
    "<=": "values above {} are not valid",
    "≤": "values above {} are not valid",
    ">": "values of {} and below are not valid",
    ">=": "values below {} are not valid",
    "≥": "values below {} are not valid",
}


def _limits(s: _Search, a: Assumption, refused: list[float]) -> tuple[str, ...]:
    """Per side of the current value, how validation cut the range: the bound in plain words
    (from the refusal), and how far the search reached."""
    out = []
    for side in ("lower", "higher"):
        cut = [x for x in refused if (x < a.value) == (side == "lower")]
        if not cut:
            continue
        x = min(cut, key=lambda v: abs(v - a.value))
        why = s.refusals.get((a.path, x), "")
        m = _BOUND.search(why)
        words = (
            _BEYOND[m[1]].format(number(float(m[2])))
            if m
            else f"{number(x)} is not valid ({why.rstrip('.')})"
        )
        reached = [
            v for v in _grid(a, side) if v not in cut and s._seen.get((a.path, v)) is not None
        ]
        far = max(reached, key=lambda v: abs(v - a.value), default=a.value)
        out.append(f"{words}: searched to {number(far)}")
    return tuple(out)


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
    costed = {a.path: priced(a, inputs) if a.cost else a for a in found}
    skipped |= {p: "a cost of 0 has no scale" for p, a in costed.items() if a is None}
    found = [a for a in costed.values() if a is not None]
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
        cut = refused.get(a.path, [])
        rows.append(
            Sensitivity(a, sides[0], sides[1], tuple(cut), searched[a.path], _limits(s, a, cut))
        )
    return OneWay(base, tuple(rows), skipped, s.simulations, max_simulations, inputs.from_scenario)
