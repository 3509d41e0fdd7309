"""Hostile names and host names: nothing raw reaches a terminal or generated code.

Every printing command is fed names holding terminal escapes, C1 controls, bidi overrides and
line separators (scenario names, certificate subjects and SANs, config paths, ``--host``). Bad
host names are one ``error:`` line with exit 2 and nothing on stdout; names that are allowed are
printed escaped (``\\u202e``), and generated configs stay valid in their own language.
"""

from __future__ import annotations

import copy
import json
import plistlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from simlib.cli.main import main
from simlib.pki import derive_private_key, spki_pin
from tests.conftest import BASE
from tests.toolkit.conftest import CONFIGS
from tests.toolkit.pki import pki

pytestmark = pytest.mark.hostile

SIMLIB = str(Path(sys.executable).with_name("simlib"))
# What must never be printed raw: C0 (but tab and newline), DEL, C1, ALM, LRM/RLM, line and
# paragraph separators, embeddings and overrides, isolates, lone surrogates.
RAW = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
    r"\ud800-\udfff]"
)
BACKUP = "sha256/" + "A" * 43 + "="


def clean(text: str) -> bool:
    return RAW.search(text) is None


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def one_error(code: int, out: str, err: str, needle: str = "") -> None:
    assert code == 2, (code, out, err)
    assert out == "" and err.startswith("error: ") and err.count("\n") == 1, (out, err)
    assert clean(err) and needle in err, err


@pytest.fixture(scope="module")
def fleet_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "fleet.yaml"
    path.write_text(
        "fleet:\n  users: 1000\n  release_every_days: 14\n  adoption:\n"
        "    components:\n      - {weight: 1.0, mean_lag_days: 10}\n"
    )
    return path


@pytest.fixture(scope="module")
def chain_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("chain") / "chain.pem"
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in pki().chain))
    return path


# --------------------------------------------------------------- hostile --host, every command

# The four the issue names (each an idna traceback before), then the terminal attacks.
HOSTS = {
    "empty": ("", "it is empty"),
    "64-char label": ("a" * 64 + ".example.com", "label 1 is 64 characters"),
    "C1 CSI U+009B": ("api\x9b31m.example.com", "U+009B"),
    "RLO U+202E": ("api\u202emoc.example.com", "U+202E (a bidi control)"),
    "ANSI escape": ("api\x1b[2J.example.com", "U+001B"),
    "newline": ("api.example.com\nforged", "U+000A"),
    "lone surrogate": ("api\udcff.example.com", "U+DCFF (a lone surrogate)"),
    "empty label": ("api..example.com", "label 2 is empty"),
}
# More shapes, through one command each (the validator is shared, so one suffices).
MORE_HOSTS = {
    "254 characters": (".".join(["a" * 63] * 4), "at most 253"),
    "LRI U+2066": ("\u2066api.example.com", "U+2066"),
    "ALM U+061C": ("api\u061c.example.com", "U+061C"),
    "line separator": ("api\u2028.example.com", "U+2028"),
    "zero-width space": ("ap\u200bi.example.com", "U+200B"),
    "leading dot": (".example.com", "label 1 is empty"),
    "wildcard": ("*.example.com", "wildcard"),
    "URL": ("https://api.example.com/", "not a URL"),
    "host:port": ("api.example.com:443", "--port"),
    "leading hyphen": ("-api.example.com", "label 1"),
    "underscore": ("my_api.example.com", "label 1"),
    "bad punycode": ("xn--zz.example.com", "not valid punycode"),
    "IDNA-disallowed": ("\U0001f4a9.example.com", "internationalised"),
}


