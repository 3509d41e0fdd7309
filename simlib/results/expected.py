"""Results of a simulation: tidy tables, the certificate calendar and writing them to disk.

The result also answers the questions the decision report and the risk calendar ask — which
days break a strategy (:meth:`SimulationResult.breaks`), which lockouts no release can cure
(:meth:`~SimulationResult.incurable`), the expected cost under given inputs, the chain served
and the pins shipped on a day — so they never read engine tables (tests/results/test_verbs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simlib.engine.durations import SpellHistogram, spell_histogram, spell_key
from simlib.engine.incidents import run_incurable
from simlib.engine.metrics import (
    break_mask,
    expected_cost,
    exposed_share,
    incurable_column,
    summary_row,
)
from simlib.errors import ScenarioError, clip
from simlib.fleet.releases import windows
from simlib.results.io import write_results
from simlib.results.metrics import rank_costs, timeseries_frame
from simlib.server.certificates import RealPki

if TYPE_CHECKING:
    from simlib.engine.simulation import Simulation
    from simlib.engine.tables import StrategyRun


@dataclass(frozen=True)
class Pin:
    """One key of a chain or pin set: its SPKI pin (base64 SHA-256; for a ``leaf_cert`` pin the
    certificate's SHA-256), label, and whether it is the key of a real CA certificate (else a
    simulated stand-in)."""

    sha256: str
    label: str
    real: bool


@dataclass(frozen=True)
class ShippedPins:
    """The pins a release of ``strategy`` built on ``day`` ships for ``host``: the ATS leaf and
    CA lists, and the same pins split into the primary (the pin level's keys in the chain served
    that day) and the backups (ordered by identity, as ``simlib emit --backup`` takes them)."""

    strategy: str
    host: str
    day: int
    leaf: tuple[Pin, ...]
    ca: tuple[Pin, ...]
    primary: tuple[Pin, ...]
    backup: tuple[Pin, ...]


class SimulationResult:
    """What :func:`simlib.simulate` returns.

    Attributes
    ----------
    timeseries : tidy DataFrame, one row per (date, strategy).
    summary : one row per strategy.
    issuances : the server's certificate calendar with real SPKI and certificate pins.
    releases : every app version per strategy (regular and incident-fix releases).
    """

    def __init__(
        self,
        sim: Simulation,
        runs: dict[str, StrategyRun],
        active: np.ndarray,
        mode: str = "expected",
    ) -> None:
        self.simulation = sim
        self.scenario = sim.scenario
        self.calendar = sim.calendar
        self.runs = runs
        self.active = active
        self.mode = mode
        self._spell_cache: dict[str, SpellHistogram] = {}
        self._spells_by_key: dict[bytes, SpellHistogram] = {}  # strategies with equal verdicts
        self._incurable: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def platforms(self) -> list[str]:
        """The platforms simulated (those with a client kind), in scenario order."""
        return list(self.simulation.platforms)

    @property
    def strategies(self) -> list[str]:
        """The strategy names, in scenario order."""
        return list(self.runs)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        sim = self.simulation
        series = {name: run.series for name, run in self.runs.items()}
        return timeseries_frame(
            self.scenario, series, self.active, sim.attack_labels, sim.platforms
        )

    @cached_property
    def summary(self) -> pd.DataFrame:
        labels = self.simulation.attack_labels
        rows = [
            {
                "strategy": name,
                "certificate_changes": self.simulation.certificate_changes,
                **summary_row(self.scenario, run.series, self.active, labels),
                "fix_releases": len(run.fixes),
                **incurable_column(self.scenario, run.incurable_days),
            }
            for name, run in self.runs.items()
        ]
        return rank_costs(pd.DataFrame(rows))

    @cached_property
    def releases(self) -> pd.DataFrame:
        sc = self.scenario
        rows = [(name, rel) for name, run in self.runs.items() for rel in run.tables.releases]
        # built by columns: a frame from a list of dicts costs more than the rows themselves
        return pd.DataFrame(
            {
                "strategy": [name for name, _ in rows],
                "version": [rel.label for _, rel in rows],
                "kind": [rel.kind for _, rel in rows],
                "build_date": [sc.date(rel.build_day) for _, rel in rows],
                "release_date": [sc.date(rel.release_day) for _, rel in rows],
            }
        )

    @cached_property
    def issuances(self) -> pd.DataFrame:
        """Every issuance with its real pins (computing them builds the certificates)."""
        cal = self.calendar
        real = self._real
        frame = cal.to_frame()
        pins = pd.DataFrame(
            {
                "spki_sha256": [real.spki_pin(it.leaf_key) for it in cal.issuances],
                "cert_sha256": [real.pin(it.cert) for it in cal.issuances],
                "intermediate_spki_sha256": [real.spki_pin(it.int_key) for it in cal.issuances],
                "root_spki_sha256": [real.spki_pin(it.root_key) for it in cal.issuances],
                "next_key_spki_sha256": [
                    real.spki_pin(it.next_key) if it.next_key is not None else None
                    for it in cal.issuances
                ],
            },
            index=frame.index,
        )
        # one concatenation: five column insertions cost more than the pins on small calendars
        return pd.concat([frame, pins], axis=1)

    # ------------------------------------------------------------ per-strategy verdicts
    def breaks(self, strategy: str) -> np.ndarray:
        """(T,) whether each day breaks ``strategy``: newly locked users above
        ``metrics.outage_threshold`` of the active users (the summary's ``lockout_events``)."""
        series = self._run(strategy).series
        return break_mask(
            series["newly_locked"], self.active, self.scenario.metrics.outage_threshold
        )

    def _incurable_of(self, strategy: str) -> tuple[np.ndarray, np.ndarray]:
        if strategy not in self._incurable:
            run = self._run(strategy)
            self._incurable[strategy] = run_incurable(
                self.simulation, self._strategy(strategy), run
            )
        return self._incurable[strategy]

    def incurable_users(self, strategy: str) -> np.ndarray:
        """(T,) locked users of ``strategy`` no app release can cure on each day: their client
        kind is locked on a release built that day too (with the fix strategy, if incident
        response sets one)."""
        return self._incurable_of(strategy)[1]

    def incurable(self, strategy: str) -> np.ndarray:
        """(T,) whether each day is *incurable* for ``strategy``: users are locked and all of
        them are incurable (:meth:`incurable_users`), so a fix would help nobody. The summary's
        ``incurable_lockout_days`` counts these days."""
        return self._incurable_of(strategy)[0]

    def incurable_user_days(self) -> dict[str, float]:
        """Per strategy, the incurable locked user-days (:meth:`incurable_users` summed)."""
        return {name: float(self.incurable_users(name).sum()) for name in self.runs}

    def expected_costs(
        self,
        per_locked_user_day: float,
        attack_probability: dict[str, float],
        loss: dict[str, float],
    ) -> pd.DataFrame:
        """Per strategy ``outage_cost, attack_loss, expected_cost`` under these inputs
        (:func:`simlib.engine.metrics.expected_cost`, as the summary computes it from the
        scenario's economics)."""
        rows = []
        for name, run in self.runs.items():
            rate = run.series["locked"] / self.active
            exposed = {
                a: exposed_share(rate, run.series[f"protected:{a}"] / self.active)
                for a in attack_probability
            }
            outage, attack = expected_cost(
                run.series["locked"], exposed, per_locked_user_day, attack_probability, loss
            )
            rows.append(
                {
                    "strategy": name,
                    "outage_cost": outage,
                    "attack_loss": attack,
                    "expected_cost": outage + attack,
                }
            )
        return pd.DataFrame(
            rows, columns=["strategy", "outage_cost", "attack_loss", "expected_cost"]
        )

    # ------------------------------------------------------------- chains and pins
    def served_chain(self, host: str, day: int) -> tuple[Pin, ...]:
        """The chain ``host`` served on ``day`` (an index from the start): leaf key,
        intermediate, root."""
        it = self.calendar.serving(self._host(host), self._day(day))
        return tuple(self._pin(i) for i in (it.leaf_key, it.int_key, it.root_key))

    def shipped_pins(self, strategy: str, host: str, day: int = 0) -> ShippedPins:
        """The static pins a release of ``strategy`` built on ``day`` ships for ``host`` (empty
        when the strategy does not pin that host)."""
        strat = self._strategy(strategy)
        host, day = self._host(host), self._day(day)
        cal = self.calendar
        pinset = strat.pins(cal, host, day)
        primary = (
            strat.targets(cal, cal.serving(host, day), day)
            if strat.pins_host(host)
            else frozenset()
        )

        def pins(ids) -> tuple[Pin, ...]:
            return tuple(self._pin(i) for i in sorted(ids))

        return ShippedPins(
            strategy,
            host,
            day,
            pins(pinset.leaf),
            pins(pinset.ca),
            pins(primary),
            pins((pinset.leaf | pinset.ca) - primary),
        )

    def _pin(self, ident: int) -> Pin:
        item = self.calendar.registry[ident]
        return Pin(
            self._real.pin(ident), item.label, bool(item.real)
        )  # a leaf_cert: its certificate pin

    @cached_property
    def _real(self) -> RealPki:
        return RealPki.for_calendar(self.calendar)

    def _strategy(self, name: str):
        self._run(name)  # an unknown name: one line naming the known ones
        return next(st for st in self.simulation.strategies if st.name == name)

    def _day(self, day: object) -> int:
        """A day index of the run from an index or a date; outside it, one line (a negative
        index would silently count from the end)."""
        try:
            t = int(day) if isinstance(day, (int, np.integer)) else self.scenario.day(day)
        except ValueError as exc:
            raise ScenarioError("<result>", "date", str(exc)) from None
        if not 0 <= t < self.scenario.days:
            last = self.scenario.date(self.scenario.days - 1)
            raise ScenarioError(
                "<result>",
                "day",
                f"{clip(day)} is outside the run ({self.scenario.start} to {last})",
            )
        return t

    def _host(self, host: str) -> str:
        if host not in self.calendar.served:
            names = ", ".join(clip(h, 60) for h in self.calendar.served)
            raise ScenarioError(
                "<result>", "host", f"no host {clip(host)!r}; the scenario has {names}"
            )
        return host

    def _run(self, strategy: str) -> StrategyRun:
        run = self.runs.get(strategy) if isinstance(strategy, str) else None
        if run is None:
            names = ", ".join(clip(n, 40) for n in self.runs)
            raise ScenarioError(
                "<result>", "strategy", f"no strategy {clip(strategy)!r}; the result has {names}"
            )
        return run

    # ------------------------------------------------------------------ outage durations
    def _spells(self, strategy: str) -> SpellHistogram:
        """Exact expected outage spells of one strategy, built once and shared."""
        if strategy not in self._spell_cache:
            tables = self._run(strategy).tables
            key = spell_key(self.simulation, tables)
            hist = None if key is None else self._spells_by_key.get(key)
            if hist is None:
                hist = spell_histogram(self.simulation, tables, self._expected_cohorts)
                if key is not None:
                    self._spells_by_key[key] = hist
            self._spell_cache[strategy] = hist
        return self._spell_cache[strategy]

    @cached_property
    def _expected_cohorts(self):
        return self.simulation.cohorts_expected()

    def outage_durations(self, strategy: str | None = None) -> pd.DataFrame:
        """Exact expected distribution of per-user outage spells (users present at start).

        One row per (strategy, duration in days, censored): the expected number of outage
        spells of that length. ``censored`` spells were still running on the last day.
        """
        names = [strategy] if strategy else list(self.runs)
        frames = [self._spells(name).weighted(name) for name in names]
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def duration_stats(self) -> pd.DataFrame:
        """Per strategy, the per-user outage statistics Monte Carlo reports, exactly
        (``users_ever_locked, outage_spells, mean/p50/p95/max_outage_days, censored_spells``).
        Dynamic strategies get NaN: their spells need Monte Carlo."""
        rows = []
        for name, run in self.runs.items():
            if run.tables.per_day:
                rows.append({"strategy": name})
                continue
            spells = self._spells(name)
            rows.append({"strategy": name, **spells.summary()})
        return pd.DataFrame(rows)

    def locked_versions(self, strategy: str, date) -> pd.DataFrame:
        """Which versions are locked on a date, per client kind (for explanation and plots)."""
        run = self._run(strategy)
        t = self._day(date)
        seg = run.tables.seg_of_day[t]
        rows = []
        newest = windows(run.tables.release_days, self.scenario.days)[t]
        for c in self.simulation.clients:
            lk = run.tables.lock[c.name][:, seg]
            for v, rel in enumerate(run.tables.releases[: newest + 1]):
                rows.append(
                    {
                        "client": c.name,
                        "version": rel.label,
                        "locked": float(lk[v]),
                        "users": float(run.counts[c.name].exactly(v, t)),
                    }
                )
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------------- output
    def write(self, out_dir: str | Path, formats: tuple[str, ...] = ("csv",)) -> list[Path]:
        """Write timeseries, summary, durations, issuances, releases and the resolved scenario,
        each file atomically."""
        tables = {
            "timeseries": self.timeseries,
            "summary": self.summary,
            "durations": self.duration_stats,
            "issuances": self.issuances,
            "releases": self.releases,
        }
        return write_results(out_dir, tables, formats, self.scenario.to_yaml())
