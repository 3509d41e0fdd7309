"""The inputs table: every resolved input once, with the right origin."""

from __future__ import annotations

import simlib
from simlib.report.inputs import scenario_inputs, stated_notes
from tests.conftest import DATA, make


def test_every_leaf_once_and_origins_of_a_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nstart: 2025-01-01\nend: 2025-06-30\nfleet: {users: 1000, release_every_days: 14, adoption: {components: [{weight: 1, mean_lag_days: 5}]}, platforms: {android: 0.5, ios: 0.5}}\n"
        "cas: [{name: ca1}]\nhosts: [{name: api.test, ca: ca1, validity_days: 90}]\n"
        "strategies: [{name: leaf, pin: leaf_spki}]\n"
    )
    sc = simlib.load_scenario(path)
    t = scenario_inputs(sc)
    assert t["input"].is_unique
    origin = dict(zip(t["input"], t["origin"], strict=True))
    assert (
        origin["fleet.users"]
        == origin["hosts[0].validity_days"]
        == origin["strategies[0].pin"]
        == "given"
    )
    assert origin["fleet.build_lead_days"] == origin["hosts[0].key_policy"] == "default"
    assert origin["fleet.platforms.ios.client"] == "derived"  # from "ios: 0.5"
    assert (t.loc[t["origin"] == "default", "source"].str.contains("assumption")).all()
    assert set(t["section"]) >= {"fleet", "cas", "hosts", "strategies"}


def test_scenario_built_in_python_has_unknown_origins():
    t = scenario_inputs(make())
    assert (
        set(t["origin"]) == {"unknown"} and t["source"].str.contains("cannot be told apart").all()
    )


def test_preset_notes_are_quoted():
    sc = simlib.load_scenario(DATA / "presets/le-2025-intermediate-rotation.yaml")
    notes = stated_notes(sc)
    assert "ca-roadmap.csv" in notes["Sources"]
    assert any(k.startswith("Assumptions") for k in notes)
    assert stated_notes(make()) == {}
