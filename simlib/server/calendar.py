"""Server side: the certificate calendar of every host.

A :class:`CertificateCalendar` turns the scenario's CAs, hosts and events into the list of every
issuance (date, host, CA, intermediate, root, key, serial, validity) and, for each simulated day,
which issuance each host serves. Semantics (docs/model.md):

* a certificate issued on day d is served from the start of day d until the next issuance;
* lifetimes and renewal: :mod:`simlib.server.lifetimes`;
* one host's issuances (keys, intermediate choice, the events' effects on it):
  :mod:`simlib.server.schedule`;
* an intermediate is active on a day by its ``active_from``/``active_until`` (or the latest
  ``intermediate_change`` of its CA, which overrides them) and until its ``not_after``; the active
  set changes only on :meth:`CertificateCalendar.active_change_days`.

Everything random here comes from one :class:`numpy.random.SeedSequence`, split per host and per
event, so a calendar is a pure function of (scenario, seed).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simlib._rng import child
from simlib.model import CASpec, Scenario
from simlib.pki.certs import validity
from simlib.server.identities import Registry
from simlib.server.lifetimes import DEFAULT_RENEW_FRACTION
from simlib.server.schedule import CAKeys, Issuance, Occurrence, schedule_host

__all__ = ["DEFAULT_RENEW_FRACTION", "CAKeys", "CertificateCalendar", "Issuance"]


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


if TYPE_CHECKING:
    from simlib.server.certificates import RealPki


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
        self.cas: dict[str, CAKeys] = {}
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
            self.cas[ca.name] = CAKeys(ca, root, ints, files)
        for ev in scenario.events:
            for change in ev.ca_effects(scenario.day):
                self.cas[change.ca].overrides.append((change.day, list(change.active)))
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
            items = schedule_host(self, host, occurrences, rng, len(self.issuances))
            self.issuances.extend(items)
            self.by_host[host.name] = items
        self.served = {name: self._served_index(items) for name, items in self.by_host.items()}

    # ----------------------------------------------------------------------------- helpers
    def _event_occurrences(self) -> list[Occurrence]:
        """(day, event index, event) for dated events and for draws of rate-based ones."""
        out: list[Occurrence] = []
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

    @cached_property
    def pki(self) -> RealPki:
        """The real X.509 objects behind this calendar's identities (keys, certificates, pins),
        built on first use and owned by the calendar: every layer asks it for the same ones."""
        from simlib.server.certificates import RealPki

        return RealPki(self)

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

    def active_change_days(self, ca: str) -> set[int]:
        """Days (possibly outside the period) on which ``active_intermediates(ca, ·)`` may change:
        each ``intermediate_change``, ``active_from`` and ``active_until``, and the day after each
        ``not_after`` (the one home of this rule: the calendar and the attack chains use it)."""
        keys, sc = self.cas[ca], self.scenario
        days = {d for d, _ in keys.overrides}
        for spec in keys.spec.intermediates:
            days |= {sc.day(d) for d in (spec.active_from, spec.active_until) if d is not None}
            if spec.not_after is not None:
                days.add(sc.day(spec.not_after) + 1)
        return days

    def _first_active(self, ca: str) -> dict[str, int]:
        """Each intermediate's first active day (the active set changes only on these days)."""
        cache = self.__dict__.setdefault("_first_active_cache", {})
        if ca not in cache:
            days = {0, *self.active_change_days(ca)}
            first: dict[str, int] = {}
            for d in sorted(x for x in days if 0 <= x < self.days):
                for name in self.active_intermediates(ca, d):
                    first.setdefault(name, d)
            cache[ca] = first
        return cache[ca]

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
            not_before, not_after = validity(sc.date(it.day), it.lifetime_days)
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
                    "not_before": not_before,
                    "not_after": not_after,
                    "lifetime_days": it.lifetime_days,
                    "served_from": sc.date(max(it.day, 0)),
                    "served_until": sc.date(it.end_day),
                }
            )
        return pd.DataFrame(rows)
