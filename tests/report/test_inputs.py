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


def test_catalogue_values_of_the_host_shorthand_are_derived_facts(tmp_path):
    """Issue 16: a catalogue CA brought in by ``ca:``/``tool:`` is derived with its catalogue
    source; only unconfirmed or extrapolated world rows (and defaults) count as assumptions."""
    from simlib.report.inputs import assumption_count, is_assumption

    path = tmp_path / "acm.yaml"
    path.write_text(
        "name: acm\nstart: 2025-01-01\nend: 2026-06-30\n"
        "fleet: {users: 1000, release_every_days: 14, adoption: {components: [{weight: 1, mean_lag_days: 5}]}}\n"
        "hosts: [{name: api.test, ca: amazon, tool: acm}]\n"
        "strategies: [{name: root, pin: root_spki}]\n"
        "events: [{date: 2025-06-01, type: key_compromise, host: api.test}]\n"
    )
    t = scenario_inputs(simlib.load_scenario(path))
    row = {i: (o, s) for i, o, s in zip(t["input"], t["origin"], t["source"], strict=True)}
    names = t[t["input"].str.fullmatch(r"cas\[0\]\.intermediates\[\d\]\.name")]
    assert list(names["value"]) == [f"Amazon RSA 2048 M0{i}" for i in (1, 2, 3, 4)]
    for path_ in ("cas[0].root", "cas[0].intermediates[2].not_after", "cas[0].root_not_after"):
        origin, source = row[path_]
        assert origin == "derived" and "ca-catalogue.yaml" in source and "(primary)" in source
        assert not is_assumption(origin, source)
    # uniform choice among M01-M04 and the pool itself are unconfirmed: assumptions
    assert is_assumption(*row["cas[0].selection"]) and row["cas[0].selection"][0] == "derived"
    assert row["events[0].type"][0] == "derived" and is_assumption(*row["events[0].type"])
    # the file's own event keeps its index after the shorthand's events
    assert row["events[1].type"] == ("given", "scenario file acm.yaml")
    assert "default" not in set(t.loc[t["section"] == "cas", "origin"])
    expected = sum((t["origin"] == "default") | t["source"].str.contains("assumption"))
    assert assumption_count(t) == expected < len(t) - (t["origin"] == "given").sum()


def test_the_report_headline_counts_only_assumptions(tmp_path):
    """The assumptions section's headline counts defaults and assumption-labelled rows, not
    the catalogue facts the host shorthand derived (issue 16)."""
    import re

    from simlib.report.document import DecisionReport
    from simlib.report.inputs import assumption_count

    path = tmp_path / "acm.yaml"
    path.write_text(
        "name: acm\nstart: 2025-01-01\nend: 2025-09-30\n"
        "fleet: {users: 1000, release_every_days: 14, adoption: {components: [{weight: 1, mean_lag_days: 5}]}}\n"
        "hosts: [{name: api.test, ca: amazon, tool: acm}]\n"
        "strategies: [{name: none, pin: none}, {name: root, pin: root_spki}]\n"
    )
    sc = simlib.load_scenario(path)
    report = DecisionReport(simlib.simulate(sc))
    html = report.assumptions().html
    shown = int(re.search(r"<b>(\d+) assumptions</b>", html).group(1))
    rows = scenario_inputs(sc)
    cost_defaults = len(report.inputs.assumptions)  # no economics block: all defaults
    assert shown == assumption_count(rows) + cost_defaults
    facts = rows[(rows["origin"] == "derived") & ~rows["source"].str.contains("assumption")]
    assert facts["source"].str.contains("ca-catalogue.yaml Amazon RSA 2048 M0").any()


def test_a_bare_attack_name_derives_its_class_not_its_defaults(tmp_path):
    """``attacks: [stolen_leaf_key]`` gives the class (and label); ``key_age_days 0`` is
    simlib's default, an assumption the headline counts."""
    from simlib.report.inputs import is_assumption

    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nstart: 2025-01-01\nend: 2025-06-30\n"
        "fleet: {users: 1000, release_every_days: 14, adoption: {components: [{weight: 1, mean_lag_days: 5}]}}\n"
        "cas: [{name: ca1}]\nhosts: [{name: api.test, ca: ca1, validity_days: 90}]\n"
        "strategies: [{name: leaf, pin: leaf_spki}]\n"
        "attacks: [stolen_leaf_key, {name: stolen_leaf_key, label: old, key_age_days: 30}]\n"
    )
    t = scenario_inputs(simlib.load_scenario(path))
    row = {i: (o, s) for i, o, s in zip(t["input"], t["origin"], t["source"], strict=True)}
    assert row["attacks[0].name"][0] == row["attacks[0].label"][0] == "derived"
    assert row["attacks[0].key_age_days"][0] == "default"
    assert is_assumption(*row["attacks[0].key_age_days"])
    assert row["attacks[1].key_age_days"][0] == "given"


def test_a_root_without_expiry_and_a_fallback_renewal_are_assumptions(tmp_path):
    """A declared CA's unset ``root_not_after`` reads "never expires" (an assumption); the
    2/3 rule the shorthand puts in place of ACM's 45 days before expiry, once certificates are
    capped at 47 days (2029-03-15), is an assumption; ACM's own dated rule is not."""
    import warnings

    from simlib.errors import ScenarioWarning
    from simlib.report.inputs import is_assumption

    fleet = "fleet: {users: 1000, release_every_days: 14, adoption: {components: [{weight: 1, mean_lag_days: 5}]}}\n"
    path = tmp_path / "s.yaml"
    path.write_text(
        f"name: s\nstart: 2026-01-01\nend: 2031-12-31\n{fleet}"
        "cas: [{name: ca1, root_not_after: 2040-01-01}, {name: ca2}]\n"
        "hosts: [{name: api.test, ca: ca1, validity_days: 90},"
        " {name: acm.test, ca: amazon, tool: acm}]\n"
        "strategies: [{name: leaf, pin: leaf_spki}]\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        t = scenario_inputs(simlib.load_scenario(path))
    columns = (t[c] for c in ("input", "value", "origin", "source"))
    row = {i: (v, o, s) for i, v, o, s in zip(*columns, strict=True)}
    value, origin, source = row["cas[1].root_not_after"]
    assert (value, origin) == ("unset (never expires)", "default") and "never expires" in source
    assert is_assumption(origin, source) and not is_assumption(*row["cas[0].root_not_after"][1:])
    step = "hosts[1].policy_schedule[1]"
    assert row[f"{step}.from"][0] == "2029-03-15"
    assert row[f"{step}.renew_at_fraction"][0] == "0.666667"
    assert is_assumption(*row[f"{step}.renew_at_fraction"][1:])
    assert is_assumption(*row[f"{step}.from"][1:])
    assert "less than a third" in row[f"{step}.renew_at_fraction"][2]
    assert not is_assumption(*row["hosts[1].policy_schedule[0].renew_before_days"][1:])
