"""Scenario schema: pinning strategies and attacks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    TypeAdapter,
    field_validator,
    model_validator,
)

from simlib.errors import clip
from simlib.model.base import (
    MAX_DAYS,
    MAX_ITEMS,
    AttackClass,
    HostName,
    Name,
    PinLevelName,
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


class NextKey(_Model):
    """The host's published next key (needs ``pregenerate_next_key``)."""

    kind: Literal["next_key"] = "next_key"

    def __str__(self) -> str:
        return "next_key"


class CARoot(_Model):
    """Another CA's root key (a backup from a different CA)."""

    kind: Literal["ca"] = "ca"
    ca: Name

    def __str__(self) -> str:
        return f"ca:{self.ca}"


class CAIntermediates(_Model):
    """Every intermediate a CA has active on the build day."""

    kind: Literal["intermediates"] = "intermediates"
    ca: Name

    def __str__(self) -> str:
        return f"intermediates:{self.ca}"


class LiteralPin(_Model):
    """A SHA-256 SPKI pin given literally (canonical base64 of 32 bytes)."""

    kind: Literal["spki"] = "spki"
    pin: str

    @field_validator("pin")
    @classmethod
    def _canonical(cls, value: str) -> str:
        from simlib.pki.pins import parse_pin

        return parse_pin(value)

    def __str__(self) -> str:
        return f"spki:{self.pin}"


def _parse_backup(value: object) -> object:
    """``next_key``, ``ca:<name>``, ``intermediates:<name>``, ``spki:<base64>`` → tagged values."""
    if not isinstance(value, str):
        return value
    kind, sep, ref = value.partition(":")
    if value == "next_key":
        return {"kind": "next_key"}
    if sep and ref and kind == "ca":
        return {"kind": "ca", "ca": ref}
    if sep and ref and kind == "intermediates":
        return {"kind": "intermediates", "ca": ref}
    if sep and ref and kind == "spki":
        from simlib.pki.pins import parse_pin

        return {"kind": "spki", "pin": parse_pin(ref)}  # a bad pin is named at backup[i]
    raise ValueError(
        f"'{clip(value, 60)}' is not one of next_key, ca:<name>, intermediates:<name>, spki:<base64>"
    )


#: A backup pin: parsed once, here, from its YAML spelling; written back the same way.
BackupPin = Annotated[
    Annotated[NextKey | CARoot | CAIntermediates | LiteralPin, Field(discriminator="kind")],
    BeforeValidator(_parse_backup),
    PlainSerializer(str, return_type=str),
]


def parse_backup(value: str | BackupPin) -> BackupPin:
    """A backup pin from its spelling (``ca:x``, ``next_key``, ...) or a parsed backup pin."""
    return TypeAdapter(BackupPin).validate_python(value)


class StrategySpec(_Named):
    name: Name
    pin: PinLevelName  # the registered levels (simlib.vocabulary.PIN_LEVEL_TABLE)
    intermediates: Literal["serving", "all"] = "serving"
    backup: Annotated[list[BackupPin], Field(max_length=MAX_ITEMS)] = Field(default_factory=list)
    expires_after_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    enforce: bool = True
    hosts: Annotated[list[HostName], Field(max_length=MAX_ITEMS)] | None = None
    dynamic: DynamicSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> StrategySpec:
        if self.pin == "none" and (self.backup or self.dynamic or self.expires_after_days):
            raise ValueError("pin: none takes no backup, dynamic or expires_after_days")
        return self


class AttackSpec(_Model):
    name: AttackClass
    label: str | None = None
    #: rogue_ca: misuse this scenario CA instead of a public CA outside the scenario.
    ca: Name | None = None
    #: stolen_leaf_key: the key served this many days ago (0 = the current key).
    key_age_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 0
    #: Attacked host; default: every host (the attacker picks the weakest).
    host: HostName | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_label(cls, data: Any) -> Any:
        """A pure resolve step: an attack's label (its column name) defaults to its class."""
        if isinstance(data, Mapping) and data.get("label") is None and "name" in data:
            return {**data, "label": data["name"]}
        return data

    @model_validator(mode="after")
    def _label(self) -> AttackSpec:
        if not re.fullmatch(r"[A-Za-z0-9_]+", self.label or ""):
            raise ValueError("label may contain only letters, digits and '_' (it names columns)")
        if self.ca is not None and self.name != "rogue_ca":
            raise ValueError("'ca' applies to rogue_ca only")
        if self.key_age_days and self.name != "stolen_leaf_key":
            raise ValueError("'key_age_days' applies to stolen_leaf_key only")
        return self
