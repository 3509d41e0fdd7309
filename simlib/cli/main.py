"""Command line: ``simlib run | report | pins | validate | sweep``.

Bad input never shows a traceback: it prints ``error: <file>: <field>: <what is wrong>`` on one
line to stderr, exits with code 2 and writes nothing. One handler in :func:`main` does this for
every :class:`~simlib.errors.SimlibError`; argument errors use the same one-line form.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from pathlib import Path
from typing import NoReturn

from simlib._version import __version__
from simlib.cli.common import UsageError, positive_int
from simlib.cli.common import load_input as _load
from simlib.cli.common import write_guarded as _write
from simlib.errors import (
    ScenarioError,
    ScenarioWarning,
    SimlibError,
    escape_controls,
    one_line,
)

EXIT_BAD_INPUT = 2
#: Exit status after the reader of our output went away (``simlib pins … | head``): 128 + SIGPIPE.
EXIT_BROKEN_PIPE = 141
MAX_SEED = 2**63 - 1


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one ``error:`` line (no usage dump) raised to :func:`main`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


# ------------------------------------------------------------------------ argument types


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{one_line(text, 40)}' is not a whole number") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError("must be between 0 and 2^63 - 1")
    return value


def mode_name(text: str) -> str:
    """``expected``, ``monte_carlo`` or ``monte-carlo`` (the API and sweep-file spellings)."""
    value = text.strip().lower().replace("-", "_")
    if value not in ("expected", "monte_carlo"):
        raise argparse.ArgumentTypeError(
            f"'{one_line(text, 40)}' is not a mode (expected, monte-carlo or monte_carlo)"
        )
    return value


# ----------------------------------------------------------------------------- helpers


def folder_name(name: str) -> str:
    """A scenario name as one safe folder name: never a path, never outside ``results/``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:80]
    return slug or "scenario"


def output_folder(out: str | None, scenario, force: bool = False) -> Path:
    """``--out`` as given, else ``results/<folder_name(scenario.name)>``; checked before any work
    by :func:`simlib._outputs.check_results_folder` (never a link, never another scenario's
    results unless ``force``)."""
    from simlib._outputs import check_no_links, check_results_folder

    if out:
        path = Path(out)
    else:
        # nobody typed ``results``: a link planted there (say in a cloned repository) must not
        # send the results elsewhere
        check_no_links(".", ["results"])
        path = Path("results") / folder_name(scenario.name)
    return check_results_folder(path, scenario.name, force=force)


def check_writable(path: Path) -> None:
    """Refuse an output folder that is a link, not a folder, or cannot be written, before any work
    (:func:`simlib._outputs.check_output_folder`)."""
    from simlib._outputs import check_output_folder

    check_output_folder(path)


def _format_summary(summary) -> str:
    import pandas as pd

    from simlib.results.metrics import display_summary

    with pd.option_context("display.width", 250, "display.max_columns", 40):
        return display_summary(summary).to_string(index=False)


