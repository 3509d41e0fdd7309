"""Scenario files: the quickstart as given, defaults, and one-line errors for bad input."""

from __future__ import annotations

import copy
import warnings

import pytest
import yaml

from simlib.errors import ScenarioError
from simlib.model import (
    ScenarioWarning,
    apply_overrides,
    default_scenario,
    load_scenario,
    scenario_from_dict,
    set_path,
)
from simlib.model.overrides import lifetime_overrides
from tests.conftest import BASE, DATA, make

QUICKSTART = DATA / "scenarios" / "quickstart.yaml"


class TestQuickstart:
    def test_loads_without_warning(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sc = load_scenario(QUICKSTART)
        assert [s.name for s in sc.strategies][-1] == "leaf key, expires 1y"
        assert sc.strategies[-1].expires_after_days == 365
        assert sc.days == 730
        assert sc.fleet.platforms["android"].share == 0.5
        assert sc.fleet.platforms["ios"].client == "ats"

    def test_embedded_default_is_the_data_file(self):
        from importlib.resources import files

        embedded = files("simlib").joinpath("scenarios/quickstart.yaml").read_text()
        assert embedded == QUICKSTART.read_text()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScenarioWarning)
            assert default_scenario() == load_scenario(QUICKSTART)

    def test_resolved_scenario_round_trips(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScenarioWarning)
            sc = load_scenario(QUICKSTART)
        again = scenario_from_dict(yaml.safe_load(sc.to_yaml()))
        assert again == sc

    def test_unquoted_comma_name_is_repaired_with_a_warning(self, tmp_path):
        text = QUICKSTART.read_text().replace('"leaf key, expires 1y"', "leaf key, expires 1y")
        (tmp_path / "q.yaml").write_text(text)
        with pytest.warns(ScenarioWarning, match="leaf key, expires 1y"):
            sc = load_scenario(tmp_path / "q.yaml")
        assert sc == load_scenario(QUICKSTART)

    @pytest.mark.parametrize(
        "path", sorted((DATA / "scenarios").glob("*.yaml")), ids=lambda p: p.name
    )
    def test_every_example_scenario_is_valid(self, path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScenarioWarning)
            load_scenario(path)


def bad(overrides=None, **top) -> str:
    data = copy.deepcopy(BASE)
    data.update(top)
    for p, v in (overrides or {}).items():
        data = set_path(data, p, v)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="s.yaml")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("s.yaml: ")
    return msg


