"""What ``simlib forecast`` tells the user besides the calendar: clipped columns that keep the
file name, a leaf issued by the root said as such, and audit's warnings on the configs."""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives import serialization

from simlib.cli.forecast import clip_left
from simlib.cli.main import main
from simlib.pki import derive_private_key, make_leaf, spki_pin
from simlib.toolkit import forecast, parse_config
from tests.toolkit.conftest import TODAY
from tests.toolkit.pki import HOST
from tests.toolkit.test_forecast import FLEET

FLEET_YAML = (
    "fleet:\n  users: 1000\n  release_every_days: 14\n  adoption:\n"
    "    never_update_share: 0.05\n    components:\n"
    "      - {weight: 1.0, mean_lag_days: 10}\n"
)
PLACEHOLDER = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def _pem(path, certs):
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


def _nsc(pins: list[str]) -> str:
    body = "".join(f'<pin digest="SHA-256">{p}</pin>' for p in pins)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<network-security-config><domain-config>'
        f'<domain includeSubdomains="false">{HOST}</domain><pin-set>{body}</pin-set>'
        "</domain-config></network-security-config>\n"
    )


def _run(capsys, tmp_path, configs, chain, *extra):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET_YAML)
    argv = ["forecast", *map(str, configs), "--chain", str(chain), "--fleet", str(fleet)]
    code = main([*argv, "--date", TODAY.isoformat(), *map(str, extra)])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out, out.err


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("short.xml", "short.xml"),
        (
            "/tmp/x/build_al_w/emitted/network_security_config.xml",
            "…/emitted/network_security_config.xml",
        ),
        ("a" * 50 + ".xml", "…" + ("a" * 50 + ".xml")[-39:]),
    ],
)
def test_clip_left_marks_the_cut_and_keeps_the_file_name(text, want):
    got = clip_left(text, 40)
    assert got == want and len(got) <= 40


def test_long_config_path_is_cut_with_an_ellipsis(capsys, tmp_path, chain_pem, test_pki, pin):
    deep = tmp_path / ("build_" + "w" * 30) / "emitted"
    deep.mkdir(parents=True)
    cfg = deep / "network_security_config.xml"
    cfg.write_text(_nsc([pin["ca1"], pin["backup_root"]]))
    out, _ = _run(capsys, tmp_path, [cfg], chain_pem)
    row = next(line for line in out.splitlines() if "network_security_config.xml" in line)
    assert row.startswith("  …/emitted/network_security_config.xml ")


def _direct_chain(test_pki):
    """A leaf the root signs itself: the server sends no intermediate, there is none."""
    leaf = make_leaf(
        test_pki.leaf.public_key(),
        [HOST],
        issuer_cert=test_pki.root,
        issuer_key=derive_private_key(b"toolkit/root", "ec-p256"),
        not_before=test_pki.leaf.not_valid_before_utc,
        not_after=test_pki.leaf.not_valid_after_utc,
        serial=7,
    )
    return [leaf, test_pki.root]


def test_leaf_issued_by_the_root_has_no_intermediate(capsys, tmp_path, test_pki, pin):
    chain = _direct_chain(test_pki)
    root_pin = spki_pin(test_pki.root)
    leaf_pin = spki_pin(chain[0])
    cfgs = []
    for name, pins in (("root", [root_pin, pin["backup_root"]]), ("leaf", [leaf_pin, root_pin])):
        cfgs.append(parse_config(_nsc(pins).encode(), f"{name}.xml"))
    frame = forecast(cfgs, chain, host=HOST, fleet=FLEET, today=TODAY, horizon_days=200)
    assert frame.attrs["direct"] == {HOST: True}
    assert "no intermediate (leaf issued by the root)" in frame.attrs["notes"][HOST]
    assert "generic intermediate" not in frame.attrs["notes"][HOST]
    # Truthful pins: the root pin is a root pin and survives; leaf+root pins survive via the root.
    assert list(frame["levels"]) == ["root", "root+leaf"]
    assert frame["first_break"].isna().all()
    # The command line says it too, not "Observed Int".
    files = []
    for name, pins in (("root", [root_pin, pin["backup_root"]]),):
        files.append(tmp_path / f"{name}.xml")
        files[-1].write_text(_nsc(pins))
    out, _ = _run(capsys, tmp_path, files, _pem(tmp_path / "direct.pem", chain))
    ca_line = next(line for line in out.splitlines() if line.strip().startswith("CA: "))
    assert "Observed Int" not in ca_line and "no intermediate" in ca_line
    assert "no intermediate (leaf issued by the root)" in ca_line


def test_served_intermediate_keeps_the_generic_note(test_pki, pin):
    cfg = parse_config(_nsc([pin["ca1"], pin["backup_root"]]).encode(), "i.xml")
    frame = forecast([cfg], test_pki.chain, host=HOST, fleet=FLEET, today=TODAY, horizon_days=90)
    assert frame.attrs["direct"] == {HOST: False} and not frame.attrs["warnings"]


def test_placeholder_and_missing_backup_pins_are_warned(capsys, tmp_path, chain_pem, pin):
    dud = tmp_path / "dud.xml"
    dud.write_text(_nsc([pin["ca1"], PLACEHOLDER]))
    single = tmp_path / "single.xml"
    single.write_text(_nsc([pin["ca1"]]))
    out, err = _run(capsys, tmp_path, [dud, single], chain_pem)
    lines = err.splitlines()
    assert all(line.startswith("warning: ") for line in lines), err
    assert any(f"{dud}: placeholder-pin: {HOST}: pin AAAA" in line for line in lines), err
    assert any(f"{dud}: no-backup-pin" in line for line in lines), err
    assert any(f"{single}: no-backup-pin: {HOST}: only 1 pin" in line for line in lines), err
    assert not any(f"{single}: placeholder-pin" in line for line in lines), err
    assert re.search(r"dud\.xml +\S+ +intermediate", out)  # the calendar is still printed
