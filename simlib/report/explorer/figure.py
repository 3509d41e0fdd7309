"""The explorer's one figure: users locked out per day (the selected strategy, the same strategy
as configured, the others muted) and mean bars per strategy. It is laid out once; a redraw moves
the existing artists (``set_ydata``, ``set_width``, ``set_text``: no new figure, axes or lines).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from simlib.report.plots import readable, text_label
from simlib.report.style import MUTED, PALETTE, styled


class LockoutFigure:
    """The figure of one explorer, drawn at construction with empty data.

    Parameters: ``strategies`` (one line and one pair of bars each), ``attack`` (label of the
    protected bars), ``start`` and ``end`` (the days on the x axis), ``figsize``, ``dpi``.
    """

    def __init__(
        self,
        strategies: list[str],
        attack: str | None,
        start: dt.date,
        end: dt.date,
        *,
        figsize: tuple[float, float],
        dpi: int,
    ) -> None:
        self.strategies = strategies
        self.attack = attack
        self.figure, self.artists = self._build(start, end, figsize, dpi)

    def _build(
        self, start: dt.date, end: dt.date, figsize: tuple[float, float], dpi: int
    ) -> tuple[Figure, dict[str, Any]]:
        with styled():
            fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
            FigureCanvasAgg(fig)
            ax, bars_ax = fig.subplots(1, 2, width_ratios=[2.2, 1])
            dates = mdates.date2num(pd.date_range(start, end, freq="D").to_numpy())
            zeros = np.zeros(len(dates))
            lines = {
                name: ax.plot(dates, zeros, color=MUTED, linewidth=0.8)[0]
                for name in self.strategies
            }
            baseline = ax.plot(dates, zeros, color="black", linewidth=1.0, linestyle="--")[0]
            ax.xaxis_date()
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_ylim(0, 1.02)
            ax.set_xlim(dates[0], dates[-1])
            ax.set_ylabel("users locked out")
            ax.tick_params(axis="x", labelrotation=30)
            legend = ax.legend(
                handles=[
                    Line2D([], [], color=PALETTE[0], linewidth=2.0, label="selected"),
                    Line2D(
                        [], [], color="black", linewidth=1.0, linestyle="--", label="as configured"
                    ),
                    Line2D([], [], color=MUTED, linewidth=0.8, label="other strategies"),
                ],
                loc="upper center",
                bbox_to_anchor=(0.5, -0.14),
                ncols=3,
            )
            n = len(self.strategies)
            y = np.arange(n)
            h = 0.38
            locked = bars_ax.barh(
                y - h / 2, np.zeros(n), height=h, color=PALETTE[1], label="mean locked out"
            )
            protected = bars_ax.barh(
                y + h / 2,
                np.zeros(n),
                height=h,
                color=PALETTE[2],
                label=f"protected: {readable(self.attack)}" if self.attack else "protected",
            )
            bars_ax.set_yticks(y, [text_label(s) for s in self.strategies])
            bars_ax.invert_yaxis()
            bars_ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            bars_ax.set_xlim(0, 1)
            bars_ax.set_title("mean over the period")
            bars_ax.grid(axis="y", visible=False)
            bars_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=1, fontsize=8)
            ax.set_title("users locked out, per day")
            title = fig.suptitle(" ", fontsize=11)
            # Lay the figure out once, with the longest texts it will show, then freeze the layout:
            # later redraws only move data (constrained layout would cost most of a redraw).
            title.set_text("0\n0")
            fig.canvas.draw()
            fig.set_layout_engine("none")
        artists = {
            "ax": ax,
            "bars_ax": bars_ax,
            "lines": lines,
            "baseline": baseline,
            "legend": legend,
            "locked": list(locked),
            "protected": list(protected),
            "title": title,
        }
        return fig, artists

    def redraw(
        self,
        chosen: str,
        rates: dict[str, np.ndarray],
        table: pd.DataFrame,
        baseline: np.ndarray,
        title: str,
    ) -> None:
        """Move the artists to one simulation: daily lockout ``rates`` and per-strategy
        ``table`` (``mean_lockout``, ``protected_share``), the ``chosen`` strategy highlighted
        over its ``baseline`` rates as configured, under ``title``."""
        a = self.artists
        for name, line in a["lines"].items():
            line.set_ydata(rates[name])
            on = name == chosen
            line.set_color(PALETTE[0] if on else MUTED)
            line.set_linewidth(2.0 if on else 0.8)
            line.set_zorder(3 if on else 2)
        a["baseline"].set_ydata(baseline)
        a["legend"].get_texts()[0].set_text(text_label(chosen))
        table = table.reindex(self.strategies)
        for i, name in enumerate(self.strategies):
            alpha = 1.0 if name == chosen else 0.35
            for key, col in (("locked", "mean_lockout"), ("protected", "protected_share")):
                value = float(table[col].iloc[i])
                bar = a[key][i]
                bar.set_width(0.0 if math.isnan(value) else value)
                bar.set_alpha(alpha)
        for label in a["bars_ax"].get_yticklabels():
            label.set_fontweight("bold" if label.get_text() == text_label(chosen) else "normal")
        a["title"].set_text(text_label(title))


def canvas_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig`` drawn on its Agg canvas at its own size and dpi (fast zlib level:
    the widget shows it at once)."""
    import io

    from PIL import Image

    with styled():
        fig.canvas.draw()
    width, height = fig.canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()
