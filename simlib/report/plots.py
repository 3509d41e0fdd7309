"""Plotting functions: each takes data and an optional ``ax`` and returns the ``ax``."""

from __future__ import annotations

import io
from pathlib import Path

# No backend is chosen here: notebooks keep their inline backend, and without a display
# matplotlib falls back to Agg by itself (figures are saved with Figure.savefig).
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from simlib.errors import escape_controls
from simlib.report.point_labels import LabelPlacer
from simlib.report.style import MUTED, PALETTE
from simlib.report.wording import human_count
from simlib.results.io import atomic_write

#: Longest name in a panel title or tick label (three panels a row at 10 pt); longer names are
#: clipped with an ellipsis so they cannot squeeze the axes to nothing.
PANEL_TITLE_CHARS = 40


def text_label(text: object, limit: int | None = None) -> str:
    """A name as literal figure text: ``$`` escaped, so names are never read as mathtext, and
    control and bidi characters shown as escapes (as everywhere a name is shown); ``limit``
    clips it with an ellipsis where room is fixed (panel titles), so a long name cannot squeeze
    the axes to nothing."""
    shown = escape_controls(str(text))
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return shown.replace("$", r"\$")


def plot_lockout(
    timeseries: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Lockout rate over time, one line per strategy (strategies that never lock are listed).

    Strategies with identical series share one line labelled ``a = b``, and each line has its
    own dash pattern, so a line lying on another (nearly equal series) still shows."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    never = []
    for i, (names, g) in enumerate(_identical_series(timeseries, never)):
        # the legend sits beside the axes: each name bounded, one name a line when long
        shown = [text_label(n, PANEL_TITLE_CHARS) for n in names]
        joined = " = ".join(shown)
        label = joined if len(joined) <= PANEL_TITLE_CHARS else " =\n".join(shown)
        dashes = LINE_DASHES[i % len(LINE_DASHES)]
        ax.plot(
            pd.to_datetime(g["date"]),
            g["lockout_rate"],
            label=label,
            linestyle=(0, dashes) if dashes else "-",
            linewidth=1.2,
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("users locked out")
    ax.set_ylim(0, 1.02)
    ax.set_title(
        text_label(title, 2 * PANEL_TITLE_CHARS) if title else "Lockout rate by pinning strategy"
    )
    ax.grid(alpha=0.3)
    if never:
        # one name a line, so the legend stays as narrow as the widest bounded name
        shown = "\n".join(text_label(n, PANEL_TITLE_CHARS) for n in never)
        ax.plot([], [], " ", label="never locks:\n" + shown)
    # Outside the axes: every strategy's curve reaches 100 % somewhere, a legend inside hides it.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return ax


#: Dash patterns (on, off, ... in points) of the lockout lines in turn, solid first: where
#: two nearly equal series overlap, the one drawn later leaves gaps the other shows through.
LINE_DASHES: tuple[tuple[float, ...], ...] = (
    (),
    (6.0, 2.5),
    (2.0, 2.0),
    (8.0, 2.0, 2.0, 2.0),
    (4.0, 1.5, 1.0, 1.5, 1.0, 1.5),
    (1.0, 3.0),
)


def _identical_series(
    timeseries: pd.DataFrame, never: list[str]
) -> list[tuple[list[str], pd.DataFrame]]:
    """Strategies that lock someone out, in order, those with equal (date, rate) series in one
    group; the names of those that never lock are appended to ``never``."""
    groups: list[tuple[list[str], pd.DataFrame]] = []
    for name, g in timeseries.groupby("strategy", sort=False):
        if g["lockout_rate"].max() <= 0:
            never.append(str(name))
            continue
        key = g[["date", "lockout_rate"]].reset_index(drop=True)
        same = next((grp for grp in groups if grp[1].equals(key)), None)
        if same is None:
            groups.append(([str(name)], key))
        else:
            same[0].append(str(name))
    return groups


def figure_png(fig) -> bytes:
    """The figure as PNG bytes, without timestamps or software tags (same data, same bytes).

    Rendering happens here, so a figure that cannot be drawn fails before any file is written.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, metadata={"Software": None})
    return buffer.getvalue()


def save_figure(fig, path: str | Path) -> Path:
    """Render, then save atomically (see :func:`figure_png`)."""
    data = figure_png(fig)
    return atomic_write(path, lambda p: p.write_bytes(data))


# ------------------------------------------------------------------ decision-report figures
#: Colours of the marks every decision figure shares (the rest is :mod:`simlib.report.style`).
MARKS: dict[str, str] = {
    "line": PALETTE[0],
    "renewal": MUTED,
    "ca_change": PALETTE[4],
    "fix": PALETTE[2],
    "dominated": MUTED,
    "frontier": PALETTE[0],
}
_ATTACK_NAMES = {
    "rogue_ca": "rogue CA",
    "same_ca_misissuance": "mis-issuance by own CA",
    "user_installed_ca": "user-installed CA",
    "stolen_leaf_key": "stolen leaf key",
}


def readable(name: object) -> str:
    """A column or attack name as words (no snake_case)."""
    text = str(name)
    for prefix in ("mean_protected_", "protected_", "locked_users_"):
        text = text.removeprefix(prefix)
    return text_label(_ATTACK_NAMES.get(text, text.replace("_", " ")))


def _percent_axis(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)


def _num(dates: pd.Series):
    return mdates.date2num(pd.to_datetime(dates).to_numpy())


def chain_changes(issuances: pd.DataFrame) -> pd.DataFrame:
    """Issuances after the first, with ``ca_change`` True when the CA or intermediate changed."""
    if issuances.empty:
        return issuances.assign(ca_change=[])
    frame = issuances.sort_values(["host", "date"]).copy()
    prev = frame.groupby("host")[["ca", "intermediate"]].shift()
    frame["ca_change"] = prev["ca"].notna() & (
        (frame["ca"] != prev["ca"]) | (frame["intermediate"] != prev["intermediate"])
    )
    return frame[prev["ca"].notna()]


def plot_lockout_panels(
    timeseries: pd.DataFrame,
    issuances: pd.DataFrame,
    releases: pd.DataFrame,
    fig=None,
    ncols: int = 3,
):
    """Small multiples: lockout over time, one panel per strategy, with certificate renewals
    (grey), CA/intermediate changes (orange) and fix releases (green) marked. Returns the figure."""
    names = list(dict.fromkeys(timeseries["strategy"]))
    nrows = max(1, -(-len(names) // ncols))
    if fig is None:
        fig = plt.figure(figsize=(4 * ncols, 2.4 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    changes = chain_changes(issuances)
    any_fix = False
    for ax, name in zip(axes, names, strict=False):
        g = timeseries[timeseries["strategy"] == name]
        dates = mdates.date2num(pd.to_datetime(g["date"]).to_numpy())
        ax.fill_between(dates, g["lockout_rate"], color=MARKS["line"], alpha=0.25, linewidth=0)
        ax.plot(dates, g["lockout_rate"], color=MARKS["line"], linewidth=1.0)
        for when, ca in zip(_num(changes["date"]), changes["ca_change"], strict=True):
            ax.axvline(when, color=MARKS["ca_change" if ca else "renewal"], linewidth=0.8, zorder=0)
        if len(releases):
            fixes = releases[(releases["strategy"] == name) & (releases["kind"] != "regular")]
            for when in _num(fixes["release_date"]):
                any_fix = True
                ax.axvline(when, color=MARKS["fix"], linestyle="--", linewidth=1.0, zorder=0)
        ax.set_title(text_label(name, PANEL_TITLE_CHARS), fontsize=10)
        _percent_axis(ax)
        ax.xaxis_date()
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    handles = [
        plt.Line2D([], [], color=MARKS["line"], label="users locked out"),
        plt.Line2D([], [], color=MARKS["renewal"], label="certificate renewal"),
        plt.Line2D([], [], color=MARKS["ca_change"], label="CA / intermediate change"),
    ]
    if any_fix:
        handles.append(plt.Line2D([], [], color=MARKS["fix"], linestyle="--", label="fix release"))
    fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False, fontsize=9)
    fig.suptitle("Share of users locked out, by strategy")
    return fig


def plot_platform_split(
    timeseries: pd.DataFrame, strategy: str, shares: dict[str, float], ax: Axes | None = None
) -> Axes:
    """Lockout of one strategy per platform, as a share of that platform's users."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    g = timeseries[timeseries["strategy"] == strategy]
    for platform, share in shares.items():
        col = f"locked_users_{platform}"
        if share > 0 and col in g:
            ax.plot(
                pd.to_datetime(g["date"]),
                g[col] / (g["active_users"] * share),
                label=readable(platform),
            )
    _percent_axis(ax)
    ax.set_ylabel("platform's users locked out")
    ax.set_title(text_label(f"{strategy}: lockout by platform"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return ax


def plot_pareto(front: pd.DataFrame, attack: str, ax: Axes | None = None) -> Axes:
    """Locked user-days vs protected share for one attack class; dominated strategies grey."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    f = front[front["attack"] == attack]
    good = f[~f["dominated"]].sort_values("locked_user_days")
    ax.scatter(
        f.loc[f["dominated"], "locked_user_days"],
        f.loc[f["dominated"], "protected"],
        color=MARKS["dominated"],
        label="dominated",
    )
    ax.plot(
        good["locked_user_days"],
        good["protected"],
        "o-",
        color=MARKS["frontier"],
        label="Pareto frontier",
    )
    labels = []
    for (x, y, dominated), names in _label_groups(f).items():
        label = ax.annotate(
            " · ".join(text_label(n, PANEL_TITLE_CHARS) for n in names),
            (x, y),
            fontsize=8,
            color=MARKS["dominated"] if dominated else "black",
            xytext=(4, 4),
            textcoords="offset points",
            # a leader line, shown only for labels pushed away from their point
            arrowprops={"arrowstyle": "-", "color": MUTED, "linewidth": 0.6, "shrinkB": 3},
        )
        label.set_in_layout(False)  # placed inside the axes at draw time, never squeezes them
        labels.append(label)
    ax.add_artist(LabelPlacer(labels))
    ax.xaxis.set_major_formatter(FuncFormatter(human_count))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(-0.02, 1.08)
    ax.set_xlabel("locked user-days (fewer is better)")
    ax.set_ylabel(f"users protected against {readable(attack)}")
    ax.set_title(f"Lockout vs protection: {readable(attack)}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return ax


def _label_groups(front: pd.DataFrame) -> dict[tuple[float, float, bool], list[str]]:
    """Strategies whose points coincide (within 1 % of each axis' range) share one label, so
    names never print on top of each other."""
    xs = front["locked_user_days"].astype(float)
    dx, dy = max(float(xs.max() - xs.min()), 1e-12) * 0.01, 0.01
    groups: dict[tuple[float, float, bool], list[str]] = {}
    for row in front.itertuples():
        key = next(
            (
                k
                for k in groups
                if abs(k[0] - row.locked_user_days) <= dx and abs(k[1] - row.protected) <= dy
            ),
            None,
        )
        if key is None:
            groups[(float(row.locked_user_days), float(row.protected), bool(row.dominated))] = [
                row.strategy
            ]
        else:
            groups[key].append(row.strategy)
    return groups


def plot_coverage_readable(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean share protected per attack and strategy, readable labels, no all-zero series,
    legend outside the bars."""
    cols = [c for c in summary.columns if c.startswith("mean_protected_") and summary[c].max() > 0]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    data = summary.set_index("strategy")[cols]
    data.index = [text_label(s, PANEL_TITLE_CHARS) for s in data.index]  # rotated ticks: bounded
    data.columns = [readable(c) for c in cols]
    if cols:
        data.plot.bar(ax=ax, width=0.8)
        ax.legend(title="attack", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1)
    ax.set_ylabel("users protected (mean over days)")
    ax.set_xlabel("")
    ax.set_title("Who would reject each attack")
    ax.tick_params(axis="x", labelrotation=30)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    return ax
