"""Options the pin-toolkit commands share: argument types, ``--chain``/``--host``/``--port`` and
the chain-and-host choice they imply (``simlib audit``, ``emit``, ``forecast`` and ``pins --host``).
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

from simlib.cli.common import UsageError, positive_int
from simlib.errors import one_line
from simlib.vocabulary import SPKI_LEVELS

FORMAT_FILES = {
    "android": "network_security_config.xml",
    "ios": "Info-pins.plist",
    "okhttp": "CertificatePinner.kt",
    "trustkit": "trustkit.json",
}
EMIT_STRATEGIES = SPKI_LEVELS  # what emit writes (simlib.vocabulary; no cryptography import)


# ------------------------------------------------------------------------ argument types


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{one_line(text, 40)}' is not a date (YYYY-MM-DD)"
        ) from None


def port_number(text: str) -> int:
    return positive_int(text, 65535)


def day_count(text: str) -> int:
    return positive_int(text, 36_500)


def user_count(text: str) -> int:
    return positive_int(text, 10**12)


def timeout_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{one_line(text, 40)}' is not a number") from None
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 300 seconds")
    return value


def format_list(text: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    bad = [p for p in items if p not in FORMAT_FILES]
    if not items or bad:
        raise argparse.ArgumentTypeError(
            f"'{one_line(text, 40)}': choose from {', '.join(FORMAT_FILES)} (comma-separated)"
        )
    return items


def add_host_options(p: argparse.ArgumentParser, *, chain: bool = True) -> None:
    if chain:
        p.add_argument(
            "--chain",
            metavar="PEM",
            help="the host's chain as PEM/DER, leaf first (no network is used)",
        )
    p.add_argument(
        "--host",
        metavar="HOST",
        help="host name; without --chain its live chain is fetched over TLS",
    )
    p.add_argument(
        "--port",
        type=port_number,
        default=443,
        metavar="N",
        help="TLS port for --host (default 443)",
    )
    p.add_argument(
        "--ca-file",
        metavar="PEM",
        help="trust only these roots when verifying the live host (default: system store)",
    )
    p.add_argument(
        "--timeout",
        type=timeout_seconds,
        default=10.0,
        metavar="S",
        help="TLS connect and handshake timeout in seconds (default 10)",
    )


# ----------------------------------------------------------------------------- helpers


def today_of(args: argparse.Namespace) -> date:
    return getattr(args, "date", None) or datetime.now(UTC).date()


def chain_and_host(args: argparse.Namespace, command: str):
    """``(host, served chain, anchors)`` from ``--chain`` (file) or ``--host`` (live TLS)."""
    from simlib.toolkit import load_chain
    from simlib.toolkit.hostnames import check_hostname, leaf_hostname

    anchors = []
    for path in getattr(args, "anchor", None) or ():
        anchors += load_chain(path)
    # One validator for every host name, typed or read from a certificate (an empty --host
    # is refused, not taken as "no --host").
    host = None if args.host is None else check_hostname(args.host, source="--host")
    if args.chain:
        chain = load_chain(args.chain)
        host = host or leaf_hostname(chain[0], args.chain)
        if not host:
            raise UsageError(
                f"simlib {command}: the leaf names no single DNS host "
                "(none, or wildcards only): give --host"
            )
        return host, chain, anchors
    if host is None:
        raise UsageError(f"simlib {command}: give --chain PEM or --host HOST")
    from simlib.toolkit.live import fetch_chain

    live = fetch_chain(
        host,
        args.port,
        timeout=args.timeout,
        ca_file=args.ca_file,
        connect_to=getattr(args, "connect_to", None),
    )
    return live.host, live.served, anchors + live.anchors


# ---------------------------------------------------------------------------- commands
