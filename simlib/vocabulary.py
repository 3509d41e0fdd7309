"""The words of the domain, one home each: pin levels, platforms, client libraries, attacks.

The schema's literals (``model``), the engine's dispatch (``strategies``), the pin toolkit and
the CLI read these tables, so a new pin level or platform is one entry here plus its behaviour
where it acts (docs/architecture.md, "Where a change goes"). This module imports nothing from
simlib or any third party: the toolkit and the command line read it without loading pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class PinLevel:
    """What a release pins of the chain served on its build day."""

    name: str
    #: The chain certificate whose identity is pinned; ``None``: nothing is pinned.
    position: Literal["leaf", "intermediate", "root"] | None
    #: The whole certificate (changes at every renewal) instead of its public key (SPKI).
    whole_certificate: bool = False

    @property
    def ats_list(self) -> Literal["leaf", "ca"] | None:
        """The Apple ATS list the pins go to: NSPinnedLeafIdentities or NSPinnedCAIdentities."""
        if self.position is None:
            return None
        return "leaf" if self.position == "leaf" else "ca"

    @property
    def spki(self) -> bool:
        """A public-key pin: the only kind NSC, ATS, OkHttp and TrustKit configs can hold."""
        return self.position is not None and not self.whole_certificate


PIN_LEVEL_TABLE: dict[str, PinLevel] = {
    level.name: level
    for level in (
        PinLevel("none", None),
        PinLevel("leaf_cert", "leaf", whole_certificate=True),
        PinLevel("leaf_spki", "leaf"),
        PinLevel("intermediate_spki", "intermediate"),
        PinLevel("root_spki", "root"),
    )
}
PIN_LEVELS: tuple[str, ...] = tuple(PIN_LEVEL_TABLE)
#: Levels a platform config can pin (``simlib emit --strategy``), leaf first.
SPKI_LEVELS: tuple[str, ...] = tuple(n for n, level in PIN_LEVEL_TABLE.items() if level.spki)


@dataclass(frozen=True)
class Platform:
    """A client platform and the defaults of its TLS/pinning client."""

    name: str
    #: Pinning client libraries it offers (the first is the default) → how each matches pins:
    #: ``any`` (any certificate of the built chain matches any pin) or ``ats`` (Apple's separate
    #: leaf and CA lists, both matched when both are filled).
    clients: dict[str, Literal["any", "ats"]]
    trusts_user_cas: bool
    checks_anchor_expiry: bool

    def defaults(self) -> dict[str, Any]:
        """Values a ``fleet.platforms`` entry takes for the fields it leaves out."""
        return {
            "client": next(iter(self.clients)),
            "trusts_user_cas": self.trusts_user_cas,
            "checks_anchor_expiry": self.checks_anchor_expiry,
        }


PLATFORM_TABLE: dict[str, Platform] = {
    platform.name: platform
    for platform in (
        # Android apps targeting API 24+ ignore user-installed CAs and expired anchors.
        Platform(
            "android",
            {"nsc": "any", "okhttp": "any"},
            trusts_user_cas=False,
            checks_anchor_expiry=False,
        ),
        # (unconfirmed) an iOS user who installed a profile and enabled full trust: see
        # pinning-semantics.md §3 "User or proxy roots".
        Platform(
            "ios",
            {"ats": "ats", "trustkit": "any"},
            trusts_user_cas=True,
            checks_anchor_expiry=True,
        ),
    )
}
PLATFORMS: tuple[str, ...] = tuple(PLATFORM_TABLE)
CLIENT_LIBRARIES: tuple[str, ...] = tuple(c for p in PLATFORM_TABLE.values() for c in p.clients)

#: MITM attack classes (docs/model.md, "Attacks"); their chains are built in ``clients.chains``.
ATTACK_CLASSES: tuple[str, ...] = (
    "rogue_ca",
    "same_ca_misissuance",
    "user_installed_ca",
    "stolen_leaf_key",
)
