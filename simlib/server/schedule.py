"""One host's issuances: renewals, key changes, intermediate choice and the events' effects.

Events declare their effects on a host (:mod:`simlib.model.effects`); this loop reads them by
attribute and knows nothing of event types:

* :class:`~simlib.model.effects.Reissue` forces an issuance on its day (first switching CA when it
  says so; one limited to a CA applies only while the host is on it), with a new key if
  ``rekey``, and restarts the renewal clock;
* :class:`~simlib.model.effects.PlannedSwitch` moves the host to another CA at its first
  issuance on or after the day;
* :class:`~simlib.model.effects.Revocation` hits a certificate of the revoked CA issued before
  the day and still served on it: the host re-issues a uniformly drawn 0..``within_days`` days
  later (from the host's own stream).

Keys: ``reuse``, ``rotate`` or ``rotate_every: N`` as in force on the issue day; with
``pregenerate_next_key`` the published next key goes into service at each key change.
Intermediates: ``fixed`` (first active), ``round_robin`` (per host), ``random`` (uniform over the
active ones, from the host's stream).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from simlib.errors import ScenarioError
from simlib.model import CASpec, HostSpec, Scenario
from simlib.model.effects import DayOf, EventEffects, PlannedSwitch, Reissue, Revocation
from simlib.server.identities import Registry
from simlib.server.lifetimes import lifetime_days, renew_offset

#: (day, event index, event): a dated event on its day, a rate-based one on each drawn day
Occurrence = tuple[int, int, EventEffects]


@dataclass(frozen=True)
class Issuance:
    """One certificate issued for a host. Days are indexes from the scenario start."""

    index: int
    host: str
    seq: int  # n-th issuance on this host
    day: int  # issue day (served from the start of this day)
    end_day: int  # last day served (inclusive)
    ca: str
    intermediate: str
    int_key: int
    root_key: int
    leaf_key: int
    cert: int  # identity id of this certificate (for leaf_cert pins)
    next_key: int | None  # pre-generated next key, published while this certificate is served
    serial: int
    lifetime_days: int
    reason: str

    @property
    def expires_day(self) -> int:
        """Last day on which the certificate is valid (not_after falls on this day)."""
        return self.day + self.lifetime_days - 1


@dataclass
class CAKeys:
    """A CA's key identities, real certificate files and dated active sets."""

    spec: CASpec
    root_key: int
    int_keys: dict[str, int]
    #: root/intermediate name -> real certificate file (keys may be shared: the file is per name)
    files: dict[str, str] = field(default_factory=dict)
    overrides: list[tuple[int, list[str]]] = field(default_factory=list)  # (day, active set)


class Issuer(Protocol):
    """What the schedule reads of a :class:`~simlib.server.calendar.CertificateCalendar`."""

    scenario: Scenario
    registry: Registry
    days: int
    cas: dict[str, CAKeys]

    def active_intermediates(self, ca: str, day: int) -> list[str]: ...


@dataclass
class HostEffects:
    """The effects of every occurrence on one host, by kind, in occurrence order."""

    reissues: list[Reissue] = field(default_factory=list)
    switches: list[PlannedSwitch] = field(default_factory=list)
    revocations: list[Revocation] = field(default_factory=list)

    @classmethod
    def collect(cls, host: str, occurrences: Sequence[Occurrence], day_of: DayOf) -> HostEffects:
        out = cls()
        into: dict[type, list] = {
            Reissue: out.reissues,
            PlannedSwitch: out.switches,
            Revocation: out.revocations,
        }
        for day, _i, event in occurrences:
            for effect in event.issuance_effects(host, day, day_of):
                kind = into.get(type(effect))
                if kind is None:  # a new kind of effect needs its rule in the loop below
                    raise TypeError(f"the schedule has no rule for {type(effect).__name__}")
                kind.append(effect)
        return out


