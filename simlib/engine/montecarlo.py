"""Monte Carlo mode: sample what expected mode averages over.

Each replication draws

* the fleet: users per client kind (multinomial over platform and trust-store groups), each
  user's persistent update lag (multinomial over lag cohorts), who obeys forced-update prompts
  (binomial) and daily installs (Poisson) — :meth:`simlib.fleet.cohorts.Cohorts.sample`;
* with ``server_draws: resample``, its own certificate calendar (random intermediates, mass
  revocation delays, rate-based incident dates); with ``fixed`` (default) every replication
  replays the scenario's seeded calendar, which is what expected mode evaluates;
* for dynamic-pinning strategies, each user's refresh phase and fetch outcomes, followed
  individually for a panel of ``panel_users`` users and scaled to the fleet.

Per replication it reports the same summary as expected mode plus per-user outage durations.
Because every count is linear in the sampled weights, the Monte Carlo mean converges to expected
mode (tests check agreement within 3 standard errors). Randomness comes only from the
:class:`numpy.random.SeedSequence` handed to :meth:`MonteCarlo.replicate`, so results do not depend
on how replications are spread over workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simlib._rng import child
from simlib.engine.aggregate import fleet_counts, series_many
from simlib.engine.durations import SpellTable, spell_stats, spell_table
from simlib.engine.incidents import run_strategy
from simlib.engine.metrics import incurable_column, summary_row
from simlib.engine.prompts import prompt_days
from simlib.engine.simulation import Simulation
from simlib.engine.tables import StrategyTables
from simlib.fleet.adoption import AdoptionCurve
from simlib.fleet.cohorts import Cohorts
from simlib.fleet.releases import normal_version, prompt_floor, windows
from simlib.model import Scenario

BAND_REPLICATIONS = 500  # daily quantile bands use the first replications only (bounded memory)


@dataclass
class _Prepared:
    """Everything that depends on the calendar only (reused across fixed-calendar replications)."""

    sim: Simulation
    tables: dict[str, StrategyTables] = field(default_factory=dict)
    spells: dict[str, SpellTable] = field(default_factory=dict)
    cache: dict = field(default_factory=dict)  # verdict arrays reused across replications


class MonteCarlo:
    """Replications of one scenario.

    Parameters
    ----------
    scenario : the scenario (its ``monte_carlo`` block gives the defaults below).
    server_draws : ``fixed`` or ``resample`` (see module docstring).
    panel_users : users followed one by one for dynamic-pinning strategies.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        server_draws: str | None = None,
        panel_users: int | None = None,
    ) -> None:
        self.scenario = scenario
        self.server_draws = server_draws or scenario.monte_carlo.server_draws
        self.panel_users = panel_users or scenario.monte_carlo.panel_users
        self.pmf = AdoptionCurve(scenario.fleet.adoption).lag_pmf(scenario.days)
        self._fixed: _Prepared | None = None

    # ------------------------------------------------------------------------ preparation
    def _prepare(self, seed: np.random.SeedSequence) -> _Prepared:
        sim = Simulation(self.scenario, seed=seed)
        prep = _Prepared(sim)
        if self.scenario.incident_response is None:
            for st in sim.strategies:
                tables = sim.tables(st, sim.base_releases)
                prep.tables[st.name] = tables
                if not tables.per_day:
                    prep.spells[st.name] = spell_table(sim, tables)
        return prep

    def prepared(self, seed: np.random.SeedSequence) -> _Prepared:
        if self.server_draws == "fixed":
            if self._fixed is None:
                self._fixed = self._prepare(np.random.SeedSequence(self.scenario.seed))
            return self._fixed
        return self._prepare(child(seed, 0))

    def sample_cohorts(self, sim: Simulation, rng: np.random.Generator) -> dict[str, Cohorts]:
        fleet = self.scenario.fleet
        shares = np.array([c.share for c in sim.clients])
        users = rng.multinomial(fleet.users, shares / shares.sum())
        per_day = fleet.new_installs.per_day if fleet.new_installs else 0.0
        return {
            c.name: Cohorts.sample(
                self.pmf, int(n), per_day * c.share, sim.days, rng, sim.comply_share
            )
            for c, n in zip(sim.clients, users, strict=True)
        }

    # ------------------------------------------------------------------------ replication
    def replicate(
        self, seed: np.random.SeedSequence, *, keep_series: bool = False
    ) -> tuple[list[dict], dict[str, np.ndarray]]:
        """One replication: summary rows (one per strategy) and, optionally, daily lockout rates."""
        prep = self.prepared(seed)
        sim = prep.sim
        rng = np.random.default_rng(child(seed, 1))
        cohorts = self.sample_cohorts(sim, rng)
        active = sum(c.active_users() for c in cohorts.values())
        labels = sim.attack_labels
        rows: list[dict] = []
        daily: dict[str, np.ndarray] = {}
        # Without incident fixes every static strategy shares the release list: count users per
        # version once and evaluate all static strategies together.
        batched = [
            st
            for st in sim.strategies
            if st.name in prep.tables and not prep.tables[st.name].per_day
        ]
        batch_series = {}
        if batched:
            tables = [prep.tables[st.name] for st in batched]
            counts = fleet_counts(sim, tables[0], cohorts)
            series_list = series_many(sim, tables, counts, cache=prep.cache)
            batch_series = dict(zip([st.name for st in batched], series_list, strict=True))
        for st in sim.strategies:
            tables = prep.tables.get(st.name)
            fixes = incurable = 0
            spells = prep.spells.get(st.name)
            if tables is None:  # incident response: fixes depend on this fleet's lockout
                run = run_strategy(sim, st, cohorts, active)
                tables, series, fixes = run.tables, run.series, len(run.fixes)
                incurable = run.incurable_days
                spells = None if tables.per_day else spell_table(sim, tables)
            else:
                series = batch_series.get(st.name)
            if tables.per_day:
                series, stats = self._panel(sim, tables, cohorts, active, rng)
            else:
                stats = spells.summary(sim, cohorts)
            row = {
                "strategy": st.name,
                "certificate_changes": sim.certificate_changes,
                **summary_row(self.scenario, series, active, labels),
                "fix_releases": fixes,
                **incurable_column(self.scenario, incurable),
                **stats,
            }
            rows.append(row)
            if keep_series:
                daily[st.name] = series["locked"] / active
        return rows, daily

    # ------------------------------------------------------------------ dynamic: the panel
    def _panel(
        self,
        sim: Simulation,
        tables: StrategyTables,
        cohorts: dict[str, Cohorts],
        active: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Follow individual users of a dynamic strategy: lags, refresh phases, fetch outcomes.

        Panel members are drawn from the whole fleet (users present at start and later
        installs) in proportion to the sampled cohorts; daily shares are estimated from the
        panel and scaled by the sampled number of active users.
        """
        dyn = tables.strategy.dynamic
        T = sim.days
        r = tables.release_days
        b = tables.build_days
        newest = windows(r, T)
        exp = b + tables.strategy.expires_after_days if tables.strategy.expires_after_days else None
        t = np.arange(T)
        total = sum(
            c.total_base + (c.install_totals.sum() if c.install_totals is not None else 0.0)
            for c in cohorts.values()
        )
        n_panel = int(min(self.panel_users, max(1.0, total)))
        keys = ["lock", "violation", *[f"protected:{a}" for a in sim.attack_labels]]
        sums = {k: np.zeros(T) for k in keys}
        present = np.zeros(T)
        lengths: list[np.ndarray] = []
        first_counts = 0
        fixes = [k for k, rel in enumerate(tables.releases) if rel.kind == "fix"]
        client_weights = np.array(
            [
                c.total_base + (c.install_totals.sum() if c.install_totals is not None else 0.0)
                for c in cohorts.values()
            ]
        )
        per_client = rng.multinomial(n_panel, client_weights / client_weights.sum())
        for (name, coh), n in zip(cohorts.items(), per_client, strict=True):
            if n == 0:
                continue
            client = next(c for c in sim.clients if c.name == name)
            # who: (install day, lag, complier), drawn from this client's sampled cohorts
            # the sampled install table is compact: columns are lags 0..L, then "never"
            weights = [coh.base]
            comp_w = [coh.base_complier]
            if coh.install_lags is not None:
                weights.append(coh.install_lags.ravel())
                comp_w.append(coh.install_lags_complier.ravel())
            flat, comp_w = np.concatenate(weights), np.concatenate(comp_w)
            pick = rng.choice(len(flat), size=n, p=flat / flat.sum())
            nb = len(coh.base)
            inst = np.maximum(pick - nb, 0)
            ncol = coh.install_lags.shape[1] if coh.install_lags is not None else 1
            install_day = np.where(pick < nb, 0, inst // ncol)
            lag_of_col = coh.lag_index() if coh.install_lags is not None else np.zeros(1, dtype=int)
            lag = np.where(pick < nb, pick, lag_of_col[inst % ncol])
            complier = rng.random(n) < np.where(
                flat[pick] > 0, comp_w[pick] / np.maximum(flat[pick], 1e-300), 0.0
            )
            # version path
            version = np.maximum(
                normal_version(newest, lag[:, None], t[None, :]), newest[install_day][:, None]
            )
            if fixes and sim.comply_share > 0 and complier.any():
                j = newest[install_day][complier]
                E = prompt_days(sim, tables, client, j, lag[complier], fixes)
                version[complier] = np.maximum(version[complier], prompt_floor(E, fixes, t))
            alive = t[None, :] >= install_day[:, None]
            # fetch history: attempts every R days at a random phase, each succeeding w.p. p
            phase = rng.integers(dyn.refresh_days, size=n)
            attempt = ((t[None, :] - phase[:, None]) % dyn.refresh_days) == 0
            success = attempt & (rng.random((n, T)) < dyn.fetch_success)
            last = np.maximum.accumulate(np.where(success, t[None, :], -1), axis=1)
            fstar = np.maximum(b[version], last)
            fstar = np.clip(fstar, 0, T - 1)
            checked = t[None, :] < exp[version] if exp is not None else np.ones((n, T), dtype=bool)
            built = b[version] <= t[None, :]
            present += alive.sum(axis=0)
            ev = tables.events[name]
            for k in keys:
                on, off = ev[k]
                val = np.where(checked, on(t[None, :], fstar), off[None, :]) & built & alive
                sums[k] += val.sum(axis=0)
                if k == "lock":
                    padded = np.zeros((n, T + 2), dtype=np.int8)
                    padded[:, 1:-1] = val
                    d = np.diff(padded, axis=1)
                    rs, starts = np.nonzero(d == 1)
                    _re, ends = np.nonzero(d == -1)
                    lengths.append(ends - starts)
                    first_counts += len(np.unique(rs))
        share = {k: v / np.maximum(present, 1) for k, v in sums.items()}
        series = {
            "locked": share["lock"] * active,
            "violation": share["violation"] * active,
            **{k: share[k] * active for k in keys if k.startswith("protected:")},
        }
        for p in sim.platforms:
            series[f"locked:{p}"] = np.full(T, np.nan)  # not split by platform in the panel
        series["newly_locked"] = np.clip(
            np.diff(series["locked"], prepend=series["locked"][0]), 0, None
        )
        scale = total / n_panel
        all_len = np.concatenate(lengths) if lengths else np.zeros(0, dtype=int)
        stats = spell_stats(
            all_len,
            np.zeros(len(all_len), dtype=bool),
            np.full(len(all_len), scale),
            first_counts * scale,
        )
        return series, stats


__all__ = ["BAND_REPLICATIONS", "MonteCarlo", "child"]
