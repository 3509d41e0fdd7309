"""Live TLS: chains read from servers the tests start on 127.0.0.1, verified against a test root."""

from __future__ import annotations

import json
import socket

import pytest
from cryptography import x509

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
    live = fetch_chain(
        "api.example.com",
        server.port,
        ca_file=str(server.files["root"]),
        connect_to="127.0.0.1",
        timeout=5,
    )
    assert live.host == "api.example.com"
    with pytest.raises(ConfigError, match=r"certificate verification failed.*mismatch"):
        fetch_chain(
            "other.example.com",
            server.port,
            ca_file=str(server.files["root"]),
            connect_to="127.0.0.1",
            timeout=5,
        )


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
        fetch_chain(host, srv.port, ca_file=str(srv.files["root"]) if ca else None, timeout=0.5)
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
    files = emit(
        "root_spki",
        live.served,
        host="localhost",
        anchors=live.anchors,
        backups=[spki_pin(live.served[0])],
    )
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
    base = [
        "pins",
        "--host",
        "localhost",
        "--port",
        str(server.port),
        "--ca-file",
        str(server.files["root"]),
    ]
    code, out, err = _cli(capsys, *base)
    assert code == 0, err
    assert f"okhttp       sha256/{spki_pin(p.leaf)}" in out
    assert "(trusted root, not served)" in out
    code, out, _ = _cli(capsys, *base, "--json")
    doc = json.loads(out)
    assert [c["spki_sha256"] for c in doc["chain"]] == [
        spki_pin(c) for c in (p.leaf, p.intermediate, p.root)
    ]
    assert [c["served"] for c in doc["chain"]] == [True, True, False]


def test_audit_host_exit_codes(server, capsys, tmp_path):
    p = live_pki()
    cfg = tmp_path / "nsc.xml"
    files = emit(
        "intermediate_spki", [p.leaf, p.intermediate], host="localhost", backups=[spki_pin(p.root)]
    )
    cfg.write_text(files["android"])
    live = [
        "--host",
        "localhost",
        "--port",
        str(server.port),
        "--ca-file",
        str(server.files["root"]),
    ]
    code, out, err = _cli(capsys, "audit", str(cfg), *live)
    assert code == 0, err
    assert "android           pass" in out
    code, out, _ = _cli(capsys, "audit", str(cfg), *live, "--format", "json", "--fail-on", "none")
    assert code == 0 and json.loads(out)["passed"] is True
    # a config pinning someone else's key: blocked, so exit 1
    stranger = spki_pin(pki().backup_root)
    cfg.write_text(
        files["android"]
        .replace(spki_pin(p.intermediate), stranger)
        .replace(spki_pin(p.root), stranger)
    )
    code, out, _ = _cli(capsys, "audit", str(cfg), *live, "--format", "sarif")
    assert code == 1 and "pin-mismatch" in out
    code, _, err = _cli(
        capsys,
        "audit",
        str(cfg),
        "--host",
        "127.0.0.1",
        "--port",
        str(server.port),
        "--ca-file",
        str(server.files["root"]),
    )
    assert code == 2 and err.count("\n") == 1 and "certificate verification failed" in err


# ------------------------------------------------ what OpenSSL accepts and cryptography refuses


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    size = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)])
        + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + size + body


def _ber_boolean_leaf() -> bytes:
    """The live leaf with its critical flag written ``01 01 01`` (BER) instead of ``01 01 ff``
    (DER), re-signed by the live CA: OpenSSL reads and verifies it, cryptography refuses it."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from simlib.pki import derive_private_key

    tbs = bytearray(live_pki().leaf.tbs_certificate_bytes)
    at = tbs.index(bytes.fromhex("0101ff"))  # BasicConstraints, critical
    tbs[at + 2] = 0x01
    key = derive_private_key(b"toolkit-live/ca", "ec-p256")  # as tls_server.live_pki
    signature = key.sign(bytes(tbs), ec.ECDSA(hashes.SHA256()))
    algorithm = _der(0x30, _der(0x06, bytes.fromhex("2a8648ce3d040302")))  # ecdsa-with-SHA256
    return _der(0x30, bytes(tbs) + algorithm + _der(0x03, b"\0" + signature))


def test_certificate_openssl_accepts_but_cryptography_refuses(tmp_path, capsys):
    import ssl

    from cryptography.hazmat.primitives import serialization

    der = _ber_boolean_leaf()
    with pytest.raises(ValueError):  # the premise: cryptography refuses it
        x509.load_der_x509_certificate(der)
    pem = ssl.DER_cert_to_PEM_cert(der).encode()
    chain = tmp_path / "ber-chain.pem"
    chain.write_bytes(pem + live_pki().intermediate.public_bytes(serialization.Encoding.PEM))
    srv = Server(tmp_path)
    srv.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.ctx.load_cert_chain(chain, srv.files["key"])  # OpenSSL takes it as a server cert
    with srv:
        with pytest.raises(ConfigError) as err:
            fetch_chain("localhost", srv.port, ca_file=str(srv.files["root"]), timeout=5)
        text = str(err.value)
        assert text.startswith(f"localhost:{srv.port}: served certificate [0]: ")
        assert "not valid DER X.509" in text and "\n" not in text
        code = main(
            [
                "pins",
                "--host",
                "localhost",
                "--port",
                str(srv.port),
                "--ca-file",
                str(srv.files["root"]),
                "--timeout",
                "5",
            ]
        )
        out = capsys.readouterr()
        assert code == 2 and out.out == "" and out.err.count("\n") == 1
        assert "served certificate [0]" in out.err


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("fifo", "not a regular file"),
        ("device", "not a regular file"),
        ("folder", "is a folder"),
        ("huge", "larger than 10 MB"),
    ],
)
def test_ca_file_is_read_bounded(tmp_path, kind, needle):
    """Refused from fstat, before a byte is read: a FIFO used to hang OpenSSL's reader and
    /dev/zero to be read without end."""
    import os

    path = tmp_path / "ca.pem"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = "/dev/zero"
    elif kind == "folder":
        path = tmp_path
    else:
        with open(path, "wb") as f:
            f.truncate(11 * 1024 * 1024)
    with pytest.raises(ConfigError, match=f"cannot read file: {needle}"):
        fetch_chain("localhost", 1, ca_file=str(path), timeout=1)


def test_ca_file_der_and_garbage(tmp_path, server):
    from cryptography.hazmat.primitives import serialization

    der = tmp_path / "root.der"
    der.write_bytes(live_pki().root.public_bytes(serialization.Encoding.DER))
    live = fetch_chain("localhost", server.port, ca_file=str(der), timeout=5)
    assert live.anchors == [live_pki().root]
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\n\xff\xfe\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="not a usable CA file"):
        fetch_chain("localhost", server.port, ca_file=str(junk), timeout=5)
