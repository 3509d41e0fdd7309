"""Forecast when shipped pin configs break: configs + observed chains + fleet → a simlib scenario.

Each observed host becomes a scenario host (:mod:`simlib.toolkit.observed`): a chain whose served
intermediate is a catalogue CA's becomes ``ca: <catalogue name>`` with ``key_type``, ``profile``
(guessed from the leaf's lifetime), ``tool`` and ``first_issued`` (the leaf's ``not_before``, so
renewals keep their phase), which the scenario's resolve step (:mod:`simlib.model.realworld`)
expands exactly as it expands ``ca: letsencrypt`` in a scenario file: the CA's roadmap of active
intermediates from the start day on, the profile's validity schedule, intermediates announced
ahead of use, the tool's dated defaults. Other chains get a generic CA with one intermediate and
the tool's defaults on the start day. The served chain is completed from trusted roots as audit
completes it (:func:`simlib.toolkit.chain.complete_path`). A leaf expired on the start day, or
issued to another host, is refused: a stale chain must not silently seed the forecast.

Each (config, host, platform) becomes one strategy (:mod:`simlib.toolkit.forecast_pins`),
simulated in expected mode with every user on that platform's client, so Apple's rule (leaf and
CA lists both match) applies to ``Info.plist`` configs. The result gives, per row, the first day
a share of users is locked out and that share (later releases keep the same strategy).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from simlib._hostnames import check_hostname
from simlib.errors import clip, escape_controls
from simlib.toolkit.chain import PathCert, check_observed, complete_path, stale_reason
from simlib.toolkit.forecast_pins import (
    HostRef,
    audit_warnings,
    calendar_row,
    client_of,
    strategy_entry,
)
from simlib.toolkit.observed import match_catalogue, resolve_observed
from simlib.toolkit.policy import ConfigError, PinConfig
from simlib.world.tooling import TOOLS

if TYPE_CHECKING:
    import pandas as pd
    from cryptography import x509

#: Longest horizon: a scenario covers at most 40 years (``model.checks``).
MAX_HORIZON_DAYS = 366 * 40 - 1
MAX_NAME = 200  # a strategy name's limit (simlib.model.base)
DIRECT = "no intermediate (leaf issued by the root)"


@dataclass(frozen=True)
class Shipped:
    """One shipped release: its config and release date (``None``: treat as today)."""

    config: PinConfig
    release_date: date | None = None


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
    d = world.defaults_on(tool, today)  # resolves the acm alias
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


def _check_leaf(chain: list[x509.Certificate], host: str, day: date) -> None:
    """Refuse a stale or foreign chain (:func:`simlib.toolkit.chain.check_observed`: the leaf
    valid on ``day``, the forecast's start, and issued to ``host``; no served CA expired).

    Stricter than audit, which refuses only what :func:`~simlib.toolkit.chain.stale_reason`
    names (out of date *and* another host's) and reports each problem alone as a warning: an
    audit judges one connection, but a forecast seeds a certificate calendar from the leaf (its
    lifetime, its renewal phase, its issuer), and a chain the host does not serve on the start
    day seeds the wrong calendar."""
    found = check_observed(chain, host, day)
    stale = stale_reason(found)
    if stale:  # what audit refuses, with the audit's reason
        raise ConfigError(
            f"forecast for {clip(host, 80)}",
            "chain",
            f"the chain cannot stand for this host on {day}: {stale}; give the chain the "
            "host serves on the forecast's start (--date)",
        )
    if found:
        raise ConfigError(
            f"forecast for {clip(host, 80)}",
            "chain",
            "; ".join(f.message for f in found) + " — give the chain the host serves on the "
            "forecast's start (--date)",
        )


@dataclass(frozen=True)
class _Host:
    """One observed host: its name, built path and place in the scenario."""

    host: str
    path: list[PathCert]
    ref: HostRef
    note: str
    served: str | None = None  # catalogue name of the served intermediate (catalogue CAs)


def _observed_hosts(
    hosts: list[tuple[str, list[x509.Certificate]]],
    anchors: tuple | list,
    tool: str,
    today: date,
    ca_file: str | os.PathLike[str] | None = None,
) -> tuple[list[_Host], list[dict[str, Any]], list[dict[str, Any]]]:
    """Each host with its path and scenario reference, the generic ``cas`` entries and the
    ``hosts`` entries (catalogue hosts in the shorthand the resolve step expands).

    The path is completed as audit completes it (``anchors``, ``ca_file``, simlib's shipped
    roots: :func:`simlib.toolkit.chain.complete_path`), so a root pin matches the unserved root
    here exactly when it matches in ``simlib audit``."""
    seen: set[str] = set()
    out: list[_Host] = []
    cas: list[dict[str, Any]] = []
    generic: dict[str, str] = {}  # served intermediate's SPKI (or issuer name) -> CA name
    entries: list[dict[str, Any]] = []
    for number, (raw, chain) in enumerate(hosts):
        host = check_hostname(raw, source="host")
        if host.lower() in seen:
            raise ConfigError("forecast", "hosts", f"{clip(host, 80)} is given twice")
        seen.add(host.lower())
        if not chain:
            raise ConfigError(f"forecast for {clip(host, 80)}", "chain", "the chain is empty")
        _check_leaf(list(chain), host, today)
        path = complete_path(list(chain), anchors, ca_file=ca_file)
        entry = host_entry(host, path[0].cert, tool, today)
        if len(host.rstrip(".")) > 64:  # scenario host names become certificate common names
            entry["name"] = f"observed-host-{number + 1}"
        match = match_catalogue(path)
        if match is not None:
            entry = {
                "name": entry["name"],
                "ca": match.ca,
                "key_type": match.key_type,
                "tool": tool,
                "first_issued": entry["first_issued"],
            }
            if match.profile is not None:
                entry["profile"] = match.profile
            note = f"{match.intermediate} is {match.ca}'s; {match.profile_note}".rstrip("; ")
            ref = HostRef(entry["name"], match.ca, True)
            served = match.intermediate
        else:
            key = path[1].sha256 if len(path) > 1 else path[0].cert.issuer.rfc4514_string()
            if key not in generic:
                generic[key] = "observed-ca" if not generic else f"observed-ca {len(generic) + 1}"
                cas.append({"name": generic[key], "intermediates": [{"name": "Observed Int"}]})
            entry["ca"] = generic[key]
            if len(path) > 1 and path[1].role == "root":
                # The scenario's CA still issues through its one intermediate (the model has no
                # other way), but no config can pin it: the path has none, so pins are judged on
                # the leaf and root alone (forecast_pins.level_of), as for the real chain.
                note = f"issuer not in the CA catalogue; {DIRECT}"
            else:
                note = "issuer not in the CA catalogue: one generic intermediate"
            ref = HostRef(entry["name"], generic[key], False)
            served = None
        entries.append(entry)
        out.append(_Host(host, path, ref, note, served))
    return out, cas, entries


def _fleet_for(fleet: dict[str, Any], platform: str, client: str) -> dict[str, Any]:
    """The caller's fleet with every user on ``platform``: a config ships in one platform's app,
    so its locked share is of that app's users (the caller's device options are kept)."""
    given = fleet.get("platforms")
    spec = given.get(platform) if isinstance(given, dict) else None
    extra = (
        {k: v for k, v in spec.items() if k not in ("share", "client")}
        if isinstance(spec, dict)
        else {}
    )
    return {**fleet, "platforms": {platform: {**extra, "share": 1.0, "client": client}}}


def _pairs(
    chain: list[x509.Certificate] | Mapping[str, list[x509.Certificate]], host: str | None
) -> list[tuple[str, list[x509.Certificate]]]:
    """``(host, chain)`` pairs: one chain with ``host``, or a mapping host → chain alone."""
    if isinstance(chain, Mapping):
        if host is not None:  # which chain it meant would be a guess
            raise ConfigError(
                "forecast", "host", "give host= with one chain, or a mapping host → chain alone"
            )
        if not chain:
            raise ConfigError("forecast", "hosts", "no host given")
        return [(h, list(c)) for h, c in chain.items()]
    if host is None:
        raise ConfigError(
            "forecast",
            "host",
            "give the host the chain was served for (or a mapping host → chain)",
        )
    return [(host, list(chain))]


def build_scenarios(
    shipped: list[Shipped],
    chain: list[x509.Certificate] | Mapping[str, list[x509.Certificate]],
    *,
    host: str | None = None,
    fleet: dict[str, Any],
    tool: str = "certbot",
    horizon_days: int = 730,
    today: date | None = None,
    anchors: tuple | list = (),
    ca_file: str | os.PathLike[str] | None = None,
) -> tuple[dict[tuple[str, str], dict[str, Any]], list[dict[str, Any]], list[_Host]]:
    """One scenario mapping per (platform, client) the configs ship on, all hosts in each; and
    one row stub per (config, host, platform) with its strategy (``None``: nothing to simulate).
    """
    today = today or datetime.now(UTC).date()
    check_dates(today, horizon_days)
    observed, cas, entries = _observed_hosts(_pairs(chain, host), anchors, tool, today, ca_file)
    from simlib.toolkit.observed import catalogue_pins, catalogue_roots

    roots, known = catalogue_roots(), catalogue_pins()
    stubs: list[dict[str, Any]] = []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for i, item in enumerate(shipped):
        # Config paths are file names anyone may choose: a control character in one must not
        # make the strategy name invalid (and then be blamed on the fleet file).
        source = escape_controls(item.config.source)
        for platform in item.config.platforms:
            sim_platform, client = client_of(platform)
            for j, h in enumerate(observed):
                # the prefix keeps names unique when a long file name is cut to the limit
                name = f"{i}.{j} {platform} {h.ref.name}: {source}"[:MAX_NAME]
                status, strat = strategy_entry(
                    name, item.config, platform, h.host, h.path, h.ref, today, roots, known
                )
                stubs.append(
                    {
                        "item": item,
                        "host": h.host,
                        "platform": platform,
                        "client": (sim_platform, client),
                        "status": status,
                        "strategy": strat,
                    }
                )
                group = groups.setdefault((sim_platform, client), [])
                if strat is not None:
                    group.append(strat)
    if not groups:
        groups[("android", "nsc")] = []
    end = today + timedelta(days=horizon_days)
    base = {"start": today, "end": end, "cas": cas, "hosts": entries}
    cas, entries, events = resolve_observed(
        base, [(h.served, h.path[1].cert if h.served else None) for h in observed], today
    )
    scenarios = {}
    for (platform, client), strategies in groups.items():
        clean = [{k: v for k, v in s.items() if not k.startswith("_")} for s in strategies]
        scenarios[(platform, client)] = {
            "name": clip(f"forecast {', '.join(h.host for h in observed)}", 200),
            "start": today,
            "end": end,
            "fleet": _fleet_for(fleet, platform, client),
            "cas": cas,
            "hosts": entries,
            "events": events,
            "strategies": clean or [{"name": "unpinned", "pin": "none"}],
        }
    return scenarios, stubs, observed


def forecast(
    shipped: list[Shipped] | list[PinConfig],
    chain: list[x509.Certificate] | Mapping[str, list[x509.Certificate]],
    *,
    host: str | None = None,
    fleet: dict[str, Any],
    tool: str = "certbot",
    horizon_days: int = 730,
    today: date | None = None,
    anchors: tuple | list = (),
    ca_file: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """The dated risk calendar: one row per (shipped config, host, platform).

    ``chain`` is the served chain of ``host``, or a mapping host → served chain (several hosts
    in one scenario). Each path is completed from ``anchors``, the roots of ``ca_file`` (PEM)
    and the roots simlib ships, as :func:`simlib.toolkit.audit.audit` completes it.
    Columns: ``config``, ``host``, ``platform``, ``release_date``, ``status`` (the platform's
    start-day decision), ``pin`` (levels the config matches, ``no match`` or ``not pinned``),
    ``first_break`` (first day users are locked out, NaT if none within the horizon),
    ``locked_share`` (share of the platform's users locked out that day),
    ``peak_locked_share`` and ``peak_date``. ``attrs``: the scenarios, the first resolved one
    (``resolved``), the certificate calendar (``issuances``), per-host ``notes`` and ``direct``
    (the leaf is issued by the root), and ``warnings`` (audit's :data:`forecast_pins.WARN_RULES`
    findings on the configs).
    """
    import pandas as pd

    from simlib.api import simulate
    from simlib.errors import ScenarioError
    from simlib.model.loading import scenario_from_dict

    today = today or datetime.now(UTC).date()
    items = [s if isinstance(s, Shipped) else Shipped(s) for s in shipped]
    scenarios, stubs, observed = build_scenarios(
        items,
        chain,
        host=host,
        fleet=fleet,
        tool=tool,
        horizon_days=horizon_days,
        today=today,
        anchors=anchors,
        ca_file=ca_file,
    )
    where = f"forecast for {clip(', '.join(h.host for h in observed), 80)}"
    series: dict[str, pd.DataFrame] = {}
    resolved, issuances = None, None
    for data in scenarios.values():
        try:
            scenario = scenario_from_dict(data, source=where)
        except ScenarioError as exc:
            if exc.where.split(".")[0].split("[")[0] == "fleet":
                raise  # the caller's fleet block: the CLI names its file
            # Everything else was derived from the chains and configs (not a file the user wrote).
            raise ConfigError(where, exc.where, exc.message) from None
        result = simulate(scenario)
        ts = result.timeseries
        for name, part in ts.groupby("strategy", sort=False):
            series[str(name)] = part.sort_values("date")
        if resolved is None:
            resolved, issuances = scenario, result.issuances
    rows = [calendar_row(stub, series, today) for stub in stubs]
    configs = [item.config for item in items]
    warnings = audit_warnings(configs, _pairs(chain, host), today, anchors, ca_file)
    frame = pd.DataFrame(rows)
    frame.attrs["scenarios"] = scenarios
    frame.attrs["scenario"] = next(iter(scenarios.values()))
    frame.attrs["resolved"] = resolved
    frame.attrs["issuances"] = issuances
    frame.attrs["hosts"] = {h.host: h.ref.name for h in observed}
    frame.attrs["notes"] = {h.host: h.note for h in observed}
    frame.attrs["direct"] = {h.host: DIRECT in h.note for h in observed}
    frame.attrs["warnings"] = warnings
    return frame