def _argv(command: str, host: str, chain: Path, fleet: Path) -> list[object]:
    if command == "pins":
        return ["pins", f"--host={host}", "--timeout", "1"]
    if command == "audit":
        return ["audit", CONFIGS / "nsc_basic.xml", "--chain", chain, f"--host={host}"]
    if command == "audit-live":
        return ["audit", CONFIGS / "nsc_basic.xml", f"--host={host}", "--timeout", "1"]
    if command == "emit":
        return [
            "emit",
            "--strategy",
            "leaf_spki",
            "--backup",
            BACKUP,
            "--chain",
            chain,
            f"--host={host}",
        ]
    return [
        "forecast",
        CONFIGS / "nsc_basic.xml",
        "--chain",
        chain,
        "--fleet",
        fleet,
        f"--host={host}",
        "--date",
        "2026-02-01",
    ]


@pytest.mark.parametrize("command", ["pins", "audit", "emit", "forecast"])
@pytest.mark.parametrize("kind", list(HOSTS))
def test_hostile_host_is_one_error_line(capsys, chain_file, fleet_file, command, kind):
    host, needle = HOSTS[kind]
    one_error(*run(capsys, *_argv(command, host, chain_file, fleet_file)), needle)


@pytest.mark.parametrize("kind", list(MORE_HOSTS))
def test_more_hostile_hosts(capsys, chain_file, fleet_file, kind):
    host, needle = MORE_HOSTS[kind]
    command = ["audit-live", "emit", "pins"][len(kind) % 3]
    one_error(*run(capsys, *_argv(command, host, chain_file, fleet_file)), needle)


def test_hostile_host_real_exit_code_and_bytes(chain_file):
    """The installed command: exit 2, one escaped line, no traceback, bytes not raw."""
    proc = subprocess.run(
        [
            SIMLIB,
            "emit",
            "--strategy",
            "leaf_spki",
            "--for",
            "ios",
            "--chain",
            str(chain_file),
            "--host",
            "api\u202e\x9b.example.com",
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == b"", proc.stderr
    assert proc.stderr.count(b"\n") == 1 and b"Traceback" not in proc.stderr
    assert b"\xe2\x80\xae" not in proc.stderr and b"\xc2\x9b" not in proc.stderr
    assert b"\\u202e" in proc.stderr


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("API.Example.COM", "api.example.com"),
        ("b\u00fccher.example", "xn--bcher-kva.example"),
        ("api.example.com.", "api.example.com."),
    ],
)
def test_valid_host_is_canonical_in_output(capsys, chain_file, host, canonical):
    _, out, err = run(
        capsys,
        "emit",
        "--strategy",
        "leaf_spki",
        "--backup",
        BACKUP,
        "--chain",
        chain_file,
        "--host",
        host,
        "--for",
        "android,okhttp",
    )
    # the chain is not for this host, so the round-trip audit refuses; or it passes for
    # api.example.com: either way the name shown is the canonical one
    assert clean(out + err)
    assert canonical in out + err and (host == canonical or host not in out + err)


# ------------------------------------------------------------- hostile certificates (SAN, CN)


def _leaf_pem(folder: Path, sans: list[str], cn: str = "api.example.com") -> Path:
    p = pki()
    ca_key = derive_private_key(b"toolkit/ca1", "ec-p256")
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(p.intermediate.subject)
        .public_key(p.leaf.public_key())
        .serial_number(77)
        .not_valid_before(datetime(2026, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2026, 3, 31, tzinfo=UTC))
    )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False
        )
    leaf = builder.sign(ca_key, hashes.SHA256())
    path = folder / "hostile.pem"
    path.write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, p.intermediate))
    )
    return path


SANS = {
    "ANSI escape": (["api\x1b]0;pwned\x07.example.com"], "U+001B"),
    "newline + Kotlin": (['api.example.com"\n    .add("evil.com', "sha256/x"], "U+000A"),
    "quote + Kotlin": (['api.example.com","sha256/AAAA'], "label 3"),
    "XML markup": (["<script>.example.com"], "label 1"),
    "template $": (["${System.exit(0)}.example.com"], "label 1"),
    "empty label": (["api..example.com"], "label 2 is empty"),
    "64-char label": (["a" * 64 + ".example.com"], "64 characters"),
    "bad first, good second": (["bad_name.example.com", "api.example.com"], "DNS [0]"),
}


