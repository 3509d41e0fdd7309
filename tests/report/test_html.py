"""The HTML decision report: self-contained, no code, numbers equal to simulate()."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import matplotlib

import simlib
from simlib.report import decision
from simlib.report.html import fmt
from simlib.report.markdown import write_report
from simlib.report.plots import plot_coverage_readable, plot_lockout_panels, plot_pareto, readable
from tests.conftest import make

matplotlib.use("Agg")  # tests only

STRATEGIES: list[dict] = [
    {"name": "leaf + backup CA", "pin": "leaf_spki", "backup": ["ca:ca2"]},
    {"name": "root", "pin": "root_spki"},
    {"name": "none", "pin": "none"},
]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[str] = []
        self.tags: set[str] = set()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "img":
            self.imgs.append(a.get("src") or "")
        if tag == "table":
            self._table = a.get("id") or f"t{len(self.tables)}"
            self.tables[self._table] = []
        if tag == "tr" and self._table:
            self.tables[self._table].append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_html_report_is_self_contained_and_matches_simulate(tmp_path) -> None:
    sc = make(
        {"fleet.platforms": {"android": 0.5, "ios": 0.5}},
        strategies=STRATEGIES,
        attacks=["rogue_ca"],
    )
    write_report(sc, tmp_path)
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    assert "script" not in page.tags and "In [" not in text and "import simlib" not in text
    assert page.imgs and all(src.startswith("data:image/png;base64,") for src in page.imgs)
    assert not re.search(r'src="(?!data:)', text)
    res = simlib.simulate(sc)
    table = decision.ranked_table(res)
    rows = page.tables["ranked"]
    header, body = rows[0], rows[1:]
    assert [r[header.index("strategy")] for r in body] == list(table["strategy"])
    for col in ("locked_user_days", "peak_lockout", "users_ever_locked", "protected_rogue_ca"):
        label = (
            f"protected: {readable(col)}" if col.startswith("protected_") else col.replace("_", " ")
        )
        assert [r[header.index(label)] for r in body] == [fmt(col, v) for v in table[col]]
    rec = re.search(r'<span id="recommended">([^<]*)</span>', text).group(1)
    assert rec == table.iloc[0]["strategy"] == body[0][header.index("strategy")]
    assumptions = page.tables["assumptions"]
    listed = {(r[0], r[1]) for r in assumptions[1:]}
    inputs = decision.cost_inputs(sc)
    assert listed == set(
        zip(inputs.assumptions["parameter"], inputs.assumptions["attack"], strict=True)
    )
    assert "ats trap" in text  # the platform finding is on the page
    assert (tmp_path / "report.md").exists()


def test_figures_render_with_readable_labels() -> None:
    sc = make(strategies=STRATEGIES, attacks=["rogue_ca", "same_ca_misissuance"])
    res = simlib.simulate(sc)
    table = decision.ranked_table(res)
    fig = plot_lockout_panels(res.timeseries, res.issuances, res.releases)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == list(res.summary["strategy"])
    fig.canvas.draw()
    ax = plot_coverage_readable(res.summary)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels and all("_" not in t for t in labels)
    nonzero = [
        c for c in res.summary if c.startswith("mean_protected_") and res.summary[c].max() > 0
    ]
    assert labels == [readable(c) for c in nonzero]  # all-zero series dropped
    ax = plot_pareto(decision.pareto(table), "rogue_ca")
    assert "_" not in ax.get_title() and ax.get_legend() is not None
    ax.figure.canvas.draw()
