"""The decision report made through papermill and nbconvert: self-contained, no code, numbers
equal to simulate(), every input listed, nothing written when it fails."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import matplotlib
import pandas as pd
import pytest

import simlib
from simlib.report import decision
from simlib.report.html import fmt
from simlib.report.inputs import scenario_inputs
from simlib.report.notebook import NotebookError, report_notebook_text, write_report_notebook
from simlib.report.plots import plot_coverage_readable, plot_lockout_panels, plot_pareto, readable
from simlib.report.render import TEMPLATE, write_report
from tests.conftest import ROOT, make

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


def _cells(table: list[list[str]], column: str) -> list[str]:
    return [r[table[0].index(column)] for r in table[1:]]


def test_html_report_is_self_contained_and_matches_simulate(tmp_path) -> None:
    sc = make(
        {"fleet.platforms": {"android": 0.5, "ios": 0.5}},
        strategies=STRATEGIES,
        attacks=["rogue_ca"],
    )
    written = write_report(sc, tmp_path)
    assert {p.name for p in written} >= {"report.html", "report.ipynb", "report.md", "summary.csv"}
    # the private staging folder (inside --out, .report-<random>) is always removed
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report-")]
    assert not [p for p in tmp_path.parent.iterdir() if ".report-" in p.name]
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    # No code: nbconvert --no-input drops every input area; the page loads nothing from outside.
    body = re.sub(r"<style.*?</style>", "", text, flags=re.S)
    assert "jp-CodeMirrorEditor" not in body and "highlight" not in body
    assert "import simlib" not in body and "DecisionReport" not in body
    assert "script" not in page.tags or not re.search(r"<script[^>]*\bsrc=", text)
    assert not re.search(r'(?:src|href)="(?!data:|#)', text)
    assert len(page.imgs) >= 3 and all(
        src.startswith("data:image/png;base64,") for src in page.imgs
    )
    executed = json.loads((tmp_path / "report.ipynb").read_text())
    assert not [
        o
        for c in executed["cells"]
        if c["cell_type"] == "code"
        for o in c["outputs"]
        if o["output_type"] in ("error", "stream")
    ]
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
    # Every input is listed with its origin; every cost assumption too, labelled as default.
    listed = _cells(page.tables["assumptions"], "input")
    assert set(scenario_inputs(sc)["input"]) <= set(listed)
    cost = decision.cost_inputs(sc).assumptions
    assert {
        p + (f"[{a}]" if a else "") for p, a in zip(cost["parameter"], cost["attack"], strict=True)
    } <= set(listed)
    origins = dict(zip(listed, _cells(page.tables["assumptions"], "origin"), strict=True))
    assert origins["cost_per_locked_user_day"] == "default"
    assert "ats trap" in text  # the platform finding is on the page
    for section in ("calendar", "prerequisites", "pins-over-ct"):
        assert page.tables.get(section), section
    assert rec in " ".join(page.tables["prerequisites"][0]) or rec in text


def test_report_of_a_file_marks_given_and_default_inputs(tmp_path) -> None:
    out = tmp_path / "out"
    write_report(simlib.load_scenario(ROOT / "data/scenarios/quickstart.yaml"), out)
    page = _Page()
    page.feed((out / "report.html").read_text(encoding="utf-8"))
    table = page.tables["assumptions"]
    origin = dict(zip(_cells(table, "input"), _cells(table, "origin"), strict=True))
    assert origin["fleet.users"] == "given"
    assert origin["metrics.outage_threshold"] == "default"


def test_failed_report_writes_nothing(tmp_path, monkeypatch) -> None:
    from simlib.report import render

    broken = tmp_path / "broken.ipynb"
    nb = json.loads(TEMPLATE.read_text())
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "id": "boom",
            "execution_count": None,
            "outputs": [],
            "source": ["raise RuntimeError('boom')"],
        }
    )
    broken.write_text(json.dumps(nb))
    monkeypatch.setattr(render, "TEMPLATE", broken)
    out = tmp_path / "out"
    with pytest.raises(NotebookError, match=r"broken.ipynb: cell .* RuntimeError: boom"):
        write_report(make(strategies=STRATEGIES), out)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["broken.ipynb"]


def test_notebook_05_is_generated_from_the_report_template(tmp_path) -> None:
    stored = (ROOT / "notebooks/05-decision-report.ipynb").read_text(encoding="utf-8")
    assert stored == report_notebook_text(), (
        "notebooks/05-decision-report.ipynb is generated from simlib/report/templates/"
        "decision-report.ipynb: edit the template, then run `make notebooks`"
    )
    nb, template = json.loads(stored), json.loads(TEMPLATE.read_text())
    assert nb["cells"] == template["cells"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb["cells"])
    # A change to the template reaches the copy only through the generator, outputs stripped.
    template["cells"][-1]["source"] = ["print('edited')"]
    template["cells"][-1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    edited = tmp_path / "edited.ipynb"
    edited.write_text(json.dumps(template))
    regenerated = json.loads(write_report_notebook(tmp_path / "05.ipynb", edited).read_text())
    assert regenerated["cells"][-1]["source"] == ["print('edited')"]
    assert regenerated["cells"][-1]["outputs"] == [] and report_notebook_text(edited) != stored
    assert regenerated["metadata"]["simlib"] == nb["metadata"]["simlib"]


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


def test_the_notebook_rebuilds_exactly_the_scenario_it_was_given(tmp_path) -> None:
    from simlib.report.render import notebook_parameters

    quick = simlib.default_scenario()
    assert notebook_parameters(quick, None, tmp_path) == {"scenario": None}
    preset = simlib.load_scenario(ROOT / "data/presets/dst-root-x3-expiry-2021.yaml")
    assert notebook_parameters(preset, "dst-root-x3-expiry-2021", tmp_path) == {
        "preset": "dst-root-x3-expiry-2021"
    }
    changed = quick.model_copy(update={"name": "renamed"})  # keeps its source: must not be reloaded
    params = notebook_parameters(changed, None, tmp_path)
    assert simlib.load_scenario(params["scenario"]).to_dict() == changed.to_dict()


def test_page_and_result_files_come_from_the_same_changed_scenario(tmp_path) -> None:
    sc = simlib.apply_overrides(simlib.default_scenario(), {"fleet.users": 1234})
    out = tmp_path / "out"
    write_report(sc, out)
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "1,234 users" in text
    page = _Page()
    page.feed(text)
    csv = pd.read_csv(out / "summary.csv").set_index("strategy")["locked_user_days"]
    ranked = page.tables["ranked"]
    for name, cell in zip(
        _cells(ranked, "strategy"), _cells(ranked, "locked user days"), strict=True
    ):
        assert cell == fmt("locked_user_days", csv[name])
    assert set(_cells(page.tables["assumptions"], "origin")) >= {"unknown"}


def test_risk_calendar_keeps_the_breaking_assumption_and_says_so_under_the_ranking() -> None:
    """le-certbot-2026-2029: all of "all intermediates"' lockout comes from the extrapolated
    2028-05-27 intermediate switch, late in the horizon. The calendar shows every breaking row
    before the harmless ones (that one included, marked), and the ranked table says where the
    lockout comes from."""
    import warnings

    from simlib.report.document import DecisionReport
    from simlib.report.wording import num

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # past the published roadmap: warned as extrapolated
        report = DecisionReport(simlib.simulate(ROOT / "data/scenarios/le-certbot-2026-2029.yaml"))
    page = _Page()
    page.feed(report.risk_calendar().html)
    rows = page.tables["calendar"]
    breaks = _cells(rows, "breaks")
    harmful = [b != "none" for b in breaks]
    assert harmful == sorted(harmful, reverse=True)  # every breaking row before any harmless one
    cal = report._calendar()
    assert sum(harmful) == cal[cal.breaks].drop_duplicates(["date", "kind", "event"]).shape[0]
    switch = [
        e
        for d, e, b in zip(_cells(rows, "date"), _cells(rows, "event"), breaks, strict=True)
        if d == "2028-05-27" and "all intermediates" in b and "intermediate rotation" in e
    ]
    assert len(switch) == 1 and switch[0].startswith("[assumption] ")
    assert re.search(r"\d+ harmless event\(s\)", report.risk_calendar().html)
    locked = report.table.set_index("strategy").loc["all intermediates", "locked_user_days"]
    note = re.sub("<[^>]+>", "", report.ranked().html)
    assert f"all intermediates: its {num(locked)} locked user-days come from 2028-05-27" in note
    assert "root:" not in note  # no lockout, no note
