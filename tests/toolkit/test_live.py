"""Live TLS: chains read from servers the tests start on 127.0.0.1, verified against a test root."""

from __future__ import annotations

import json
import socket

import pytest

from simlib.cli.main import main
from simlib.pki import spki_pin
from simlib.toolkit import ConfigError, audit, emit, parse_config
from simlib.toolkit.live import fetch_chain
from tests.toolkit.pki import pki
from tests.toolkit.tls_server import Server, live_pki


@pytest.fixture()
def server(tmp_path):
    with Server(tmp_path) as srv:
        yield srv


def test_fetch_chain_reads_served_chain_and_anchor(server):
    p = live_pki()
    live = fetch_chain("localhost", server.port, ca_file=str(server.files["root"]), timeout=5)
    assert live.served == [p.leaf, p.intermediate]
    assert live.verified[-1] == p.root
    assert live.anchors == [p.root]


def test_sni_name_checked_against_certificate(server):
    live = fetch_chain("api.example.com", server.port, ca_file=str(server.files["root"]),
                       connect_to="127.0.0.1", timeout=5)
    assert live.host == "api.example.com"
    with pytest.raises(ConfigError, match=r"certificate verification failed.*mismatch"):
        fetch_chain("other.example.com", server.port, ca_file=str(server.files["root"]),
                    connect_to="127.0.0.1", timeout=5)


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("mode", "host", "ca", "needle"),
    [
        ("tls", "127.0.0.1", True, "certificate verification failed"),  # IP not in the SAN
        ("tls", "localhost", False, "certificate verification failed"),  # root not trusted
        ("garbage", "localhost", True, "TLS handshake failed"),
        ("silent", "localhost", True, "timed out after 0.5 s"),
    ],
)
def test_live_failures_are_one_line(tmp_path, mode, host, ca, needle):
    with Server(tmp_path, mode) as srv, pytest.raises(ConfigError) as err:
        fetch_chain(host, srv.port, ca_file=str(srv.files["root"]) if ca else None,
                    timeout=0.5)
    text = str(err.value)
    assert needle in text and "\n" not in text and text.startswith(f"{host}:{srv.port}")


def test_refused_unresolvable_and_bad_names(tmp_path):
    port = _free_port()
    with pytest.raises(ConfigError, match="connection refused"):
        fetch_chain("127.0.0.1", port, timeout=2)
    with pytest.raises(ConfigError, match="cannot resolve host name"):
        fetch_chain("no-such-host.invalid", 443, timeout=2)
    for bad in ("", "a b", "https://x.example/", "x" * 300):
        with pytest.raises(ConfigError, match="not a valid host name"):
            fetch_chain(bad, 443)
    with pytest.raises(ConfigError, match="no such file"):
        fetch_chain("localhost", port, ca_file=str(tmp_path / "absent.pem"))


def test_live_audit_and_emit_round_trip(server):
    live = fetch_chain("localhost", server.port, ca_file=str(server.files["root"]), timeout=5)
    files = emit("root_spki", live.served, host="localhost", anchors=live.anchors,
                 backups=[spki_pin(live.served[0])])
    config = parse_config(files["android"].encode(), "nsc.xml")
    report = audit(config, live.served, host="localhost", anchors=live.anchors)
    assert report.passed


# ----------------------------------------------------------------------------- the CLI


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_pins_host(server, capsys):
    p = live_pki()
    base = ["pins", "--host", "localhost", "--port", str(server.port),
            "--ca-file", str(server.files["root"])]
    code, out, err = _cli(capsys, *base)
    assert code == 0, err
    assert f"okhttp       sha256/{spki_pin(p.leaf)}" in out
    assert "(trusted root, not served)" in out
    code, out, _ = _cli(capsys, *base, "--json")
    doc = json.loads(out)
    assert [c["spki_sha256"] for c in doc["chain"]] == [spki_pin(c) for c in (p.leaf, p.intermediate, p.root)]
    assert [c["served"] for c in doc["chain"]] == [True, True, False]


def test_audit_host_exit_codes(server, capsys, tmp_path):
    p = live_pki()
    cfg = tmp_path / "nsc.xml"
    files = emit("intermediate_spki", [p.leaf, p.intermediate], host="localhost",
                 backups=[spki_pin(p.root)])
    cfg.write_text(files["android"])
    live = ["--host", "localhost", "--port", str(server.port), "--ca-file", str(server.files["root"])]
    code, out, err = _cli(capsys, "audit", str(cfg), *live)
    assert code == 0, err
    assert "android           pass" in out
    code, out, _ = _cli(capsys, "audit", str(cfg), *live, "--format", "json", "--fail-on", "none")
    assert code == 0 and json.loads(out)["passed"] is True
    # a config pinning someone else's key: blocked, so exit 1
    stranger = spki_pin(pki().backup_root)
    cfg.write_text(files["android"].replace(spki_pin(p.intermediate), stranger)
                   .replace(spki_pin(p.root), stranger))
    code, out, _ = _cli(capsys, "audit", str(cfg), *live, "--format", "sarif")
    assert code == 1 and "pin-mismatch" in out
    code, _, err = _cli(capsys, "audit", str(cfg), "--host", "127.0.0.1", "--port",
                        str(server.port), "--ca-file", str(server.files["root"]))
    assert code == 2 and err.count("\n") == 1 and "certificate verification failed" in err
