"""Forecast when shipped pin configs break: config + observed chain + fleet → a simlib scenario.

What the chain says becomes the host (lifetime of the served leaf → ``validity_days``; its
``not_before`` → ``first_issued``, so renewals keep their phase), the issuing CA (the served
intermediate's real SPKI pin looked up in :mod:`simlib.world`'s catalogue: that CA's active
intermediates for the leaf's key type on ``today`` and its selection rule; otherwise a generic
CA with one intermediate) and the renewal tool's defaults on ``today`` (renewal point and whether
a renewal keeps the key: :func:`simlib.world.defaults_on`).

Each config becomes one strategy whose pins reproduce it against the observed chain: the most
durable level of the built path any of its pins matches (root > intermediate > leaf) is the pin;
every other valid SHA-256 pin is a literal ``spki:`` backup (a key outside the scenario, which
never matches a scenario key — as a key the host does not serve never matches). A pin-set
expiry becomes ``expires_after_days``. Expected mode then gives, per config, the first day a
share of users is locked out and that share (assuming later releases keep the same strategy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from simlib.errors import clip, escape_controls
from simlib.toolkit.chain import PathCert, build_path
from simlib.toolkit.hostnames import check_hostname, select
from simlib.toolkit.lints import matches
from simlib.toolkit.policy import ConfigError, PinConfig
from simlib.vocabulary import PIN_LEVEL_TABLE, SPKI_LEVELS

if TYPE_CHECKING:
    import pandas as pd
    from cryptography import x509

TOOLS = ("certbot", "cert-manager", "caddy", "acm")
#: Longest horizon: a scenario covers at most 40 years (``model.checks``).
MAX_HORIZON_DAYS = 366 * 40 - 1
#: (chain role, pin level), root first: a config is read as pinning the highest level it matches.
LEVELS = tuple((PIN_LEVEL_TABLE[n].position, n) for n in reversed(SPKI_LEVELS))
EPSILON = 1e-9


@dataclass(frozen=True)
class Shipped:
    """One shipped release: its config and release date (``None``: treat as today)."""

    config: PinConfig
    release_date: date | None = None


def _key_type(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec

    return "ecdsa" if isinstance(cert.public_key(), ec.EllipticCurvePublicKey) else "rsa"


def catalogue_ca(path: list[PathCert], today: date) -> dict[str, Any]:
    """The scenario ``cas`` entry for the chain's issuer: from the catalogue when it matches."""
    from simlib import world

    if len(path) > 1:
        pin = path[1].sha256
        cat = world.catalogue()
        for cert in cat.certificates.values():
            if cert.role == "intermediate" and pin in (cert.spki_pin, cert.published_spki_pin):
                ca = cat.ca(cert.ca)
                active = world.active_intermediates(ca.name, today, _key_type(path[0].cert))
                names = list(dict.fromkeys([cert.name, *active]))
                return {
                    "name": ca.name,
                    "intermediates": [{"name": n} for n in names],
                    "selection": ca.selection if len(names) > 1 else "fixed",
                }
    return {"name": "observed-ca", "intermediates": [{"name": "Observed Int"}]}


def host_entry(host: str, leaf: x509.Certificate, tool: str, today: date) -> dict[str, Any]:
    from simlib import world

    if tool not in TOOLS:
        raise ConfigError(
            "--tool", "", f"unknown tool {tool!r}; expected one of {', '.join(TOOLS)}"
        )
    from simlib.model.base import MAX_DAYS, MIN_DATE

    nb, na = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    validity = max(1, round((na - nb).total_seconds() / 86400))
    if nb.date() < MIN_DATE or validity > MAX_DAYS:  # X.509 allows years 0001..9999
        raise ConfigError(
            f"forecast for {host}",
            "leaf certificate",
            f"valid {nb.date()} to {na.date()}: simlib simulates certificates "
            f"issued from {MIN_DATE} and valid at most {MAX_DAYS:,} days",
        )
    d = world.defaults_on("aws-acm" if tool == "acm" else tool, today)
    entry: dict[str, Any] = {
        "name": host,
        "ca": "",
        "validity_days": validity,
        "key_policy": "reuse" if d.reuses_key else "rotate",
        "first_issued": min(nb.date(), today),
    }
    if d.renew_before_days and d.renew_before_days < validity:
        entry["renew_before_days"] = d.renew_before_days
    elif d.renew_at_fraction:
        entry["renew_at_fraction"] = d.renew_at_fraction
    return entry


def strategy_entry(
    name: str, config: PinConfig, host: str, path: list[PathCert], start: date
) -> dict[str, Any]:
    """A strategy reproducing ``config``'s pins for ``host`` against ``path``."""
    pins = {
        (p.algorithm, p.value): p
        for platform in config.platforms
        for pol in select(platform, config.for_platform(platform), host)
        if not pol.exclude
        for p in pol.all_pins
    }
    expiries = [
        pol.expiration
        for platform in config.platforms
        for pol in select(platform, config.for_platform(platform), host)
        if pol.expiration
    ]
    if not pins:
        return {"name": name, "pin": "none"}
    level = next(
        (
            lvl
            for role, lvl in LEVELS
            if any(matches(p, c) for p in pins.values() for c in path if c.role == role)
        ),
        None,
    )
    others = [p for p in pins.values() if not any(matches(p, c) for c in path)]
    backups = [f"spki:{p.value}" for p in others if p.valid and p.algorithm == "sha256"]
    if level is None:  # no pin matches the served chain: locked out already, nothing to simulate
        return {"name": name, "pin": "none", "_broken": True}
    entry: dict[str, Any] = {"name": name, "pin": level, "backup": backups}
    if expiries and min(expiries) > start:
        entry["expires_after_days"] = (min(expiries) - start).days
    return entry


