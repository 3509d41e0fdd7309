"""Results of a simulation: tidy tables, the certificate calendar and writing them to disk."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simlib.engine.durations import SpellHistogram, spell_histogram
from simlib.engine.metrics import incurable_column, summary_row
from simlib.fleet.releases import windows
from simlib.results.io import write_results
from simlib.results.metrics import rank_costs, timeseries_frame
from simlib.server.certificates import RealPki

if TYPE_CHECKING:
    from simlib.engine.simulation import Simulation
    from simlib.engine.tables import StrategyRun


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

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        sim = self.simulation
        series = {name: run.series for name, run in self.runs.items()}
        return timeseries_frame(self.scenario, series, self.active, sim.attack_labels, sim.platforms)

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
        rows = [
            {
                "strategy": name,
                "version": rel.label,
                "kind": rel.kind,
                "build_date": sc.date(rel.build_day),
                "release_date": sc.date(rel.release_day),
            }
            for name, run in self.runs.items()
            for rel in run.tables.releases
        ]
        return pd.DataFrame(rows)

    @cached_property
    def issuances(self) -> pd.DataFrame:
        """Every issuance with its real pins (computing them builds the certificates)."""
        cal = self.calendar
        real = RealPki.for_calendar(cal)
        frame = cal.to_frame()
        frame["spki_sha256"] = [real.spki_pin(it.leaf_key) for it in cal.issuances]
        frame["cert_sha256"] = [real.pin(it.cert) for it in cal.issuances]
        frame["intermediate_spki_sha256"] = [real.spki_pin(it.int_key) for it in cal.issuances]
        frame["root_spki_sha256"] = [real.spki_pin(it.root_key) for it in cal.issuances]
        frame["next_key_spki_sha256"] = [
            real.spki_pin(it.next_key) if it.next_key is not None else None for it in cal.issuances
        ]
        return frame

    # ------------------------------------------------------------------ outage durations
    def _spells(self, strategy: str) -> SpellHistogram:
        """Exact expected outage spells of one strategy, built once and shared."""
        if strategy not in self._spell_cache:
            tables = self.runs[strategy].tables
            self._spell_cache[strategy] = spell_histogram(self.simulation, tables, self._expected_cohorts)
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
        frames = [
            self._spells(name).weighted(name) for name in names
        ]
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
        run = self.runs[strategy]
        t = self.scenario.day(date)
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
