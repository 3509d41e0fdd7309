"""Command line of the pin toolkit: ``simlib audit | emit | forecast | fleet fit``.

Parsing and printing only: the work is in :mod:`simlib.toolkit`. Bad input is a one-line
``SimlibError`` (exit 2) raised before anything is written; ``audit`` exits 1 when a finding at or
above ``--fail-on`` exists.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path

from simlib.cli.common import UsageError, load_input, positive_int, write_guarded
from simlib.errors import escape_controls, one_line
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


def _users(text: str) -> int:
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


def _today(args: argparse.Namespace) -> date:
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


def cmd_audit(args: argparse.Namespace) -> int:
    from simlib.toolkit.audit import audit
    from simlib.toolkit.loader import load_config

    config = load_config(args.config, platform=args.platform)
    host, chain, anchors = chain_and_host(args, "audit")
    report = audit(
        config,
        chain,
        host=host,
        today=_today(args),
        expiring_days=args.expiring_days,
        anchors=anchors,
    )
    text = {"table": report.to_table, "json": report.to_json, "sarif": report.to_sarif}
    out = text[args.format]()
    if args.format == "table":  # subjects come from strangers: one escaped line per line
        out = "\n".join(escape_controls(line) for line in out.rstrip("\n").split("\n"))
    print(out)
    return report.exit_code(args.fail_on)


def resolve_strategy(name: str, scenario_path: str | None, today: date):
    """``(emit strategy, literal backup pins, expiry)`` for a level name or a scenario strategy."""
    from simlib.toolkit.emit import EmitError

    if name in EMIT_STRATEGIES:
        return name, [], None

    scenario = load_input(scenario_path)
    spec = next((s for s in scenario.strategies if s.name == name), None)
    if spec is None:
        names = ", ".join([*EMIT_STRATEGIES, *(repr(s.name) for s in scenario.strategies)])
        raise EmitError(f"unknown strategy {name!r}; choose one of {names}")
    if spec.pin not in EMIT_STRATEGIES:
        raise EmitError(
            f"strategy {name!r} pins {spec.pin}; emit writes SPKI pins only "
            f"({', '.join(EMIT_STRATEGIES)})"
        )
    literal, unresolved = [], []
    for b in spec.backup:
        (literal if b.kind == "spki" else unresolved).append(b.pin if b.kind == "spki" else str(b))
    if unresolved:
        raise EmitError(
            f"strategy {name!r} has backup {', '.join(unresolved)}, a key only the "
            f"scenario knows: give its real pin with --backup PIN and use {spec.pin}"
        )
    expires = None
    if spec.expires_after_days:
        from datetime import timedelta

        expires = today + timedelta(days=spec.expires_after_days)
    return spec.pin, literal, expires


def cmd_emit(args: argparse.Namespace) -> int:
    from simlib._atomic import write_files
    from simlib._outputs import check_output_file, check_output_folder
    from simlib.toolkit import audit, emit, parse_config
    from simlib.toolkit.emit import EmitError

    today = _today(args)
    strategy, backups, expires = resolve_strategy(args.strategy, args.scenario, today)
    if args.out:  # before any work: the folder, and each file it would replace
        check_output_folder(args.out)
        for fmt in args.formats:
            check_output_file(Path(args.out) / FORMAT_FILES[fmt], force=args.force)
    host, chain, anchors = chain_and_host(args, "emit")
    files = emit(
        strategy,
        chain,
        host=host,
        backups=(*backups, *args.backup),
        expires=args.expires or expires,
        formats=args.formats,
        include_subdomains=args.include_subdomains,
        anchors=anchors,
    )
    for fmt, text in files.items():  # round trip: what we write must pass its own audit
        platforms = ["ios", "android"] if fmt == "trustkit" else [None]
        for platform in platforms:
            config = parse_config(text.encode(), FORMAT_FILES[fmt], platform=platform)
            report = audit(config, chain, host=host, today=today, anchors=anchors)
            if not report.passed:
                raise EmitError(f"{fmt}: the emitted config does not pass its own audit for {host}")
    if args.out:  # all files or none (a full disk is one error line)
        out = Path(args.out)
        named = {FORMAT_FILES[fmt]: text.encode("utf-8") for fmt, text in files.items()}
        for path in write_guarded(out, lambda: write_files(out, named)):
            print(f"wrote {escape_controls(str(path))}")
    else:
        for fmt, text in files.items():
            print(f"# --- {fmt}: {FORMAT_FILES[fmt]}")
            print(text, end="")
    return 0


def pins_live(args: argparse.Namespace) -> list[str]:
    """Output lines of ``simlib pins --host``: every certificate the host presents."""
    import json

    from simlib.pki import cert_pin, spki_pin
    from simlib.toolkit.live import fetch_chain

    live = fetch_chain(args.host, args.port, timeout=args.timeout, ca_file=args.ca_file)
    rows = []
    for i, cert in enumerate(live.served + live.anchors):
        rows.append(
            {
                "index": i,
                "served": i < len(live.served),
                "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
                "not_before": cert.not_valid_before_utc.isoformat(),
                "not_after": cert.not_valid_after_utc.isoformat(),
                "spki_sha256": spki_pin(cert),
                "cert_sha256": cert_pin(cert),
            }
        )
    if args.json:
        return [json.dumps({"host": live.host, "port": live.port, "chain": rows}, indent=2)]
    lines = []
    for r in rows:
        note = "" if r["served"] else "  (trusted root, not served)"
        lines.append(escape_controls(f"{live.host}:{live.port} [{r['index']}]{note}"))
        lines.append(f"  subject      {escape_controls(r['subject'])}")
        lines.append(f"  issuer       {escape_controls(r['issuer'])}")
        lines.append(f"  valid        {r['not_before']} → {r['not_after']}")
        lines.append(f"  spki sha256  {r['spki_sha256']}")
        lines.append(f"  okhttp       sha256/{r['spki_sha256']}")
        lines.append(f"  cert sha256  {r['cert_sha256']}")
    return lines


def read_fleet(path: str) -> dict:
    """The ``fleet:`` mapping of a YAML file (a whole scenario, a ``fleet:`` block or the mapping)."""
    from simlib.errors import ScenarioError
    from simlib.model.loading import read_yaml

    data = read_yaml(path)
    if isinstance(data, dict) and isinstance(data.get("fleet"), dict):
        data = data["fleet"]
    if not isinstance(data, dict) or "adoption" not in data:
        raise ScenarioError(
            path,
            "fleet",
            "expected a fleet mapping with users, "
            "release_every_days and adoption (see simlib fleet fit)",
        )
    return data


def cmd_forecast(args: argparse.Namespace) -> int:
    import pandas as pd

    from simlib.errors import ScenarioError
    from simlib.toolkit.forecast import Shipped, check_dates, forecast
    from simlib.toolkit.loader import load_config

    if args.release_date and len(args.release_date) != len(args.configs):
        raise UsageError("simlib forecast: give one --release-date per CONFIG, in the same order")
    check_dates(_today(args), args.horizon_days)  # before any file is read
    dates = args.release_date or [None] * len(args.configs)
    shipped = [
        Shipped(load_config(c, platform=args.platform), d)
        for c, d in zip(args.configs, dates, strict=True)
    ]
    fleet = read_fleet(args.fleet)
    host, chain, anchors = chain_and_host(args, "forecast")
    today = _today(args)
    try:
        frame = forecast(
            shipped,
            chain,
            host=host,
            fleet=fleet,
            tool=args.tool,
            horizon_days=args.horizon_days,
            today=today,
            anchors=anchors,
        )
    except ScenarioError as exc:
        if not exc.where.startswith("fleet"):
            raise
        # A bad fleet block: name the fleet file, and only for errors in the fleet block.
        raise ScenarioError(args.fleet, exc.where, exc.message) from None
    sc = frame.attrs["scenario"]
    h, ca = sc["hosts"][0], sc["cas"][0]
    renew = (
        f"{h['renew_before_days']} days before expiry"
        if "renew_before_days" in h
        else f"at {h.get('renew_at_fraction', 2 / 3):.0%} of the lifetime"
    )
    print(f"forecast for {host} from {today} to {sc['end']} ({args.tool} defaults on {today})")
    print(
        f"  leaf: {h['validity_days']}-day certificates, renewed {renew}, key "
        f"{'reused' if h['key_policy'] == 'reuse' else 'new at each renewal'}"
    )
    inters = ", ".join(i["name"] for i in ca["intermediates"])
    print(f"  CA: {ca['name']} ({inters}; selection {ca.get('selection', 'fixed')})")
    iss = frame.attrs["issuances"]
    upcoming = [d.date().isoformat() for d in pd.to_datetime(iss["date"]) if d.date() > today][:4]
    print(f"  next renewals: {', '.join(upcoming) or 'none within the horizon'}")
    print()
    print(f"  {'config':<44} {'released':<10} {'pins':<17} {'first break':<11} {'locked then':>11}")
    for r in frame.itertuples():
        first = "-" if pd.isna(r.first_break) else pd.Timestamp(r.first_break).date().isoformat()
        rel = r.release_date.isoformat() if r.release_date else "-"
        name = escape_controls(str(r.config))[-44:]  # escaped before padding keeps columns
        print(f"  {name:<44} {rel:<10} {r.pin:<17} {first:<11} {r.locked_share:>10.1%}")
    return 0


def cmd_fleet_fit(args: argparse.Namespace) -> int:
    import yaml

    from simlib._atomic import atomic_write
    from simlib._outputs import check_output_file
    from simlib.toolkit.fleetfit import fit_csv

    if args.out:  # before any work: never a device, FIFO, folder, link or (without --force) a file
        check_output_file(args.out, force=args.force)
    result = fit_csv(args.csv, max_components=args.max_components)
    block = result.fleet_block(args.users)
    parts = ", ".join(
        f"{w:.1%} τ={t:.1f} d" for w, t in zip(result.weights, result.mean_lag_days, strict=True)
    )
    head = (
        f"# simlib fleet fit {Path(args.csv).name}: {len(result.weights)} component(s) "
        f"[{parts}], never update {result.never_update_share:.1%}, "
        f"RMSE {result.rmse:.4f} over {result.points} points"
    )
    text = escape_controls(head) + "\n" + yaml.safe_dump({"fleet": block}, sort_keys=False)
    if args.out:
        write_guarded(Path(args.out), lambda: atomic_write(args.out, text.encode("utf-8")))
        print(escape_controls(head.lstrip("# ")))
        print(f"wrote {escape_controls(args.out)}")
    else:
        print(text, end="")
    return 0


# ------------------------------------------------------------------------------ parser


def add_parsers(sub) -> None:
    """Register ``audit`` and ``emit`` (and the later toolkit commands) on ``sub``."""
    aud = sub.add_parser("audit", help="audit an app's pin config against a host's chain")
    aud.add_argument(
        "config",
        metavar="CONFIG",
        help="network_security_config.xml, Info.plist, TrustKit JSON or OkHttp pins",
    )
    add_host_options(aud)
    aud.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="PEM",
        help="a trusted root the server does not send (lets root pins match)",
    )
    aud.add_argument(
        "--platform",
        metavar="NAME",
        help="whose rules apply: android, ios, trustkit, trustkit-android, trustkit-ios "
        "(default: every platform the file targets)",
    )
    aud.add_argument(
        "--format",
        choices=["table", "json", "sarif"],
        default="table",
        help="output format (default table)",
    )
    aud.add_argument(
        "--fail-on",
        choices=["error", "warning", "info", "none"],
        default="error",
        help="exit 1 when a finding at or above this severity exists (default error)",
    )
    aud.add_argument(
        "--expiring-days",
        type=day_count,
        default=30,
        metavar="N",
        help="warn when a pin-set expires within N days (default 30)",
    )
    aud.add_argument(
        "--date", type=iso_date, metavar="DATE", help="audit as of this date (default: today, UTC)"
    )
    aud.set_defaults(func=cmd_audit)

    em = sub.add_parser("emit", help="write the pin configs a strategy implies, for each platform")
    em.add_argument(
        "--strategy",
        required=True,
        metavar="NAME",
        help="leaf_spki, intermediate_spki, root_spki, or a strategy name of --scenario",
    )
    em.add_argument(
        "--scenario",
        metavar="YAML",
        help="scenario whose strategy names --strategy may use (default: quickstart)",
    )
    em.add_argument(
        "--for",
        dest="formats",
        type=format_list,
        default=tuple(FORMAT_FILES),
        metavar="LIST",
        help="comma-separated: android,ios,okhttp,trustkit (default all)",
    )
    add_host_options(em)
    em.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="PEM",
        help="a trusted root the server does not send (needed for root_spki)",
    )
    em.add_argument(
        "--backup",
        action="append",
        default=[],
        metavar="PIN",
        help="a backup SPKI pin (base64, sha256/ prefix allowed); repeatable",
    )
    em.add_argument(
        "--expires",
        type=iso_date,
        metavar="DATE",
        help="pin expiry where the platform has one (NSC, TrustKit)",
    )
    em.add_argument(
        "--include-subdomains",
        action="store_true",
        help="apply the pins to subdomains too (each platform's own rule)",
    )
    em.add_argument(
        "--out",
        metavar="DIR",
        help="write one file per format here (default: print); never a symbolic link",
    )
    em.add_argument(
        "--force",
        action="store_true",
        help="replace config files already in --out (otherwise they are refused)",
    )
    em.set_defaults(func=cmd_emit, date=None)

    fc = sub.add_parser("forecast", help="when shipped pin configs will lock users out")
    fc.add_argument(
        "configs",
        nargs="+",
        metavar="CONFIG",
        help="the pin config of each shipped release (oldest first)",
    )
    add_host_options(fc)
    fc.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="PEM",
        help="a trusted root the server does not send (lets root pins match)",
    )
    fc.add_argument(
        "--release-date",
        action="append",
        type=iso_date,
        metavar="DATE",
        help="release date of each CONFIG, in order (repeat once per CONFIG)",
    )
    fc.add_argument(
        "--fleet",
        required=True,
        metavar="YAML",
        help="fleet block (users, release_every_days, adoption), e.g. from simlib fleet fit",
    )
    fc.add_argument(
        "--tool",
        choices=["certbot", "cert-manager", "caddy", "acm"],
        default="certbot",
        help="the host's certificate tool: its renewal and key-reuse defaults apply",
    )
    fc.add_argument(
        "--horizon-days",
        type=day_count,
        default=730,
        metavar="N",
        help="days to forecast from today (default 730)",
    )
    fc.add_argument(
        "--platform",
        metavar="NAME",
        help="whose rules apply where a file serves several (as for audit)",
    )
    fc.add_argument(
        "--date",
        type=iso_date,
        metavar="DATE",
        help="forecast from this date (default: today, UTC)",
    )
    fc.set_defaults(func=cmd_forecast)

    fl = sub.add_parser("fleet", help="fleet tools: fit the adoption curve to your data")
    fsub = fl.add_subparsers(
        dest="fleet_command",
        required=True,
        metavar="COMMAND",
        help="fit: fit the adoption curve to a version-share CSV",
    )
    ff = fsub.add_parser("fit", help="fit the adoption mixture to a version-share CSV")
    ff.add_argument("csv", metavar="CSV", help="columns date, version, share[, release_date]")
    ff.add_argument(
        "--out",
        metavar="YAML",
        help="write the fleet block to this new file (default: print); never a device, "
        "FIFO, folder or symbolic link",
    )
    ff.add_argument("--force", action="store_true", help="replace --out if it is an existing file")
    ff.add_argument(
        "--users",
        type=_users,
        default=100_000,
        metavar="N",
        help="users in the fleet block (default 100000)",
    )
    ff.add_argument(
        "--max-components",
        type=int,
        choices=[1, 2, 3],
        default=3,
        help="most exponential components to try (default 3; chosen by error)",
    )
    ff.set_defaults(func=cmd_fleet_fit)
