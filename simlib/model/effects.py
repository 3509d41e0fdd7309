"""What scenario events refer to and what they do, as small frozen values (no pydantic).

Each event model (``model/server.py``) says what it names (``references``: checked by
``model/checks.py``) and what it does, as values the lower-level consumers read by attribute:
effects on a host's issuances (``issuance_effects``: the calendar's schedule), on a CA's active
intermediates (``ca_effects``) and on what clients trust (``trust_effects``: ``clients/trust.py``).
Days are indexes from the scenario start; ``day_of`` is ``Scenario.day`` (the scenario sits above
the events, so it is passed in).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

DayOf = Callable[[dt.date], int]


@dataclass(frozen=True)
class Reference:
    """A name an event refers to: ``path`` inside the event (``hosts[1]``), what it names and the
    name. ``kind`` is ``ca``, ``host``, ``intermediate`` (of the CA ``of``) or ``anchor``
    (``<ca>`` for its root or ``<ca>/<intermediate>``)."""

    path: str
    kind: Literal["ca", "host", "intermediate", "anchor"]
    name: str
    of: str | None = None


@dataclass(frozen=True)
class Reissue:
    """The host re-issues on ``day`` (outside the renewal rule), with a new key if ``rekey``,
    first moving to CA ``switch_to`` — only while it is on ``only_if_on_ca`` when that is set,
    and the re-issue itself happens only then."""

    day: int
    reason: str
    rekey: bool = False
    switch_to: str | None = None
    only_if_on_ca: str | None = None


@dataclass(frozen=True)
class PlannedSwitch:
    """From ``day`` on, the host's next issuance comes from CA ``to`` (if on ``only_if_on_ca``)."""

    day: int
    to: str
    only_if_on_ca: str | None = None


@dataclass(frozen=True)
class Revocation:
    """CA ``ca`` revokes on ``day`` what it issued before; the host re-issues 0..``within_days``
    days later (drawn from the host's stream)."""

    day: int
    ca: str
    within_days: int


IssuanceEffect = Reissue | PlannedSwitch | Revocation


@dataclass(frozen=True)
class ActiveIntermediates:
    """From ``day`` on, CA ``ca`` issues from exactly these intermediates."""

    day: int
    ca: str
    active: tuple[str, ...]


@dataclass(frozen=True)
class AnchorChange:
    """On ``day`` a ``share`` of the devices of ``platforms`` (None: all) gain the anchors ``add``
    and lose ``remove`` (references as in :class:`Reference`, kind ``anchor``), and build paths
    ``path_building`` from then on (None: unchanged). Each change splits a platform's devices in
    two groups."""

    day: int
    platforms: tuple[str, ...] | None
    share: float
    add: tuple[str, ...]
    remove: tuple[str, ...]
    path_building: Literal["first_anchor", "legacy"] | None

    def reaches(self, platform: str) -> bool:
        return self.platforms is None or platform in self.platforms


@dataclass(frozen=True)
class Distrust:
    """From ``day`` on, clients of ``platforms`` (None: all) refuse certificates of CA ``ca``
    issued on or after ``day``."""

    day: int
    ca: str
    platforms: tuple[str, ...] | None


TrustEffect = AnchorChange | Distrust


class EventEffects:
    """What an event declares; an event overrides the parts that apply to it."""

    def references(self) -> Iterator[Reference]:
        return iter(())

    def problems(self) -> Iterator[tuple[str, str]]:
        """(path inside the event, message) for rules checked with the scenario's other checks."""
        return iter(())

    def issuance_effects(self, host: str, day: int, day_of: DayOf) -> tuple[IssuanceEffect, ...]:
        """Effects on ``host``'s issuances of an occurrence on ``day``."""
        return ()

    def ca_effects(self, day_of: DayOf) -> tuple[ActiveIntermediates, ...]:
        return ()

    def trust_effects(self, day_of: DayOf) -> tuple[TrustEffect, ...]:
        return ()


def list_refs(
    path: str, names: list[str] | None, kind: Literal["host", "anchor"]
) -> Iterator[Reference]:
    return (Reference(f"{path}[{j}]", kind, name) for j, name in enumerate(names or []))
