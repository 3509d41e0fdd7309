"""One simulated result explained: the headline numbers per strategy, the scenario in words,
Monte Carlo percentiles, the Pareto frontier, and tables formatted for display."""

from __future__ import annotations

import pandas as pd

from simlib.model import Scenario
from simlib.report.plots import readable
from simlib.report.questions.variants import AS_GIVEN, metrics
from simlib.report.wording import iso_date, join, num, share


def headline(res) -> pd.DataFrame:
    """What each strategy's numbers mean, one row per strategy, columns in words: share of
    users locked on an average day, locked user-days, peak, users ever locked, outage spells
    and their length, and the mean share protected against each attack."""
    table = metrics(res, AS_GIVEN)
    d = res.duration_stats.set_index("strategy")
    out = pd.DataFrame({"strategy": table["strategy"]})
    out["locked share (mean day)"] = table["mean_lockout"]
    out["locked user-days"] = table["locked_user_days"]
    out["peak locked share"] = table["peak_lockout"]
    out["users ever locked"] = table["users_ever_locked"]
    out["breaks"] = table["breaks"]
    out["outage spells"] = table["strategy"].map(d["outage_spells"])
    out["median spell (days)"] = table["strategy"].map(d["p50_outage_days"])
    out["p95 spell (days)"] = table["strategy"].map(d["p95_outage_days"])
    for c in (c for c in table if c.startswith("protected_") and c != "protected_mean"):
        out[f"protected: {readable(c)}"] = table[c]
    return out


def display_name(column: object) -> str:
    """A column name in words: ``protected_rogue_ca`` → ``protected: rogue CA``, ``_`` → space."""
    text = str(column)
    if text.startswith("protected_") and text != "protected_mean":
        return f"protected: {readable(text)}"
    return text.replace("_", " ")


def format_table(table: pd.DataFrame):
    """A pandas Styler for display: column names in words, shares as percentages, counts with
    thousands separators, dates as ISO days."""
    table = table.rename(columns=display_name)
    shares = [
        c
        for c in table
        if any(w in str(c) for w in ("share", "protected", "lockout", "violation"))
        and "user days" not in str(c)
        and "user-days" not in str(c)
        and pd.api.types.is_float_dtype(table[c])
    ]
    counts = [
        c
        for c in table
        if c not in shares
        and pd.api.types.is_numeric_dtype(table[c])
        and not pd.api.types.is_bool_dtype(table[c])
    ]
    dates = [c for c in table if pd.api.types.is_datetime64_any_dtype(table[c])]
    fmt = {c: share for c in shares} | {c: num for c in counts}
    fmt |= {c: iso_date for c in dates}
    return table.style.format(fmt, na_rep="–").hide(axis="index")


def describe(sc: Scenario) -> str:
    """The scenario in a few Markdown sentences, from its fields."""
    f = sc.fleet
    hosts = "; ".join(
        f"`{h.name}` on {h.ca} ({h.validity_days or 'the CA default of ' + str(_ca_days(sc, h.ca))}-day "
        f"certificates, key {'reused' if h.key_policy == 'reuse' else 'rotated' if h.key_policy == 'rotate' else 'rotated every ' + str(getattr(h.key_policy, 'rotate_every', '?')) + ' issuances'})"
        for h in sc.hosts
    )
    events = sorted({e.type.replace("_", " ") for e in sc.events})
    return (
        f"**{sc.name}** — {iso_date(sc.start)} to {iso_date(sc.end)}, {f.users:,} users, a release "
        f"every {f.release_every_days} days. Hosts: {hosts}. "
        + (f"Events: {join(events)}. " if events else "No events beyond renewals. ")
        + f"{len(sc.strategies)} strategies: {join([s.name for s in sc.strategies])}."
    )


def _ca_days(sc: Scenario, ca: str) -> int | str:
    return next((c.validity_days for c in sc.cas if c.name == ca), "?")


def distribution(
    mc_summary: pd.DataFrame,
    metrics: tuple[str, ...] = ("locked_user_days", "p95_outage_days", "users_ever_locked"),
) -> pd.DataFrame:
    """Monte Carlo percentiles (p5, p50, p95) of a few metrics, one row per strategy."""
    s = mc_summary[mc_summary["metric"].isin(metrics)]
    wide = s.pivot(index="strategy", columns="metric", values=["p5", "p50", "p95"])
    wide = wide.reindex(list(dict.fromkeys(s["strategy"])))
    wide.columns = [f"{m.replace('_', ' ')} {p}" for p, m in wide.columns]
    cols = [f"{m.replace('_', ' ')} {p}" for m in metrics for p in ("p5", "p50", "p95")]
    return wide[[c for c in cols if c in wide]].reset_index()


def frontier(front: pd.DataFrame) -> pd.DataFrame:
    """Per attack class, the strategies on the Pareto frontier of :func:`simlib.report.decision.pareto`
    and those dominated (another strategy locks no more users and protects at least as many)."""
    rows = []
    for attack, g in front.groupby("attack", sort=False):
        rows.append(
            {
                "attack": readable(attack),
                "on the frontier": ", ".join(map(str, g.loc[~g["dominated"], "strategy"])),
                "dominated": ", ".join(map(str, g.loc[g["dominated"], "strategy"])) or "–",
            }
        )
    return pd.DataFrame(rows, columns=["attack", "on the frontier", "dominated"])
