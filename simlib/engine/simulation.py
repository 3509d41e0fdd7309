"""The simulated world of one scenario: certificate calendar, client kinds, chains and strategies.

A :class:`Simulation` owns one scenario, its certificate calendar (the only server-side random
stream), the client kinds and the chain table; it owns no global state, so simulations run in
parallel freely. The work is done by one module per concept: :mod:`~simlib.engine.verdicts`
(static verdict tables), :mod:`~simlib.engine.dynamic` (dynamic pin lists),
:mod:`~simlib.engine.prompts` (forced updates), :mod:`~simlib.engine.aggregate` (daily series),
:mod:`~simlib.engine.incidents` (fix releases), :mod:`~simlib.engine.expected` (expected mode) and
:mod:`~simlib.engine.montecarlo`.
"""

from __future__ import annotations

import numpy as np

from simlib.clients.chains import ChainTable
from simlib.clients.trust import ClientKind, TrustModel, client_kinds
from simlib.engine.dynamic import dynamic_tables
from simlib.engine.tables import StrategyTables
from simlib.engine.verdicts import static_tables
from simlib.fleet.cohorts import Cohorts
from simlib.fleet.releases import Release, regular_releases
from simlib.model import LiteralPin, Scenario
from simlib.server.calendar import CertificateCalendar
from simlib.strategies.strategy import PinningStrategy, build_strategies, literal_identity


class Simulation:
    """One scenario: calendar, clients and chains, and the evaluation of every strategy."""

    def __init__(self, scenario: Scenario, *, seed: np.random.SeedSequence | None = None) -> None:
        self.scenario = scenario
        self.days = scenario.days
        self.seed = seed if seed is not None else np.random.SeedSequence(scenario.seed)
        self.calendar = CertificateCalendar(scenario, self.seed)
        self.clients: list[ClientKind] = client_kinds(scenario)
        self.trust = TrustModel(self.calendar)
        self.strategies = build_strategies(scenario.strategies)
        fix = scenario.fix_strategy_spec()
        #: The strategy fix releases switch to (incident_response.fix_strategy), if any.
        self.fix_strategy = PinningStrategy.from_spec(fix) if fix is not None else None
        #: (probe kind, strategy name) -> client -> (T,) whether a release built on day t with
        #: that strategy is locked on day t (incident response; see engine/incidents.py).
        self.fresh_locks: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        # Literal pins need ids before the chain table fixes the id space.
        for st in [*self.strategies, *([self.fix_strategy] if self.fix_strategy else [])]:
            for entry in st.backup:
                if isinstance(entry, LiteralPin):
                    literal_identity(self.calendar, entry.pin)
        self.table = ChainTable(self.calendar, self.trust, self.clients, scenario.attacks)
        f = scenario.fleet
        self.base_releases = regular_releases(self.days, f.release_every_days, f.build_lead_days)
        self.attack_labels = [a.label for a in scenario.attacks]
        self.platforms = list(dict.fromkeys(c.platform for c in self.clients))
        ir = scenario.incident_response
        self.comply_share = (
            ir.forced_update.comply_share if ir is not None and ir.forced_update else 0.0
        )
        self.update_host = ir.update_check_host if ir is not None else None
        #: Issuances that replace a served certificate inside the simulated period.
        self.certificate_changes = sum(
            1 for it in self.calendar.issuances if 0 < it.day < self.days
        )

    def tables(self, strategy: PinningStrategy, releases: list[Release]) -> StrategyTables:
        if strategy.dynamic is not None:
            return dynamic_tables(self, strategy, releases)
        return static_tables(self, strategy, releases)

    def cohorts_expected(self) -> Cohorts:
        return Cohorts.expected(self.scenario.fleet, self.days, self.comply_share)
