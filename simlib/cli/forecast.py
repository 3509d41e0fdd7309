"""Command line of ``simlib forecast`` and ``simlib fleet fit``: parsing and printing only (the
work is in :mod:`simlib.toolkit.forecast` and :mod:`simlib.toolkit.fleetfit`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simlib.cli.common import LazyChoices, UsageError, tool_names, write_guarded
from simlib.cli.hosts import add_host_options, day_count, iso_date, today_of, user_count
from simlib.errors import escape_controls


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


def _host_lines(frame, host: str, today) -> list[str]:
    """What the forecast assumed for one host, from the resolved scenario (the truth simulated)."""
    import pandas as pd

    sc = frame.attrs["resolved"]
    name = frame.attrs["hosts"][host]
    h = next(x for x in sc.hosts if x.name == name)
    ca = next(c for c in sc.cas if c.name == h.ca)
    renew = (
        f"{h.renew_before_days} days before expiry"
        if h.renew_before_days is not None
        else f"at {h.renew_at_fraction or 2 / 3:.0%} of the lifetime"
    )
    days = h.validity_days or ca.validity_days
    steps = (
        ""
        if h.validity_days
        else "".join(f", {s.days} from {s.from_}" for s in ca.validity_schedule)
    )
    key = "reused" if h.key_policy == "reuse" else "new at each renewal"
    changes = "".join(
        f"; from {s.from_}: "
        + ", ".join(
            f"{k} {v}" for k, v in s.model_dump(exclude={"from_"}, exclude_none=True).items()
        )
        for s in h.policy_schedule
    )
    inters = ", ".join(i.name for i in ca.intermediates) or f"{ca.name} Int 1"
    if frame.attrs.get("direct", {}).get(host):  # the modelled intermediate is not the chain's
        inters = "no intermediate"
    iss = frame.attrs["issuances"]
    mine = iss[iss["host"] == name]
    upcoming = [d.date().isoformat() for d in pd.to_datetime(mine["date"]) if d.date() > today][:4]
    return [
        f"  {escape_controls(host)}: {days}-day certificates{steps}, renewed {renew}, "
        f"key {key}{changes}",
        f"    CA: {escape_controls(ca.name)} ({escape_controls(inters)}; selection "
        f"{ca.selection}) — {escape_controls(frame.attrs['notes'][host])}",
        f"    next renewals: {', '.join(upcoming) or 'none within the horizon'}",
    ]


def clip_left(text: str, width: int) -> str:
    """``text`` in ``width`` characters, cut from the left with "…" (at a "/" when the file
    name still fits): the end of a path is what tells configs apart."""
    if len(text) <= width:
        return text
    tail = text[len(text) - width + 1 :]
    cut = tail.find("/")
    return "…" + (tail[cut:] if cut > 0 else tail)


def cmd_forecast(args: argparse.Namespace) -> int:
    import pandas as pd

    from simlib.cli.hosts import chains_and_hosts
    from simlib.errors import ScenarioError
    from simlib.toolkit.forecast import Shipped, check_dates, forecast
    from simlib.toolkit.loader import load_config

    if args.release_date and len(args.release_date) != len(args.configs):
        raise UsageError("simlib forecast: give one --release-date per CONFIG, in the same order")
    check_dates(today_of(args), args.horizon_days)  # before any file is read
    dates = args.release_date or [None] * len(args.configs)
    shipped = [
        Shipped(load_config(c, platform=args.platform), d)
        for c, d in zip(args.configs, dates, strict=True)
    ]
    fleet = read_fleet(args.fleet)
    observed = chains_and_hosts(args, "forecast")
    hosts = [h for h, _chain, _anchors in observed]
    if len({h.lower() for h in hosts}) != len(hosts):
        raise UsageError("simlib forecast: a host is given twice")
    anchors = [a for _h, _c, extra in observed for a in extra]
    today = today_of(args)
    try:
        frame = forecast(
            shipped,
            {h: chain for h, chain, _anchors in observed},
            fleet=fleet,
            tool=args.tool,
            horizon_days=args.horizon_days,
            today=today,
            anchors=anchors,
            ca_file=args.ca_file,
        )
    except ScenarioError as exc:
        if not exc.where.startswith("fleet"):
            raise
        # A bad fleet block: name the fleet file, and only for errors in the fleet block.
        raise ScenarioError(args.fleet, exc.where, exc.message) from None
    for warning in frame.attrs["warnings"]:  # what audit would flag in a shipped config
        print(f"warning: {escape_controls(warning)}", file=sys.stderr)
    end = frame.attrs["scenario"]["end"]
    print(f"forecast from {today} to {end} ({args.tool} defaults)")
    for host in hosts:
        print("\n".join(_host_lines(frame, host, today)))
    print()
    several = len(hosts) > 1 or frame["platform"].nunique() > 1
    print(
        f"  {'config':<40} "
        + (f"{'host (platform)':<34} " if several else "")
        + f"{'released':<10} {'pins':<20} {'first break':<11} {'locked then':>11}"
    )
    for r in frame.itertuples():
        first = "-" if pd.isna(r.first_break) else pd.Timestamp(r.first_break).date().isoformat()
        rel = r.release_date.isoformat() if r.release_date else "-"
        name = clip_left(escape_controls(str(r.config)), 40)  # escaped before padding
        pins = r.levels or r.pin
        at = clip_left(escape_controls(f"{r.host} ({r.platform})"), 34) if several else ""
        cols = f"  {name:<40} " + (f"{at:<34} " if several else "")
        print(f"{cols}{rel:<10} {pins:<20} {first:<11} {r.locked_share:>10.1%}")
    return 0


def cmd_fleet_fit(args: argparse.Namespace) -> int:
    import yaml

    from simlib._atomic import atomic_write
    from simlib._outputs import check_output_file
    from simlib.toolkit.fleetfit import fit_csv

    if args.out:  # before any work: never a device, FIFO, folder, link or (without --force) a file
        check_output_file(args.out, force=args.force)
    result = fit_csv(
        args.csv,
        max_components=args.max_components,
        releases=getattr(args, "releases", None),
        percent=True if getattr(args, "percent", False) else None,
    )
    for warning in result.warnings:  # on stderr: the fleet block on stdout stays clean YAML
        print(f"warning: {escape_controls(warning)}", file=sys.stderr)
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


def add_forecast_parsers(sub) -> None:
    """``simlib forecast`` and ``simlib fleet fit``."""
    fc = sub.add_parser("forecast", help="when shipped pin configs will lock users out")
    fc.add_argument(
        "configs",
        nargs="+",
        metavar="CONFIG",
        help="the pin config of each shipped release (oldest first)",
    )
    add_host_options(fc, repeat=True)
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
        choices=LazyChoices(tool_names),  # read on use: startup loads no world data
        metavar="TOOL",
        default="certbot",
        help="the host's certificate tool (%(choices)s): its renewal and key-reuse defaults apply",
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
        "--releases",
        metavar="CSV",
        help="each version's release date (columns version, release_date); without them "
        "(or a release_date column) a release is the first date a version appears",
    )
    ff.add_argument(
        "--percent",
        action="store_true",
        help="shares are percentages (0-100 per version, about 100 per date); "
        "detected when unambiguous",
    )
    ff.add_argument(
        "--out",
        metavar="YAML",
        help="write the fleet block to this new file (default: print); never a device, "
        "FIFO, folder or symbolic link",
    )
    ff.add_argument("--force", action="store_true", help="replace --out if it is an existing file")
    ff.add_argument(
        "--users",
        type=user_count,
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