# ---------------------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    from simlib.api import simulate
    from simlib.model.budget import budget_problem

    scenario = _load(args.scenario, getattr(args, "preset", None))
    out = output_folder(args.out, scenario, args.force)
    formats = tuple(dict.fromkeys(["csv", *args.format]))
    if args.mode == "expected":
        res = simulate(scenario)
        res.summary  # noqa: B018 - compute everything before writing anything
        written = _write(out, lambda: res.write(out, formats), scenario.name)
        if not args.quiet:
            # names come from the scenario file: escaped before pandas pads the columns
            print(
                f"{escape_controls(scenario.name)}: {scenario.start} → {scenario.end}, "
                f"{scenario.fleet.users:,} users"
            )
            print(
                _format_summary(
                    res.summary.assign(
                        strategy=res.summary["strategy"].astype(str).map(escape_controls)
                    )
                )
            )
    else:
        reps = args.replications or scenario.monte_carlo.replications
        problem = budget_problem(scenario, reps)
        if problem is not None:
            raise ScenarioError(scenario.source, *problem)
        res = simulate(
            scenario,
            mode="monte_carlo",
            replications=reps,
            seed=args.seed,
            progress=not args.quiet,
        )
        written = _write(out, lambda: res.write(out, formats), scenario.name)
        if not args.quiet:
            from simlib.cli.terminal import mc_table

            print(f"{escape_controls(scenario.name)}: {reps:,} replications, means")
            print(mc_table(res.summary))
    if not args.quiet:
        print(f"wrote {len(written)} files to {escape_controls(str(out))}/")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    preset = getattr(args, "preset", None)
    scenario = _load(args.scenario, preset)
    out = output_folder(args.out, scenario, args.force)  # refused before the heavy imports
    from simlib.report.render import write_report

    paths = _write(
        out, lambda: write_report(scenario, out, preset=preset, pdf=args.pdf), scenario.name
    )
    if not args.quiet:
        for p in paths:
            print(f"wrote {escape_controls(str(p))}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = _load(args.scenario)
    if args.resolved:
        from simlib.cli.terminal import escaped_yaml, has_controls

        text = scenario.to_yaml()
        if has_controls(text):  # a name with bidi or separator characters: escaped, still YAML
            text = escaped_yaml(scenario.to_dict())
        print(text, end="")
    else:
        print(
            f"{escape_controls(args.scenario or 'quickstart')}: ok — {len(scenario.strategies)} "
            f"strategies, {len(scenario.hosts)} hosts, {scenario.days} days"
        )
    return 0


def cmd_pins(args: argparse.Namespace) -> int:
    from simlib.pki.loading import describe, load_certificates

    lines: list[str] = []
    live = args.host is not None  # an empty --host is a bad host name, not a missing option
    if live or not args.files:
        if not live or args.files:
            raise UsageError("simlib pins: give FILE ... or --host HOST" + ", not both" * live)
        from simlib.cli.toolkit import pins_live

        lines = pins_live(args)
    items = [item for path in args.files for item in load_certificates(path)]
    for item in items:
        d = describe(item)
        # Subjects and file names come from strangers: escape control characters so a CN with a
        # newline or a terminal escape cannot forge output lines.
        lines.append(escape_controls(d["source"]))
        if d.get("subject"):
            lines.append(f"  subject      {escape_controls(d['subject'])}")
            lines.append(f"  issuer       {escape_controls(d['issuer'])}")
            lines.append(f"  valid        {d['not_before']} → {d['not_after']}")
        lines.append(f"  spki sha256  {d['spki_sha256']}")
        lines.append(f"  okhttp       sha256/{d['spki_sha256']}")
        if d.get("cert_sha256"):
            lines.append(f"  cert sha256  {d['cert_sha256']}")
    for line in lines:
        print(line)
    return 0


# ------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="simlib", description="Certificate-pinning lockout and coverage simulator."
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"simlib {__version__}",
        help="print the version and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate a scenario and write result files")
    run.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded quickstart)")
    run.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default: results/<scenario name as a folder name>); "
        "never a symbolic link",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="replace results in a folder that holds another scenario's results or files simlib "
        "did not write (re-running a scenario into its own folder never needs it)",
    )
    run.add_argument(
        "--format",
        action="append",
        default=[],
        choices=["csv", "parquet"],
        help="also write this format (CSV is always written)",
    )
    run.add_argument(
        "--mode",
        type=mode_name,
        default="expected",
        metavar="MODE",
        help="expected (exact, default) or monte-carlo (also spelled monte_carlo)",
    )
    run.add_argument(
        "--replications",
        type=positive_int,
        metavar="N",
        help="Monte Carlo replications, 1 to 1,000,000 (needs --mode monte-carlo; "
        "default: the scenario's monte_carlo.replications)",
    )
    run.add_argument(
        "--seed",
        type=seed_int,
        metavar="N",
        help="Monte Carlo root seed (needs --mode monte-carlo; default: scenario seed)",
    )
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.set_defaults(func=cmd_run)

    rep = sub.add_parser(
        "report",
        help="run a scenario and write the decision report (HTML, optional PDF) and results",
    )
    rep.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded quickstart)")
    rep.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default: results/<scenario name as a folder name>); "
        "never a symbolic link",
    )
    rep.add_argument(
        "--force",
        action="store_true",
        help="replace results in a folder that holds another scenario's results or files simlib "
        "did not write (re-running a scenario into its own folder never needs it)",
    )
    rep.add_argument(
        "--pdf",
        action="store_true",
        help="also print report.pdf with headless Chromium (apt install chromium)",
    )
    rep.add_argument("--quiet", action="store_true", help="print nothing but errors")
    rep.set_defaults(func=cmd_report)

    val = sub.add_parser("validate", help="check a scenario file")
    val.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded quickstart)")
    val.add_argument("--resolved", action="store_true", help="print the scenario with defaults")
    val.set_defaults(func=cmd_validate)

    pins = sub.add_parser("pins", help="SPKI pins of every certificate or key in PEM/DER files")
    pins.add_argument("files", nargs="*", metavar="FILE", help="PEM bundle or DER certificate/key")
    from simlib.cli import toolkit as toolkit_cli

    toolkit_cli.add_host_options(pins, chain=False)
    pins.add_argument("--json", action="store_true", help="with --host: print the chain as JSON")
    pins.set_defaults(func=cmd_pins)

    try:
        from simlib.cli.sweep import add_parser as add_sweep
    except ImportError:  # pragma: no cover - batch package not installed
        add_sweep = None
    if add_sweep is not None:
        add_sweep(sub)
    toolkit_cli.add_parsers(sub)
    from simlib.cli import world as world_cli

    world_cli.add_parsers(sub)
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse and cross-check arguments; every problem is a one-line :class:`UsageError`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) == "run" and args.mode != "monte_carlo":
        for option in ("replications", "seed"):
            if getattr(args, option) is not None:
                raise UsageError(
                    f"simlib run: --{option} applies to Monte Carlo only: add --mode monte-carlo"
                )
    return args


def _silence_stdout() -> None:
    # The reader is gone: point stdout at /dev/null so the interpreter's final flush is quiet.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input, 130 interrupted)."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, ScenarioWarning):
            sys.stdout.flush()
            print(f"warning: {one_line(message)}", file=sys.stderr, flush=True)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", ScenarioWarning)
            warnings.showwarning = show
            try:
                args = parse_args(argv)
                code = args.func(args)
                sys.stdout.flush()
            except SystemExit as exc:  # --help and --version
                code = exc.code if isinstance(exc.code, int) else 0
            except SimlibError as exc:
                sys.stdout.flush()
                print(f"error: {one_line(exc)}", file=sys.stderr)
                code = EXIT_BAD_INPUT
            except KeyboardInterrupt:
                print("interrupted", file=sys.stderr)
                code = 130
    except BrokenPipeError:
        _silence_stdout()
        code = EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
