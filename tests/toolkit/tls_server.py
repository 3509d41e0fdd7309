"""TLS servers on 127.0.0.1 for live-host tests: never the internet.

:func:`live_pki` makes a root -> intermediate -> leaf chain (``localhost``, ``api.example.com``)
valid around today with simlib's PKI layer; :class:`Server` serves it (leaf + intermediate, as a
real server does) from a thread, or misbehaves on purpose (``mode``: ``tls``, ``garbage`` — a
plain-text answer, so the handshake fails — or ``silent`` — accepts and never answers).
"""

from __future__ import annotations

import functools
import socket
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from simlib.pki import derive_private_key, make_intermediate, make_leaf, make_root

NAMES = ["localhost", "api.example.com"]


@dataclass(frozen=True)
class LivePki:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key_pem: bytes

    def write(self, folder: Path) -> dict[str, Path]:
        def pem(*certs: x509.Certificate) -> bytes:
            return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)

        files = {
            "root": (folder / "root.pem", pem(self.root)),
            "chain": (folder / "chain.pem", pem(self.leaf, self.intermediate)),
            "key": (folder / "leaf.key", self.leaf_key_pem),
        }
        for path, data in files.values():
            path.write_bytes(data)
        return {name: path for name, (path, _) in files.items()}


@functools.cache
def live_pki() -> LivePki:
    def key(name: str):
        return derive_private_key(f"toolkit-live/{name}".encode(), "ec-p256")

    now = datetime.now(UTC).replace(microsecond=0)
    nb, na = now - timedelta(days=30), now + timedelta(days=60)
    root_key, int_key, leaf_key = key("root"), key("ca"), key("leaf")
    root = make_root(
        root_key,
        "Live Test Root",
        not_before=nb - timedelta(days=300),
        not_after=na + timedelta(days=3000),
        serial=1,
    )
    inter = make_intermediate(
        int_key,
        "Live Test CA",
        issuer_cert=root,
        issuer_key=root_key,
        not_before=nb - timedelta(days=100),
        not_after=na + timedelta(days=1000),
        serial=2,
    )
    leaf = make_leaf(
        leaf_key.public_key(),
        NAMES,
        issuer_cert=inter,
        issuer_key=int_key,
        not_before=nb,
        not_after=na,
        serial=3,
    )
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return LivePki(root, inter, leaf, key_pem)


class Server:
    """A one-thread server on 127.0.0.1; use as a context manager, ``port`` is the bound port."""

    def __init__(self, folder: Path, mode: str = "tls") -> None:
        self.files = live_pki().write(folder)
        self.mode = mode
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.files["chain"], self.files["key"])
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(2)
            try:
                if self.mode == "garbage":
                    conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nnot TLS\r\n")
                    conn.close()
                elif self.mode == "silent":
                    self._held.append(conn)  # never answer; closed at exit
                else:
                    with self.ctx.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)  # until the client closes
            except (OSError, ssl.SSLError):
                conn.close()

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
        self.sock.close()