def check_dates(today: date, horizon_days: int) -> None:
    """Refuse a start or horizon outside the dates a scenario may use (one line, no overflow)."""
    from simlib.model.base import MAX_DATE, MIN_DATE

    if not MIN_DATE <= today <= MAX_DATE:
        raise ConfigError(
            "--date",
            "",
            f"{today} is outside the dates simlib simulates ({MIN_DATE} to {MAX_DATE})",
        )
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise ConfigError(
            "--horizon-days",
            "",
            f"{horizon_days} days: give 1 to "
            f"{MAX_HORIZON_DAYS:,} (a forecast covers at most 40 years)",
        )
    if MAX_DATE.toordinal() - today.toordinal() < horizon_days:
        raise ConfigError(
            "--horizon-days",
            "",
            f"{today} + {horizon_days:,} days ends after "
            f"{MAX_DATE}, the last day simlib simulates: shorten the horizon",
        )


def build_scenario(
    shipped: list[Shipped],
    chain: list[x509.Certificate],
    *,
    host: str,
    fleet: dict[str, Any],
    tool: str = "certbot",
    horizon_days: int = 730,
    today: date | None = None,
    anchors: tuple | list = (),
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The scenario mapping and, per config, its strategy entry (with ``_broken`` markers)."""
    today = today or datetime.now(UTC).date()
    check_dates(today, horizon_days)
    host = check_hostname(host, source="host")
    path = build_path(list(chain), anchors)
    ca = catalogue_ca(path, today)
    h = host_entry(host, path[0].cert, tool, today)
    h["ca"] = ca["name"]
    strategies = []
    for i, item in enumerate(shipped):
        # Config paths are file names anyone may choose: a control character in one must not
        # make the strategy name invalid (and then be blamed on the fleet file).
        label = escape_controls(f"{i}: {item.config.source}")[:200]
        strategies.append(strategy_entry(label, item.config, host, path, today))
    if len(host.rstrip(".")) > 64:  # scenario host names become certificate common names
        h["name"] = "observed-host"
    scenario = {
        "name": f"forecast {host}"[:200],
        "start": today,
        "end": today + timedelta(days=horizon_days),
        "fleet": fleet,
        "cas": [ca],
        "hosts": [h],
        "strategies": [{k: v for k, v in s.items() if not k.startswith("_")} for s in strategies],
    }
    return scenario, strategies


def forecast(
    shipped: list[Shipped] | list[PinConfig],
    chain: list[x509.Certificate],
    *,
    host: str,
    fleet: dict[str, Any],
    tool: str = "certbot",
    horizon_days: int = 730,
    today: date | None = None,
    anchors: tuple | list = (),
) -> pd.DataFrame:
    """The dated risk calendar: one row per shipped config.

    Columns: ``config``, ``release_date``, ``pin`` (level reproduced), ``first_break`` (first day
    users are locked out, NaT if none within the horizon), ``locked_share`` (share of users
    locked out that day), ``peak_locked_share`` and ``peak_date``.
    """
    import pandas as pd

    from simlib.api import simulate
    from simlib.errors import ScenarioError
    from simlib.model.loading import scenario_from_dict

    today = today or datetime.now(UTC).date()
    host = check_hostname(host, source="host")
    items = [s if isinstance(s, Shipped) else Shipped(s) for s in shipped]
    data, strategies = build_scenario(
        items,
        chain,
        host=host,
        fleet=fleet,
        tool=tool,
        horizon_days=horizon_days,
        today=today,
        anchors=anchors,
    )
    try:
        scenario = scenario_from_dict(data, source=f"forecast for {host}")
    except ScenarioError as exc:
        if exc.where.split(".")[0].split("[")[0] == "fleet":
            raise  # the caller's fleet block: the CLI names its file
        # Everything else was derived from the chain and configs (not a file the user wrote).
        raise ConfigError(f"forecast for {clip(host, 80)}", exc.where, exc.message) from None
    result = simulate(scenario)
    ts = result.timeseries
    rows = []
    for item, strat in zip(items, strategies, strict=True):
        if strat.get("_broken"):
            rows.append(
                {
                    "config": item.config.source,
                    "release_date": item.release_date,
                    "pin": "no match",
                    "first_break": pd.Timestamp(item.release_date or today),
                    "locked_share": 1.0,
                    "peak_locked_share": 1.0,
                    "peak_date": pd.Timestamp(item.release_date or today),
                }
            )
            continue
        series = ts[ts["strategy"] == strat["name"]].sort_values("date")
        locked = series[series["lockout_rate"] > EPSILON]
        first = locked.iloc[0] if len(locked) else None
        peak = series.loc[series["lockout_rate"].idxmax()] if len(series) else None
        rows.append(
            {
                "config": item.config.source,
                "release_date": item.release_date,
                "pin": strat["pin"],
                "first_break": first["date"] if first is not None else pd.NaT,
                "locked_share": float(first["lockout_rate"]) if first is not None else 0.0,
                "peak_locked_share": float(peak["lockout_rate"]) if peak is not None else 0.0,
                "peak_date": peak["date"] if peak is not None and first is not None else pd.NaT,
            }
        )
    frame = pd.DataFrame(rows)
    frame.attrs["scenario"] = data
    frame.attrs["issuances"] = result.issuances
    return frame
