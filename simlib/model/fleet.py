"""Scenario schema: the app fleet (users, platforms, releases, adoption curve, installs)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simlib.errors import ScenarioError, clip
from simlib.model.base import (
    MAX_COMPONENTS,
    MAX_CURVE_POINTS,
    MAX_DAYS,
    PLATFORMS,
    ClientLibrary,
    PlatformName,
    _Model,
)
from simlib.vocabulary import PLATFORM_TABLE


class AdoptionComponent(_Model):
    """One exponential component of the update-lag mixture."""

    weight: Annotated[float, Field(ge=0, le=1)]
    mean_lag_days: Annotated[float, Field(gt=0)]


class Adoption(_Model):
    """G(d): share of users updated d days after a release.

    Either a mixture ``(1 - never_update_share) * sum_i weight_i * (1 - exp(-d / mean_lag_days_i))``
    or an empirical curve (``curve: file.csv`` with columns ``days,share``, or inline ``points``).
    """

    never_update_share: Annotated[float, Field(ge=0, lt=1)] = 0.0
    components: Annotated[list[AdoptionComponent], Field(max_length=MAX_COMPONENTS)] | None = None
    curve: str | None = None
    points: (
        Annotated[
            list[tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0, le=1)]]],
            Field(max_length=MAX_CURVE_POINTS),
        ]
        | None
    ) = None

    @model_validator(mode="before")
    @classmethod
    def _load_curve(cls, data: Any, info: ValidationInfo) -> Any:
        # A curve file is read once here, relative to the scenario file, and kept as points so the
        # resolved scenario is self-contained (workers and sweeps never re-read it).
        if isinstance(data, Mapping) and data.get("curve") and not data.get("points"):
            base = (info.context or {}).get("base_dir")
            path = Path(str(data["curve"]))
            if base is not None and not path.is_absolute():
                path = Path(base) / path
            data = {**data, "points": read_curve_csv(path)}
        return data

    @model_validator(mode="after")
    def _check(self) -> Adoption:
        if (self.components is None) == (self.points is None):
            raise ValueError("give exactly one of 'components' (mixture) or 'curve'/'points'")
        if self.components is not None:
            if not self.components:
                raise ValueError("components: at least one component is needed")
            total = sum(c.weight for c in self.components)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"components: weights must sum to 1 (they sum to {total:g})")
        if self.points is not None:
            _check_curve_points(self.points, "points")
            if self.never_update_share:
                raise ValueError(
                    "never_update_share applies to mixtures only; an empirical curve's final "
                    "share already says who never updates"
                )
        return self


def read_curve_csv(path: Path) -> list[tuple[float, float]]:
    """Read an adoption curve CSV (header ``days,share``). Errors name the file and line."""
    from simlib.model.yamlio import read_text_file

    text = read_text_file(path, "curve file")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip().lower() for c in rows[0]] != ["days", "share"]:
        raise ScenarioError(str(path), "line 1", "header must be 'days,share'")
    points: list[tuple[float, float]] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(points) == MAX_CURVE_POINTS:
            raise ScenarioError(
                str(path),
                f"line {lineno}",
                f"more than {MAX_CURVE_POINTS:,} points: keep one a day",
            )
        if len(row) != 2:
            raise ScenarioError(str(path), f"line {lineno}", "expected two columns: days,share")
        try:
            d, s = float(row[0]), float(row[1])
        except ValueError:
            raise ScenarioError(
                str(path), f"line {lineno}", "days and share must be numbers"
            ) from None
        if not (math.isfinite(d) and d >= 0):
            raise ScenarioError(str(path), f"line {lineno}", "days must be ≥ 0")
        if not (0 <= s <= 1):
            raise ScenarioError(str(path), f"line {lineno}", "share must be between 0 and 1")
        if points and d <= points[-1][0]:
            raise ScenarioError(str(path), f"line {lineno}", "days must increase")
        if points and s < points[-1][1]:
            raise ScenarioError(str(path), f"line {lineno}", "share must not decrease")
        points.append((d, s))
    if not points:
        raise ScenarioError(str(path), "", "curve has no data rows")
    return points


def _check_curve_points(points: list[tuple[float, float]], where: str) -> None:
    for i in range(1, len(points)):
        if points[i][0] <= points[i - 1][0]:
            raise ValueError(f"{where}[{i}]: days must increase")
        if points[i][1] < points[i - 1][1]:
            raise ValueError(f"{where}[{i}]: share must not decrease")


class PlatformSpec(_Model):
    """A platform's share of users and how its TLS/pinning client behaves."""

    share: Annotated[float, Field(ge=0, le=1)]
    #: Pinning API: android → Network Security Config / OkHttp (any certificate of the built
    #: chain matches); ios → ``ats`` (NSPinnedDomains: leaf list AND CA list) or ``trustkit``.
    client: ClientLibrary | None = None  # default: the platform's first (simlib.vocabulary)
    #: Android apps targeting API 24+ ignore user-installed CAs unless they opt in.
    trusts_user_cas: bool | None = None
    #: Whether an expired trust anchor is refused (Android ignores anchor expiry; Apple does not).
    checks_anchor_expiry: bool | None = None
    #: ``first_anchor``: stop at the first certificate whose key is a trust anchor (Android,
    #: Chromium, Apple); ``legacy``: follow the served chain to its end (OpenSSL 1.0.x).
    path_building: Literal["first_anchor", "legacy"] = "first_anchor"


class NewInstalls(_Model):
    """Users who install the app during the simulation (always on the latest release)."""

    per_day: Annotated[float, Field(ge=0, le=1e12)] = 0.0


class Fleet(_Model):
    users: Annotated[int, Field(ge=1, le=10**12)]
    release_every_days: Annotated[int, Field(ge=1, le=MAX_DAYS)]
    build_lead_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 0
    adoption: Adoption
    platforms: dict[PlatformName, PlatformSpec] = Field(  # default: equal shares
        default_factory=lambda: {p: {"share": 1 / len(PLATFORMS)} for p in PLATFORMS}  # type: ignore[misc]
    )
    new_installs: NewInstalls | None = None

    @field_validator("platforms", mode="before")
    @classmethod
    def _platform_shorthand(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            out = {}
            for name, spec in value.items():
                if name not in PLATFORMS:
                    known = ", ".join(PLATFORMS)
                    if isinstance(name, str) and name.isidentifier() and len(name) <= 40:
                        raise ValueError(f"{name}: not a platform ({known})")  # names the field
                    raise ValueError(f"'{clip(name, 40)}' is not a platform ({known})")
                if spec is None:
                    spec = {}
                elif isinstance(spec, (int, float)) and not isinstance(spec, bool):
                    spec = {"share": spec}  # the shorthand ``android: 0.6``
                elif isinstance(spec, Mapping):
                    spec = dict(spec)
                else:
                    raise ValueError(
                        f"{name}: must be a share (such as 0.6) or a mapping with share and client"
                    )
                for key, default in PLATFORM_TABLE[name].defaults().items():
                    if spec.get(key) is None:
                        spec[key] = default
                out[name] = spec
            return out
        return value

    @field_validator("platforms")
    @classmethod
    def _platform_shares(cls, value: dict[str, PlatformSpec]) -> dict[str, PlatformSpec]:
        if not value:
            raise ValueError("at least one platform is needed")
        total = sum(p.share for p in value.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"platform shares must sum to 1 (they sum to {total:g})")
        for name, spec in value.items():
            allowed = tuple(PLATFORM_TABLE[name].clients)
            if spec.client not in allowed:
                raise ValueError(f"{name}.client must be one of {', '.join(allowed)}")
        return value
