"""Preset tests: every preset is listed, documented and runs quickly; the CLI names and runs them.
Each preset's documented outcome is checked claim by claim in test_preset_outcomes.py."""

from __future__ import annotations

import time

import pytest

import simlib
from simlib.analysis.presets import load_preset, preset, preset_names, presets
from simlib.cli.main import main
from simlib.errors import ScenarioError

NAMES = (
    "le-2024-random-intermediates",
    "le-2025-intermediate-rotation",
    "dst-root-x3-expiry-2021",
    "entrust-distrust-2024",
    "acm-rekey-198d",
    "sc081-2026-2029",
    "cert-manager-1.18-rotation-default",
    "brave-2026-root-pin",
    "barclays-2016-intermediate",
    "le-gen-y-root-inclusion",
)


def test_every_preset_is_listed_with_a_question_and_documented() -> None:
    assert set(preset_names()) == set(NAMES)
    for p in presets():
        assert p.question.endswith("?"), p.name
        head = p.file.read_text(encoding="utf-8").split("\nname:")[0]
        for part in ("Narrative:", "Sources:", "Documented outcome:", "Assumptions"):
            assert part in head, (p.name, part)
        assert "data/world/" in head or ".md" in head


def test_unknown_preset_names_the_valid_ones() -> None:
    with pytest.raises(ScenarioError, match="unknown preset 'nope'; valid: acm-rekey-198d"):
        preset("nope")


@pytest.mark.parametrize("name", NAMES)
def test_preset_runs_quickly(name: str) -> None:
    t = time.perf_counter()
    res = simlib.simulate(load_preset(name))
    assert time.perf_counter() - t < 2.0
    assert not res.summary.empty


def test_cli_presets_and_run_preset(tmp_path, capsys) -> None:
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in NAMES)
    assert (
        main(["run", "--preset", "entrust-distrust-2024", "--out", str(tmp_path / "r"), "--quiet"])
        == 0
    )
    assert (tmp_path / "r" / "summary.csv").exists()
    assert main(["run", "--preset", "nope", "--out", str(tmp_path / "x")]) == 2
    assert "valid: acm-rekey-198d" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["report", "data/scenarios/quickstart.yaml", "--preset", "sc081-2026-2029"]) == 2
