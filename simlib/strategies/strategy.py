"""Pinning strategies: what an app version pins, decided at build time.

Parameters live in ``__init__`` (nothing is computed there); behaviour lives in methods that read
the certificate calendar, as in scikit-learn. A strategy answers two questions:

* :meth:`PinningStrategy.pins` — the pin set a release built on day *b* ships for a host: the
  identity of the chosen level in the certificate served on day *b*, plus backup pins;
* :meth:`PinningStrategy.targets` — what the level pins in a given issuance (used for dynamic
  pin lists, which publish the targets of current and upcoming certificates).

Pins are split by level because Apple ATS matches leaf and CA identities separately.
"""

from __future__ import annotations

from dataclasses import dataclass

from simlib.model import DynamicSpec, StrategySpec
from simlib.server.calendar import CertificateCalendar, Issuance

LEAF_LEVELS = ("leaf_cert", "leaf_spki")


@dataclass(frozen=True)
class PinSet:
    """Identity ids an app accepts for one host: leaf identities and CA identities."""

    leaf: frozenset[int] = frozenset()
    ca: frozenset[int] = frozenset()

    def __or__(self, other: PinSet) -> PinSet:
        return PinSet(self.leaf | other.leaf, self.ca | other.ca)

    @property
    def empty(self) -> bool:
        return not self.leaf and not self.ca


class PinningStrategy:
    """One way of pinning, applied at every build.

    Parameters
    ----------
    name : label used in results.
    pin : ``none``, ``leaf_cert``, ``leaf_spki``, ``intermediate_spki`` or ``root_spki``.
    intermediates : for ``intermediate_spki``: pin the ``serving`` intermediate or ``all``
        intermediates the CA has active on the build day.
    backup : extra pins: ``next_key`` (the host's published next key), ``ca:<name>`` (that CA's
        root), ``intermediates:<name>`` (its active intermediates), ``spki:<base64>`` (a literal).
    expires_after_days : pinning is switched off from build day + N (fail open, NSC/TrustKit).
    enforce : ``False`` = report-only: never blocks, never protects, failures are counted.
    hosts : hosts this strategy pins (default: all).
    dynamic : refresh pins from a remote list (see :class:`simlib.model.DynamicSpec`).
    """

    def __init__(
        self,
        name: str,
        pin: str = "leaf_spki",
        *,
        intermediates: str = "serving",
        backup: tuple[str, ...] | list[str] = (),
        expires_after_days: int | None = None,
        enforce: bool = True,
        hosts: tuple[str, ...] | list[str] | None = None,
        dynamic: DynamicSpec | None = None,
    ) -> None:
        self.name = name
        self.pin = pin
        self.intermediates = intermediates
        self.backup = tuple(backup)
        self.expires_after_days = expires_after_days
        self.enforce = enforce
        self.hosts = tuple(hosts) if hosts is not None else None
        self.dynamic = dynamic

    @classmethod
    def from_spec(cls, spec: StrategySpec) -> PinningStrategy:
        return cls(
            spec.name,
            spec.pin,
            intermediates=spec.intermediates,
            backup=spec.backup,
            expires_after_days=spec.expires_after_days,
            enforce=spec.enforce,
            hosts=spec.hosts,
            dynamic=spec.dynamic,
        )

    def __repr__(self) -> str:
        return f"PinningStrategy({self.name!r}, pin={self.pin!r}, backup={list(self.backup)!r})"

    # ----------------------------------------------------------------------------- queries
    def pins_host(self, host: str) -> bool:
        return self.pin != "none" and (self.hosts is None or host in self.hosts)

    @property
    def level(self) -> str:
        """``leaf`` or ``ca``: which ATS list the primary pins go to."""
        return "leaf" if self.pin in LEAF_LEVELS else "ca"

    def targets(self, calendar: CertificateCalendar, issuance: Issuance) -> frozenset[int]:
        """Identities the pin level selects in ``issuance``."""
        if self.pin == "leaf_cert":
            return frozenset([issuance.cert])
        if self.pin == "leaf_spki":
            return frozenset([issuance.leaf_key])
        if self.pin == "intermediate_spki":
            if self.intermediates == "all":
                keys = calendar.cas[issuance.ca].int_keys
                active = calendar.active_intermediates(issuance.ca, issuance.day)
                return frozenset(keys[n] for n in active) | {issuance.int_key}
            return frozenset([issuance.int_key])
        if self.pin == "root_spki":
            return frozenset([issuance.root_key])
        return frozenset()

    def backup_pins(self, calendar: CertificateCalendar, issuance: Issuance, day: int) -> PinSet:
        """Backup pins shipped with a build (or published) while ``issuance`` is served."""
        leaf: set[int] = set()
        ca: set[int] = set()
        for entry in self.backup:
            kind, _, ref = entry.partition(":")
            if kind == "next_key":
                if issuance.next_key is not None:
                    leaf.add(issuance.next_key)
            elif kind == "ca":
                ca.add(calendar.cas[ref].root_key)
            elif kind == "intermediates":
                keys = calendar.cas[ref].int_keys
                ca.update(keys[n] for n in calendar.active_intermediates(ref, max(day, 0)))
            elif kind == "spki":
                ident = literal_identity(calendar, ref)
                (ca if ident[1] == "ca" or (ident[1] is None and self.level == "ca") else leaf).add(
                    ident[0]
                )
        return PinSet(frozenset(leaf), frozenset(ca))

    def pins(self, calendar: CertificateCalendar, host: str, build_day: int) -> PinSet:
        """The static pin set a release built on ``build_day`` ships for ``host``."""
        if not self.pins_host(host):
            return PinSet()
        issuance = calendar.serving(host, build_day)
        primary = self.targets(calendar, issuance)
        own = PinSet(primary, frozenset()) if self.level == "leaf" else PinSet(frozenset(), primary)
        return own | self.backup_pins(calendar, issuance, build_day)


def literal_identity(calendar: CertificateCalendar, pin: str) -> tuple[int, str | None]:
    """Map a literal SPKI pin to a scenario identity if a CA key has that pin, else a foreign id.

    Returns (id, level) where level is ``ca`` for CA keys and ``None`` for foreign keys.
    """
    from simlib.pki.pins import parse_pin
    from simlib.server.certificates import RealPki

    value = parse_pin(pin)
    real = RealPki.for_calendar(calendar)
    for keys in calendar.cas.values():
        for key in (keys.root_key, *keys.int_keys.values()):
            if real.spki_pin(key) == value:
                return key, "ca"
    return calendar.registry.foreign(value), None


def build_strategies(specs: list[StrategySpec]) -> list[PinningStrategy]:
    return [PinningStrategy.from_spec(s) for s in specs]