@pytest.mark.parametrize("command", ["audit", "emit-ios"])
@pytest.mark.parametrize("kind", list(SANS))
def test_hostile_san_is_refused_naming_the_certificate(capsys, tmp_path, command, kind):
    sans, needle = SANS[kind]
    chain = _leaf_pem(tmp_path, sans)
    if command == "audit":
        argv = ["audit", CONFIGS / "nsc_basic.xml", "--chain", chain]
    else:  # --for ios was a plistlib traceback
        argv = [
            "emit",
            "--strategy",
            "leaf_spki",
            "--backup",
            BACKUP,
            "--chain",
            chain,
            "--for",
            "ios",
        ]
    code, out, err = run(capsys, *argv)
    one_error(code, out, err, needle)
    assert str(chain) in err and "subjectAltName" in err


@pytest.mark.parametrize("sans", [["*.example.com"], []])
def test_leaf_without_a_single_host_asks_for_host(capsys, tmp_path, sans):
    chain = _leaf_pem(tmp_path, sans)
    one_error(*run(capsys, "emit", "--strategy", "leaf_spki", "--chain", chain), "give --host")


def test_wildcard_san_skipped_for_the_first_named_host(capsys, tmp_path):
    chain = _leaf_pem(tmp_path, ["*.example.com", "api.example.com"])
    code, out, err = run(
        capsys, "audit", CONFIGS / "nsc_basic.xml", "--chain", chain, "--date", "2026-02-01"
    )
    assert code == 0, err
    assert "for api.example.com on 2026-02-01" in out


SUBJECTS = {
    "newline + Kotlin": 'evil\n    .add("evil.example.com", "sha256/AAAA") //',
    "OSC title": "evil\x1b]0;pwned\x07",
    "RLO": "evil\u202egnp.exe",
    "XML comment end": "evil --> <x/> <!--",
    "C1 CSI": "evil\x9b2J",
}


@pytest.mark.parametrize("kind", list(SUBJECTS))
def test_hostile_subject_is_escaped_in_every_format(capsys, tmp_path, kind):
    chain = _leaf_pem(tmp_path, ["api.example.com"], cn=SUBJECTS[kind])
    code, out, err = run(
        capsys, "emit", "--strategy", "leaf_spki", "--backup", BACKUP, "--chain", chain
    )
    assert code == 0, err
    assert clean(out)
    files = dict(re.findall(r"# --- (\w+): \S+\n(.*?)(?=# --- |\Z)", out, flags=re.S))
    kotlin = files["okhttp"].splitlines()
    assert len(kotlin) == 5 and all(line.startswith(("//", "val", "    .")) for line in kotlin)
    assert sum(".add(" in line for line in kotlin) == 2  # the subject added no pin
    root = ET.fromstring(files["android"].split("\n", 1)[1])  # without the XML declaration
    assert [e.text for e in root.iter("domain")] == ["api.example.com"]
    plist = plistlib.loads(files["ios"].encode())
    assert list(plist["NSAppTransportSecurity"]["NSPinnedDomains"]) == ["api.example.com"]
    assert list(json.loads(files["trustkit"])["TSKPinnedDomains"]) == ["api.example.com"]


def test_san_with_raw_utf8_bidi_bytes_is_unreadable(capsys, tmp_path):
    """An IA5String SAN holding UTF-8 bytes (U+202E): refused when the chain is read."""
    path = _leaf_pem(tmp_path, ["rlo.example.com"])
    certs = x509.load_pem_x509_certificates(path.read_bytes())
    der = certs[0].public_bytes(serialization.Encoding.DER)
    assert der.count(b"rlo.example.com") == 1
    bad = der.replace(b"rlo.example.com", b"\xe2\x80\xae.example.com")  # same length
    path.write_bytes(bad)
    one_error(*run(capsys, "audit", CONFIGS / "nsc_basic.xml", "--chain", path), str(path))


