"""simlib.report.plots: Pareto labels laid out readably, identical lockout series visible."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text

import simlib
from simlib.report import decision
from simlib.report.comparison_plots import plot_pareto_panels
from simlib.report.plots import PANEL_TITLE_CHARS, plot_lockout, plot_pareto
from simlib.report.style import styled


def _front(points: list[tuple[str, float, float]], attack: str = "rogue_ca") -> pd.DataFrame:
    frame = pd.DataFrame(points, columns=["strategy", "locked_user_days", "protected"])
    table = frame.rename(columns={"protected": f"protected_{attack}"})
    return decision.pareto(table)


#: The quickstart's rogue-CA front (two long names 3 % of the x range apart at 60 %), and
#: acm-rekey-198d's (a long joint label on the rightmost point).
QUICKSTART = [
    ("no pinning", 0.0, 0.0),
    ("leaf cert", 292_011_853.0, 0.6),
    ("leaf key", 292_011_853.0, 0.6),
    ("leaf key + next key", 37_329_137.0, 0.95),
    ("intermediate", 177_793_441.0, 0.76),
    ("root", 0.0, 1.0),
    ("root + backup CA", 0.0, 1.0),
    ("leaf key, expires 1y", 284_710_913.0, 0.6),
]
ACM = [
    ("no pinning", 0.0, 0.0),
    ("leaf cert", 76e6, 0.82),
    ("leaf key", 76e6, 0.82),
    ("intermediate", 76e6, 0.82),
    ("root", 0.0, 1.0),
    ("root + backup CA", 0.0, 1.0),
]
#: Five long names crowded at the right edge, two of them on the same height.
CROWDED = [
    ("strategy number one, long", 100.0, 0.5),
    ("strategy number two, long", 97.0, 0.5),
    ("strategy three", 95.0, 0.53),
    ("strategy four", 99.0, 0.47),
    ("a fifth strategy", 98.0, 0.9),
    ("origin", 0.0, 0.0),
]


def _labels(fig: Figure) -> list[tuple[object, list]]:
    """Per visible axes: its frame and its point labels' text boxes (leader lines aside)."""
    canvas = FigureCanvasAgg(fig)  # a plain Figure's canvas has no renderer to measure with
    canvas.draw()
    renderer = canvas.get_renderer()
    return [
        (
            ax.get_window_extent(renderer),
            [
                Text.get_window_extent(t, renderer)
                for t in ax.texts
                if isinstance(t, Annotation) and t.get_text()
            ],
        )
        for ax in fig.axes
        if ax.get_visible()
    ]


def _assert_readable(fig: Figure, expected: int) -> None:
    fig_box = fig.bbox
    for frame, boxes in _labels(fig):
        assert len(boxes) == expected
        for box in boxes:
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (box, frame)
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1, (box, frame)
            assert fig_box.contains(box.x0, box.y0) and fig_box.contains(box.x1, box.y1)
        for a, b in itertools.combinations(boxes, 2):
            assert not a.overlaps(b), (a, b)


@pytest.mark.parametrize(
    ("points", "groups", "size"),
    [
        (QUICKSTART, 6, (9, 4.3)),
        (ACM, 3, (9, 4.3)),
        (CROWDED, 6, (9, 4.3)),
        (QUICKSTART, 6, (6, 3.5)),
    ],
)
def test_pareto_labels_do_not_overlap_and_stay_inside(points, groups, size) -> None:
    with styled():
        fig = Figure(figsize=size, layout="constrained")
        plot_pareto(_front(points), "rogue_ca", fig.subplots())
        _assert_readable(fig, groups)


def test_pareto_panel_labels_are_placed_after_the_shared_legend_resizes_them() -> None:
    front = pd.concat([_front(QUICKSTART, "rogue_ca"), _front(ACM, "user_installed_ca")])
    fig = plot_pareto_panels(front)
    for frame, boxes in _labels(fig):
        for box in boxes:
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1
        assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))


def test_quickstart_pareto_figures_are_readable() -> None:
    res = simlib.simulate(simlib.default_scenario())
    front = decision.pareto(decision.ranked_table(res))
    for attack in dict.fromkeys(front["attack"]):
        with styled():
            fig = Figure(figsize=(9, 4.3), layout="constrained")
            plot_pareto(front, attack, fig.subplots())
            (frame, boxes), *_ = _labels(fig)
            assert boxes
            assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 for b in boxes), attack
            assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2)), attack


def _series(rates: dict[str, list[float]]) -> pd.DataFrame:
    dates = pd.date_range("2025-01-01", periods=4).date
    return pd.DataFrame(
        [
            {"date": d, "strategy": name, "lockout_rate": r}
            for name, values in rates.items()
            for d, r in zip(dates, values, strict=True)
        ]
    )


def test_identical_lockout_series_share_one_line_and_near_ones_get_their_own_dashes() -> None:
    ts = _series(
        {
            "leaf cert": [0, 1, 0.5, 0.2],
            "leaf key": [0, 1, 0.5, 0.2],
            "leaf key, expires 1y": [0, 1, 0.5, 0.19],
            "intermediate": [0, 0.5, 0.1, 0.0],
            "root": [0, 0, 0, 0],
        }
    )
    ax = plot_lockout(ts, Figure().subplots())
    lines = [line for line in ax.get_lines() if len(line.get_xdata())]
    assert [line.get_label() for line in lines] == [
        "leaf cert = leaf key",
        "leaf key, expires 1y",
        "intermediate",
    ]
    # distinct dash patterns, so a line lying on another one still shows
    patterns = [line._unscaled_dash_pattern for line in lines]
    assert len({(offset, tuple(d) if d else None) for offset, d in patterns}) == len(lines)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-1] == "never locks:\nroot"


def test_long_identical_names_go_one_a_line_in_the_legend() -> None:
    long = "x" * (PANEL_TITLE_CHARS - 5)
    ts = _series({long: [0, 1, 0, 0], long + "!": [0, 1, 0, 0]})
    ax = plot_lockout(ts, Figure().subplots())
    (line,) = ax.get_lines()
    assert line.get_label() == f"{long} =\n{long}!"