class TestErrors:
    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [
            (
                {"fleet.adoption.components[1].weight": -0.1},
                "s.yaml: fleet.adoption.components[1].weight: must be ≥ 0",
            ),
            (
                {"fleet.adoption.components[0].mean_lag_days": 0},
                "fleet.adoption.components[0].mean_lag_days: must be > 0",
            ),
            (
                {"fleet.adoption.components[0].weight": 0.9},
                "fleet.adoption.components: weights must sum to 1",
            ),
            ({"fleet.users": "many"}, "fleet.users: must be an integer"),
            ({"fleet.userz": 5}, "fleet.userz: unknown field"),
            ({"fleet.release_every_days": 0}, "fleet.release_every_days: must be ≥ 1"),
            (
                {"fleet.platforms": {"android": 0.5, "ios": 0.4}},
                "fleet.platforms: platform shares must sum to 1",
            ),
            ({"fleet.platforms": {"windows": 1.0}}, "fleet.platforms.windows"),
            ({"start": "2025-13-01"}, "start: must be a date"),
            ({"end": "2024-01-01"}, "end: must not be before start"),
            ({"hosts[0].ca": "nope"}, "hosts[0].ca: unknown CA 'nope'"),
            (
                {"hosts[0].renew_before_days": 90},
                "hosts[0]: renew_before_days must be smaller than validity_days",
            ),
            ({"hosts[0].key_policy": "sometimes"}, "hosts[0].key_policy"),
            (
                {"hosts[0].key_policy": {"rotate_every": 0}},
                "hosts[0].key_policy.rotate_every: must be ≥ 1",
            ),
            (
                {"cas[0].selection": "lottery"},
                "cas[0].selection: must be one of 'fixed', 'round_robin' or 'random'",
            ),
            (
                {"validity_cap": [{"from": "2025-01-01", "max_days": 0}]},
                "validity_cap[0].max_days: must be ≥ 1",
            ),
            (
                {
                    "validity_cap": [
                        {"from": "2026-01-01", "max_days": 90},
                        {"from": "2025-01-01", "max_days": 47},
                    ]
                },
                "validity_cap[1].from: dates must increase",
            ),
            (
                {
                    "cas[0].validity_schedule": [
                        {"from": "2026-01-01", "days": 90},
                        {"from": "2026-01-01", "days": 47},
                    ]
                },
                "cas[0].validity_schedule[1].from: dates must increase",
            ),
        ],
    )
    def test_field_errors(self, overrides, expected):
        assert expected in bad(overrides)

    def test_strategy_errors(self):
        assert "strategies[0].pin: must be one of" in bad(strategies=[{"name": "x", "pin": "leaf"}])
        assert "strategies[0].backup[0]" in bad(
            strategies=[{"name": "x", "pin": "leaf_spki", "backup": ["later"]}]
        )
        assert "strategies[0].backup[0]: unknown CA 'zz'" in bad(
            strategies=[{"name": "x", "pin": "root_spki", "backup": ["ca:zz"]}]
        )
        assert "next_key needs pregenerate_next_key: true on host api.test" in bad(
            strategies=[{"name": "x", "pin": "leaf_spki", "backup": ["next_key"]}]
        )
        assert "strategies[1].name: duplicate strategy name 'x'" in bad(
            strategies=[{"name": "x", "pin": "none"}, {"name": "x", "pin": "none"}]
        )
        assert "strategies[0].backup[0]" in bad(
            strategies=[{"name": "x", "pin": "root_spki", "backup": ["spki:abc"]}]
        )
        assert "strategies[0].dynamic.fetch_success: must be ≤ 1" in bad(
            strategies=[{"name": "x", "pin": "leaf_spki", "dynamic": {"fetch_success": 2}}]
        )

    def test_event_errors(self):
        assert "events[0].date: must be between start" in bad(
            events=[{"type": "key_compromise", "date": "2030-01-01"}]
        )
        assert "events[0]: give exactly one of 'date' or 'rate_per_year'" in bad(
            events=[{"type": "key_compromise"}]
        )
        assert "events[0]: unknown type 'meteor'" in bad(
            events=[{"type": "meteor", "date": "2025-02-01"}]
        )
        assert "events[0].add[0]: 'I9' is not an intermediate of ca1" in bad(
            events=[{"type": "trust_store_change", "date": "2025-02-01", "add": ["ca1/I9"]}]
        )
        assert "events[0].to: unknown CA 'x'" in bad(
            events=[{"type": "ca_migration", "date": "2025-02-01", "to": "x"}]
        )
        many = [
            {
                "type": "trust_store_change",
                "date": f"2025-02-{d:02d}",
                "share": 0.5,
                "add": ["ca1/I1"],
            }
            for d in range(1, 11)
        ]
        assert "events[8]: at most 8 trust_store_change events per platform (android)" in bad(
            events=many
        )

    def test_attack_and_economics_errors(self):
        assert "attacks[0].name" in bad(attacks=["dns_hijack"])
        assert "attacks[1].label: duplicate attack label 'rogue_ca'" in bad(
            attacks=["rogue_ca", "rogue_ca"]
        )
        assert (
            "economics.attack_probability_per_day.rogue_ca: not an attack of this scenario"
            in bad(economics={"attack_probability_per_day": {"rogue_ca": 0.1}})
        )

    def test_file_errors(self, tmp_path):
        p = tmp_path / "x.yaml"
        p.write_text("name: a\nfleet: [unclosed\n")
        with pytest.raises(ScenarioError, match=r"x.yaml: line \d+: invalid YAML"):
            load_scenario(p)
        with pytest.raises(ScenarioError, match="cannot read file"):
            load_scenario(tmp_path / "missing.yaml")
        p.write_text("- just\n- a list\n")
        with pytest.raises(ScenarioError, match="a scenario must be a YAML mapping"):
            load_scenario(p)

    def test_curve_csv_errors_name_the_line(self, tmp_path):
        curve = tmp_path / "curve.csv"
        curve.write_text("days,share\n1,0.2\n7,0.5\n30,0.4\n")
        data = copy.deepcopy(BASE)
        data["fleet"]["adoption"] = {"curve": "curve.csv"}
        with pytest.raises(ScenarioError, match=r"curve.csv: line 4: share must not decrease"):
            scenario_from_dict(data, base_dir=tmp_path)
        curve.write_text("day,share\n1,0.2\n")
        with pytest.raises(ScenarioError, match=r"line 1: header must be 'days,share'"):
            scenario_from_dict(data, base_dir=tmp_path)
        curve.write_text("days,share\n1,0.2\n7,1.5\n")
        with pytest.raises(ScenarioError, match=r"line 3: share must be between 0 and 1"):
            scenario_from_dict(data, base_dir=tmp_path)


class TestOverrides:
    def test_dotted_paths(self):
        sc = make()
        v = apply_overrides(
            sc, {"fleet.adoption.components[1].mean_lag_days": 60, "hosts[0].validity_days": 47}
        )
        assert v.fleet.adoption.components[1].mean_lag_days == 60
        assert v.hosts[0].validity_days == 47
        assert sc.hosts[0].validity_days == 90  # the base stays frozen

    def test_lifetime_overrides_renew_at_most_a_third_before_expiry(self):
        sc = make(hosts=[
            {"name": "a.test", "ca": "ca1", "validity_days": 90, "renew_before_days": 30,
             "policy_schedule": [{"from": "2025-06-01", "renew_before_days": 20},
                                 {"from": "2025-09-01", "renew_before_days": 10}]},
            {"name": "b.test", "ca": "ca1", "validity_days": 90, "renew_before_days": 5},
            {"name": "c.test", "ca": "ca1", "renew_at_fraction": 0.5},
        ])  # fmt: skip
        # 47 // 3 = 15: 30 and 20 become 15; 10 and 5 are shorter and kept
        assert lifetime_overrides(sc, 47) == {
            "hosts[0].validity_days": 47,
            "hosts[0].renew_before_days": 15,
            "hosts[0].policy_schedule[0].renew_before_days": 15,
            "hosts[1].validity_days": 47,
            "hosts[2].validity_days": 47,
        }
        short = apply_overrides(sc, lifetime_overrides(sc, 6))  # 6 // 3 = 2
        assert [h.renew_before_days for h in short.hosts] == [2, 2, None]
        assert [st.renew_before_days for st in short.hosts[0].policy_schedule] == [2, 2]
        assert apply_overrides(sc, lifetime_overrides(sc, 2)).hosts[0].renew_before_days == 1

    def test_bad_paths_and_values(self):
        sc = make()
        with pytest.raises(ScenarioError, match=r"hosts\[3\]"):
            apply_overrides(sc, {"hosts[3].validity_days": 10})
        with pytest.raises(ScenarioError, match=r"hosts\[0\].validity_days: must be ≥ 1"):
            apply_overrides(sc, {"hosts[0].validity_days": 0})
