"""What pins add over Certificate Transparency + monitoring, against the lockouts they cost.

The numbers of the decision report's section "What pins add over CT + monitoring" and of the
coverage notebook: per strategy and attack, the exposure user-days per attack instance under CT
+ monitoring without pins (an unpinned strategy) and with the strategy's pins, what pins add
(the exposure their protected users no longer have; users locked out are shown apart, never
credited) and the attack instances over the horizon at which it equals the locked user-days
they cost (docs/model.md, "CT enforcement and monitoring").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simlib.model import Scenario, apply_overrides
from simlib.model.monitoring import CT_ATTACK_CLASSES, CTMonitoring
from simlib.report.html import esc
from simlib.results.ct import exposure_by_start_day

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "PinsOverCT",
    "attacks_count",
    "baseline_name",
    "pins_over_ct",
    "pins_over_ct_html",
    "plot_exposure_by_start_day",
    "with_monitoring",
]

UNPINNED = "no pinning"
#: Why CT and monitoring cannot see an attack class.
_BLIND = {
    "user_installed_ca": "a user- or MDM-installed root is exempt from CT",
    "stolen_leaf_key": "a stolen key's certificate is the real, logged one",
}


@dataclass(frozen=True)
class PinsOverCT:
    """``frame``: one row per (pinned strategy, attack label). ``assumed``: the scenario has no
    ``monitoring`` block, so the report assumed the default one; ``added_baseline``: it has no
    unpinned strategy, so one named ``baseline`` was added to compare against."""

    frame: pd.DataFrame
    ct: CTMonitoring
    baseline: str
    assumed: bool
    added_baseline: bool
    #: The expected-mode result the figures come from (a variant when assumed or added).
    result: Any = None


def baseline_name(scenario: Scenario) -> str | None:
    """The first static, unpinned strategy of ``scenario`` (no pins, no backups), if any."""
    for s in scenario.strategies:
        if s.pin == "none" and not s.backup and s.dynamic is None:
            return s.name
    return None


def with_monitoring(scenario: Scenario) -> tuple[Scenario, str, bool, bool]:
    """(scenario with a monitoring block and an unpinned strategy, the unpinned strategy's
    name, whether monitoring was assumed, whether the unpinned strategy was added)."""
    assumed = scenario.monitoring is None
    base = baseline_name(scenario)
    added = base is None
    update: dict = {}
    if assumed:
        update["monitoring"] = {"ct": {}}
    if added:
        names = {s.name for s in scenario.strategies}
        base = UNPINNED if UNPINNED not in names else f"{UNPINNED} (added)"
        strategies = scenario.to_dict()["strategies"]
        update["strategies"] = [*strategies, {"name": base, "pin": "none"}]
    out = apply_overrides(scenario, update) if update else scenario
    return out, str(base), assumed, added


def pins_over_ct(result) -> PinsOverCT:
    """The comparison for an expected-mode result; simulates a variant of its scenario only
    when it lacks a monitoring block or an unpinned strategy."""
    sc, base, assumed, added = with_monitoring(result.scenario)
    if assumed or added:
        from simlib.api import simulate

        result = simulate(sc)
    summary = result.summary.set_index("strategy")
    kinds = {a.label: a.name for a in sc.attacks}
    # exposure counting locked users as exposed: only protection lowers it (results.ct)
    counting_locked = {
        (name, label): exposure_by_start_day(result, name, label)
        for name in summary.index
        for label in kinds
    }
    rows = []
    for name in summary.index:
        if name == base:
            continue
        row, ref = summary.loc[name], summary.loc[base]
        locked = float(row["locked_user_days"])
        for label, kind in kinds.items():
            without = float(ref[f"exposure_user_days_{label}"])
            with_pins = float(row[f"exposure_user_days_{label}"])
            b, s = counting_locked[(base, label)], counting_locked[(name, label)]
            protection = _removed(b.monitored_counting_locked, s.monitored_counting_locked)
            protection_ct_only = _removed(b.ct_only_counting_locked, s.ct_only_counting_locked)
            rows.append(
                {
                    "strategy": name,
                    "attack": label,
                    "ct_applies": kind in CT_ATTACK_CLASSES,
                    "exposure_without_pins": without,
                    "exposure_without_pins_ct_only": float(
                        ref[f"exposure_user_days_ct_only_{label}"]
                    ),
                    "exposure_with_pins": with_pins,
                    # protected users only: working and rejecting the attack's chain
                    "pins_add": protection,
                    "share_removed": protection / without if without > 0 else math.nan,
                    "pins_add_ct_only": protection_ct_only,
                    # the rest of the fall: users locked out anyway, not protection
                    "removed_by_lockout": _noise_free(without - with_pins - protection, without),
                    "locked_user_days": locked,
                    # attack instances over the horizon at which the exposure protection
                    # removes equals the lockouts paid
                    "break_even_attacks": locked / protection if protection > 0 else math.inf,
                }
            )
    assert sc.monitoring is not None
    return PinsOverCT(pd.DataFrame(rows), sc.monitoring.ct, base, assumed, added, result)


def _removed(without: np.ndarray, with_pins: np.ndarray) -> float:
    """Mean exposure user-days removed; within rounding of 0 is 0, so that a strategy whose
    pins protect nobody gets no break-even from float noise."""
    return _noise_free(float(without.mean() - with_pins.mean()), float(without.mean()))


def _noise_free(v: float, scale: float) -> float:
    return v if v > 1e-9 * max(1.0, scale) else 0.0


def attacks_count(v: float) -> str:
    """A break-even number of attacks as a reader needs it: ``0`` only when nothing is paid,
    ``< 0.1``, ``0.2``, ``3.5``, ``12``, ``1,234``; infinite (pins protect nobody): ``pins add
    nothing``."""
    from simlib.report.wording import num

    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "pins add nothing"
    if v == 0:
        return "0"
    if v < 0.1:
        return "< 0.1"
    return f"{v:.1f}" if v < 10 else num(v)


def _pick(got: PinsOverCT, recommended: str) -> str | None:
    """The strategy the text speaks of: the recommended one when it pins, else the pinned
    strategy that removes some exposure to a CA-issued attack at the fewest locked user-days."""
    ct_rows = got.frame[got.frame["ct_applies"]] if not got.frame.empty else got.frame
    if ct_rows.empty:
        return None
    if recommended in set(ct_rows["strategy"]):
        return recommended
    useful = ct_rows[ct_rows["pins_add"] > 0]
    if useful.empty:
        return None
    return str(useful.sort_values(["locked_user_days", "strategy"]).iloc[0]["strategy"])


def pins_over_ct_html(got: PinsOverCT, recommended: str, days: int) -> str:
    """The report section: the rules in force, one sentence per CA-issued attack for the
    strategy :func:`_pick` chooses, the attacks CT cannot see, and the whole table."""
    from simlib.report.html import table_html
    from simlib.report.plots import readable
    from simlib.report.wording import human_count, pct

    ct, frame = got.ct, got.frame
    response = ct.response.replace("_", " ")
    reach = "every user" if ct.response != "revocation" else "only clients that check revocation"
    parts = [
        "<p>Certificate Transparency forces a rogue certificate into public logs: Apple "
        "platforms reject a certificate issued after 2018-10-15 that is not logged "
        "(support.apple.com/103214); an Android app only with the Network Security Config "
        "opt-in (Android 16+). Monitoring the logs detects a logged rogue certificate "
        f"{ct.detection_days} day(s) after issuance and the response ({esc(response)}, reaching "
        f"{reach}) is in force {ct.response_days} day(s) later: a detected attack runs "
        f"{ct.window_days} day(s). <b>Exposure user-days</b> per attack = users exposed × days "
        "the attack runs, averaged over the day it starts.</p>"
    ]
    if got.assumed:
        parts.append(
            "<p class='simlib-note'>The scenario has no <code>monitoring</code> block: these "
            f"figures assume detection in {ct.detection_days} day(s) and a {esc(response)} "
            f"{ct.response_days} day(s) later — an assumption; give your monitor's real delays "
            "in the scenario.</p>"
        )
    if got.added_baseline:
        parts.append(
            "<p class='simlib-note'>Without pins is a strategy added for this comparison "
            f"(<i>{esc(got.baseline)}</i>).</p>"
        )
    pick = _pick(got, recommended)
    rows = frame[frame["ct_applies"] & (frame["strategy"] == pick)] if pick else frame.iloc[:0]
    for r in rows.itertuples(index=False):
        gain = (
            f"what pins add over CT + monitoring: <i>{esc(pick)}</i>'s pins protect users "
            f"for {human_count(r.pins_add)} of them ({pct(r.share_removed)}; over CT alone "
            f"{human_count(r.pins_add_ct_only)}) at {human_count(r.locked_user_days)} "
            "locked user-days over the horizon"
        )
        if r.pins_add <= 0:
            gain = (
                f"<i>{esc(pick)}</i>'s pins add nothing against this attack: no working user's "
                "pins reject its chain"
            )
        elif r.locked_user_days > 0:
            be = r.break_even_attacks
            gain += (
                f": its pins are worth their lockouts only if more than {attacks_count(be)} "
                f"such attack(s) are expected in the {days:,} days "
                + (
                    f"(one every {attacks_count(days / be)} days)"
                    if be >= 1
                    else "(fewer than one: a single attack repays them)"
                )
            )
        else:
            gain += ": no lockout to pay for it"
        if r.removed_by_lockout > 0:
            gain += (
                f"; {human_count(r.removed_by_lockout)} fewer exposure user-days because users "
                "are locked out — not protection"
            )
        parts.append(
            f"<p><b>{esc(readable(r.attack))}</b>: without pins, CT + monitoring leaves "
            f"{human_count(r.exposure_without_pins)} exposure user-days per attack (CT alone, "
            f"nobody watching the logs: {human_count(r.exposure_without_pins_ct_only)}); "
            f"{gain}.</p>"
        )
    blind = sorted(set(frame.loc[~frame["ct_applies"], "attack"])) if not frame.empty else []
    if blind:
        kinds = {a.label: a.name for a in got.result.scenario.attacks} if got.result else {}
        why = [
            f"{esc(readable(a))} ({_BLIND.get(kinds.get(a, ''), 'not CA-issued')})" for a in blind
        ]
        parts.append(
            "<p>CT and monitoring do not see "
            + ", ".join(why)
            + ": there pins remove what they removed without CT.</p>"
        )
    if frame.empty:
        return "".join(parts) + "<p>No attack or no pinned strategy to compare.</p>"
    fmt = {
        "exposure_without_pins": human_count,
        "exposure_with_pins": human_count,
        "pins_add": human_count,
        "share_removed": pct,
        "removed_by_lockout": human_count,
        "locked_user_days": human_count,
        "break_even_attacks": attacks_count,
    }
    shown = frame[["strategy", "attack", *fmt]].copy()
    for col, f in fmt.items():
        shown[col] = shown[col].map(f)
    shown["attack"] = shown["attack"].map(readable)
    return "".join(parts) + table_html(shown, table_id="pins-over-ct")


def plot_exposure_by_start_day(
    ax: Axes, got: PinsOverCT, recommended: str, label: str | None = None
) -> Axes:
    """Exposure user-days of the attack instance started on each day: without pins under CT
    alone and under CT + monitoring, and with the pins of the strategy :func:`_pick` chooses.
    ``label``: the attack (default: the first CA-issued one)."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    from simlib.report.plots import readable
    from simlib.report.wording import human_count

    res = got.result
    sc = res.scenario
    ct_labels = [a.label for a in sc.attacks if a.name in CT_ATTACK_CLASSES]
    label = label or (ct_labels[0] if ct_labels else None)
    if label is None:
        ax.text(
            0.5, 0.5, "no CA-issued attack in the scenario", ha="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        return ax
    dates = pd.date_range(sc.start, periods=sc.days, freq="D")

    def of(name: str):
        return exposure_by_start_day(res, name, label)

    base = of(got.baseline)
    ax.plot(dates, base.ct_only, ls="--", color="0.5", label="no pins, CT only")
    ax.plot(dates, base.monitored, color="C3", label="no pins, CT + monitoring")
    pick = _pick(got, recommended)
    if pick is not None:
        ax.plot(dates, of(pick).monitored, color="C0", label=f"{pick}, CT + monitoring")
    # CT alone and CT + monitoring differ by orders of magnitude; symlog keeps 0 (pinned) shown
    ax.set_yscale("symlog", linthresh=1.0)
    ax.yaxis.set_major_formatter(FuncFormatter(human_count))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("exposure user-days per attack (symlog)")
    locator = mdates.AutoDateLocator(maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("day the attack starts")
    ax.set_title(f"{readable(label)}: exposure per attack instance")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return ax
