"""``simlib audit`` and ``simlib emit`` on files (no network): outputs and exit codes."""

from __future__ import annotations

import json

import pytest

from simlib.cli.main import main
from tests.toolkit.conftest import CONFIGS


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def root_pem(tmp_path, test_pki):
    from cryptography.hazmat.primitives import serialization

    path = tmp_path / "root.pem"
    path.write_bytes(test_pki.root.public_bytes(serialization.Encoding.PEM))
    return path


def test_audit_table_json_sarif_and_fail_on(capsys, chain_pem):
    cfg = CONFIGS / "nsc_basic.xml"
    code, out, err = _cli(capsys, "audit", cfg, "--chain", chain_pem, "--date", "2026-02-01")
    assert code == 0, err
    assert "for api.example.com on 2026-02-01: PASS (exit 0" in out  # host from the leaf's SAN
    code, out, _ = _cli(
        capsys,
        "audit",
        cfg,
        "--chain",
        chain_pem,
        "--fail-on",
        "info",
        "--format",
        "json",
        "--date",
        "2026-02-01",
    )
    assert code == 1 and json.loads(out)["findings"][0]["rule"] == "incomplete-path"
    code, out, _ = _cli(capsys, "audit", cfg, "--chain", chain_pem, "--format", "sarif")
    assert json.loads(out)["version"] == "2.1.0"


def test_audit_failing_config_exits_1(capsys, chain_pem):
    code, out, _ = _cli(
        capsys,
        "audit",
        CONFIGS / "nsc_expired.xml",
        "--chain",
        chain_pem,
        "--date",
        "2026-02-01",
        "--fail-on",
        "warning",
    )
    assert code == 1, out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--fail-on", "fatal"], "--fail-on"),
        (["--expiring-days", "0"], "--expiring-days"),
        (["--date", "2026-13-01"], "--date"),
        (["--platform", "windows"], "platform 'windows'"),
    ],
)
def test_audit_bad_arguments(capsys, chain_pem, argv, needle):
    code, out, err = _cli(capsys, "audit", CONFIGS / "nsc_basic.xml", "--chain", chain_pem, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, err


def test_audit_needs_a_chain(capsys):
    code, _, err = _cli(capsys, "audit", CONFIGS / "nsc_basic.xml")
    assert code == 2 and "--chain PEM or --host HOST" in err


def test_emit_prints_and_writes_atomically(capsys, chain_pem, root_pem, pin, tmp_path):
    code, out, err = _cli(
        capsys,
        "emit",
        "--strategy",
        "root_spki",
        "--chain",
        chain_pem,
        "--anchor",
        root_pem,
        "--backup",
        f"sha256/{pin['backup_root']}",
        "--expires",
        "2027-01-01",
        "--date",
        "2026-02-01",  # --expires must be after it, whatever the clock says
    )
    assert code == 0, err
    assert out.count("# --- ") == 4 and 'expiration="2027-01-01"' in out
    out_dir = tmp_path / "emitted"
    code, out, err = _cli(
        capsys,
        "emit",
        "--strategy",
        "intermediate",
        "--for",
        "android,okhttp",
        "--chain",
        chain_pem,
        "--backup",
        pin["backup_root"],
        "--out",
        out_dir,
    )
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "CertificatePinner.kt",
        "network_security_config.xml",
    ]
    assert pin["ca1"] in (out_dir / "network_security_config.xml").read_text()
    # and what was written audits clean
    code, _, err = _cli(
        capsys, "audit", out_dir / "network_security_config.xml", "--chain", chain_pem
    )
    assert code == 0, err


def test_emit_scenario_strategy_with_expiry(capsys, chain_pem, pin):
    code, out, err = _cli(
        capsys,
        "emit",
        "--strategy",
        "leaf key, expires 1y",
        "--for",
        "android",
        "--chain",
        chain_pem,
        "--backup",
        pin["next_leaf"],
    )
    assert code == 0, err
    assert "expiration=" in out and pin["leaf"] in out and pin["next_leaf"] in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--strategy", "bogus"], "unknown strategy 'bogus'"),
        (["--strategy", "root + backup CA"], "ca:other-ca"),
        (["--strategy", "leaf cert"], "leaf_cert"),
        (["--strategy", "leaf_spki", "--for", "windows"], "--for"),
        (["--strategy", "leaf_spki", "--for", "trustkit"], "at least 2 pins"),
        (["--strategy", "leaf_spki", "--backup", "@@@"], "backup [0]"),
        (["--strategy", "root_spki"], "root_spki needs the root"),
    ],
)
def test_emit_errors_write_nothing(capsys, chain_pem, tmp_path, argv, needle):
    out_dir = tmp_path / "emitted"
    code, out, err = _cli(capsys, "emit", *argv, "--chain", chain_pem, "--out", out_dir)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, err
    assert not out_dir.exists()


def test_emit_completes_the_path_from_the_ca_file(capsys, chain_pem, root_pem, pin):
    """root_spki finds the root in --ca-file (as audit does), and the round-trip audit of what
    it writes completes the path the same way."""
    code, out, err = _cli(
        capsys,
        "emit",
        "--strategy",
        "root_spki",
        "--for",
        "android,ios",
        "--chain",
        chain_pem,
        "--ca-file",
        root_pem,
        "--backup",
        pin["backup_root"],
        "--json",
    )
    assert code == 0, err
    files = {f["format"]: f["text"] for f in json.loads(out)["files"]}
    assert pin["root"] in files["android"] and pin["root"] in files["ios"]
    code, _, err = _cli(capsys, "emit", "--strategy", "root_spki", "--chain", chain_pem)
    assert code == 2 and "--anchor or --ca-file" in err
