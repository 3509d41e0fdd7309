"""Operational prerequisites and the config snippet of a strategy, against closed forms."""

from __future__ import annotations

import pytest

import simlib
from simlib.pki import spki_pin
from simlib.report.prerequisites import config_snippet, prerequisites
from simlib.server.certificates import RealPki
from tests.conftest import DATA, make

# One host renewed every 90 - 30 = 60 days from day 0 over 365 days: issued on days 0, 60, …,
# 360, so 6 renewals, each with a new key under key_policy rotate.
RENEWALS = 6


def _status(res, name: str) -> dict[str, tuple[str, str]]:
    frame = prerequisites(res, name)
    return {r.prerequisite: (r.status, r.why) for r in frame.itertuples()}


def _res(strategies, **overrides):
    return simlib.simulate(make(overrides, strategies=strategies))


def test_leaf_key_without_backups_needs_everything():
    res = _res([{"name": "leaf", "pin": "leaf_spki"}])
    got = _status(res, "leaf")
    assert (
        got["backup pin from another CA"][0] == "needed"
        and "ca:ca2" in got["backup pin from another CA"][1]
    )
    assert got["pre-generated next key"] == ("needed", got["pre-generated next key"][1])
    assert got["pre-generated next key"][1].startswith(f"{RENEWALS} leaf-key change(s)")
    assert f"{RENEWALS} renewal(s)" in got["monitoring"][1]
    assert got["kill switch"][0] == "needed"
    assert got["unpinned update-prompt endpoint"][0] == "needed"


def test_prepared_leaf_key_strategy_is_in_place():
    res = _res(
        [
            {
                "name": "leaf+",
                "pin": "leaf_spki",
                "backup": ["next_key", "ca:ca2"],
                "expires_after_days": 200,
            }
        ],
        **{"hosts[0].pregenerate_next_key": True},
    )
    got = _status(res, "leaf+")
    assert got["backup pin from another CA"][0] == "in place"
    assert got["pre-generated next key"][0] == "in place"
    assert got["kill switch"][0] == "partial" and "200 days" in got["kill switch"][1]


def test_key_reuse_means_no_leaf_key_change():
    res = _res([{"name": "leaf", "pin": "leaf_spki"}], **{"hosts[0].key_policy": "reuse"})
    assert _status(res, "leaf")["pre-generated next key"][1].startswith("0 leaf-key change(s)")


def test_root_pin_needs_no_next_key_and_certificate_pin_cannot_have_one():
    res = _res([{"name": "root", "pin": "root_spki"}, {"name": "cert", "pin": "leaf_cert"}])
    assert _status(res, "root")["pre-generated next key"][0] == "not needed"
    assert f"({RENEWALS} in the horizon)" in _status(res, "cert")["pre-generated next key"][1]


def test_pinned_update_check_and_dynamic_kill_switch():
    res = _res(
        [{"name": "dyn", "pin": "leaf_spki", "dynamic": {"refresh_days": 3}}],
        incident_response={"update_check_host": "api.test"},
    )
    got = _status(res, "dyn")
    assert (
        got["unpinned update-prompt endpoint"][0] == "needed"
        and "api.test" in got["unpinned update-prompt endpoint"][1]
    )
    assert got["kill switch"][0] == "in place" and "every 3 day(s)" in got["kill switch"][1]
    res = _res(
        [{"name": "leaf", "pin": "leaf_spki"}], incident_response={"update_check_host": None}
    )
    assert _status(res, "leaf")["unpinned update-prompt endpoint"][0] == "in place"


def test_no_pinning_has_nothing_to_prepare():
    res = _res([{"name": "none", "pin": "none"}])
    assert list(prerequisites(res, "none")["status"]) == ["not needed"]
    assert config_snippet(res, "none") is None


