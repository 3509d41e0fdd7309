"""OkHttp pins in Kotlin/Java source: same-file constants resolved, an unresolvable pattern
taken from ``host=`` (``--host``), an unresolvable pin refused."""

from __future__ import annotations

import json

import pytest

from simlib.toolkit import ConfigError, parse_config
from tests.toolkit.pki import HOST
from tests.toolkit.test_source_parsers import statuses

# ------------------------------------------------------------ OkHttp with constants

KOTLIN = """package com.example

object Pins {{
    const val HOST = "{host}"
    const val CA: String = "sha256/{ca}"
    private const val BACKUP_KEY = "{backup}"
}}

val pinner = CertificatePinner.Builder()
    .add(Pins.HOST, Pins.CA)
    .add(HOST, "sha256/$BACKUP_KEY")
    .build()
"""


def test_okhttp_constants_are_resolved(pin, test_pki):
    text = KOTLIN.format(host=HOST, ca=pin["ca1"], backup=pin["backup_root"])
    config = parse_config(text.encode(), "Pinning.kt")
    assert config.format == "okhttp"
    (policy,) = config.policies
    assert policy.pattern == HOST and [p.value for p in policy.pins] == [
        pin["ca1"],
        pin["backup_root"],
    ]
    assert [p.where for p in policy.pins] == ["line 10", "line 11"]
    assert statuses(config, test_pki) == {"okhttp": "pass"}


JAVA = """class Net {{
    private static final String PIN = "sha256/{ca}";
    CertificatePinner pinner = new CertificatePinner.Builder()
        .add(BuildConfig.API_HOST, PIN, "sha256/" + "{backup}")
        .build();
}}
"""


def test_okhttp_unresolvable_host_needs_host(pin, test_pki):
    text = JAVA.format(ca=pin["ca1"], backup=pin["backup_root"]).encode()
    with pytest.raises(
        ConfigError,
        match=r"line 4: .*BuildConfig.API_HOST .*give the host it stands for with --host",
    ):
        parse_config(text, "Net.java")
    config = parse_config(text, "Net.java", host=HOST)
    (policy,) = config.policies
    assert policy.pattern == HOST and len(policy.pins) == 2
    (note,) = [f for f in config.findings if f.rule == "pattern-from-host"]
    assert note.severity == "info" and HOST in note.message
    assert statuses(config, test_pki) == {"okhttp": "pass"}


def test_okhttp_unresolvable_pin_is_refused(pin):
    text = f'CertificatePinner.Builder().add("{HOST}", BuildConfig.PIN).build()'
    with pytest.raises(ConfigError, match=r"pin BuildConfig\.PIN is not a string literal"):
        parse_config(text.encode(), "Net.kt", host=HOST)


def test_other_add_calls_are_not_pins(pin):
    text = f'list.add(item)\nset.add(a, b)\nval p = "{HOST} sha256/{pin["ca1"]}"\n.add("{HOST}", "sha256/{pin["ca1"]}")'
    config = parse_config(text.encode(), "Net.kt")
    assert [p.pattern for p in config.policies] == [HOST]


def test_cli_audit_passes_host_to_the_parser(tmp_path, chain_pem, capsys, pin):
    from simlib.cli.main import main

    config = tmp_path / "Net.java"
    config.write_text(JAVA.format(ca=pin["ca1"], backup=pin["backup_root"]))
    code = main(["audit", str(config), "--chain", str(chain_pem), "--format", "json"])
    err = capsys.readouterr().err
    assert code == 2 and "give the host it stands for with --host" in err
    code = main(
        [
            "audit",
            str(config),
            "--chain",
            str(chain_pem),
            "--host",
            HOST,
            "--format",
            "json",
            "--date",
            "2026-02-01",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "okhttp" and doc["platforms"][0]["status"] == "pass"
