"""Scenario schema: pinning strategies and attacks."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from simlib.errors import clip
from simlib.model.base import (
    MAX_DAYS,
    HostName,
    Name,
    _Model,
    _Named,
)


class DynamicSpec(_Model):
    """Pins refreshed from a remote, signed list (Wultra/Approov style)."""

    refresh_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 1
    fetch_success: Annotated[float, Field(ge=0, le=1)] = 0.95
    publish_ahead_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 30
    max_age_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 30
    on_stale: Literal["fail_open", "fail_closed"] = "fail_open"


_BACKUP_RE = re.compile(r"^(next_key|ca:.+|intermediates:.+|spki:.+)$")


class StrategySpec(_Named):
    name: Name
    pin: Literal["none", "leaf_cert", "leaf_spki", "intermediate_spki", "root_spki"]
    intermediates: Literal["serving", "all"] = "serving"
    backup: list[str] = Field(default_factory=list)
    expires_after_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    enforce: bool = True
    hosts: list[HostName] | None = None
    dynamic: DynamicSpec | None = None

    @field_validator("backup")
    @classmethod
    def _backup_syntax(cls, value: list[str]) -> list[str]:
        for i, entry in enumerate(value):
            if not _BACKUP_RE.match(entry):
                raise ValueError(
                    f"backup[{i}]: '{clip(entry, 60)}' is not one of next_key, ca:<name>, "
                    "intermediates:<name>, spki:<base64>"
                )
        return value

    @model_validator(mode="after")
    def _check(self) -> StrategySpec:
        if self.pin == "none" and (self.backup or self.dynamic or self.expires_after_days):
            raise ValueError("pin: none takes no backup, dynamic or expires_after_days")
        return self


class AttackSpec(_Model):
    name: Literal["rogue_ca", "same_ca_misissuance", "user_installed_ca", "stolen_leaf_key"]
    label: str | None = None
    #: rogue_ca: misuse this scenario CA instead of a public CA outside the scenario.
    ca: Name | None = None
    #: stolen_leaf_key: the key served this many days ago (0 = the current key).
    key_age_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 0
    #: Attacked host; default: every host (the attacker picks the weakest).
    host: HostName | None = None

    @model_validator(mode="after")
    def _label(self) -> AttackSpec:
        if self.label is None:
            object.__setattr__(self, "label", self.name)
        if not re.fullmatch(r"[A-Za-z0-9_]+", self.label or ""):
            raise ValueError("label may contain only letters, digits and '_' (it names columns)")
        if self.ca is not None and self.name != "rogue_ca":
            raise ValueError("'ca' applies to rogue_ca only")
        if self.key_age_days and self.name != "stolen_leaf_key":
            raise ValueError("'key_age_days' applies to stolen_leaf_key only")
        return self
