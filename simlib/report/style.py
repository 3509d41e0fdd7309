"""One plotting style for every figure simlib draws (reports, notebooks, the explorer).

Figures are drawn inside :func:`styled` (a ``matplotlib.rc_context``), so the style never leaks
into a user's own plots; :func:`use_style` sets it for a whole notebook session instead.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import matplotlib as mpl

#: Colour-blind-safe qualitative palette (Okabe–Ito), then matplotlib's tab10 for more series.
PALETTE: tuple[str, ...] = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
)  # fmt: skip
#: Grey of dominated or inactive series.
MUTED = "#b0b0b0"

STYLE: dict[str, object] = {
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "figure.constrained_layout.use": True,
}


def styled() -> AbstractContextManager:
    """A context in which figures get simlib's style."""
    return mpl.rc_context(STYLE)


def use_style() -> None:
    """simlib's style for the rest of this session (notebooks call it once)."""
    mpl.rcParams.update(STYLE)
