"""What the table builders read of a simulation, as a protocol.

:mod:`~simlib.engine.verdicts` and :mod:`~simlib.engine.dynamic` build a strategy's tables from a
simulation's state; :class:`~simlib.engine.simulation.Simulation` calls them. Typing their
argument with this protocol keeps every import one-way (``simulation`` imports them, they never
import ``simulation``, not even for type checking).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from simlib.clients.chains import ChainTable
    from simlib.clients.trust import ClientKind
    from simlib.model import Scenario
    from simlib.server.calendar import CertificateCalendar

__all__ = ["SimulationState"]


class SimulationState(Protocol):
    """The attributes of :class:`~simlib.engine.simulation.Simulation` the builders read."""

    scenario: Scenario
    days: int
    calendar: CertificateCalendar
    clients: list[ClientKind]
    table: ChainTable
    attack_labels: list[str]
