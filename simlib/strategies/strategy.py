"""Pinning strategies: what an app version pins, decided at build time.

A :class:`PinningStrategy` is the behaviour of one validated :class:`simlib.model.StrategySpec`
(the one strategy type users write, in YAML or Python); the engine builds it with
:meth:`PinningStrategy.from_spec`, so every parameter it reads went through the schema. Behaviour
lives in methods that read the certificate calendar. A strategy answers two questions:

* :meth:`PinningStrategy.pins` — the pin set a release built on day *b* ships for a host: the
  identity of the chosen level in the certificate served on day *b*, plus backup pins;
* :meth:`PinningStrategy.targets` — what the level pins in a given issuance (used for dynamic
  pin lists, which publish the targets of current and upcoming certificates).

Pins are split by level because Apple ATS matches leaf and CA identities separately.
"""

from __future__ import annotations

from dataclasses import dataclass

from simlib.model import CAIntermediates, CARoot, LiteralPin, NextKey, StrategySpec
from simlib.server.calendar import CertificateCalendar, Issuance
from simlib.vocabulary import PIN_LEVEL_TABLE, PIN_LEVELS


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
    """One way of pinning, applied at every build: the behaviour of a validated ``StrategySpec``.

    The parameters are the spec's (``name``, ``pin``, ``intermediates``, ``backup``,
    ``expires_after_days``, ``enforce``, ``hosts``, ``dynamic``: see docs/scenario.md), copied to
    plain attributes once because the engine reads them in its inner loops.
    """

    def __init__(self, spec: StrategySpec) -> None:
        if not isinstance(spec, StrategySpec):
            # No second, unvalidated way in: a misspelt level must never silently pin nothing.
            raise TypeError(
                f"PinningStrategy is built from a validated StrategySpec, not "
                f"{type(spec).__name__}: StrategySpec(name=..., pin=one of {', '.join(PIN_LEVELS)})"
            )
        self.spec = spec
        self.name = spec.name
        self.pin = spec.pin
        self.level_info = PIN_LEVEL_TABLE[spec.pin]
        self.intermediates = spec.intermediates
        self.backup = tuple(spec.backup)
        self.expires_after_days = spec.expires_after_days
        self.enforce = spec.enforce
        self.hosts = frozenset(spec.hosts) if spec.hosts is not None else None
        self.dynamic = spec.dynamic

    @classmethod
    def from_spec(cls, spec: StrategySpec) -> PinningStrategy:
        return cls(spec)

    def __repr__(self) -> str:
        backup = [str(b) for b in self.backup]
        return f"PinningStrategy({self.name!r}, pin={self.pin!r}, backup={backup!r})"

    # ----------------------------------------------------------------------------- queries
    def pins_host(self, host: str) -> bool:
        return self.level_info.position is not None and (self.hosts is None or host in self.hosts)

    @property
    def level(self) -> str:
        """``leaf`` or ``ca``: which ATS list the primary pins go to."""
        return "leaf" if self.level_info.ats_list == "leaf" else "ca"

    def targets(
        self, calendar: CertificateCalendar, issuance: Issuance, day: int | None = None
    ) -> frozenset[int]:
        """Identities the pin level selects in ``issuance``, for an app built (or a list
        published) on ``day`` (default: the issue day).

        ``intermediates: all`` pins every intermediate the CA has active on ``day`` — the build
        day, so an app built after a new intermediate went live pins it even while the server
        still serves a certificate from the old one — plus the serving intermediate (the app
        was built against that chain, so it always pins it, active or retired).
        """
        position = self.level_info.position
        if position == "leaf":
            return frozenset(
                [issuance.cert if self.level_info.whole_certificate else issuance.leaf_key]
            )
        if position == "intermediate":
            if self.intermediates == "all":
                keys = calendar.cas[issuance.ca].int_keys
                on = issuance.day if day is None else day
                active = calendar.pinnable_intermediates(issuance.ca, max(on, 0))
                return frozenset(keys[n] for n in active) | {issuance.int_key}
            return frozenset([issuance.int_key])
        if position == "root":
            return frozenset([issuance.root_key])
        return frozenset()

    @property
    def ats_lists(self) -> frozenset[str]:
        """The Apple ATS lists this strategy's pins fill: ``leaf`` (NSPinnedLeafIdentities) and/or
        ``ca`` (NSPinnedCAIdentities); ATS needs both to match when both are filled. Literal
        pins count at the strategy's own level (as foreign keys do in :meth:`backup_pins`)."""
        if self.level_info.ats_list is None:
            return frozenset()
        lists = {self.level}
        for b in self.backup:
            if isinstance(b, NextKey):
                lists.add("leaf")
            elif isinstance(b, CARoot | CAIntermediates):
                lists.add("ca")
        return frozenset(lists)

    @property
    def pins_by_day(self) -> bool:
        """Whether pins depend on the build day itself, not only on the certificate served."""
        return self.intermediates == "all" or any(
            isinstance(b, CAIntermediates) for b in self.backup
        )

    def backup_pins(self, calendar: CertificateCalendar, issuance: Issuance, day: int) -> PinSet:
        """Backup pins shipped with a build (or published) on ``day`` while ``issuance`` is served."""
        leaf: set[int] = set()
        ca: set[int] = set()
        for entry in self.backup:
            if isinstance(entry, NextKey):
                if issuance.next_key is not None:
                    leaf.add(issuance.next_key)
            elif isinstance(entry, CARoot):
                ca.add(calendar.cas[entry.ca].root_key)
            elif isinstance(entry, CAIntermediates):
                keys = calendar.cas[entry.ca].int_keys
                ca.update(keys[n] for n in calendar.pinnable_intermediates(entry.ca, max(day, 0)))
            elif isinstance(entry, LiteralPin):
                ident, level = literal_identity(calendar, entry.pin)
                (ca if level == "ca" or (level is None and self.level == "ca") else leaf).add(ident)
        return PinSet(frozenset(leaf), frozenset(ca))

    def pins(self, calendar: CertificateCalendar, host: str, build_day: int) -> PinSet:
        """The static pin set a release built on ``build_day`` ships for ``host``."""
        if not self.pins_host(host):
            return PinSet()
        issuance = calendar.serving(host, build_day)
        primary = self.targets(calendar, issuance, build_day)
        own = PinSet(primary, frozenset()) if self.level == "leaf" else PinSet(frozenset(), primary)
        return own | self.backup_pins(calendar, issuance, build_day)