def serial(seed: int, host: str, seq: int) -> int:
    digest = hashlib.sha256(f"{seed}|{host}|{seq}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1 or 1


def schedule_host(
    cal: Issuer,
    host: HostSpec,
    occurrences: Sequence[Occurrence],
    rng: np.random.Generator,
    first_index: int,
) -> list[Issuance]:
    """Every issuance of ``host``; global indexes start at ``first_index``."""
    sc, reg, T = cal.scenario, cal.registry, cal.days
    key_no = 0

    def new_key() -> int:
        nonlocal key_no
        key_no += 1
        return reg.key(
            "leaf", f"{host.name} key {key_no}", host.key, f"host|{host.name}|key|{key_no}"
        )

    effects = HostEffects.collect(host.name, occurrences, sc.day)
    reissues = list(effects.reissues)  # revocations add theirs as they hit

    current_key = new_key()
    next_key = new_key() if host.pregenerate_next_key else None
    uses_of_key = 0
    ca_name = host.ca
    applied: set[int] = set()
    handled: set[int] = set()
    rr_counter = 0
    items: list[Issuance] = []
    day = sc.day(host.first_issued) if host.first_issued else 0
    reasons = ["initial"]
    while day <= T - 1:
        todays = [r for r in reissues if r.day == day]
        if items:  # next-renewal migrations wait for a renewal
            for j, switch in enumerate(effects.switches):
                if (
                    j not in applied
                    and switch.day <= day
                    and switch.only_if_on_ca in (None, ca_name)
                ):
                    ca_name = switch.to
                    applied.add(j)
                    reasons.append("ca_migration")
        for r in todays:
            if r.switch_to and r.only_if_on_ca in (None, ca_name):
                ca_name = r.switch_to
        rotate_every, renew_before, renew_fraction = host.policy_on(sc.date(day))
        if items and (
            any(r.rekey for r in todays) or (rotate_every and uses_of_key >= rotate_every)
        ):
            # The published next key goes into service; a fresh one is published in its place.
            current_key, next_key = (
                (next_key, new_key()) if next_key is not None else (new_key(), None)
            )
            uses_of_key = 0
        uses_of_key += 1
        ca = cal.cas[ca_name]
        active = cal.active_intermediates(ca_name, day)
        if not active:
            index = [c.name for c in sc.cas].index(ca_name)
            raise ScenarioError(
                sc.source,
                f"cas[{index}].intermediates",
                f"no active intermediate on {sc.date(day)} (needed by host {host.name})",
            )
        if ca.spec.selection == "fixed":
            inter = active[0]
        elif ca.spec.selection == "round_robin":
            inter = active[rr_counter % len(active)]
            rr_counter += 1
        else:
            inter = active[int(rng.integers(len(active)))]
        lifetime = lifetime_days(sc, host, ca.spec, day)
        renew_day = day + renew_offset(lifetime, renew_before, renew_fraction)
        index = first_index + len(items)
        seq = len(items)
        items.append(
            Issuance(
                index=index,
                host=host.name,
                seq=seq,
                day=day,
                end_day=T - 1,
                ca=ca_name,
                intermediate=inter,
                int_key=ca.int_keys[inter],
                root_key=ca.root_key,
                leaf_key=current_key,
                cert=reg.cert("leaf_cert", f"{host.name} certificate {seq}", index),
                next_key=next_key,
                serial=serial(sc.seed, host.name, seq),
                lifetime_days=lifetime,
                reason="+".join(dict.fromkeys(reasons)),
            )
        )
        for j, rev in enumerate(effects.revocations):
            if j not in handled and rev.ca == ca_name and day < rev.day < renew_day:
                handled.add(j)
                delay = int(rng.integers(rev.within_days + 1)) if rev.within_days else 0
                reissues.append(Reissue(rev.day + delay, "mass_revocation"))
        due = [
            r for r in reissues if day < r.day <= renew_day and r.only_if_on_ca in (None, ca_name)
        ]
        day = min([renew_day, *(r.day for r in due)])
        reasons = [r.reason for r in due if r.day == day] + (
            ["renewal"] if day == renew_day else []
        )
    return [
        replace(item, end_day=min(items[i + 1].day - 1 if i + 1 < len(items) else T - 1, T - 1))
        for i, item in enumerate(items)
    ]
