"""Scenario files: the validated, immutable description of one simulation.

Validation happens here, at the boundary (pydantic), so the rest of simlib can trust its inputs.
Every field is documented in ``docs/scenario.md``; names are stable because notebooks, presets and
sweeps build on them. A scenario is frozen: derive variants with :func:`apply_overrides` (sweeps)
or ``scenario.model_copy(update=...)``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simlib.errors import ScenarioError, format_loc

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


# --------------------------------------------------------------------------------------- fleet


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
    components: list[AdoptionComponent] | None = None
    curve: str | None = None
    points: list[tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0, le=1)]]] | None = (
        None
    )

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
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read curve file ({exc.strerror})") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip().lower() for c in rows[0]] != ["days", "share"]:
        raise ScenarioError(str(path), "line 1", "header must be 'days,share'")
    points: list[tuple[float, float]] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 2:
            raise ScenarioError(str(path), f"line {lineno}", "expected two columns: days,share")
        try:
            d, s = float(row[0]), float(row[1])
        except ValueError:
            raise ScenarioError(str(path), f"line {lineno}", "days and share must be numbers") from None
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


def _check_increasing(dates: list[dt.date], where: str) -> None:
    for i in range(1, len(dates)):
        if dates[i] <= dates[i - 1]:
            raise ValueError(f"{where}[{i}].from: dates must increase")


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
    client: Literal["nsc", "okhttp", "ats", "trustkit"] | None = None
    #: Android apps targeting API 24+ ignore user-installed CAs unless they opt in.
    trusts_user_cas: bool | None = None
    #: Whether an expired trust anchor is refused (Android ignores anchor expiry; Apple does not).
    checks_anchor_expiry: bool | None = None


_PLATFORM_DEFAULTS = {
    "android": {"client": "nsc", "trusts_user_cas": False, "checks_anchor_expiry": False},
    # (unconfirmed) an iOS user who installed a profile and enabled full trust: see
    # pinning-semantics.md §3 "User or proxy roots".
    "ios": {"client": "ats", "trusts_user_cas": True, "checks_anchor_expiry": True},
}


class NewInstalls(_Model):
    """Users who install the app during the simulation (always on the latest release)."""

    per_day: Annotated[float, Field(ge=0)] = 0.0


class Fleet(_Model):
    users: Annotated[int, Field(ge=1, le=10**12)]
    release_every_days: Annotated[int, Field(ge=1)]
    build_lead_days: Annotated[int, Field(ge=0)] = 0
    adoption: Adoption
    platforms: dict[Literal["android", "ios"], PlatformSpec] = Field(
        default_factory=lambda: {"android": {"share": 0.5}, "ios": {"share": 0.5}}  # type: ignore[dict-item]
    )
    new_installs: NewInstalls | None = None

    @field_validator("platforms", mode="before")
    @classmethod
    def _platform_shorthand(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            out = {}
            for name, spec in value.items():
                spec = {"share": spec} if isinstance(spec, (int, float)) else dict(spec or {})
                for key, default in _PLATFORM_DEFAULTS.get(str(name), {}).items():
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
            allowed = {"android": ("nsc", "okhttp"), "ios": ("ats", "trustkit")}[name]
            if spec.client not in allowed:
                raise ValueError(f"{name}.client must be one of {', '.join(allowed)}")
        return value


# ----------------------------------------------------------------------------------------- PKI


class IntermediateSpec(_Named):
    name: str
    key: KeyAlgorithm = "ec-p256"
    #: Issuance from this intermediate starts on ``active_from`` and stops on ``active_until``
    #: (exclusive: the first day it is no longer used).
    active_from: dt.date | None = None
    active_until: dt.date | None = None
    #: Expiry of the intermediate certificate itself (clients reject chains through it afterwards).
    not_after: dt.date | None = None


class CrossSign(_Model):
    """The CA's root is cross-signed by another CA's root and the cross-certificate is served."""

    ca: str
    until: dt.date | None = None


class ValidityStep(_Model):
    from_: dt.date = Field(alias="from")
    days: Annotated[int, Field(ge=1)]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CapStep(_Model):
    from_: dt.date = Field(alias="from")
    max_days: Annotated[int, Field(ge=1)]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CASpec(_Named):
    name: str
    key: KeyAlgorithm = "ec-p256"
    root: str | None = None  # common name of the root; default "<name> Root"
    root_not_after: dt.date | None = None
    intermediates: list[IntermediateSpec] = Field(default_factory=list)
    selection: Literal["fixed", "round_robin", "random"] = "fixed"
    validity_days: Annotated[int, Field(ge=1)] = 90
    validity_schedule: list[ValidityStep] = Field(default_factory=list)
    cross_signed_by: CrossSign | None = None

    @model_validator(mode="after")
    def _defaults(self) -> CASpec:
        if not self.intermediates:
            object.__setattr__(self, "intermediates", [IntermediateSpec(name=f"{self.name} Int 1")])
        if self.root is None:
            object.__setattr__(self, "root", f"{self.name} Root")
        names = [i.name for i in self.intermediates]
        if len(set(names)) != len(names):
            raise ValueError("intermediate names must be unique within a CA")
        _check_increasing([step.from_ for step in self.validity_schedule], "validity_schedule")
        return self


class RotateEvery(_Model):
    rotate_every: Annotated[int, Field(ge=1)]


class HostSpec(_Named):
    name: str
    ca: str
    validity_days: Annotated[int, Field(ge=1)] | None = None
    renew_before_days: Annotated[int, Field(ge=1)] | None = None
    renew_at_fraction: Annotated[float, Field(gt=0, lt=1)] | None = None
    key_policy: Literal["reuse", "rotate"] | RotateEvery = "rotate"
    pregenerate_next_key: bool = False
    key: KeyAlgorithm = "ec-p256"
    first_issued: dt.date | None = None

    @model_validator(mode="after")
    def _check(self) -> HostSpec:
        if self.renew_before_days is not None and self.renew_at_fraction is not None:
            raise ValueError("give renew_before_days or renew_at_fraction, not both")
        if (
            self.renew_before_days is not None
            and self.validity_days is not None
            and self.renew_before_days >= self.validity_days
        ):
            raise ValueError("renew_before_days must be smaller than validity_days")
        return self

    @property
    def rotate_every(self) -> int:
        """Issuances per key: 1 = new key each issuance, 0 = reuse forever."""
        if self.key_policy == "reuse":
            return 0
        if self.key_policy == "rotate":
            return 1
        return self.key_policy.rotate_every


# -------------------------------------------------------------------------------------- events


class _Event(_Model):
    date: dt.date | None = None
    rate_per_year: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _when(self) -> _Event:
        if (self.date is None) == (self.rate_per_year is None):
            raise ValueError("give exactly one of 'date' or 'rate_per_year'")
        return self


class _DatedEvent(_Model):
    date: dt.date


class CAMigration(_DatedEvent):
    type: Literal["ca_migration"]
    to: str
    hosts: list[str] | None = None  # default: every host
    when: Literal["immediate", "next_renewal"] = "immediate"


class KeyCompromise(_Event):
    type: Literal["key_compromise"]
    host: str | None = None  # default: every host


class MassRevocation(_Event):
    type: Literal["mass_revocation"]
    ca: str
    within_days: Annotated[int, Field(ge=0)] = 5


class IntermediateChange(_DatedEvent):
    type: Literal["intermediate_change"]
    ca: str
    active: list[str]


class CADistrust(_DatedEvent):
    type: Literal["ca_distrust"]
    ca: str
    platforms: list[Literal["android", "ios"]] | None = None
    replacement: str | None = None
    migrate_on: dt.date | None = None  # default: the distrust date
    when: Literal["immediate", "next_renewal"] = "next_renewal"


class TrustStoreChange(_DatedEvent):
    type: Literal["trust_store_change"]
    platforms: list[Literal["android", "ios"]] | None = None
    share: Annotated[float, Field(gt=0, le=1)] = 1.0
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


Event = Annotated[
    CAMigration | KeyCompromise | MassRevocation | IntermediateChange | CADistrust | TrustStoreChange,
    Field(discriminator="type"),
]


# ---------------------------------------------------------------------------------- strategies


class DynamicSpec(_Model):
    """Pins refreshed from a remote, signed list (Wultra/Approov style)."""

    refresh_days: Annotated[int, Field(ge=1)] = 1
    fetch_success: Annotated[float, Field(ge=0, le=1)] = 0.95
    publish_ahead_days: Annotated[int, Field(ge=0)] = 30
    max_age_days: Annotated[int, Field(ge=1)] = 30
    on_stale: Literal["fail_open", "fail_closed"] = "fail_open"


_BACKUP_RE = re.compile(r"^(next_key|ca:.+|intermediates:.+|spki:.+)$")


class StrategySpec(_Named):
    name: str
    pin: Literal["none", "leaf_cert", "leaf_spki", "intermediate_spki", "root_spki"]
    intermediates: Literal["serving", "all"] = "serving"
    backup: list[str] = Field(default_factory=list)
    expires_after_days: Annotated[int, Field(ge=1)] | None = None
    enforce: bool = True
    hosts: list[str] | None = None
    dynamic: DynamicSpec | None = None

    @field_validator("backup")
    @classmethod
    def _backup_syntax(cls, value: list[str]) -> list[str]:
        for i, entry in enumerate(value):
            if not _BACKUP_RE.match(entry):
                raise ValueError(
                    f"backup[{i}]: '{entry}' is not one of next_key, ca:<name>, "
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
    ca: str | None = None
    #: stolen_leaf_key: the key served this many days ago (0 = the current key).
    key_age_days: Annotated[int, Field(ge=0)] = 0
    #: Attacked host; default: every host (the attacker picks the weakest).
    host: str | None = None

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


# --------------------------------------------------------------------------- response & economics


class ForcedUpdate(_Model):
    """A blocking update prompt shipped with each fix release."""

    comply_share: Annotated[float, Field(ge=0, le=1)] = 0.8


class IncidentResponse(_Model):
    threshold: Annotated[float, Field(gt=0, lt=1)] = 0.001
    detect_days: Annotated[int, Field(ge=0)] = 1
    review_days: Annotated[int, Field(ge=0)] = 2
    forced_update: ForcedUpdate | None = None
    #: Host serving the update check; ``null`` = an unpinned endpoint. Default: the first host.
    update_check_host: str | None = "__first__"


class Economics(_Model):
    cost_per_locked_user_day: Annotated[float, Field(ge=0)] = 0.0
    attack_probability_per_day: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict
    )
    loss_per_successful_attack: Annotated[float, Field(ge=0)] | dict[
        str, Annotated[float, Field(ge=0)]
    ] = 0.0


class Metrics(_Model):
    #: A day counts towards an outage episode when its lockout rate exceeds this.
    outage_threshold: Annotated[float, Field(ge=0, lt=1)] = 0.0


class MonteCarloSpec(_Model):
    replications: Annotated[int, Field(ge=1)] = 100
    #: fixed: every replication replays the scenario's seeded certificate calendar;
    #: resample: each replication draws its own calendar (random intermediates, incident dates).
    server_draws: Literal["fixed", "resample"] = "fixed"
    #: Users simulated one by one for dynamic-pinning strategies (fetch histories), scaled up.
    panel_users: Annotated[int, Field(ge=100)] = 10_000


# ------------------------------------------------------------------------------------ scenario


class Scenario(_Model):
    #: Where the scenario came from (a file path or "<scenario>"), so errors found later, while
    #: simulating, can name the file. Not a field: it is not part of the resolved scenario.
    _source: str = PrivateAttr(default="<scenario>")

    name: str
    description: str = ""
    start: dt.date
    end: dt.date
    seed: Annotated[int, Field(ge=0)] = 0
    fleet: Fleet
    cas: list[CASpec]
    hosts: list[HostSpec]
    validity_cap: Literal["cabf", "none"] | list[CapStep] = "cabf"
    events: list[Event] = Field(default_factory=list)
    strategies: list[StrategySpec]
    attacks: list[AttackSpec] = Field(default_factory=list)
    incident_response: IncidentResponse | None = None
    economics: Economics | None = None
    metrics: Metrics = Field(default_factory=Metrics)
    monte_carlo: MonteCarloSpec = Field(default_factory=MonteCarloSpec)

    @model_validator(mode="after")
    def _resolve_update_check(self) -> Scenario:
        # The update check defaults to the first host; the resolved scenario names it.
        ir = self.incident_response
        if ir is not None and ir.update_check_host == "__first__" and self.hosts:
            object.__setattr__(ir, "update_check_host", self.hosts[0].name)
        return self

    @field_validator("validity_cap")
    @classmethod
    def _cap_order(cls, value: Any) -> Any:
        if isinstance(value, list):
            _check_increasing([step.from_ for step in value], "validity_cap")
        return value

    @field_validator("attacks", mode="before")
    @classmethod
    def _attack_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": a} if isinstance(a, str) else a for a in value]
        return value

    @property
    def source(self) -> str:
        return self._source

    def __eq__(self, other: object) -> bool:
        # Same content, same scenario, wherever it was read from.
        return isinstance(other, Scenario) and self.__dict__ == other.__dict__

    __hash__ = _Model.__hash__

    @property
    def days(self) -> int:
        """Number of simulated days (start and end inclusive)."""
        return (self.end - self.start).days + 1

    def day(self, date: dt.date) -> int:
        return (date - self.start).days

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML-ready dict of the resolved scenario (defaults filled in)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=False)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def validity_cap_days(self, date: dt.date) -> int | None:
        steps = (
            CABF_VALIDITY_CAP
            if self.validity_cap == "cabf"
            else ()
            if self.validity_cap == "none"
            else tuple((s.from_, s.max_days) for s in self.validity_cap)
        )
        cap = None
        for start, days in steps:
            if date >= start:
                cap = days
        return cap


# ------------------------------------------------------------------------- cross-field checks


def _semantic_checks(sc: Scenario) -> None:
    """Checks that need the whole scenario; raise (where, message)."""

    def fail(where: str, message: str) -> None:
        raise _SemanticError(where, message)

    if sc.end < sc.start:
        fail("end", "must not be before start")
    if sc.days > 366 * 40:
        fail("end", "simulations are limited to 40 years")
    ca_names = [c.name for c in sc.cas]
    for i, name in enumerate(ca_names):
        if name in ca_names[:i]:
            fail(f"cas[{i}].name", f"duplicate CA name '{name}'")
    cas = {c.name: c for c in sc.cas}
    for i, ca in enumerate(sc.cas):
        if ca.cross_signed_by is not None and ca.cross_signed_by.ca not in cas:
            fail(f"cas[{i}].cross_signed_by.ca", f"unknown CA '{ca.cross_signed_by.ca}'")
        if ca.cross_signed_by is not None and ca.cross_signed_by.ca == ca.name:
            fail(f"cas[{i}].cross_signed_by.ca", "a CA cannot cross-sign itself")
        for j, inter in enumerate(ca.intermediates):
            if inter.active_from and inter.active_until and inter.active_until <= inter.active_from:
                fail(f"cas[{i}].intermediates[{j}].active_until", "must be after active_from")
    if not sc.hosts:
        fail("hosts", "at least one host is needed")
    host_names = [h.name for h in sc.hosts]
    for i, h in enumerate(sc.hosts):
        if h.name in host_names[:i]:
            fail(f"hosts[{i}].name", f"duplicate host '{h.name}'")
        if h.ca not in cas:
            fail(f"hosts[{i}].ca", f"unknown CA '{h.ca}' (known: {', '.join(ca_names)})")
        if h.first_issued is not None and h.first_issued > sc.start:
            fail(f"hosts[{i}].first_issued", "must be on or before start")
        validity = h.validity_days or cas[h.ca].validity_days
        if h.renew_before_days is not None and h.renew_before_days >= validity:
            fail(f"hosts[{i}].renew_before_days", f"must be smaller than the validity ({validity} days)")

    for i, ev in enumerate(sc.events):
        where = f"events[{i}]"
        date = getattr(ev, "date", None)
        if date is not None and not (sc.start <= date <= sc.end):
            fail(f"{where}.date", f"must be between start ({sc.start}) and end ({sc.end})")
        for field in ("to", "ca", "replacement"):
            ref = getattr(ev, field, None)
            if ref is not None and ref not in cas:
                fail(f"{where}.{field}", f"unknown CA '{ref}'")
        hosts = getattr(ev, "hosts", None) or []
        host = getattr(ev, "host", None)
        for j, ref in enumerate([*hosts, *([host] if host else [])]):
            if ref not in host_names:
                fail(f"{where}.host" + (f"s[{j}]" if hosts else ""), f"unknown host '{ref}'")
        if isinstance(ev, IntermediateChange):
            known = {x.name for x in cas[ev.ca].intermediates}
            if not ev.active:
                fail(f"{where}.active", "needs at least one intermediate")
            for j, name in enumerate(ev.active):
                if name not in known:
                    fail(f"{where}.active[{j}]", f"'{name}' is not an intermediate of {ev.ca}")
        if isinstance(ev, TrustStoreChange):
            for field in ("add", "remove"):
                for j, ref in enumerate(getattr(ev, field)):
                    msg = _anchor_ref_problem(ref, cas)
                    if msg:
                        fail(f"{where}.{field}[{j}]", msg)
            if not ev.add and not ev.remove:
                fail(where, "a trust_store_change needs 'add' or 'remove'")
        if isinstance(ev, CADistrust) and ev.migrate_on is not None and ev.migrate_on > ev.date:
            fail(f"{where}.migrate_on", "must be on or before the distrust date")

    for platform in sc.fleet.platforms:
        idx = [
            i for i, ev in enumerate(sc.events)
            if isinstance(ev, TrustStoreChange) and (ev.platforms is None or platform in ev.platforms)
        ]
        if len(idx) > MAX_TRUST_CHANGES:
            # each change splits the platform's devices in two: 2^n device groups
            fail(f"events[{idx[MAX_TRUST_CHANGES]}]", f"at most {MAX_TRUST_CHANGES} trust_store_change events per platform ({platform})")

    if not sc.strategies:
        fail("strategies", "at least one strategy is needed")
    names = [s.name for s in sc.strategies]
    for i, st in enumerate(sc.strategies):
        where = f"strategies[{i}]"
        if st.name in names[:i]:
            fail(f"{where}.name", f"duplicate strategy name '{st.name}'")
        pinned_hosts = st.hosts if st.hosts is not None else host_names
        for j, ref in enumerate(st.hosts or []):
            if ref not in host_names:
                fail(f"{where}.hosts[{j}]", f"unknown host '{ref}'")
        for j, entry in enumerate(st.backup):
            kind, _, ref = entry.partition(":")
            if kind in ("ca", "intermediates") and ref not in cas:
                fail(f"{where}.backup[{j}]", f"unknown CA '{ref}'")
            if kind == "spki":
                from simlib.pki.pins import parse_pin

                try:
                    parse_pin(ref)
                except ValueError as exc:
                    fail(f"{where}.backup[{j}]", str(exc))
            if kind == "next_key":
                for h in sc.hosts:
                    if h.name in pinned_hosts and not h.pregenerate_next_key:
                        fail(
                            f"{where}.backup[{j}]",
                            f"next_key needs pregenerate_next_key: true on host {h.name}",
                        )
        if st.intermediates == "all" and st.pin != "intermediate_spki":
            fail(f"{where}.intermediates", "applies to pin: intermediate_spki only")

    labels = [a.label for a in sc.attacks]
    for i, a in enumerate(sc.attacks):
        if a.label in labels[:i]:
            fail(f"attacks[{i}].label", f"duplicate attack label '{a.label}' (set 'label')")
        if a.ca is not None and a.ca not in cas:
            fail(f"attacks[{i}].ca", f"unknown CA '{a.ca}'")
        if a.host is not None and a.host not in host_names:
            fail(f"attacks[{i}].host", f"unknown host '{a.host}'")

    ir = sc.incident_response
    if ir is not None and ir.update_check_host not in (None, *host_names):
        fail("incident_response.update_check_host", f"unknown host '{ir.update_check_host}'")

    if sc.economics is not None:
        for label in sc.economics.attack_probability_per_day:
            if label not in labels:
                fail(f"economics.attack_probability_per_day.{label}", "not an attack of this scenario")
        if isinstance(sc.economics.loss_per_successful_attack, dict):
            for label in sc.economics.loss_per_successful_attack:
                if label not in labels:
                    fail(f"economics.loss_per_successful_attack.{label}", "not an attack of this scenario")


def _anchor_ref_problem(ref: str, cas: Mapping[str, CASpec]) -> str | None:
    ca, _, inter = ref.partition("/")
    if ca not in cas:
        return f"unknown CA '{ca}' (use '<ca>' for its root or '<ca>/<intermediate>')"
    if inter and inter not in {i.name for i in cas[ca].intermediates}:
        return f"'{inter}' is not an intermediate of {ca}"
    return None


class _SemanticError(Exception):
    def __init__(self, where: str, message: str) -> None:
        self.where, self.message = where, message


# -------------------------------------------------------------------------------- loading


_MESSAGES = {
    "greater_than_equal": lambda c: f"must be ≥ {c['ge']}",
    "greater_than": lambda c: f"must be > {c['gt']}",
    "less_than_equal": lambda c: f"must be ≤ {c['le']}",
    "less_than": lambda c: f"must be < {c['lt']}",
    "extra_forbidden": lambda c: "unknown field",
    "missing": lambda c: "required field is missing",
    "int_type": lambda c: "must be an integer",
    "int_parsing": lambda c: "must be an integer",
    "int_from_float": lambda c: "must be a whole number",
    "float_type": lambda c: "must be a number",
    "float_parsing": lambda c: "must be a number",
    "bool_type": lambda c: "must be true or false",
    "bool_parsing": lambda c: "must be true or false",
    "string_type": lambda c: "must be a string",
    "date_type": lambda c: "must be a date (YYYY-MM-DD)",
    "date_parsing": lambda c: "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": lambda c: "must be a date (YYYY-MM-DD)",
    "list_type": lambda c: "must be a list",
    "dict_type": lambda c: "must be a mapping",
    "model_type": lambda c: "must be a mapping",
    "literal_error": lambda c: f"must be one of {c['expected']}",
    "union_tag_invalid": lambda c: f"unknown type '{c['tag']}' (expected {c['expected_tags']})",
    "union_tag_not_found": lambda c: "needs a 'type' field",
}


_INTERNAL_LOC = re.compile(r"[a-z][\w-]*\[(?!\d+\]$).*\]|int|float|str|bool|none")


def _internal(part: Any) -> bool:
    """Pydantic's own location parts (union branches, validator wrappers), not field names.

    ``function-after[_check(), Adoption]`` or ``literal['reuse','rotate']`` are dropped; a field
    or sweep key such as ``hosts[0].validity_days`` is kept.
    """
    return isinstance(part, str) and (part in _UNION_TAGS or bool(_INTERNAL_LOC.fullmatch(part)))


def describe_validation_error(err: Mapping[str, Any]) -> tuple[str, str]:
    """(field path, one-line message) of one pydantic error, with pydantic's internals removed."""
    loc = [p for p in err["loc"] if not _internal(p)]
    ctx = err.get("ctx") or {}
    make = _MESSAGES.get(err["type"])
    if make is not None:
        try:
            return format_loc(loc), make(ctx)
        except KeyError:
            pass
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    # Messages from our own validators may start with a sub-path ("backup[1]: ...").
    m = re.match(r"^([A-Za-z_][\w]*(?:\[\d+\])?(?:\.[\w]+(?:\[\d+\])?)*): (.*)$", msg)
    if m and not m.group(1).startswith(("give", "must")):
        sub, msg = m.group(1), m.group(2)
        head = re.split(r"[.\[]", sub, maxsplit=1)[0]
        if loc and loc[-1] == head:  # a field validator naming its own field: "backup[1]: ..."
            loc = loc[:-1]
        path = format_loc(loc)
        return (f"{path}.{sub}" if path else sub), msg
    return format_loc(loc), msg


