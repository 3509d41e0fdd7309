"""Command line of the pin toolkit: ``simlib audit | emit | forecast | fleet fit``.

Parsing and printing only: the work is in :mod:`simlib.toolkit`. Bad input is a one-line
``SimlibError`` (exit 2) raised before anything is written; ``audit`` exits 1 when a finding at or
above ``--fail-on`` exists.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from simlib.cli.common import load_input, write_guarded
from simlib.cli.forecast import add_forecast_parsers
from simlib.cli.hosts import (
    EMIT_STRATEGIES,
    add_host_options,
    chain_and_host,
    day_count,
    format_files,
    format_list,
    iso_date,
    read_config,
    today_of,
)
from simlib.errors import escape_controls
from simlib.toolkit import formats


def cmd_audit(args: argparse.Namespace) -> int:
    from simlib.toolkit.audit import audit

    data, config = read_config(args.config, platform=args.platform, host=args.host)
    host, chain, anchors = chain_and_host(args, "audit")
    report = audit(
        config,
        chain,
        host=host,
        today=today_of(args),
        expiring_days=args.expiring_days,
        anchors=anchors,
        ca_file=args.ca_file,
        document=data,
    )
    text = {"table": report.to_table, "json": report.to_json, "sarif": report.to_sarif}
    out = text[args.format](args.fail_on)
    if args.format == "table":  # subjects come from strangers: one escaped line per line
        out = "\n".join(escape_controls(line) for line in out.rstrip("\n").split("\n"))
    print(out)
    return report.outcome(args.fail_on).exit_code  # the verdict the output shows


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
    from simlib.world.catalogue import catalogue

    literal, unresolved = [], []
    real_cas = catalogue().cas
    for b in spec.backup:
        if b.kind == "spki":
            literal.append(b.pin)
        elif b.kind in ("ca", "intermediates") and b.ca in real_cas:
            literal.append(str(b))  # a catalogue CA: emit reads its real certificates
        else:
            unresolved.append(str(b))
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
    from simlib.toolkit.formats import writers

    today = today_of(args)
    if args.expires is not None and args.expires <= today:  # not the audit's fault: say so
        raise EmitError(
            f"--expires {args.expires} is not after today ({today}): the pins would be off "
            "from the first day; give a later date"
        )
    strategy, backups, expires = resolve_strategy(args.strategy, args.scenario, today)
    targets = writers()
    chosen = args.formats or tuple(targets)
    if args.out:  # before any work: the folder, and each file it would replace
        check_output_folder(args.out)
        for fmt in chosen:
            check_output_file(Path(args.out) / targets[fmt].file_name, force=args.force)
    host, chain, anchors = chain_and_host(args, "emit")
    files = emit(
        strategy,
        chain,
        host=host,
        backups=(*backups, *(_backup_arg(b) for b in args.backup)),
        expires=args.expires or expires,
        formats=chosen,
        include_subdomains=args.include_subdomains,
        anchors=anchors,
        today=today,
        ca_file=args.ca_file,
    )
    warnings = {w.rule: w.to_dict() for w in files.warnings}
    for fmt, text in files.items():  # round trip: what we write must pass its own audit
        for platform in targets[fmt].audit_platforms:
            config = parse_config(text.encode(), targets[fmt].file_name, platform=platform)
            report = audit(
                config, chain, host=host, today=today, anchors=anchors, ca_file=args.ca_file
            )
            if not report.passed:
                raise EmitError(f"{fmt}: the emitted config does not pass its own audit for {host}")
            for f in report.findings:  # its warnings are the files' warnings: pass them on
                if f.severity == "warning" and f.rule not in warnings:
                    warnings[f.rule] = {"rule": f.rule, "message": f.message, "formats": [fmt]}
    for w in warnings.values():
        print(escape_controls(f"warning: {w['rule']}: {w['message']}"), file=sys.stderr)
    named = {targets[fmt].file_name: text for fmt, text in files.items()}
    written: list[str] = []
    if args.out:  # all files or none (a full disk is one error line)
        out = Path(args.out)
        data = {name: text.encode("utf-8") for name, text in named.items()}
        written = [str(p) for p in write_guarded(out, lambda: write_files(out, data))]
    if args.json:
        doc = {
            "host": host,
            "strategy": strategy,
            "files": [
                {"format": fmt, "file": targets[fmt].file_name, "text": text}
                for fmt, text in files.items()
            ],
            "written": written,
            "warnings": list(warnings.values()),
        }
        print(json.dumps(doc, indent=2))
    elif args.out:
        for path in written:
            print(f"wrote {escape_controls(path)}")
    else:
        for fmt, text in files.items():
            print(f"# --- {fmt}: {targets[fmt].file_name}")
            print(text, end="")
    return 0


def _backup_arg(value: str):
    """A ``--backup``: a catalogue CA (``ca:NAME``, ``intermediates:NAME``) or a pin stay
    text; an existing file is read as PEM/DER certificates (each one's key is a backup)."""
    from simlib.toolkit import load_chain

    if value.partition(":")[0] in ("ca", "intermediates") or not Path(value).is_file():
        return value
    return tuple(load_chain(value))


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


def add_parsers(sub) -> None:
    """Register ``audit`` and ``emit`` (and the later toolkit commands) on ``sub``."""
    aud = sub.add_parser("audit", help="audit an app's pin config against a host's chain")
    aud.add_argument(
        "config",
        metavar="CONFIG",
        help="the app's pin config; its format is detected: " + ", ".join(formats.REGISTRY),
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
        help=f"whose rules apply: {', '.join(formats.platform_choices())} "
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
        default=None,
        metavar="LIST",
        help=f"comma-separated: {','.join(format_files())} (default all)",
    )
    add_host_options(em)
    em.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="PEM",
        help="a trusted root the server does not send (root_spki needs one unless simlib "
        "ships the root or --ca-file holds it)",
    )
    em.add_argument(
        "--backup",
        action="append",
        default=[],
        metavar="PIN",
        help="a backup: an SPKI pin (base64, sha256/ prefix allowed), a PEM/DER certificate "
        "file, or a CA of simlib's catalogue: ca:NAME (its roots, e.g. ca:letsencrypt) or "
        "intermediates:NAME (those active today); repeatable",
    )
    em.add_argument(
        "--expires",
        type=iso_date,
        metavar="DATE",
        help="pin expiry where the platform has one (NSC, TrustKit); after today",
    )
    em.add_argument(
        "--json",
        action="store_true",
        help="print the files and the warnings as JSON (with --out: what was written)",
    )
    em.add_argument(
        "--include-subdomains",
        action="store_true",
        help="apply the pins to subdomains too (each platform's own rule: iOS covers one "
        "extra label, the others any depth; a warning says so)",
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
    em.add_argument(
        "--date",
        type=iso_date,
        metavar="DATE",
        help="emit as of this date: --expires must be later, intermediates:NAME are those "
        "active then (default: today, UTC)",
    )
    em.set_defaults(func=cmd_emit)

    add_forecast_parsers(sub)
