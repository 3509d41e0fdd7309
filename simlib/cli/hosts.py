"""Options the pin-toolkit commands share: argument types, ``--chain``/``--host``/``--port`` and
the chain-and-host choice they imply (``simlib audit``, ``emit``, ``forecast`` and ``pins --host``).
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

from simlib.cli.common import UsageError, positive_int
from simlib.errors import one_line
from simlib.vocabulary import SPKI_LEVELS


def format_files() -> dict[str, str]:
    """``emit --for`` name → file name, from the toolkit's format registry (read at call time,
    so a registered format is a choice at once)."""
    from simlib.toolkit.formats import writers

    return {target: w.file_name for target, w in writers().items()}


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
    files = format_files()
    bad = [p for p in items if p not in files]
    if not items or bad:
        raise argparse.ArgumentTypeError(
            f"'{one_line(text, 40)}': choose from {', '.join(files)} (comma-separated)"
        )
    return items


def add_host_options(
    p: argparse.ArgumentParser, *, chain: bool = True, repeat: bool = False
) -> None:
    """``repeat``: --chain and --host may be given once per host (``simlib forecast``)."""
    many = {"action": "append"} if repeat else {}
    if chain:
        p.add_argument(
            "--chain",
            metavar="[HOST=]PEM" if repeat else "PEM",
            help="the host's chain as PEM/DER, leaf first (no network is used)"
            + ("; repeat per host, paired with --host in order, or HOST=PEM" if repeat else ""),
            **many,
        )
    p.add_argument(
        "--host",
        metavar="HOST",
        help="host name; without --chain its live chain is fetched over TLS"
        + ("; repeat per host" if repeat else ""),
        **many,
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
        help="a PEM bundle of trusted roots: the only ones the live host is verified against "
        "(default: system store), and with simlib's shipped roots those that complete the "
        "path before pins are judged",
    )
    p.add_argument(
        "--timeout",
        type=timeout_seconds,
        default=10.0,
        metavar="S",
        help="TLS connect and handshake timeout in seconds (default 10)",
    )


# ----------------------------------------------------------------------------- helpers


def read_config(path: str, *, platform: str | None = None, host: str | None = None):
    """``(bytes, PinConfig)`` of a config file read once, within bounds: the audit lints the
    bytes (keys the platform ignores) and judges the import of the same bytes."""
    from simlib._files import InputFileError, read_limited
    from simlib.toolkit import ConfigError, parse_config

    try:
        data = read_limited(path)
    except InputFileError as exc:
        raise ConfigError(path, "", f"cannot read file: {exc.reason}") from None
    if host is not None:  # the host a pattern written as an expression stands for
        from simlib._hostnames import check_hostname

        host = check_hostname(host, source="--host")
    return data, parse_config(data, path, platform=platform, host=host)


def today_of(args: argparse.Namespace) -> date:
    return getattr(args, "date", None) or datetime.now(UTC).date()


def chain_and_host(args: argparse.Namespace, command: str):
    """``(host, served chain, anchors)`` from ``--chain`` (file) or ``--host`` (live TLS)."""
    from simlib._hostnames import check_hostname
    from simlib.toolkit import load_chain
    from simlib.toolkit.hostnames import leaf_hostname

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


def _split_pair(text: str) -> tuple[str | None, str]:
    """``HOST=PEM`` → (HOST, PEM); a plain path (even one holding "=") → (None, path)."""
    import os

    host, sep, path = text.partition("=")
    if not sep or not host or not path or os.path.exists(text) or "/" in host:
        return None, text
    return host, path


def chains_and_hosts(args: argparse.Namespace, command: str):
    """``[(host, served chain, anchors), ...]`` from repeated ``--host``/``--chain``: each
    ``--chain HOST=PEM`` names its host; the other chains pair with the ``--host`` values in
    order (one chain alone may name its host by its leaf); a ``--host`` left over is fetched
    live."""
    chains = [_split_pair(c) for c in args.chain or []]
    named = [(h, p) for h, p in chains if h is not None]
    plain = [p for h, p in chains if h is None]
    hosts = list(args.host or [])
    if plain and hosts and len(plain) != len(hosts):
        raise UsageError(
            f"simlib {command}: {len(plain)} --chain and {len(hosts)} --host: give one "
            "--host per --chain (paired in order), or --chain HOST=PEM"
        )
    if len(plain) > 1 and not hosts:
        raise UsageError(
            f"simlib {command}: several --chain files: name each host (--host per --chain, "
            "or --chain HOST=PEM)"
        )
    out = []
    one = argparse.Namespace(**vars(args))
    pairs = [(h, p) for h, p in named]
    if plain:
        pairs += list(zip(hosts or [None], plain, strict=True))
    else:
        pairs += [(h, None) for h in hosts]
    if not pairs:
        raise UsageError(f"simlib {command}: give --chain PEM or --host HOST")
    for host, path in pairs:
        one.host, one.chain = host, path
        out.append(chain_and_host(one, command))
    return out


# ---------------------------------------------------------------------------- commands
