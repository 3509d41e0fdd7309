"""The format registry: one table that the loader, the emitter and the CLI read."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simlib.cli.main import main
from simlib.toolkit import ConfigError, emit, formats, hostnames, parse_config
from simlib.toolkit.formats.base import (
    ConfigFormat,
    EmitInput,
    Parsed,
    PlatformRule,
    Sniff,
    Writer,
    choose_platforms,
    single,
)
from simlib.toolkit.loader import detect_format
from simlib.toolkit.policy import PinPolicy, make_pin
from tests.toolkit.conftest import TODAY
from tests.toolkit.pki import HOST


def test_every_platform_of_every_format_has_rules():
    rules = formats.platform_rules()
    assert set(rules) == {"android", "ios", "okhttp", "trustkit-ios", "trustkit-android"}
    for fmt in formats.REGISTRY.values():
        for choice, plats in fmt.platform_choices.items():
            assert choice is None or isinstance(choice, str)
            assert plats is None or set(plats) <= set(rules), (fmt.name, choice)


def test_writers_have_distinct_names_and_files():
    writers = formats.writers()
    assert tuple(writers) == ("android", "ios", "okhttp", "trustkit")
    names = [w.file_name for w in writers.values()]
    assert len(set(names)) == len(names)
    for w in writers.values():
        assert w.platforms and set(w.platforms) <= set(formats.platform_rules())


def test_ats_is_the_one_platform_with_one_label_subdomains():
    depth = {name: r.subdomain_depth for name, r in formats.platform_rules().items()}
    assert depth == {"android": "any", "trustkit-android": "any", "ios": "one"} | {
        "trustkit-ios": "any",
        "okhttp": "any",
    }


_LABEL = st.sampled_from(["a", "b", "api", "example", "com", "co", "uk"])
_NAME = st.lists(_LABEL, min_size=1, max_size=4).map(".".join)


#: Each platform's port of its own matching code (hostnames.py), as its format registers it.
_PORTS = {
    "android": single(hostnames.nsc_select),
    "trustkit-android": single(hostnames.trustkit_android_select),
    "trustkit-ios": single(hostnames.trustkit_ios_select),
    "ios": hostnames.ats_select,
    "okhttp": hostnames.okhttp_select,
}


@given(
    patterns=st.lists(st.tuples(_NAME, st.booleans()), min_size=1, max_size=5),
    host=_NAME,
    platform=st.sampled_from(sorted(_PORTS)),
)
def test_registry_matching_is_each_platforms_port(patterns, host, platform):
    """``formats.select`` (the one dispatch on platform names) runs that platform's port."""
    pin = make_pin("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
    policies = [
        PinPolicy(("**." if inc and platform == "okhttp" else "") + p, platform, inc, (pin,))
        for p, inc in patterns
    ]
    assert formats.select(platform, policies, host) == _PORTS[platform](policies, host)


def test_no_second_dispatch_on_platform_names():
    assert not hasattr(hostnames, "select")


# ------------------------------------------------------------------ a format is one entry

PIN = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="


def _parse(sniff: Sniff, platform: str | None, host: str | None) -> Parsed:
    """``pinfile`` lines: ``host pin``."""
    out = Parsed(choose_platforms(DUMMY, platform, (), sniff.source))
    for n, line in enumerate((sniff.text or "").splitlines()[1:], 2):
        name, value = line.split()
        out.policies.append(
            PinPolicy(name, "dummy-os", False, (make_pin(value, where=f"line {n}"),))
        )
    return out


def _write(spec: EmitInput) -> str:
    return "#pinfile\n" + "".join(f"{spec.host} {v}\n" for v, _ in spec.pins)


DUMMY = ConfigFormat(
    name="pinfile",
    title="a test's dummy format",
    detect=lambda sniff: 99 if sniff.head.startswith("#pinfile") else 0,
    parse=_parse,
    platform_choices={None: ("dummy-os",)},
    rules=(
        PlatformRule(
            "dummy-os",
            lambda policies, host: [p for p in policies if p.pattern == host],
            "it can never match",
            wrong_length_breaks=False,
        ),
    ),
    writer=Writer("dummy", "pins.dummy", _write, platforms=("dummy-os",)),
)


@pytest.fixture()
def dummy():
    formats.register(DUMMY)
    try:
        yield DUMMY
    finally:
        formats.unregister(DUMMY.name)


def test_a_registered_format_is_detected_parsed_and_written(dummy, test_pki, pin, capsys):
    data = f"#pinfile\n{HOST} {PIN}\n".encode()
    assert detect_format(data, "x") == "pinfile"
    config = parse_config(data, "x")
    assert config.format == "pinfile" and config.platforms == ("dummy-os",)
    files = emit("leaf_spki", test_pki.chain, host=HOST, formats=("dummy",))
    assert files["dummy"] == f"#pinfile\n{HOST} {pin['leaf']}\n"
    assert "dummy" in formats.emit_targets() and "pinfile" in formats.formats()


def test_a_registered_format_is_a_cli_choice(dummy):
    from simlib.cli.hosts import format_files, format_list

    assert format_list("dummy,android") == ("dummy", "android")
    assert format_files()["dummy"] == "pins.dummy"


def test_a_registered_format_is_audited(dummy, chain_pem, pin, tmp_path, capsys):
    """Emitted, then audited under the format's own platform rule (formats.select)."""
    code = main(["emit", "--strategy", "leaf_spki", "--for", "dummy", "--chain", str(chain_pem)])
    head, _, text = capsys.readouterr().out.partition("\n")
    assert code == 0 and head == "# --- dummy: pins.dummy"
    config = tmp_path / "app.pins"
    config.write_text(text)
    assert main(["audit", str(config), "--chain", str(chain_pem), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "pinfile" and doc["format_label"] == "a test's dummy format"
    [plat] = doc["platforms"]
    assert plat["platform"] == "dummy-os" and plat["status"] == "pass"
    assert [m["pin"] for m in plat["matches"]] == [f"sha256/{pin['leaf']}"]
    # a host the dummy rule does not match is not pinned there
    config.write_text(f"#pinfile\nother.{HOST} {pin['leaf']}\n")
    main(["audit", str(config), "--chain", str(chain_pem), "--format", "json", "--host", HOST])
    [plat] = json.loads(capsys.readouterr().out)["platforms"]
    assert plat["status"] == "not-pinned"


def test_unregistered_formats_are_gone(chain_pem, capsys):
    assert "pinfile" not in formats.REGISTRY
    code = main(["emit", "--strategy", "leaf_spki", "--for", "dummy", "--chain", str(chain_pem)])
    err = capsys.readouterr().err
    assert code == 2 and "choose from android, ios, okhttp, trustkit" in err


def test_register_refuses_a_taken_name():
    with pytest.raises(ValueError, match="already registered"):
        formats.register(formats.REGISTRY["nsc"])


def test_unknown_format_names_the_registered_ones():
    with pytest.raises(ConfigError, match="expected one of nsc, ats, expo, okhttp, trustkit"):
        parse_config(b"x", "x", format="yaml")


def test_every_platform_is_simulated_as_a_client_of_its_own_matching():
    """forecast reads the simulated client from the rule (no table of platform names)."""
    from simlib.vocabulary import PLATFORM_TABLE

    clients = {name: r.client for name, r in formats.platform_rules().items()}
    assert clients == {
        "android": ("android", "nsc"),
        "trustkit-android": ("android", "nsc"),
        "okhttp": ("android", "okhttp"),
        "ios": ("ios", "ats"),
        "trustkit-ios": ("ios", "trustkit"),
    }
    for platform, client in clients.values():
        assert client in PLATFORM_TABLE[platform].clients


def test_a_platform_no_client_simulates_is_not_forecast(dummy, test_pki):
    from simlib.toolkit import forecast

    config = parse_config(f"#pinfile\n{HOST} {PIN}\n".encode(), "x")
    fleet = {
        "users": 10,
        "release_every_days": 14,
        "adoption": {
            "never_update_share": 0.0,
            "components": [{"weight": 1.0, "mean_lag_days": 7}],
        },
    }
    with pytest.raises(ConfigError, match="no simulated client matches pins as dummy-os"):
        forecast([config], test_pki.chain, host=HOST, fleet=fleet, today=TODAY)
