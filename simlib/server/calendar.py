"""Server side: the certificate calendar of every host.

A :class:`CertificateCalendar` turns the scenario's CAs, hosts and events into the list of every
issuance (date, host, CA, intermediate, root, key, serial, validity) and, for each simulated day,
which issuance each host serves. Semantics (docs/model.md):

* a certificate issued on day d is served from the start of day d until the next issuance;
* lifetime = min(host or CA validity on the issue date, the validity cap on the issue date);
* renewal after ``lifetime − renew_before_days`` days, or ``floor(renew_at_fraction · lifetime)``
  (default 2/3, Let's Encrypt's advice), never sooner than one day;
* keys: ``reuse`` (one key forever), ``rotate`` (new key each issuance), ``rotate_every: N``,
  each as in force on the issue day (``policy_schedule``, which may also change the renewal rule);
  with ``pregenerate_next_key`` the host always holds a published next key, and the next key change
  (or a key compromise) puts exactly that key into service;
* intermediates: ``fixed`` (first active), ``round_robin`` (per host), ``random`` (uniform over the
  intermediates active on the issue day, from the calendar's seeded stream).

Everything random here comes from one :class:`numpy.random.SeedSequence`, split per host and per
event, so a calendar is a pure function of (scenario, seed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from simlib._rng import child
from simlib.errors import ScenarioError
from simlib.model import (
    CADistrust,
    CAMigration,
    CASpec,
    HostSpec,
    IntermediateChange,
    KeyCompromise,
    MassRevocation,
    Scenario,
)
from simlib.server.identities import Registry

DEFAULT_RENEW_FRACTION = 2 / 3


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
class _CAKeys:
    spec: CASpec
    root_key: int
    int_keys: dict[str, int]
    #: root/intermediate name -> real certificate file (keys may be shared: the file is per name)
    files: dict[str, str] = field(default_factory=dict)
    overrides: list[tuple[int, list[str]]] = field(default_factory=list)  # (day, active set)


def _catalogue_keys(ca: CASpec) -> dict[str, tuple[str, tuple[str, str] | None]]:
    """Root/intermediate name -> (catalogue key, (real SPKI pin, file) or None) for a CA named
    like a catalogue CA: its own catalogue certificates, and certificates of another catalogue CA
    issued by its root (``R3/DST`` under ``identrust``). Certificates with one catalogue ``key``
    (a cross-sign, Authority X3 re-using X1's key) get one key identity."""
    from simlib.world.catalogue import catalogue

    cat = catalogue()
    if ca.name not in cat.cas:
        return {}
    root = ca.root or ca.name
    out = {}
    for name in (root, *(i.name for i in ca.intermediates)):
        cert = cat.certificates.get(name)
        if cert is None or not (cert.ca == ca.name or (name != root and cert.issuer == root)):
            continue
        real = (cert.spki_pin, str(cert.path)) if cert.path is not None and cert.spki_pin else None
        out[name] = (cert.key, real)
    return out


class CertificateCalendar:
    """Every issuance of every host, plus the CA and attacker identities they refer to."""

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence | None = None) -> None:
        self.scenario = scenario
        self.days = scenario.days
        self.seed = seed if seed is not None else np.random.SeedSequence(scenario.seed)
        self.registry = Registry(scenario.seed)
        #: literal SPKI pins → (identity, level), filled by the strategies on first use
        self.literal_pins: dict[str, tuple[int, str | None]] = {}
        reg = self.registry
        self.cas: dict[str, _CAKeys] = {}
        shared: dict[str, int] = {}  # catalogue key -> identity (one key under two issuers)

        def ca_key(known: dict, role: str, name: str, algorithm: str, tag: str) -> int:
            group, real = known.get(name, (None, None))
            if group is not None and group in shared:
                return shared[group]
            ident = reg.key(role, name, algorithm, tag, real)
            if group is not None:
                shared[group] = ident
            return ident

        for ca in scenario.cas:
            known = _catalogue_keys(ca)
            root = ca_key(known, "root", ca.root or ca.name, ca.key, f"ca|{ca.name}|root")
            ints = {
                i.name: ca_key(known, "intermediate", i.name, i.key, f"ca|{ca.name}|int|{i.name}")
                for i in ca.intermediates
            }
            files = {n: real[1] for n, (_g, real) in known.items() if real is not None}
            self.cas[ca.name] = _CAKeys(ca, root, ints, files)
        for ev in scenario.events:
            if isinstance(ev, IntermediateChange):
                self.cas[ev.ca].overrides.append((scenario.day(ev.date), list(ev.active)))
        for keys in self.cas.values():
            keys.overrides.sort(key=lambda o: o[0])
        # Attackers: a public CA outside the scenario (trusted by every client), a root the victim
        # installed on the device, and the attacker's own leaf key and certificate.
        self.rogue_root = reg.key("rogue_root", "Rogue Public CA Root", "ec-p256", "rogue|root")
        self.rogue_int = reg.key(
            "rogue_intermediate", "Rogue Public CA Int", "ec-p256", "rogue|int"
        )
        self.user_root = reg.key(
            "attacker_root", "User-installed Attacker Root", "ec-p256", "user|root"
        )
        self.attacker_key = reg.key(
            "attacker_leaf", "attacker leaf key", "ec-p256", "attacker|leaf"
        )
        self.attacker_cert = reg.cert("attacker_cert", "attacker leaf certificate")

        self.issuances: list[Issuance] = []
        self.by_host: dict[str, list[Issuance]] = {}
        occurrences = self._event_occurrences()
        for h_index, host in enumerate(scenario.hosts):
            rng = np.random.default_rng(child(self.seed, 0, h_index))
            self.by_host[host.name] = self._schedule_host(host, occurrences, rng)
        self.served = {name: self._served_index(items) for name, items in self.by_host.items()}

    # ----------------------------------------------------------------------------- helpers
    def _event_occurrences(self) -> list[tuple[int, int, object]]:
        """(day, event index, event) for dated events and for draws of rate-based ones."""
        out: list[tuple[int, int, object]] = []
        years = self.days / 365.25
        for i, ev in enumerate(self.scenario.events):
            date = getattr(ev, "date", None)
            if date is not None:
                out.append((self.scenario.day(date), i, ev))
                continue
            rng = np.random.default_rng(child(self.seed, 1, i))
            n = rng.poisson(ev.rate_per_year * years)  # type: ignore[union-attr]
            for d in np.sort(rng.integers(0, self.days, size=n)):
                out.append((int(d), i, ev))
        out.sort(key=lambda o: (o[0], o[1]))
        return out

    def active_intermediates(self, ca: str, day: int) -> list[str]:
        keys = self.cas[ca]
        active: list[str] | None = None
        for start, names in keys.overrides:
            if day >= start:
                active = names
        date = self.scenario.date(day)
        out = []
        for spec in keys.spec.intermediates:
            if active is not None and spec.name not in active:
                continue
            if active is None:
                if spec.active_from and date < spec.active_from:
                    continue
                if spec.active_until and date >= spec.active_until:
                    continue
            if spec.not_after and date > spec.not_after:
                continue
            out.append(spec.name)
        return out

    def pinnable_intermediates(self, ca: str, day: int) -> list[str]:
        """What an app built on ``day`` pins as "all intermediates": the active ones plus those
        announced on or before ``day`` that have not issued yet (not active on any day up to
        ``day``) and have not expired."""
        out = self.active_intermediates(ca, day)
        date = self.scenario.date(day)
        for spec in self.cas[ca].spec.intermediates:
            if spec.name in out or spec.announced is None or spec.announced > date:
                continue
            if spec.not_after and date > spec.not_after:
                continue
            if self._first_active(ca).get(spec.name, self.days) > day:
                out.append(spec.name)
        return out

    def _first_active(self, ca: str) -> dict[str, int]:
        """Each intermediate's first active day (the active set changes only on these days)."""
        cache = self.__dict__.setdefault("_first_active_cache", {})
        if ca not in cache:
            keys, sc = self.cas[ca], self.scenario
            days = {0, *(d for d, _ in keys.overrides)}
            for spec in keys.spec.intermediates:
                days |= {sc.day(d) for d in (spec.active_from, spec.active_until) if d is not None}
            first: dict[str, int] = {}
            for d in sorted(x for x in days if 0 <= x < self.days):
                for name in self.active_intermediates(ca, d):
                    first.setdefault(name, d)
            cache[ca] = first
        return cache[ca]

    def _lifetime(self, host: HostSpec, ca: CASpec, day: int) -> int:
        date = self.scenario.date(day)
        days = host.validity_days
        if days is None:
            days = ca.validity_days
            for step in ca.validity_schedule:
                if date >= step.from_:
                    days = step.days
        cap = self.scenario.validity_cap_days(date)
        return min(days, cap) if cap is not None else days

    @staticmethod
    def _renew_offset(lifetime: int, before: int | None, fraction: float | None) -> int:
        if before is not None:
            return max(1, lifetime - before)
        fraction = fraction or DEFAULT_RENEW_FRACTION
        return max(1, math.floor(fraction * lifetime))

    def _serial(self, host: str, seq: int) -> int:
        digest = hashlib.sha256(f"{self.scenario.seed}|{host}|{seq}".encode()).digest()
        return int.from_bytes(digest[:8], "big") >> 1 or 1

    # ------------------------------------------------------------------------ the schedule
    def _schedule_host(
        self, host: HostSpec, occurrences: list[tuple[int, int, object]], rng: np.random.Generator
    ) -> list[Issuance]:
        sc, reg, T = self.scenario, self.registry, self.days
        key_no = 0

        def new_key() -> int:
            nonlocal key_no
            key_no += 1
            return reg.key(
                "leaf", f"{host.name} key {key_no}", host.key, f"host|{host.name}|key|{key_no}"
            )

        # Triggers force a re-issue on their day: (day, reason, rekey, switch_to, only_if_on_ca).
        triggers: list[tuple[int, str, bool, str | None, str | None]] = []
        planned: list[tuple[int, str, str | None]] = []  # CA switches applied at the next renewal
        revocations: list[tuple[int, str, int]] = []
        for day, _i, ev in occurrences:
            if isinstance(ev, KeyCompromise) and ev.host in (None, host.name):
                triggers.append((day, "key_compromise", True, None, None))
            elif isinstance(ev, CAMigration) and (ev.hosts is None or host.name in ev.hosts):
                if ev.when == "immediate":
                    triggers.append((day, "ca_migration", False, ev.to, None))
                else:
                    planned.append((day, ev.to, None))
            elif isinstance(ev, CADistrust) and ev.replacement is not None:
                on = sc.day(ev.migrate_on) if ev.migrate_on else day
                if ev.when == "immediate":
                    triggers.append((on, "distrust_migration", False, ev.replacement, ev.ca))
                else:
                    planned.append((on, ev.replacement, ev.ca))
            elif isinstance(ev, MassRevocation):
                revocations.append((day, ev.ca, ev.within_days))

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
            todays = [t for t in triggers if t[0] == day]
            if items:  # next-renewal migrations wait for a renewal
                for j, (from_day, to, only) in enumerate(planned):
                    if j not in applied and from_day <= day and only in (None, ca_name):
                        ca_name = to
                        applied.add(j)
                        reasons.append("ca_migration")
            for _d, _r, _k, to, only in todays:
                if to and only in (None, ca_name):
                    ca_name = to
            rotate_every, renew_before, renew_fraction = host.policy_on(sc.date(day))
            if items and (
                any(t[2] for t in todays) or (rotate_every and uses_of_key >= rotate_every)
            ):
                # The published next key goes into service; a fresh one is published in its place.
                current_key, next_key = (
                    (next_key, new_key()) if next_key is not None else (new_key(), None)
                )
                uses_of_key = 0
            uses_of_key += 1
            ca = self.cas[ca_name]
            active = self.active_intermediates(ca_name, day)
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
            lifetime = self._lifetime(host, ca.spec, day)
            renew_day = day + self._renew_offset(lifetime, renew_before, renew_fraction)
            index = len(self.issuances) + len(items)
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
                    serial=self._serial(host.name, seq),
                    lifetime_days=lifetime,
                    reason="+".join(dict.fromkeys(reasons)),
                )
            )
            # A mass revocation hits a certificate of the revoked CA issued before the revocation
            # day; the host re-issues a uniformly drawn number of days later (0..within_days).
            for j, (rev_day, rev_ca, within) in enumerate(revocations):
                if j not in handled and rev_ca == ca_name and day < rev_day < renew_day:
                    handled.add(j)
                    delay = int(rng.integers(within + 1)) if within else 0
                    triggers.append((rev_day + delay, "mass_revocation", False, None, None))
            due = [
                t for t in triggers if day < t[0] <= renew_day and (t[4] is None or t[4] == ca_name)
            ]
            day = min([renew_day, *(t[0] for t in due)])
            reasons = [t[1] for t in due if t[0] == day] + (["renewal"] if day == renew_day else [])
        out = []
        for i, item in enumerate(items):
            end = items[i + 1].day - 1 if i + 1 < len(items) else T - 1
            out.append(replace(item, end_day=min(end, T - 1)))
        self.issuances.extend(out)
        return out

    def _served_index(self, items: list[Issuance]) -> np.ndarray:
        """Global issuance index served on each simulated day."""
        days = np.array([it.day for it in items])
        pos = np.searchsorted(days, np.arange(self.days), side="right") - 1
        return np.array([items[p].index for p in pos])

    # ------------------------------------------------------------------------------ views
    def serving(self, host: str, day: int) -> Issuance:
        return self.issuances[int(self.served[host][day])]

    def to_frame(self) -> pd.DataFrame:
        """The calendar as a table (identity ids; :mod:`simlib.server.certificates` adds the real pins)."""
        sc = self.scenario
        rows = []
        for it in self.issuances:
            rows.append(
                {
                    "date": sc.date(it.day),
                    "host": it.host,
                    "seq": it.seq,
                    "reason": it.reason,
                    "ca": it.ca,
                    "intermediate": it.intermediate,
                    "root": self.cas[it.ca].spec.root,
                    "key_id": it.leaf_key,
                    "next_key_id": it.next_key,
                    "serial": it.serial,
                    "not_before": dt.datetime.combine(sc.date(it.day), dt.time(), dt.UTC),
                    "not_after": dt.datetime.combine(sc.date(it.day), dt.time(), dt.UTC)
                    + dt.timedelta(days=it.lifetime_days, seconds=-1),
                    "lifetime_days": it.lifetime_days,
                    "served_from": sc.date(max(it.day, 0)),
                    "served_until": sc.date(it.end_day),
                }
            )
        return pd.DataFrame(rows)