def literal_identity(calendar: CertificateCalendar, pin: str) -> tuple[int, str | None]:
    """Map a literal SPKI pin to the scenario key that has it, else a foreign id.

    Returns (id, level): ``ca`` for a CA key (any ``cas`` entry's root or intermediate),
    ``leaf`` for a host's leaf key (served or published as a next key), ``None`` for a key no
    chain holds. A literal copied from a served leaf's SPKI matches while that key is served, as
    on a real client. The keys' pins are computed once per calendar (not once per pin set).
    """
    cache = calendar.literal_pins
    if pin not in cache:
        if not cache:
            from simlib.server.certificates import RealPki

            real = RealPki.for_calendar(calendar)
            for keys in calendar.cas.values():
                for key in (keys.root_key, *keys.int_keys.values()):
                    cache.setdefault(real.spki_pin(key), (key, "ca"))
            for it in calendar.issuances:
                for key in (it.leaf_key, it.next_key):
                    if key is not None:
                        cache.setdefault(real.spki_pin(key), (key, "leaf"))
        if pin not in cache:
            cache[pin] = (calendar.registry.foreign(pin), None)
    return cache[pin]


def build_strategies(specs: list[StrategySpec]) -> list[PinningStrategy]:
    return [PinningStrategy.from_spec(s) for s in specs]