# ----------------------------------------------------- hostile names in scenarios, every printer

NAMES = {
    "RLO": "evil\u202etxt.exe",
    "isolates": "a\u2066b\u2067c\u2068d\u2069",
    "line separator": "first\u2028forged line",
    "RLM + ALM": "x\u200fy\u061cz",
}


def _scenario(tmp_path: Path, name: str) -> Path:
    data = copy.deepcopy(BASE)
    data.update({"name": name, "end": "2025-03-31"})
    data["strategies"] = [
        {"name": f"s {name}", "pin": "leaf_spki"},
        {"name": "plain", "pin": "none"},
    ]
    data["cas"][0]["name"] = f"ca {name}"[:60]
    data["hosts"][0]["ca"] = data["cas"][0]["name"]
    data["cas"][0]["intermediates"][0]["name"] = f"I {name}"[:60]
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command", ["run", "calendar", "calendar --format csv", "validate", "validate --resolved"]
)
@pytest.mark.parametrize("kind", list(NAMES))
def test_scenario_names_printed_escaped(capsys, tmp_path, command, kind):
    path = _scenario(tmp_path, NAMES[kind])
    today = ["--today", "2025-01-01"]
    extra = {"run": ["--out", tmp_path / "out"], "calendar": today, "calendar --format csv": today}
    code, out, err = run(capsys, *command.split(), path, *extra.get(command, []))
    assert code == 0, err
    assert clean(out) and clean(err), out
    if command == "validate --resolved":  # still YAML, reading back the very same names
        doc = yaml.safe_load(out)
        assert doc["name"] == NAMES[kind]
        assert [s["name"] for s in doc["strategies"]] == [f"s {NAMES[kind]}", "plain"]
    elif command != "validate":
        shown = NAMES[kind].encode("unicode_escape").decode()  # the escapes a reader sees
        assert shown.replace("\\u", "") in out.replace("\\u", "")


def test_run_table_columns_stay_aligned(capsys, tmp_path):
    path = _scenario(tmp_path, NAMES["RLO"])
    code, out, err = run(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 0, err
    rows = out.splitlines()[1:4]  # header and two strategies
    assert len({len(r) for r in rows}) == 1, rows


def test_validate_resolved_plain_names_keep_fast_path(capsys, tmp_path):
    """Without hostile characters the output is byte for byte the model's own YAML."""
    from simlib.model import load_scenario

    path = _scenario(tmp_path, "caf\u00e9 plain")
    code, out, _ = run(capsys, "validate", "--resolved", path)
    assert code == 0 and out == load_scenario(path).to_yaml() and "caf\u00e9" in out


def test_pins_and_audit_escape_a_hostile_file_name(capsys, tmp_path):
    chain = tmp_path / "chain\u202e\x1b[2J.pem"
    chain.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in pki().chain))
    code, out, err = run(capsys, "pins", chain)
    assert code == 0 and clean(out), err
    assert spki_pin(pki().leaf) in out
    code, out, err = run(
        capsys, "audit", CONFIGS / "nsc_basic.xml", "--chain", chain, "--date", "2026-02-01"
    )
    assert code == 0 and clean(out), err


def test_forecast_escapes_a_hostile_config_path(capsys, tmp_path, chain_file, fleet_file):
    cfg = tmp_path / "cfg\x1b[31m\u202e.xml"
    cfg.write_bytes((CONFIGS / "nsc_basic.xml").read_bytes())
    code, out, err = run(
        capsys,
        "forecast",
        cfg,
        "--chain",
        chain_file,
        "--fleet",
        fleet_file,
        "--date",
        "2026-02-01",
        "--horizon-days",
        "120",
    )
    assert code == 0, err  # not blamed on the fleet file
    assert clean(out) and "\\x1b[31m\\u202e.xml" in out
