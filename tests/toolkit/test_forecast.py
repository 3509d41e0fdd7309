"""Forecast: config + observed chain + fleet → dated risk calendar (expected mode)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from simlib.cli.main import main
from simlib.toolkit import emit, forecast, load_config, parse_config
from simlib.toolkit.chain import build_path
from simlib.toolkit.forecast import Shipped
from simlib.toolkit.observed import match_catalogue
from tests.toolkit.conftest import CONFIGS, TODAY
from tests.toolkit.pki import HOST

FLEET = {
    "users": 100_000,
    "release_every_days": 14,
    "adoption": {
        "never_update_share": 0.02,
        "components": [
            {"weight": 0.47, "mean_lag_days": 3.3},
            {"weight": 0.53, "mean_lag_days": 29},
        ],
    },
}


def _config(test_pki, pin, strategy: str):
    text = emit(
        strategy,
        test_pki.chain,
        host=HOST,
        backups=[pin["backup_root"]],
        formats=("android",),
        anchors=[test_pki.root],
    )["android"]
    return parse_config(text.encode(), f"{strategy}.xml")


@pytest.mark.parametrize(
    ("tool", "today", "renewal_after_days"),
    [
        ("certbot", TODAY, 60),  # renews at 2/3 of 90 days, new key each time
        ("acm", date(2026, 1, 10), 30),  # renews 60 days before expiry, new key each time
    ],
)
def test_leaf_pin_breaks_at_the_rekeying_renewal(test_pki, pin, tool, today, renewal_after_days):
    """Acceptance: the first break of a leaf-key pin is the renewal date, within one day."""
    renewal = test_pki.leaf.not_valid_before_utc.date() + timedelta(days=renewal_after_days)
    frame = forecast(
        [_config(test_pki, pin, "leaf_spki")],
        test_pki.chain,
        host=HOST,
        fleet=FLEET,
        tool=tool,
        today=today,
    )
    first = frame.loc[0, "first_break"].date()
    assert abs((first - renewal).days) <= 1, (first, renewal)
    assert frame.loc[0, "pin"] == "leaf_spki"
    assert frame.loc[0, "locked_share"] > 0.5  # every version built before the renewal
    issued = pd.to_datetime(frame.attrs["issuances"]["date"]).dt.date.tolist()
    assert renewal in issued


def test_intermediate_and_root_pins_survive_rekeying(test_pki, pin):
    shipped = [
        Shipped(_config(test_pki, pin, s), date(2026, 1, 15))
        for s in ("intermediate_spki", "root_spki")
    ]
    frame = forecast(
        shipped,
        test_pki.chain,
        host=HOST,
        fleet=FLEET,
        today=TODAY,
        anchors=[test_pki.root],
        horizon_days=365,
    )
    assert frame["pin"].tolist() == ["intermediate_spki", "root_spki"]
    assert frame["first_break"].isna().all() and (frame["locked_share"] == 0).all()
    assert frame["release_date"].tolist() == [date(2026, 1, 15)] * 2


def test_config_matching_nothing_is_broken_already(test_pki, pin):
    text = emit(
        "leaf_spki",
        [test_pki.backup_root],
        host=HOST,
        backups=[pin["next_leaf"]],
        formats=("android",),
    )["android"]
    frame = forecast(
        [parse_config(text.encode(), "stale.xml")],
        test_pki.chain,
        host=HOST,
        fleet=FLEET,
        today=TODAY,
    )
    assert frame.loc[0, "pin"] == "no match" and frame.loc[0, "locked_share"] == 1.0
    assert frame.loc[0, "first_break"].date() == TODAY


def test_catalogue_lookup_is_by_the_served_intermediates_key(test_pki):
    from simlib import world

    path = build_path(test_pki.chain)
    ye1 = world.certificate("YE1").spki_pin
    faked = [path[0], replace(path[1], sha256=ye1)]
    found = match_catalogue(faked)
    assert found is not None and (found.ca, found.intermediate) == ("letsencrypt", "YE1")
    assert found.key_type == "ecdsa" and found.profile == "classic"  # 90 days on 2026-01-01
    assert "90-day leaf matches" in found.profile_note
    assert match_catalogue(path) is None  # the test CA is no catalogue CA


def test_forecast_cli(capsys, chain_pem, tmp_path, test_pki, pin):
    leaf = tmp_path / "leaf.xml"
    leaf.write_text(
        emit(
            "leaf_spki",
            test_pki.chain,
            host=HOST,
            backups=[pin["backup_root"]],
            formats=("android",),
        )["android"]
    )
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "fleet:\n  users: 1000\n  release_every_days: 14\n  adoption:\n"
        "    never_update_share: 0.05\n    components:\n"
        "      - {weight: 1.0, mean_lag_days: 10}\n"
    )
    argv = [
        "forecast",
        str(leaf),
        str(CONFIGS / "nsc_basic.xml"),
        "--chain",
        str(chain_pem),
        "--fleet",
        str(fleet),
        "--date",
        TODAY.isoformat(),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert re.search(r" leaf +2026-03-02 ", out) and "next renewals: 2026-03-02" in out
    # bad inputs: one line, exit 2
    fleet.write_text("fleet:\n  users: 0\n  release_every_days: 14\n  adoption: {components: []}\n")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(fleet) in err
    assert main([*argv, "--release-date", "2026-01-01"]) == 2
    assert "one --release-date per CONFIG" in capsys.readouterr().err
    assert load_config(CONFIGS / "nsc_basic.xml")  # fixtures untouched


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--date", "9999-12-31"], "--date: 9999-12-31 is outside the dates simlib simulates"),
        (["--date", "0001-01-01"], "--date: 0001-01-01 is outside"),
        (["--date", "2200-06-01"], "ends after 2200-12-31"),  # default horizon, 730 days
        (["--date", "2026-02-01", "--horizon-days", "36500"], "at most 40 years"),
        (["--date", "2026-02-01", "--horizon-days", "14640"], "give 1 to 14,639"),
    ],
)
def test_forecast_dates_out_of_range_are_one_line(capsys, chain_pem, tmp_path, argv, needle):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "fleet: {users: 10, release_every_days: 14, adoption: "
        "{components: [{weight: 1.0, mean_lag_days: 10}]}}\n"
    )
    code = main(
        [
            "forecast",
            str(CONFIGS / "nsc_basic.xml"),
            "--chain",
            str(chain_pem),
            "--fleet",
            str(fleet),
            *argv,
        ]
    )
    out = capsys.readouterr()
    assert code == 2 and out.out == "" and out.err.count("\n") == 1, out
    assert needle in out.err and str(fleet) not in out.err


def test_forecast_api_refuses_dates_and_hosts(test_pki, pin):
    from simlib.toolkit import ConfigError

    cfg = _config(test_pki, pin, "leaf_spki")
    with pytest.raises(ConfigError, match="outside the dates"):
        forecast([cfg], test_pki.chain, host=HOST, fleet=FLEET, today=date(9999, 12, 31))
    with pytest.raises(ConfigError, match=r"U\+202E"):
        forecast([cfg], test_pki.chain, host="api\u202e.example.com", fleet=FLEET, today=TODAY)


def test_forecast_blames_only_fleet_errors_on_the_fleet_file(capsys, chain_pem, tmp_path):
    """A config path with a control character used to make the strategy name invalid, and the
    error named the fleet file; now the path is escaped and the forecast runs."""
    cfg = tmp_path / "release\x1b[31m\x07.xml"
    cfg.write_bytes((CONFIGS / "nsc_basic.xml").read_bytes())
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "fleet: {users: 10, release_every_days: 14, adoption: "
        "{components: [{weight: 1.0, mean_lag_days: 10}]}}\n"
    )
    argv = [
        "forecast",
        str(cfg),
        "--chain",
        str(chain_pem),
        "--fleet",
        str(fleet),
        "--date",
        TODAY.isoformat(),
        "--horizon-days",
        "90",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "release\\x1b[31m\\x07.xml" in out and "\x1b" not in out
    fleet.write_text(
        "fleet: {users: 10, release_every_days: 0, adoption: "
        "{components: [{weight: 1.0, mean_lag_days: 10}]}}\n"
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {fleet}: fleet.release_every_days")


def test_forecast_leaf_outside_the_model_is_one_line(test_pki, pin):
    """X.509 allows leaves valid for centuries; the model does not: named, not a traceback."""
    from simlib.pki import derive_private_key, make_leaf
    from simlib.toolkit import ConfigError

    leaf = make_leaf(
        test_pki.leaf.public_key(),
        [HOST],
        issuer_cert=test_pki.intermediate,
        issuer_key=derive_private_key(b"toolkit/ca1", "ec-p256"),
        not_before=test_pki.leaf.not_valid_before_utc,
        not_after=test_pki.leaf.not_valid_before_utc + timedelta(days=40_000),
        serial=5,
    )
    with pytest.raises(ConfigError, match=r"^forecast for api\.example\.com: leaf certificate"):
        forecast(
            [_config(test_pki, pin, "leaf_spki")],
            [leaf, test_pki.intermediate],
            host=HOST,
            fleet=FLEET,
            today=TODAY,
        )


# ------------------------------------------- the path completed as audit completes it


def test_root_pin_matches_the_root_of_the_ca_file_as_in_audit(test_pki, pin, tmp_path):
    """The server sends no root: the forecast finds it in ca_file, like audit, and both agree
    on the start day; without it the pin matches nothing in either."""
    from cryptography.hazmat.primitives import serialization

    from simlib.toolkit import audit

    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(test_pki.root.public_bytes(serialization.Encoding.PEM))
    cfg = _config(test_pki, pin, "root_spki")
    for ca_file, status in ((bundle, "pass"), (None, "fail")):
        frame = forecast(
            [cfg],
            test_pki.chain,
            host=HOST,
            fleet=FLEET,
            today=TODAY,
            ca_file=ca_file,
            horizon_days=200,
        )
        report = audit(cfg, test_pki.chain, host=HOST, today=TODAY, ca_file=ca_file)
        assert frame.loc[0, "status"] == status == report.verdicts[0].status
    assert frame.loc[0, "pin"] == "no match" and frame.loc[0, "locked_share"] == 1.0


def test_a_chain_another_host_served_long_ago_is_refused_as_audit_refuses_it(test_pki, pin):
    """stale_reason: out of date *and* another host's — the audit's words."""
    from simlib.toolkit import ConfigError, audit

    cfg = _config(test_pki, pin, "leaf_spki")
    late = date(2030, 1, 1)
    with pytest.raises(ConfigError, match="cannot stand for this host") as f:
        forecast([cfg], test_pki.chain, host="other.example.org", fleet=FLEET, today=late)
    with pytest.raises(ConfigError, match="cannot stand for this host") as a:
        audit(cfg, test_pki.chain, host="other.example.org", today=late)
    why = str(a.value).split("cannot stand for this host on 2030-01-01: ")[1].split(";")[0]
    assert why in str(f.value)


def test_the_public_forecast_takes_several_hosts(test_pki, pin):
    """simlib.toolkit.forecast: a mapping host -> chain, one row per config, host, platform."""
    import simlib.toolkit as toolkit
    from simlib.toolkit import ConfigError

    cfg = _config(test_pki, pin, "intermediate_spki")
    chains = {HOST: test_pki.chain, "www.example.com": test_pki.chain}  # both in the leaf
    frame = toolkit.forecast([cfg], chains, fleet=FLEET, today=TODAY, horizon_days=120)
    assert list(frame["host"]) == list(chains) and len(frame.attrs["scenarios"]) == 1
    with pytest.raises(ConfigError, match="a mapping host → chain alone"):
        toolkit.forecast([cfg], chains, host=HOST, fleet=FLEET, today=TODAY)
    with pytest.raises(ConfigError, match="no host given"):
        toolkit.forecast([cfg], {}, fleet=FLEET, today=TODAY)
