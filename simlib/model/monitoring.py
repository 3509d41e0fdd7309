"""Scenario schema: Certificate Transparency enforcement and CT monitoring (``monitoring``).

With a ``monitoring`` block the summary gains the exposure user-days per attack instance under
CT + monitoring (docs/model.md, "CT enforcement and monitoring"; the engine's
``engine.ct_exposure``). The defaults of who enforces CT and who checks revocation come from
``data/world/ct-enforcement.csv`` (``world.ct``); both can be overridden per platform.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from simlib.model.base import MAX_DAYS, PlatformName, _Model
from simlib.vocabulary import PLATFORMS
from simlib.world.ct import checks_revocation, ct_required_after

__all__ = ["CT_ATTACK_CLASSES", "CTMonitoring", "Monitoring"]

#: Attack classes whose certificate comes from a publicly trusted CA, so CT rules apply to it.
#: A user- or MDM-installed root is exempt from CT and a stolen key's certificate is the real,
#: already logged one: CT and monitoring see neither.
CT_ATTACK_CLASSES: frozenset[str] = frozenset({"rogue_ca", "same_ca_misissuance"})

Share = Annotated[float, Field(ge=0, le=1)]


class CTMonitoring(_Model):
    """CT logs watched for the app's domains, and what happens when a rogue certificate shows."""

    #: A logged rogue certificate issued on day d is detected on day d + detection_days.
    detection_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 1
    #: revocation: ends the attack only for users whose client checks revocation;
    #: blocklist (the app's own list of rejected certificates) and kill_switch: for every user.
    response: Literal["revocation", "blocklist", "kill_switch"] = "blocklist"
    #: The response is in force response_days after detection.
    response_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 1
    #: Share of attack instances whose certificate is logged. Default (None): 1 when some
    #: platform of the scenario enforces CT for the certificate's issue day (the attacker logs
    #: to pass CT), else 0 (nobody checks, so the attacker does not log) — an assumption.
    logged_share: Share | None = None
    #: Share of each platform's users whose client enforces CT, overriding the world data
    #: (iOS: 1 for certificates issued after 2018-10-15; Android: 0 — the app must opt in).
    enforcing_share: dict[PlatformName, Share] = Field(default_factory=dict)
    #: Share of each platform's users whose client checks revocation, overriding the world data
    #: (assumption: 0 on both platforms).
    revocation_share: dict[PlatformName, Share] = Field(default_factory=dict)

    @field_validator("enforcing_share", "revocation_share", mode="before")
    @classmethod
    def _known_platforms(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            unknown = [str(k) for k in value if k not in PLATFORMS]
            if unknown:
                raise ValueError(f"unknown platform {unknown[0]!r} (one of {', '.join(PLATFORMS)})")
        return value

    def enforced_share(self, platform: str, issued: dt.date) -> float:
        """Share of ``platform``'s users who reject an unlogged certificate issued on ``issued``."""
        if platform in self.enforcing_share:
            return float(self.enforcing_share[platform])
        after = ct_required_after(platform)
        return 1.0 if after is not None and issued > after else 0.0

    def logged(self, platforms: Iterable[str], issued: dt.date) -> float:
        """Share of attack instances with a certificate issued on ``issued`` that are logged."""
        if self.logged_share is not None:
            return float(self.logged_share)
        return 1.0 if any(self.enforced_share(p, issued) > 0 for p in platforms) else 0.0

    def reach(self, platform: str) -> float:
        """Share of ``platform``'s users for whom the response ends the attack."""
        if self.response != "revocation":
            return 1.0
        if platform in self.revocation_share:
            return float(self.revocation_share[platform])
        return 1.0 if checks_revocation(platform) else 0.0

    @property
    def window_days(self) -> int:
        """Days a detected attack runs: from its issue day to the day before the response."""
        return self.detection_days + self.response_days


class Monitoring(_Model):
    ct: CTMonitoring
