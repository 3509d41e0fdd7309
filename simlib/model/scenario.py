"""The scenario: the validated, immutable description of one simulation.

Every field is documented in ``docs/scenario.md``. A scenario is frozen: derive variants with
:func:`simlib.model.overrides.apply_overrides` (sweeps) or ``scenario.model_copy(update=...)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from simlib._dates import to_date
from simlib.model.base import (
    MAX_ATTACKS,
    MAX_CAS,
    MAX_EVENTS,
    MAX_HOSTS,
    MAX_ITEMS,
    MAX_SEED,
    MAX_STRATEGIES,
    Date,
    Name,
    _check_increasing,
    _Model,
)
from simlib.model.fleet import (
    Fleet,
)
from simlib.model.monitoring import Monitoring
from simlib.model.options import Economics, IncidentResponse, Metrics, MonteCarloSpec
from simlib.model.server import (
    CapStep,
    CASpec,
    Event,
    HostSpec,
)
from simlib.model.strategies import AttackSpec, StrategySpec


class Scenario(_Model):
    #: Where the scenario came from (a file path or "<scenario>"), so errors found later, while
    #: simulating, can name the file. Not a field: it is not part of the resolved scenario.
    _source: str = PrivateAttr(default="<scenario>")

    name: Name
    description: str = ""
    start: Date
    end: Date
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    fleet: Fleet
    cas: Annotated[list[CASpec], Field(max_length=MAX_CAS)]
    hosts: Annotated[list[HostSpec], Field(max_length=MAX_HOSTS)]
    validity_cap: (
        Literal["cabf", "none"] | Annotated[list[CapStep], Field(max_length=MAX_ITEMS)]
    ) = "cabf"
    events: Annotated[list[Event], Field(max_length=MAX_EVENTS)] = Field(default_factory=list)
    strategies: Annotated[list[StrategySpec], Field(max_length=MAX_STRATEGIES)]
    attacks: Annotated[list[AttackSpec], Field(max_length=MAX_ATTACKS)] = Field(
        default_factory=list
    )
    incident_response: IncidentResponse | None = None
    economics: Economics | None = None
    #: CT enforcement and monitoring (docs/model.md, "CT enforcement and monitoring").
    monitoring: Monitoring | None = None
    metrics: Metrics = Field(default_factory=Metrics)
    monte_carlo: MonteCarloSpec = Field(default_factory=MonteCarloSpec)

    @model_validator(mode="before")
    @classmethod
    def _resolve_real_world(cls, data: Any) -> Any:
        """A pure resolve step: the host shorthand (``ca: letsencrypt``, ``profile``, ``tool``,
        ``key_type``) becomes ordinary CAs, events and host fields, and a catalogue CA named only by a
        backup pin becomes a ``cas`` entry (simlib/model/realworld.py)."""
        if not isinstance(data, Mapping):
            return data
        limits = (("hosts", MAX_HOSTS), ("cas", MAX_CAS), ("strategies", MAX_STRATEGIES))
        if any(isinstance(data.get(k), list) and len(data[k]) > n for k, n in limits):
            return data  # too long: the schema says so before anything is resolved per item
        from simlib.model.realworld import resolve_hosts, resolve_pinned_cas

        return resolve_pinned_cas(resolve_hosts(data))

    @model_validator(mode="before")
    @classmethod
    def _resolve_update_check(cls, data: Any) -> Any:
        """A pure resolve step: the update check defaults to the first host, by name."""
        if not isinstance(data, Mapping):
            return data
        ir, hosts = data.get("incident_response"), data.get("hosts")
        if (
            isinstance(ir, Mapping)
            and ir.get("update_check_host", "__first__") == "__first__"
            and isinstance(hosts, list)
            and hosts
            and isinstance(hosts[0], Mapping)
            and isinstance(hosts[0].get("name"), str)
        ):
            return {**data, "incident_response": {**ir, "update_check_host": hosts[0]["name"]}}
        return data

    @field_validator("validity_cap")
    @classmethod
    def _cap_order(cls, value: Any) -> Any:
        if isinstance(value, list):
            _check_increasing([step.from_ for step in value], "validity_cap")
        return value

    @field_validator("attacks", mode="before")
    @classmethod
    def _attack_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": a} if isinstance(a, str) else a for a in value]
        return value

    @property
    def source(self) -> str:
        return self._source

    def __eq__(self, other: object) -> bool:
        # Same content, same scenario, wherever it was read from.
        return isinstance(other, Scenario) and self.__dict__ == other.__dict__

    __hash__ = _Model.__hash__

    def fix_strategy_spec(self) -> StrategySpec | None:
        """The strategy fix releases switch to (``incident_response.fix_strategy``), if any."""
        ir = self.incident_response
        if ir is None or ir.fix_strategy is None:
            return None
        if isinstance(ir.fix_strategy, str):
            return next((s for s in self.strategies if s.name == ir.fix_strategy), None)
        return ir.fix_strategy

    @property
    def days(self) -> int:
        """Number of simulated days (start and end inclusive)."""
        return (self.end - self.start).days + 1

    def day(self, date: dt.date | str) -> int:
        """Day index of ``date`` (a ``datetime.date``, ``'YYYY-MM-DD'`` or ``pandas.Timestamp``)."""
        return (to_date(date) - self.start).days

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML-ready dict of the resolved scenario (defaults filled in)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=False)
        if data.get("monitoring") is None:  # absent unless set: run ids and dumps stay as before
            data.pop("monitoring", None)
        return data

    def to_yaml(self) -> str:
        # libyaml's C emitter where available: 10× faster, same text
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(self.to_dict(), Dumper=dumper, sort_keys=False, allow_unicode=True)

    def validity_cap_steps(self) -> tuple[tuple[dt.date, int], ...]:
        """The cap schedule as (first issue day, max days) steps in date order: ``cabf`` from
        ``data/world/validity-caps.csv`` (its one home), ``none`` empty, or the scenario's list."""
        if self.validity_cap == "none":
            return ()
        if self.validity_cap == "cabf":
            from simlib.world.caps import schedule_steps

            return tuple((s.effective_date, s.max_days) for s in schedule_steps("cabf"))
        return tuple((s.from_, s.max_days) for s in self.validity_cap)

    def lifetime_days(self, host: HostSpec, ca: CASpec, date: dt.date) -> int:
        """The one lifetime rule: a certificate issued on ``date`` for ``host`` by ``ca`` lives
        the host's ``validity_days``, else the CA's (its ``validity_schedule`` step in force),
        capped by the validity cap in force on ``date``."""
        days = host.validity_days
        if days is None:
            days = ca.validity_days
            for step in ca.validity_schedule:
                if date >= step.from_:
                    days = step.days
        cap = self.validity_cap_days(date)
        return min(days, cap) if cap is not None else days

    def validity_cap_days(self, date: dt.date) -> int | None:
        """Longest lifetime of a certificate issued on ``date`` (None: no cap in force)."""
        from simlib.world.caps import step_on

        step = step_on(self.validity_cap_steps(), date, lambda s: s[0])
        return None if step is None else step[1]
