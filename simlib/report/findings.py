"""Findings that explain surprises, each detected from the scenario and the results.

* ``ats_trap``: Apple ATS needs a match in both its leaf list and its CA list; a strategy that
  pins a leaf key with a CA-level backup (or a CA with a leaf-level backup) fails on iOS where
  Android accepts — detected when iOS locks a larger share of its users than Android.
* ``pin_expiry``: pins that expire fail open — users on old versions stay working but exposed.
* ``pinned_update_check``: the forced-update prompt is fetched from a pinned host, so users
  already locked out never see it.
* ``no_fix``: incurable lockouts (the user's device is locked on a release built that day too,
  :meth:`simlib.results.expected.SimulationResult.incurable_users`): no app release cures them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from simlib.report.wording import pct
from simlib.strategies.strategy import PinningStrategy


@dataclass(frozen=True)
class Finding:
    kind: str
    strategy: str
    text: str


def _mixes_leaf_and_ca(res, spec) -> bool:
    """Whether the strategy's pins fill both ATS lists. Its levels say so for next-key and CA
    backups; a literal ``spki:`` pin joins the CA list when it is a scenario CA's key, whatever
    the strategy's level, so that is read from the pins a first-day release ships (the lists the
    engine matches, :meth:`~simlib.results.expected.SimulationResult.shipped_pins`)."""
    strategy = PinningStrategy.from_spec(spec)
    if strategy.ats_lists == {"leaf", "ca"}:
        return True
    if strategy.level_info.ats_list is None or spec.dynamic is not None:
        return False
    for host in res.scenario.hosts:
        if strategy.pins_host(host.name):
            shipped = res.shipped_pins(spec.name, host.name, 0)
            if shipped.leaf and shipped.ca:
                return True
    return False


def platform_lockout(res) -> pd.DataFrame:
    """Per strategy and platform, the share of that platform's user-days locked out."""
    sc = res.scenario
    rows = []
    for name, g in res.timeseries.groupby("strategy", sort=False):
        active = float(g["active_users"].sum())
        for platform in res.platforms:
            share = sc.fleet.platforms[platform].share
            col = f"locked_users_{platform}"
            if share > 0 and col in g:
                rows.append(
                    {
                        "strategy": name,
                        "platform": platform,
                        "locked_share": float(g[col].sum()) / (share * active),
                    }
                )
    return pd.DataFrame(rows, columns=["strategy", "platform", "locked_share"])


def ats_findings(res) -> list[Finding]:
    sc = res.scenario
    ats = [p for p, spec in sc.fleet.platforms.items() if spec.client == "ats" and spec.share > 0]
    others = [
        p for p, spec in sc.fleet.platforms.items() if spec.client != "ats" and spec.share > 0
    ]
    if not ats or not others:
        return []
    split = platform_lockout(res).pivot(index="strategy", columns="platform", values="locked_share")
    out = []
    for spec in sc.strategies:
        if spec.name not in split.index or not _mixes_leaf_and_ca(res, spec):
            continue
        row = split.loc[spec.name]
        a, o = max(row[p] for p in ats), max(row[p] for p in others)
        if a > o + 0.005:
            out.append(
                Finding(
                    "ats_trap",
                    spec.name,
                    f"{spec.name} locks out {pct(a)} of {'/'.join(ats)} user-days against {pct(o)} on "
                    f"{'/'.join(others)}: Apple ATS accepts a connection only when its leaf list and its CA "
                    f"list both match, and this strategy puts a {spec.pin} pin and its backups in different "
                    "lists, so iOS needs both to be in the served chain where Android needs either.",
                )
            )
    return out


def expiry_findings(res) -> list[Finding]:
    out = []
    ts = res.timeseries
    for spec in res.scenario.strategies:
        if spec.expires_after_days is None or spec.pin == "none":
            continue
        g = ts[ts["strategy"] == spec.name]
        exposed = {
            c.removeprefix("exposed_"): float(g[c].mean()) for c in g if c.startswith("exposed_")
        }
        exposed = {
            a: v for a, v in exposed.items() if v > 0 and float(g[f"protected_{a}"].max()) > 0
        }
        if not exposed:
            continue
        worst = max(exposed, key=exposed.__getitem__)
        out.append(
            Finding(
                "pin_expiry",
                spec.name,
                f"{spec.name}: pins stop being checked {spec.expires_after_days} days after each build, so "
                f"users who stop updating keep working but lose protection: on average {pct(exposed[worst])} "
                f"of users are exposed to {worst.replace('_', ' ')} that an unexpired pin would reject.",
            )
        )
    return out


def update_check_findings(res) -> list[Finding]:
    sc = res.scenario
    ir = sc.incident_response
    if ir is None or ir.forced_update is None or ir.update_check_host is None:
        return []
    host = ir.update_check_host
    out = []
    summary = res.summary.set_index("strategy")
    ts = res.timeseries
    for spec in sc.strategies:
        pinned = spec.pin != "none" and (spec.hosts is None or host in spec.hosts)
        if not pinned or int(summary.loc[spec.name, "fix_releases"]) == 0:
            continue
        fixes = res.releases[
            (res.releases["strategy"] == spec.name) & (res.releases["kind"] != "regular")
        ]
        first = pd.Timestamp(fixes["release_date"].min())
        g = ts[(ts["strategy"] == spec.name) & (ts["date"] >= first)]
        if g.empty or float(g["locked_users"].sum()) <= 0:
            continue
        out.append(
            Finding(
                "pinned_update_check",
                spec.name,
                f"{spec.name}: the update check on {host} is pinned too, so the "
                f"{float(g['locked_users'].iloc[0]):,.0f} users locked out when the first fix shipped "
                f"({first.date()}) never see the forced-update prompt; {float(g['locked_users'].sum()):,.0f} "
                "locked user-days follow the first fix.",
            )
        )
    return out


def no_fix_findings(res) -> list[Finding]:
    out = []
    total = res.timeseries.groupby("strategy", sort=False)["locked_users"].sum()
    for name, days in res.incurable_user_days().items():
        if days <= 0:
            continue
        out.append(
            Finding(
                "no_fix",
                name,
                f"{name}: {days:,.0f} locked user-days ({pct(days / float(total[name]))} of its lockout) are "
                "of users whose devices are locked on an app release built that same day too: no app "
                "release can cure them, only a change on the server side can.",
            )
        )
    return out


def findings(res) -> list[Finding]:
    """Every finding, in a fixed order of kinds."""
    return [
        *ats_findings(res),
        *expiry_findings(res),
        *update_check_findings(res),
        *no_fix_findings(res),
    ]
