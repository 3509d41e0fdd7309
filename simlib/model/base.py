"""Shared pieces of the scenario schema: the frozen base model, constants and name repair."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    model_validator,
)

KeyAlgorithm = Literal["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"]
PLATFORMS = ("android", "ios")
ATTACK_CLASSES = ("rogue_ca", "same_ca_misissuance", "user_installed_ca", "stolen_leaf_key")
PIN_LEVELS = ("none", "leaf_cert", "leaf_spki", "intermediate_spki", "root_spki")
MAX_TRUST_CHANGES = 8  # per platform: device groups double with each change

#: CA/Browser Forum maximum leaf validity by issue date (BR §6.3.2; SC-081v3 adopted 2025-04-11).
#: Source: cabforum/servercert docs/BR.md §6.3.2 and Ballot SC-081v3 (docs/sources.md).
CABF_VALIDITY_CAP: tuple[tuple[dt.date, int], ...] = (
    (dt.date(2018, 3, 1), 825),
    (dt.date(2020, 9, 1), 398),
    (dt.date(2026, 3, 15), 200),
    (dt.date(2027, 3, 15), 100),
    (dt.date(2029, 3, 15), 47),
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class ScenarioWarning(UserWarning):
    """Something in a scenario was read in a way the author may not expect."""


class _Named(_Model):
    """Repairs ``{name: leaf key, expires 1y, pin: ...}``.

    In a YAML flow mapping an unquoted comma ends the value, so the name above is read as
    ``leaf key`` plus an empty key ``expires 1y``. Empty keys that directly follow ``name`` and are
    not fields are joined back into the name (with a warning), as the author meant.
    """

    @model_validator(mode="before")
    @classmethod
    def _rejoin_name(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "name" not in data:
            return data
        items = list(data.items())
        i = [k for k, _ in items].index("name")
        parts = [str(items[i][1])]
        j = i + 1
        while j < len(items) and items[j][1] is None and items[j][0] not in cls.model_fields:
            parts.append(str(items[j][0]).strip())
            j += 1
        if j == i + 1:
            return data
        name = ", ".join(parts)
        warnings.warn(
            f"read name '{name}' (quote names that contain a comma)", ScenarioWarning, stacklevel=2
        )
        return {**dict(items[:i]), "name": name, **dict(items[j:])}


def _check_increasing(dates: list[dt.date], where: str) -> None:
    for i in range(1, len(dates)):
        if dates[i] <= dates[i - 1]:
            raise ValueError(f"{where}[{i}].from: dates must increase")