_UNION_TAGS = {
    "ca_migration",
    "key_compromise",
    "mass_revocation",
    "intermediate_change",
    "ca_distrust",
    "trust_store_change",
    "RotateEvery",
    "function-after",
}


def pick_validation_error(errors: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    # For unions (key_policy: 'reuse' | {rotate_every}) pydantic reports every branch; the most
    # useful is the deepest non-literal one.
    return max(errors, key=lambda e: (e["type"] != "literal_error", len(e["loc"])))


def scenario_from_dict(
    data: Any, *, source: str = "<scenario>", base_dir: str | Path | None = None
) -> Scenario:
    """Validate a scenario mapping; raise :class:`ScenarioError` with a field path on failure."""
    if not isinstance(data, Mapping):
        raise ScenarioError(source, "", "a scenario must be a YAML mapping")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioWarning)
            sc = Scenario.model_validate(data, context={"base_dir": base_dir})
        for w in caught:
            warnings.warn(f"{source}: {w.message}", ScenarioWarning, stacklevel=2)
    except ScenarioError as exc:
        raise exc from None
    except ValidationError as exc:
        where, message = describe_validation_error(pick_validation_error(exc.errors()))
        raise ScenarioError(source, where, message) from None
    try:
        _semantic_checks(sc)
    except _SemanticError as exc:
        raise ScenarioError(source, exc.where, exc.message) from None
    sc._source = source
    return sc


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """Parse a YAML file; unreadable files and syntax errors become one-line ScenarioErrors."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read {what} ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(str(path), where, f"invalid YAML: {problem}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML scenario file."""
    path = Path(path)
    return scenario_from_dict(read_yaml(path), source=str(path), base_dir=path.parent)


