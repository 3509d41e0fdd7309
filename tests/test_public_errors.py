"""Every public entry point answers bad input (a missing file, an unknown name, a bad value) with
one SimlibError line naming the file or field, never a bare FileNotFoundError / ValueError /
KeyError / AttributeError; a wrong Python type is a TypeError (a programming error)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import simlib
from simlib import analysis, batch, pki, toolkit
from simlib.errors import (
    ConfigError,
    EmitError,
    NotebookError,
    OutputError,
    PinError,
    PkiInputError,
    ScenarioError,
    SimlibError,
)
from simlib.model import read_curve_csv
from tests.conftest import make

MISSING = "/nonexistent/simlib-missing"
NSC = b"<network-security-config/>"


def _report(module: str):
    import importlib

    return importlib.import_module(f"simlib.report.{module}")


@pytest.fixture(scope="module")
def small():
    return make()


# (label, call(scenario, tmp_path), error class, what the line must name)
CASES: list[tuple[str, Callable, type[SimlibError], str]] = [
    # ---- a missing file or folder
    ("load_scenario", lambda sc, tmp: simlib.load_scenario(f"{MISSING}.yaml"), ScenarioError, MISSING),
    ("simulate path", lambda sc, tmp: simlib.simulate(f"{MISSING}.yaml"), ScenarioError, MISSING),
    ("sweep base", lambda sc, tmp: simlib.sweep(f"{MISSING}.yaml", {"seed": [1]}, progress=False), ScenarioError, MISSING),
    ("load_results", lambda sc, tmp: simlib.load_results(MISSING), ScenarioError, MISSING),
    ("batch.load_sweep", lambda sc, tmp: batch.load_sweep(f"{MISSING}.yaml"), ScenarioError, MISSING),
    ("batch.load_manifest", lambda sc, tmp: batch.load_manifest(MISSING), ScenarioError, MISSING),
    ("batch.load_timeseries", lambda sc, tmp: batch.load_timeseries(MISSING), ScenarioError, MISSING),
    ("model.read_curve_csv", lambda sc, tmp: read_curve_csv(f"{MISSING}.csv"), ScenarioError, MISSING),
    ("analysis.calendar path", lambda sc, tmp: analysis.calendar(f"{MISSING}.yaml"), ScenarioError, MISSING),
    ("toolkit.load_config", lambda sc, tmp: toolkit.load_config(f"{MISSING}.xml"), ConfigError, MISSING),
    ("toolkit.load_chain", lambda sc, tmp: toolkit.load_chain(f"{MISSING}.pem"), ConfigError, MISSING),
    ("pki.load_certificates", lambda sc, tmp: pki.load_certificates(f"{MISSING}.pem"), PkiInputError, MISSING),
    ("report.sweeps.sweep_meta", lambda sc, tmp: _report("sweeps").sweep_meta(MISSING), ScenarioError, MISSING),
    ("report.sweeps.base_scenario", lambda sc, tmp: _report("sweeps").base_scenario(MISSING), ScenarioError, MISSING),
    ("report.sweeps.load_stats", lambda sc, tmp: _report("sweeps").load_stats(MISSING), ScenarioError, MISSING),
    ("report.notebook.scenario_from", lambda sc, tmp: _report("notebook").scenario_from(f"{MISSING}.yaml"), ScenarioError, MISSING),
    ("report.notebook.to_html", lambda sc, tmp: _report("notebook").to_html(f"{MISSING}.ipynb"), NotebookError, MISSING),
    ("report.notebook.execute", lambda sc, tmp: _report("notebook").execute(f"{MISSING}.ipynb", tmp / "o.ipynb"), NotebookError, MISSING),
    ("report.decision.load_cost_defaults", lambda sc, tmp: _report("decision").load_cost_defaults(Path(MISSING)), ScenarioError, MISSING),
    ("report.replay.replay_cases", lambda sc, tmp: _report("replay").replay_cases(scenario=f"{MISSING}.yaml"), ScenarioError, MISSING),
    # ---- a file of the wrong kind
    ("load_scenario folder", lambda sc, tmp: simlib.load_scenario(tmp), ScenarioError, "is a folder"),
    ("report.notebook.to_html not a notebook", lambda sc, tmp: _report("notebook").to_html(_text(tmp, "x")), NotebookError, "not appear to be JSON"),
    ("report.render out is a file", lambda sc, tmp: _report("render").write_report(sc, _text(tmp, "x")), OutputError, "not a folder"),
    # ---- an unknown name
    ("analysis.load_preset", lambda sc, tmp: analysis.load_preset("no-such-preset"), ScenarioError, "no-such-preset"),
    ("report.replay.question_for", lambda sc, tmp: _report("replay").question_for(preset="no-such-preset"), ScenarioError, "no-such-preset"),
    ("simulate mode", lambda sc, tmp: simlib.simulate(sc, mode="montecarlo"), ScenarioError, "mode"),
    ("simulate server_draws", lambda sc, tmp: simlib.simulate(sc, mode="mc", replications=1, server_draws="sometimes"), ScenarioError, "server_draws"),
    ("apply_overrides path", lambda sc, tmp: simlib.apply_overrides(sc, {"fleet.nope": 1}), ScenarioError, "fleet.nope"),
    ("result strategy", lambda sc, tmp: simlib.simulate(sc).breaks("no-such-strategy"), ScenarioError, "no-such-strategy"),
    ("result strategy (shipped_pins)", lambda sc, tmp: simlib.simulate(sc).shipped_pins("nope", "api.test"), ScenarioError, "nope"),
    ("result served_chain host", lambda sc, tmp: simlib.simulate(sc).served_chain("api.tset", 0), ScenarioError, "api.tset"),
    ("result shipped_pins host", lambda sc, tmp: simlib.simulate(sc).shipped_pins("none", "api.tset"), ScenarioError, "api.tset"),
    ("toolkit.parse_config format", lambda sc, tmp: toolkit.parse_config(NSC, format="xml"), ConfigError, "format"),
    ("toolkit.emit strategy", lambda sc, tmp: toolkit.emit("spki", [], host="api.example.com"), EmitError, "spki"),
    ("toolkit.emit format", lambda sc, tmp: toolkit.emit("leaf_spki", [], host="a.example", formats=("xml",)), EmitError, "xml"),
    # ---- a bad value
    ("simulate replications", lambda sc, tmp: simlib.simulate(sc, mode="monte_carlo", replications=0), ScenarioError, "replications"),
    ("simulate seed", lambda sc, tmp: simlib.simulate(sc, seed=-1), ScenarioError, "seed"),
    ("apply_overrides value", lambda sc, tmp: simlib.apply_overrides(sc, {"fleet.users": "many"}), ScenarioError, "fleet.users"),
    ("apply_overrides index", lambda sc, tmp: simlib.apply_overrides(sc, {"hosts[7].validity_days": 9}), ScenarioError, "hosts[7]"),
    ("sweep lone value", lambda sc, tmp: simlib.sweep(sc, {"seed": 3}, progress=False), ScenarioError, "axes.grid.seed"),
    ("sweep grid twice", lambda sc, tmp: simlib.sweep(sc, {"seed": [1]}, axes={"grid": {"seed": [2]}}), ScenarioError, "grid"),
    ("sweep nothing", lambda sc, tmp: simlib.sweep(sc), ScenarioError, "axes"),
    ("result day before the start", lambda sc, tmp: simlib.simulate(sc).served_chain("api.test", -1), ScenarioError, "outside the run"),
    ("result date after the end", lambda sc, tmp: simlib.simulate(sc).locked_versions("none", "2030-01-01"), ScenarioError, "2030-01-01"),
    ("result date not a date", lambda sc, tmp: simlib.simulate(sc).locked_versions("none", "soon"), ScenarioError, "soon"),
    ("result write format", lambda sc, tmp: simlib.simulate(sc).write(tmp / "out", formats=("xlsx",)), ScenarioError, "xlsx"),
    ("analysis.calendar today", lambda sc, tmp: analysis.calendar(sc, today="soon"), ScenarioError, "today"),
    ("analysis.calendar window", lambda sc, tmp: analysis.calendar(sc, window_days=-1), ScenarioError, "window_days"),
    ("pki.parse_pin", lambda sc, tmp: pki.parse_pin("not-a-pin"), PinError, "not-a-pin"),
    ("toolkit.emit backup", lambda sc, tmp: toolkit.emit("leaf_spki", _chain(), host="api.example.com", backups=("zzz",)), EmitError, "backup"),
    ("toolkit.audit empty chain", lambda sc, tmp: toolkit.audit(toolkit.parse_config(NSC, format="nsc"), [], host="a.example"), ConfigError, "chain"),
]  # fmt: skip


def _text(folder: Path, text: str) -> Path:
    path = folder / "file.txt"
    path.write_text(text, encoding="utf-8")
    return path


def _chain():
    return toolkit.load_chain(Path(__file__).parent / "fixtures" / "configs" / "api-chain.pem")


@pytest.mark.parametrize(
    ("call", "kind", "names"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_one_simlib_error_line(call, kind, names, small, tmp_path):
    with pytest.raises(SimlibError) as err:
        call(small, tmp_path)
    assert type(err.value) is kind, f"{type(err.value).__name__}: {err.value}"
    line = str(err.value)
    assert "\n" not in line and "Traceback" not in line
    assert names in line, line
    if names == MISSING:  # named once: a caller embeds InputFileError.reason, not the error
        assert line.count(MISSING) == 1, line


# A wrong Python type in code is a programming error: TypeError with a plain message.
TYPE_CASES: list[tuple[str, Callable]] = [
    ("load_scenario", lambda sc: simlib.load_scenario(5)),
    ("simulate scenario", lambda sc: simlib.simulate(5)),
    ("simulate seed", lambda sc: simlib.simulate(sc, seed="7")),
    ("simulate replications", lambda sc: simlib.simulate(sc, mode="mc", replications=2.5)),
    ("apply_overrides", lambda sc: simlib.apply_overrides(sc, ["fleet.users"])),
    ("apply_overrides key", lambda sc: simlib.apply_overrides(sc, {1: 2})),
    ("analysis.calendar", lambda sc: analysis.calendar(5)),
    ("toolkit.parse_config", lambda sc: toolkit.parse_config(NSC.decode())),
    ("pki.parse_pin", lambda sc: pki.parse_pin(b"x")),
]


@pytest.mark.parametrize("call", [c[1] for c in TYPE_CASES], ids=[c[0] for c in TYPE_CASES])
def test_a_wrong_python_type_is_a_type_error(call, small):
    with pytest.raises(TypeError) as err:
        call(small)
    assert not isinstance(err.value, SimlibError)
    assert "\n" not in str(err.value)


def test_user_errors_stay_value_errors_for_old_callers(small):
    """Callers that caught ValueError before (pydantic validators, ``except ValueError``) still
    do: each converted error keeps ValueError among its bases."""
    for call in (
        lambda: simlib.simulate(small, mode="x"),
        lambda: pki.parse_pin("zz"),
        lambda: simlib.sweep(small),
    ):
        with pytest.raises(ValueError):
            call()


def test_a_bad_backup_pin_in_a_scenario_names_the_field():
    # parse_pin raises PinError inside a validator: pydantic still reports it at its field
    with pytest.raises(ScenarioError, match=r"strategies\[0\]\.backup"):
        make(strategies=[{"name": "b", "pin": "leaf_spki", "backup": ["sha256/zz"]}])


def test_an_unknown_format_writes_nothing(small, tmp_path):
    with pytest.raises(ScenarioError, match="xlsx"):
        simlib.simulate(small).write(tmp_path / "out", formats=("csv", "xlsx"))
    assert not (tmp_path / "out").exists()