@pytest.mark.parametrize("pin", ["leaf_spki", "intermediate_spki", "root_spki"])
def test_snippet_pins_the_real_certificates_served_on_day_one(pin):
    res = _res([{"name": "s", "pin": pin, "backup": ["ca:ca2"]}])
    snippet = config_snippet(res, "s")
    real = RealPki.for_calendar(res.calendar)
    issuance = res.calendar.serving("api.test", 0)
    chain = real.served_chain(issuance)
    target = {
        "leaf_spki": chain[0],
        "intermediate_spki": chain[1],
        "root_spki": real.root_cert("ca1"),
    }[pin]
    backup = spki_pin(real.root_cert("ca2").public_key())
    assert set(snippet.files) == {"android", "ios", "okhttp", "trustkit"} and not snippet.refused
    for text in snippet.files.values():
        assert spki_pin(target.public_key()) in text and backup in text
    assert snippet.command == f"simlib emit --strategy {pin} --host api.test --backup {backup}"


def test_snippet_says_which_format_refuses_a_single_pin():
    res = _res([{"name": "s", "pin": "leaf_spki"}])
    snippet = config_snippet(res, "s")
    assert "trustkit" in snippet.refused and "2 pins" in snippet.refused["trustkit"]
    assert "android" in snippet.files


@pytest.mark.parametrize("pin", ["leaf_spki", "root_spki"])
def test_printed_emit_command_runs_and_writes_files(pin, tmp_path, capsys):
    # The report's command, run as printed, with the day-one chain from a file instead of a
    # live connection: a single pin must not make it fail on TrustKit.
    from cryptography.hazmat.primitives.serialization import Encoding

    from simlib.cli.main import main
    from simlib.toolkit.formats import writers

    res = _res([{"name": "s", "pin": pin}])
    snippet = config_snippet(res, "s")
    real = RealPki.for_calendar(res.calendar)
    chain = real.served_chain(res.calendar.serving("api.test", 0))
    pem = tmp_path / "chain.pem"
    pem.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
    root = tmp_path / "root.pem"
    root.write_bytes(real.root_cert("ca1").public_bytes(Encoding.PEM))
    argv = snippet.command.split()[1:]
    out = tmp_path / "out"
    extra = ["--chain", str(pem), "--anchor", str(root), "--date", str(snippet.day)]
    assert main([*argv, *extra, "--out", str(out)]) == 0, capsys.readouterr().err
    assert "--for android,ios,okhttp" in snippet.command
    names = {writers()[f].file_name for f in ("android", "ios", "okhttp")}
    assert {p.name for p in out.iterdir()} == names


def test_ats_gets_leaf_and_ca_lists_for_a_mixed_strategy():
    res = _res([{"name": "s", "pin": "leaf_spki", "backup": ["ca:ca2"]}])
    ios = config_snippet(res, "s").files["ios"]
    assert "NSPinnedLeafIdentities" in ios and "NSPinnedCAIdentities" in ios


def test_certificate_pins_have_no_config_format():
    snippet = config_snippet(_res([{"name": "c", "pin": "leaf_cert"}]), "c")
    assert not snippet.files and set(snippet.refused) == {"android", "ios", "okhttp", "trustkit"}


def test_real_ca_pins_are_the_real_ones():
    # ISRG Root X1's SPKI pin, as `openssl x509 -pubkey | openssl pkey -pubin -outform der |
    # openssl dgst -sha256 -binary | base64` prints it for the real certificate.
    isrg_x1 = "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M="
    res = simlib.simulate(simlib.load_scenario(DATA / "presets/le-2025-intermediate-rotation.yaml"))
    snippet = config_snippet(res, "root")
    assert all(isrg_x1 in text for text in snippet.files.values())
    assert "Every one is the pin of a real CA certificate" in snippet.note


def test_dynamic_pins_need_a_signed_list_not_shipped_backups():
    res = _res(
        [
            {
                "name": "dyn",
                "pin": "leaf_spki",
                "dynamic": {"refresh_days": 2, "publish_ahead_days": 20, "on_stale": "fail_open"},
            }
        ]
    )
    got = _status(res, "dyn")
    assert (
        got["signed pin-list endpoint"][0] == "needed"
        and "every 2 day(s)" in got["signed pin-list endpoint"][1]
    )
    assert (
        got["pre-generated next key"][0] == "needed"
        and "20 days before" in got["pre-generated next key"][1]
    )
    assert f"{RENEWALS} leaf-key change(s)" in got["pre-generated next key"][1]
    assert got["backup pin from another CA"][0] == "not needed"
    snippet = config_snippet(res, "dyn")
    assert not snippet.files and "remote list" in snippet.refused["android"]