def default_scenario() -> Scenario:
    """The embedded quickstart scenario (the one ``make report`` runs)."""
    from importlib.resources import files

    text = files("simlib").joinpath("scenarios/quickstart.yaml").read_text(encoding="utf-8")
    return scenario_from_dict(yaml.safe_load(text), source="quickstart.yaml")


# ------------------------------------------------------------------------------ overrides


_PATH_RE = re.compile(r"([A-Za-z_][\w\-]*)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """Split ``fleet.adoption.components[1].mean_lag_days`` into keys and list indexes."""
    parts: list[str | int] = []
    for segment in path.split("."):
        if not segment:
            raise ValueError(f"empty segment in '{path}'")
        pos = 0
        for m in _PATH_RE.finditer(segment):
            if m.start() != pos:
                raise ValueError(f"cannot parse '{segment}' in '{path}'")
            parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
            pos = m.end()
        if pos != len(segment):
            raise ValueError(f"cannot parse '{segment}' in '{path}'")
    return parts


def set_path(data: Any, path: str, value: Any) -> Any:
    """Return a copy of nested dict/list ``data`` with ``path`` set to ``value``.

    Raises ``KeyError`` naming the first missing part, so sweep files can report bad axes. A
    strategy or host may also be addressed by name: ``strategies[leaf key].expires_after_days``
    is not supported on purpose (names contain spaces); use indexes.
    """
    parts = parse_path(path)
    return _set(data, parts, value, path)


def _set(node: Any, parts: list[str | int], value: Any, path: str) -> Any:
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(head, int):
        if not isinstance(node, list) or not (-len(node) <= head < len(node)):
            raise KeyError(f"{path}: index [{head}] does not exist")
        out = list(node)
        out[head] = _set(node[head], rest, value, path)
        return out
    if node is None:
        node = {}  # an absent optional section (e.g. incident_response: null) is created
    if not isinstance(node, Mapping):
        raise KeyError(f"{path}: '{head}' is not inside a mapping")
    out = dict(node)
    out[head] = _set(node.get(head), rest, value, path)
    return out


def apply_overrides(base: Scenario | Mapping[str, Any], overrides: Mapping[str, Any]) -> Scenario:
    """A new validated scenario: ``base`` with dotted-path ``overrides`` applied."""
    data: Any = base.to_dict() if isinstance(base, Scenario) else dict(base)
    for path, value in overrides.items():
        try:
            data = set_path(data, path, value)
        except (KeyError, ValueError) as exc:
            raise ScenarioError("<overrides>", path, str(exc.args[0]).split(": ", 1)[-1]) from None
    return scenario_from_dict(data, source="<overrides>")
