"""One strategy type, validated; one home per word (pin levels, platforms, client libraries)."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

import simlib
from simlib.cli.main import main
from simlib.clients.trust import client_kinds
from simlib.model import (
    ATTACK_CLASSES,
    CLIENT_LIBRARIES,
    PIN_LEVEL_TABLE,
    PIN_LEVELS,
    PLATFORM_TABLE,
    PLATFORMS,
    AttackSpec,
    CADistrust,
    Fleet,
    PlatformSpec,
    StrategySpec,
    TrustStoreChange,
    apply_overrides,
    default_scenario,
)
from simlib.server.calendar import CertificateCalendar
from simlib.strategies.strategy import PinningStrategy, build_strategies
from simlib.strategies.switch import SwitchedStrategy
from simlib.vocabulary import SPKI_LEVELS


def _literal(annotation) -> tuple:
    """The values of ``Literal[...]``, ``list[Literal[...]] | None`` or ``Literal[...] | None``."""
    args = get_args(annotation)
    if not args:
        return ()
    if all(isinstance(a, str) for a in args):
        return args
    return next(v for a in args if (v := _literal(a)))


# ---------------------------------------------------------------------------- one strategy type
def test_a_misspelt_pin_level_is_refused_naming_every_level():
    with pytest.raises(ValidationError) as err:
        StrategySpec(name="x", pin="leaf_spkii")
    assert all(f"'{level}'" in str(err.value) for level in PIN_LEVELS)


def test_the_cli_names_the_allowed_levels_on_one_line(tmp_path, capsys):
    data = default_scenario().model_dump(mode="json")
    data["strategies"][0]["pin"] = "leaf_spkii"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ")
    assert "strategies[0].pin" in err and all(level in err for level in PIN_LEVELS)


@pytest.mark.parametrize(
    "call",
    [
        lambda: PinningStrategy("x", pin="leaf_spkii"),  # the old keyword spelling
        lambda: PinningStrategy("x"),
        lambda: PinningStrategy({"name": "x", "pin": "leaf_spki"}),
    ],
)
def test_pinning_strategy_is_built_from_a_validated_spec_only(call):
    with pytest.raises(TypeError):
        call()


def test_the_refusal_names_the_spec_and_the_levels():
    with pytest.raises(TypeError, match="validated StrategySpec") as err:
        PinningStrategy("x")
    assert all(level in str(err.value) for level in PIN_LEVELS)


def test_the_public_strategy_type_is_the_spec():
    assert "PinningStrategy" not in simlib.__all__ and "StrategySpec" in simlib.__all__
    assert simlib.StrategySpec is StrategySpec
    with pytest.raises(AttributeError, match="StrategySpec"):
        simlib.PinningStrategy  # noqa: B018
    sc = default_scenario()
    extra = simlib.StrategySpec(name="root key", pin="root_spki", backup=["next_key"])
    variant = simlib.apply_overrides(sc, {"strategies": [*sc.strategies, extra]})
    assert variant.strategies[-1] == extra
    [built] = build_strategies([variant.strategies[-1]])
    assert (built.spec, built.name, built.pin) == (extra, "root key", "root_spki")


def test_a_switched_strategy_keeps_its_own_spec_with_static_pins():
    sc = default_scenario()
    base = PinningStrategy.from_spec(
        StrategySpec(name="dyn", pin="leaf_spki", dynamic={"refresh_days": 3})
    )
    fix = PinningStrategy.from_spec(StrategySpec(name="fix", pin="root_spki"))
    switched = SwitchedStrategy(base, fix, switch_day=10)
    assert (switched.name, switched.pin, switched.dynamic) == ("dyn", "leaf_spki", None)
    assert base.dynamic is not None  # the base spec is not changed
    cal = CertificateCalendar(sc, np.random.SeedSequence(sc.seed))
    host = sc.hosts[0].name
    assert switched.pins(cal, host, 9) == base.pins(cal, host, 9)
    assert switched.pins(cal, host, 10) == fix.pins(cal, host, 10)


# ------------------------------------------------------------------------------- pin levels
def test_the_schema_pins_exactly_the_registered_levels():
    assert _literal(StrategySpec.model_fields["pin"].annotation) == PIN_LEVELS
    assert tuple(PIN_LEVEL_TABLE) == PIN_LEVELS


@pytest.mark.parametrize("level", PIN_LEVELS)
def test_each_level_pins_what_its_entry_says(level):
    sc = default_scenario()
    cal = CertificateCalendar(sc, np.random.SeedSequence(sc.seed))
    host = sc.hosts[0].name
    issuance = cal.serving(host, 0)
    entry = PIN_LEVEL_TABLE[level]
    strategy = PinningStrategy.from_spec(StrategySpec(name="s", pin=level))
    expected = {
        None: set(),
        "leaf": {issuance.cert if entry.whole_certificate else issuance.leaf_key},
        "intermediate": {issuance.int_key},
        "root": {issuance.root_key},
    }[entry.position]
    assert set(strategy.targets(cal, issuance)) == expected
    assert strategy.pins_host(host) is (entry.position is not None)
    assert strategy.ats_lists == ({entry.ats_list} if entry.ats_list else set())
    pins = strategy.pins(cal, host, 0)
    assert (pins.leaf if entry.ats_list == "leaf" else pins.ca) == expected


def test_the_toolkit_emits_the_spki_levels_of_the_table():
    from simlib.cli.toolkit import EMIT_STRATEGIES
    from simlib.toolkit.emit import STRATEGIES
    from simlib.toolkit.forecast_pins import LEVELS

    spki = tuple(n for n, e in PIN_LEVEL_TABLE.items() if e.position and not e.whole_certificate)
    assert SPKI_LEVELS == spki == STRATEGIES == EMIT_STRATEGIES
    assert {PIN_LEVEL_TABLE[n].position: n for n in LEVELS.values()} == LEVELS
    assert list(LEVELS) == ["leaf", "intermediate", "root"]  # least durable first


# ----------------------------------------------------------------------- platforms, clients
def test_the_schema_names_exactly_the_registered_platforms_and_clients():
    assert _literal(Fleet.model_fields["platforms"].annotation) == PLATFORMS
    assert _literal(CADistrust.model_fields["platforms"].annotation) == PLATFORMS
    assert _literal(TrustStoreChange.model_fields["platforms"].annotation) == PLATFORMS
    assert _literal(PlatformSpec.model_fields["client"].annotation) == CLIENT_LIBRARIES
    assert set(CLIENT_LIBRARIES) == {c for p in PLATFORM_TABLE.values() for c in p.clients}
    assert _literal(AttackSpec.model_fields["name"].annotation) == ATTACK_CLASSES


def test_platform_defaults_come_from_the_table():
    fleet = default_scenario().fleet.model_dump()
    fleet.pop("platforms")
    shares = Fleet(**fleet).platforms
    assert tuple(shares) == PLATFORMS
    assert sum(p.share for p in shares.values()) == pytest.approx(1.0)
    for name, platform in PLATFORM_TABLE.items():
        spec = Fleet(**fleet, platforms={name: 1.0}).platforms[name]
        assert spec.client == next(iter(platform.clients))
        assert spec.trusts_user_cas is platform.trusts_user_cas
        assert spec.checks_anchor_expiry is platform.checks_anchor_expiry


@pytest.mark.parametrize(
    ("platform", "client"), [(p, c) for p in PLATFORMS for c in PLATFORM_TABLE[p].clients]
)
def test_each_client_kind_matches_pins_as_its_library_is_registered(platform, client):
    sc = default_scenario()
    fleet = {**sc.fleet.model_dump(), "platforms": {platform: {"share": 1.0, "client": client}}}
    variant = apply_overrides(sc, {"fleet": fleet, "events": []})
    kinds = client_kinds(variant)
    assert kinds and {k.matcher for k in kinds} == {PLATFORM_TABLE[platform].clients[client]}


@pytest.mark.parametrize("name", PLATFORMS)
def test_a_client_of_another_platform_is_refused_naming_the_platforms_own(name):
    fleet = default_scenario().fleet.model_dump()
    fleet.pop("platforms")
    other = next(c for c in CLIENT_LIBRARIES if c not in PLATFORM_TABLE[name].clients)
    with pytest.raises(ValidationError) as err:
        Fleet(**fleet, platforms={name: {"share": 1.0, "client": other}})
    assert all(c in str(err.value) for c in PLATFORM_TABLE[name].clients)


def test_an_unknown_platform_is_refused_naming_the_registered_ones():
    fleet = default_scenario().fleet.model_dump()
    fleet.pop("platforms")
    with pytest.raises(ValidationError) as err:
        Fleet(**fleet, platforms={"windows": 1.0})
    assert all(p in str(err.value) for p in PLATFORMS)


def test_the_vocabulary_loads_without_pydantic_or_the_model():
    code = (
        "import sys, simlib.vocabulary; "
        "print(sorted(m for m in sys.modules if m == 'pydantic' or m.startswith('simlib.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['simlib._version', 'simlib.errors', 'simlib.vocabulary']"
