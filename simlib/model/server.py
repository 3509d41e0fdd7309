"""Scenario schema: CAs, hosts and the dated events of the server side."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    ConfigDict,
    Field,
    model_validator,
)

from simlib.model.base import (
    MAX_CN,
    MAX_DAYS,
    MAX_ITEMS,
    CommonName,
    Date,
    HostName,
    KeyAlgorithm,
    Name,
    PlatformName,
    _check_increasing,
    _Model,
    _Named,
)
from simlib.model.effects import (
    ActiveIntermediates,
    AnchorChange,
    DayOf,
    Distrust,
    EventEffects,
    IssuanceEffect,
    PlannedSwitch,
    Reference,
    Reissue,
    Revocation,
    TrustEffect,
    list_refs,
)


class IntermediateSpec(_Named):
    name: CommonName
    key: KeyAlgorithm = "ec-p256"
    #: Issuance from this intermediate starts on ``active_from`` and stops on ``active_until``
    #: (exclusive: the first day it is no longer used).
    active_from: Date | None = None
    active_until: Date | None = None
    #: Expiry of the intermediate certificate itself (clients reject chains through it afterwards).
    not_after: Date | None = None
    #: Day the CA published it ahead of use: from then on "all intermediates" pins and
    #: ``intermediates:<ca>`` backups include it, before it issues anything.
    announced: Date | None = None


class CrossSign(_Model):
    """The CA's root is cross-signed by another CA's root and the cross-certificate is served."""

    ca: Name
    until: Date | None = None


class ValidityStep(_Model):
    from_: Date = Field(alias="from")
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CapStep(_Model):
    from_: Date = Field(alias="from")
    max_days: Annotated[int, Field(ge=1, le=MAX_DAYS)]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CASpec(_Named):
    name: CommonName  # also the organisation (O) of its certificates
    key: KeyAlgorithm = "ec-p256"
    root: CommonName | None = None  # common name of the root; default "<name> Root"
    root_not_after: Date | None = None
    intermediates: Annotated[list[IntermediateSpec], Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list
    )
    selection: Literal["fixed", "round_robin", "random"] = "fixed"
    validity_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 90
    validity_schedule: Annotated[list[ValidityStep], Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list
    )
    cross_signed_by: CrossSign | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_names(cls, data: Any) -> Any:
        """A pure resolve step: the root and the first intermediate are named after the CA."""
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            return data
        name, data = data["name"], dict(data)
        for default, field in ((f"{name} Int 1", "intermediates"), (f"{name} Root", "root")):
            if data.get(field) in (None, []) and len(default) > MAX_CN:
                raise ValueError(
                    f"name: too long for the default {field[:-1] if field.endswith('s') else field} "
                    f"name '{default[:20]}…' (certificate common names allow {MAX_CN} characters): "
                    f"shorten it or set '{field}'"
                )
        if not data.get("intermediates"):
            data["intermediates"] = [{"name": f"{name} Int 1"}]
        if data.get("root") is None:
            data["root"] = f"{name} Root"
        return data

    @model_validator(mode="after")
    def _defaults(self) -> CASpec:
        names = [i.name for i in self.intermediates]
        if len(set(names)) != len(names):
            raise ValueError("intermediate names must be unique within a CA")
        _check_increasing([step.from_ for step in self.validity_schedule], "validity_schedule")
        return self


class RotateEvery(_Model):
    rotate_every: Annotated[int, Field(ge=1, le=1_000_000)]


class PolicyStep(_Model):
    """From ``from`` on, issuances use this key policy and/or renewal rule (a tool's new default)."""

    from_: Date = Field(alias="from")
    key_policy: Literal["reuse", "rotate"] | RotateEvery | None = None
    renew_before_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    renew_at_fraction: Annotated[float, Field(gt=0, lt=1)] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check(self) -> PolicyStep:
        if self.renew_before_days is not None and self.renew_at_fraction is not None:
            raise ValueError("give renew_before_days or renew_at_fraction, not both")
        return self


class HostSpec(_Named):
    name: HostName
    ca: Name
    validity_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    renew_before_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    renew_at_fraction: Annotated[float, Field(gt=0, lt=1)] | None = None
    key_policy: Literal["reuse", "rotate"] | RotateEvery = "rotate"
    pregenerate_next_key: bool = False
    key: KeyAlgorithm = "ec-p256"
    first_issued: Date | None = None
    #: dated changes of key policy / renewal rule, by issue date (e.g. cert-manager 1.18.0)
    policy_schedule: Annotated[list[PolicyStep], Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _check(self) -> HostSpec:
        _check_increasing([step.from_ for step in self.policy_schedule], "policy_schedule")
        if self.renew_before_days is not None and self.renew_at_fraction is not None:
            raise ValueError("give renew_before_days or renew_at_fraction, not both")
        if (
            self.renew_before_days is not None
            and self.validity_days is not None
            and self.renew_before_days >= self.validity_days
        ):
            raise ValueError("renew_before_days must be smaller than validity_days")
        return self

    @property
    def rotate_every(self) -> int:
        """Issuances per key: 1 = new key each issuance, 0 = reuse forever."""
        return _rotate_every(self.key_policy)

    def policy_on(self, date: dt.date) -> tuple[int, int | None, float | None]:
        """(issuances per key, renew_before_days, renew_at_fraction) for an issuance on ``date``."""
        every, before, fraction = self.rotate_every, self.renew_before_days, self.renew_at_fraction
        for step in self.policy_schedule:
            if step.from_ > date:
                break
            if step.key_policy is not None:
                every = _rotate_every(step.key_policy)
            if step.renew_before_days is not None or step.renew_at_fraction is not None:
                before, fraction = step.renew_before_days, step.renew_at_fraction
        return every, before, fraction


def _rotate_every(policy: Literal["reuse", "rotate"] | RotateEvery) -> int:
    if policy == "reuse":
        return 0
    if policy == "rotate":
        return 1
    assert isinstance(policy, RotateEvery)
    return policy.rotate_every


# Events: each declares what it names and what it does (``simlib.model.effects``); a new event
# type is one class here and one member of the ``Event`` union.


class _Event(EventEffects, _Model):
    date: Date | None = None
    #: At most one a day on average (each occurrence re-issues certificates).
    rate_per_year: Annotated[float, Field(gt=0, le=365)] | None = None

    @model_validator(mode="after")
    def _when(self) -> _Event:
        if (self.date is None) == (self.rate_per_year is None):
            raise ValueError("give exactly one of 'date' or 'rate_per_year'")
        return self


class _DatedEvent(EventEffects, _Model):
    date: Date


class CAMigration(_DatedEvent):
    type: Literal["ca_migration"]
    to: str
    hosts: Annotated[list[str], Field(max_length=MAX_ITEMS)] | None = None  # default: every host
    when: Literal["immediate", "next_renewal"] = "immediate"

    def references(self) -> Iterator[Reference]:
        yield Reference("to", "ca", self.to)
        yield from list_refs("hosts", self.hosts, "host")

    def issuance_effects(self, host: str, day: int, day_of: DayOf) -> tuple[IssuanceEffect, ...]:
        if self.hosts is not None and host not in self.hosts:
            return ()
        if self.when == "immediate":
            return (Reissue(day, "ca_migration", switch_to=self.to),)
        return (PlannedSwitch(day, self.to),)


class KeyCompromise(_Event):
    type: Literal["key_compromise"]
    host: str | None = None  # default: every host

    def references(self) -> Iterator[Reference]:
        if self.host is not None:
            yield Reference("host", "host", self.host)

    def issuance_effects(self, host: str, day: int, day_of: DayOf) -> tuple[IssuanceEffect, ...]:
        if self.host not in (None, host):
            return ()
        return (Reissue(day, "key_compromise", rekey=True),)


class MassRevocation(_Event):
    type: Literal["mass_revocation"]
    ca: str
    within_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 5

    def references(self) -> Iterator[Reference]:
        yield Reference("ca", "ca", self.ca)

    def issuance_effects(self, host: str, day: int, day_of: DayOf) -> tuple[IssuanceEffect, ...]:
        return (Revocation(day, self.ca, self.within_days),)


class IntermediateChange(_DatedEvent):
    type: Literal["intermediate_change"]
    ca: str
    active: Annotated[list[str], Field(max_length=MAX_ITEMS)]

    def references(self) -> Iterator[Reference]:
        yield Reference("ca", "ca", self.ca)
        for j, name in enumerate(self.active):
            yield Reference(f"active[{j}]", "intermediate", name, of=self.ca)

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.active:
            yield "active", "needs at least one intermediate"

    def ca_effects(self, day_of: DayOf) -> tuple[ActiveIntermediates, ...]:
        return (ActiveIntermediates(day_of(self.date), self.ca, tuple(self.active)),)


class CADistrust(_DatedEvent):
    type: Literal["ca_distrust"]
    ca: str
    platforms: Annotated[list[PlatformName], Field(max_length=MAX_ITEMS)] | None = None
    replacement: str | None = None
    migrate_on: Date | None = None  # default: the distrust date
    when: Literal["immediate", "next_renewal"] = "next_renewal"

    def references(self) -> Iterator[Reference]:
        yield Reference("ca", "ca", self.ca)
        if self.replacement is not None:
            yield Reference("replacement", "ca", self.replacement)

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.migrate_on is not None and self.migrate_on > self.date:
            yield "migrate_on", "must be on or before the distrust date"

    def issuance_effects(self, host: str, day: int, day_of: DayOf) -> tuple[IssuanceEffect, ...]:
        # Hosts of the distrusted CA move to the replacement (every host: only those on the CA).
        if self.replacement is None:
            return ()
        on = day_of(self.migrate_on) if self.migrate_on else day
        if self.when == "immediate":
            reissue = Reissue(
                on, "distrust_migration", switch_to=self.replacement, only_if_on_ca=self.ca
            )
            return (reissue,)
        return (PlannedSwitch(on, self.replacement, only_if_on_ca=self.ca),)

    def trust_effects(self, day_of: DayOf) -> tuple[TrustEffect, ...]:
        platforms = tuple(self.platforms) if self.platforms else None
        return (Distrust(day_of(self.date), self.ca, platforms),)


class TrustStoreChange(_DatedEvent):
    type: Literal["trust_store_change"]
    platforms: Annotated[list[PlatformName], Field(max_length=MAX_ITEMS)] | None = None
    share: Annotated[float, Field(gt=0, le=1)] = 1.0
    add: Annotated[list[str], Field(max_length=MAX_ITEMS)] = Field(default_factory=list)
    remove: Annotated[list[str], Field(max_length=MAX_ITEMS)] = Field(default_factory=list)
    #: The reached devices build paths this way from the date on (default: unchanged).
    path_building: Literal["first_anchor", "legacy"] | None = None

    def references(self) -> Iterator[Reference]:
        yield from list_refs("add", self.add, "anchor")
        yield from list_refs("remove", self.remove, "anchor")

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.add and not self.remove and self.path_building is None:
            yield "", "a trust_store_change needs 'add', 'remove' or 'path_building'"

    def trust_effects(self, day_of: DayOf) -> tuple[TrustEffect, ...]:
        platforms = None if self.platforms is None else tuple(self.platforms)
        change = AnchorChange(
            day_of(self.date),
            platforms,
            self.share,
            tuple(self.add),
            tuple(self.remove),
            self.path_building,
        )
        return (change,)


Event = Annotated[
    CAMigration
    | KeyCompromise
    | MassRevocation
    | IntermediateChange
    | CADistrust
    | TrustStoreChange,
    Field(discriminator="type"),
]

#: Every event model, from the ``Event`` union (the one list of event types).
EVENT_TYPES: tuple[type[EventEffects], ...] = get_args(get_args(Event)[0])
