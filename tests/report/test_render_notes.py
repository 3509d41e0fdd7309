"""What loading a scenario assumed (its ScenarioWarnings) reaches the decision report as a styled
"Notes on this scenario" list, escaped, never as a raw Python warning with a source path."""

from __future__ import annotations

import warnings

import pytest

import simlib
from simlib.errors import ScenarioWarning
from simlib.report.document import DecisionReport
from simlib.report.notebook import loaded, scenario_with_notes
from simlib.report.render import write_report
from tests.conftest import ROOT, make

#: Past Let's Encrypt's published roadmap: loading it extrapolates intermediates (a warning).
PAST_ROADMAP = ROOT / "data/scenarios/le-certbot-2026-2029.yaml"


def test_report_past_the_roadmap_shows_notes_not_a_python_warning(tmp_path) -> None:
    with pytest.warns(ScenarioWarning):
        sc = simlib.load_scenario(PAST_ROADMAP)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)  # the caller saw them: not again
        write_report(sc, tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for leak in ("ScenarioWarning", "loading.py", "scenario_from_dict"):
        assert leak not in page, leak
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page  # no stderr output
    assert str(PAST_ROADMAP) not in page  # the note names the field, not the file
    assert 'id="scenario-notes"' in page and "Notes on this scenario" in page
    notes = page[page.index('id="scenario-notes"') :]
    assert "past its published roadmap" in notes and "extrapolated from its practice" in notes
    # near the assumptions: the notes come right before the inputs table
    assert page.index('id="scenario-notes"') < page.index('id="assumptions"')


def test_notes_are_escaped_and_absent_when_loading_assumed_nothing() -> None:
    result = simlib.simulate(make(strategies=[{"name": "none", "pin": "none"}]))
    assert DecisionReport(result).scenario_notes() is None
    hostile = "hosts[0]: <img src=x onerror=alert(1)> & \u202eevil"
    html = DecisionReport(result, notes=(hostile,)).scenario_notes().html
    assert "<img" not in html and "&lt;img" in html and "&amp;" in html
    assert "\u202e" not in html  # bidi control made visible, not applied


def test_loaded_keeps_scenario_warnings_as_notes_and_reissues_the_rest() -> None:
    sc = make()

    def load():
        warnings.warn(f"{sc.source}: hosts[0]: assumed", ScenarioWarning, stacklevel=2)
        warnings.warn(f"{sc.source}: hosts[0]: assumed", ScenarioWarning, stacklevel=2)
        warnings.warn("elsewhere: kept as is", ScenarioWarning, stacklevel=2)
        warnings.warn("not a scenario's", RuntimeWarning, stacklevel=2)
        return sc

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got, notes = loaded(load)
    assert got is sc
    assert notes == ("hosts[0]: assumed", "elsewhere: kept as is")  # prefix off, once each
    assert [w.category for w in caught] == [RuntimeWarning]  # only the others go on


def test_scenario_with_notes_of_a_file_past_the_roadmap() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)  # none may escape
        sc, notes = scenario_with_notes(PAST_ROADMAP)
    assert sc.name and notes and all(not n.startswith(str(PAST_ROADMAP)) for n in notes)
    assert any("extrapolated" in n for n in notes)
