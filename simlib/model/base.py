"""Shared pieces of the scenario schema: the frozen base model, constants and name repair."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    model_validator,
)

from simlib._dates import to_date
from simlib._hostnames import check_hostname
from simlib.errors import ConfigError, ScenarioWarning, clip
from simlib.vocabulary import ATTACK_CLASSES, CLIENT_LIBRARIES, PIN_LEVELS, PLATFORMS

KeyAlgorithm = Literal["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"]
#: The schema's types for the words of ``simlib.vocabulary`` (pin levels, platforms, client
#: libraries, attack classes): exactly the registered entries, named by pydantic in errors.
PinLevelName = Literal[PIN_LEVELS]  # type: ignore[valid-type]
PlatformName = Literal[PLATFORMS]  # type: ignore[valid-type]
ClientLibrary = Literal[CLIENT_LIBRARIES]  # type: ignore[valid-type]
AttackClass = Literal[ATTACK_CLASSES]  # type: ignore[valid-type]

MAX_TRUST_CHANGES = 8  # per platform: device groups double with each change

# The CA/Browser Forum validity caps (``validity_cap: cabf``) live in one place, with their
# sources: data/world/validity-caps.csv, read by simlib.world.caps (Scenario.validity_cap_steps).


#: Dates a scenario may use. Certificates are built from them (CA certificates from start − 5 to
#: start + 40 years, leaves for up to MAX_DAYS days) and X.509 times start in 1950; results carry
#: them as pandas ``datetime64[ns]``, which ends in April 2262.
MIN_DATE = dt.date(1950, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)
#: Upper bound of every "days" field (100 years): keeps day arithmetic and certificate validity
#: far inside what numpy and X.509 can represent.
MAX_DAYS = 36_500
#: X.509 upper bound of a common name (RFC 5280 ub-common-name); CA, root and intermediate names
#: and host names become common names.
MAX_CN = 64
#: Longest strategy or scenario name (names label columns, legends and folders).
MAX_NAME = 200
#: Seeds are stored as int64 (manifests, numpy).
MAX_SEED = 2**63 - 1
#: Longest lists (docs/scenario.md, Limits): far beyond any real scenario, and small enough that
#: validation, the cross-field checks and the work estimate stay instant; the work budget
#: (``budget.py``) bounds what the engine then does with them.
MAX_STRATEGIES = 1_000
MAX_HOSTS = 1_000
MAX_CAS = 1_000
MAX_EVENTS = 10_000
MAX_ATTACKS = 100
#: Exponential components of an adoption mixture (a fit needs 1-3; the engine's closed form
#: costs one term per component and day piece). An empirical curve takes ``curve``/``points``.
MAX_COMPONENTS = 32
#: Points of an empirical adoption curve (a daily curve over 100 years has 36 501).
MAX_CURVE_POINTS = 100_000
#: Any other list: intermediates, schedules, backups, references to hosts, CAs, platforms.
MAX_ITEMS = 1_000


def _coerce_date(value: Any) -> Any:
    # One spelling rule for every date: datetime.date, ISO string or pandas.Timestamp.
    if isinstance(value, (bool, int, float)):
        raise ValueError("must be a date (YYYY-MM-DD)")
    if value is None or isinstance(value, (dict, list, tuple)):
        return value  # pydantic reports the type
    try:
        return to_date(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from None


def _date_in_range(value: dt.date) -> dt.date:
    if not (MIN_DATE <= value <= MAX_DATE):
        raise ValueError(
            f"{value} is outside {MIN_DATE}..{MAX_DATE} (X.509 times start in 1950; result "
            "dates must fit pandas datetime64)"
        )
    return value


#: A date field: accepts date, 'YYYY-MM-DD' or pandas.Timestamp; within MIN_DATE..MAX_DATE.
Date = Annotated[dt.date, BeforeValidator(_coerce_date), AfterValidator(_date_in_range)]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _check_name(value: str, limit: int = MAX_NAME, what: str = "names") -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if _CONTROL.search(value):
        raise ValueError(f"'{clip(value, 60)}' contains control characters")
    if len(value) > limit:
        raise ValueError(
            f"'{clip(value, 40)}' is {len(value)} characters; {what} allow at most {limit}"
        )
    return value


def _check_cn(value: str) -> str:
    return _check_name(value, MAX_CN, "certificate common names")


def _check_host(value: str) -> str:
    """A DNS name X.509 accepts: the one host-name rule (:func:`simlib._hostnames.check_hostname`,
    a leading ``*.`` allowed, no IP address), written as certificates carry it — ASCII (an
    internationalised name as punycode) — and at most 64 characters (it becomes the CN)."""
    _check_name(value, MAX_NAME)
    if not value.isascii():
        try:
            suggestion = value.encode("idna").decode("ascii")
            hint = f" ('{clip(suggestion, 60)}')"
        except UnicodeError:
            hint = ""
        raise ValueError(
            f"'{clip(value, 60)}' is not ASCII: write internationalised host names in "
            f"punycode{hint}, as certificates carry them"
        )
    try:
        check_hostname(value, wildcard=True, ip=False)
    except ConfigError as exc:
        raise ValueError(exc.message) from None
    if len(value) > MAX_CN:
        raise ValueError(
            f"'{clip(value, 40)}' is {len(value)} characters; host names become certificate "
            f"common names, at most {MAX_CN}"
        )
    return value


#: A non-empty name without control characters (scenario, strategy names).
Name = Annotated[str, AfterValidator(_check_name)]
#: A name that becomes an X.509 common name (CA, root, intermediate): also ≤ 64 characters.
CommonName = Annotated[str, AfterValidator(_check_cn)]
#: A host name: a DNS name X.509 accepts.
HostName = Annotated[str, AfterValidator(_check_host)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


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
            f"read name '{clip(name)}' (quote names that contain a comma)",
            ScenarioWarning,
            stacklevel=2,
        )
        return {**dict(items[:i]), "name": name, **dict(items[j:])}


def _check_increasing(dates: list[dt.date], where: str) -> None:
    for i in range(1, len(dates)):
        if dates[i] <= dates[i - 1]:
            raise ValueError(f"{where}[{i}].from: dates must increase")
