"""Command line: ``simlib run | report | pins | validate | sweep``.

Bad input never shows a traceback: it prints ``error: <file>: <field>: <what is wrong>`` on one
line to stderr, exits with code 2 and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from simlib._version import __version__
from simlib.errors import SimlibError

EXIT_BAD_INPUT = 2


def _load(path: str | None):
    from simlib.model import default_scenario, load_scenario

    return default_scenario() if path is None else load_scenario(path)


def _format_summary(summary) -> str:
    import pandas as pd

    from simlib.results.metrics import display_summary

    with pd.option_context("display.width", 250, "display.max_columns", 40):
        return display_summary(summary).to_string(index=False)


def cmd_run(args: argparse.Namespace) -> int:
    from simlib.api import simulate

    scenario = _load(args.scenario)
    out = Path(args.out or f"results/{scenario.name}")
    formats = tuple(dict.fromkeys(["csv", *args.format]))
    if args.mode == "expected":
        res = simulate(scenario)
        res.summary  # noqa: B018 - compute everything before writing anything
        written = res.write(out, formats)
        if not args.quiet:
            print(f"{scenario.name}: {scenario.start} → {scenario.end}, {scenario.fleet.users:,} users")
            print(_format_summary(res.summary))
    else:
        res = simulate(
            scenario, mode="monte_carlo", replications=args.replications, seed=args.seed,
            progress=not args.quiet,
        )
        written = res.write(out, formats)
        if not args.quiet:
            s = res.summary
            show = s[s["metric"].isin(["locked_user_days", "peak_lockout_rate", "p95_outage_days"])]
            print(show.pivot(index="strategy", columns="metric", values="mean").to_string())
    if not args.quiet:
        print(f"wrote {len(written)} files to {out}/")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from simlib.report.markdown import write_report

    scenario = _load(args.scenario)
    out = Path(args.out or f"results/{scenario.name}")
    paths = write_report(scenario, out)
    if not args.quiet:
        for p in paths:
            print(f"wrote {p}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = _load(args.scenario)
    if args.resolved:
        print(scenario.to_yaml(), end="")
    else:
        print(
            f"{args.scenario or 'quickstart'}: ok — {len(scenario.strategies)} strategies, "
            f"{len(scenario.hosts)} hosts, {scenario.days} days"
        )
    return 0


def cmd_pins(args: argparse.Namespace) -> int:
    from simlib.pki.certs import describe, load_certificates

    items = [item for path in args.files for item in load_certificates(path)]
    for item in items:
        d = describe(item)
        print(d["source"])
        if d.get("subject"):
            print(f"  subject      {d['subject']}")
            print(f"  issuer       {d['issuer']}")
            print(f"  valid        {d['not_before']} → {d['not_after']}")
        print(f"  spki sha256  {d['spki_sha256']}")
        print(f"  okhttp       sha256/{d['spki_sha256']}")
        if d.get("cert_sha256"):
            print(f"  cert sha256  {d['cert_sha256']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simlib", description="Certificate-pinning lockout and coverage simulator."
    )
    parser.add_argument("--version", action="version", version=f"simlib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a scenario and write result files")
    run.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded quickstart)")
    run.add_argument("--out", help="output folder (default: results/<scenario name>)")
    run.add_argument(
        "--format", action="append", default=[], choices=["csv", "parquet"],
        help="also write this format (CSV is always written)",
    )
    run.add_argument("--mode", choices=["expected", "monte-carlo"], default="expected")
    run.add_argument("--replications", type=int, help="Monte Carlo replications")
    run.add_argument("--seed", type=int, help="Monte Carlo root seed (default: scenario seed)")
    run.add_argument("--quiet", action="store_true")
    run.set_defaults(func=cmd_run)

    rep = sub.add_parser("report", help="run a scenario and write the report with figures")
    rep.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded quickstart)")
    rep.add_argument("--out", help="output folder (default: results/<scenario name>)")
    rep.add_argument("--quiet", action="store_true")
    rep.set_defaults(func=cmd_report)

    val = sub.add_parser("validate", help="check a scenario file")
    val.add_argument("scenario", nargs="?")
    val.add_argument("--resolved", action="store_true", help="print the scenario with defaults")
    val.set_defaults(func=cmd_validate)

    pins = sub.add_parser("pins", help="SPKI pins of every certificate or key in PEM/DER files")
    pins.add_argument("files", nargs="+")
    pins.set_defaults(func=cmd_pins)

    try:
        from simlib.cli.sweep import add_parser as add_sweep
    except ImportError:  # pragma: no cover - batch package not installed
        add_sweep = None
    if add_sweep is not None:
        add_sweep(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from simlib.model import ScenarioWarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, ScenarioWarning):
            sys.stdout.flush()
            print(f"warning: {message}", file=sys.stderr, flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", ScenarioWarning)
        warnings.showwarning = show
        try:
            code = args.func(args)
        except SimlibError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = EXIT_BAD_INPUT
        except ValueError as exc:
            # Certificate loaders and pin parsers raise ValueError with a one-line message.
            if type(exc).__module__.startswith("simlib"):
                print(f"error: {exc}", file=sys.stderr)
                code = EXIT_BAD_INPUT
            else:
                raise
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            code = 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
