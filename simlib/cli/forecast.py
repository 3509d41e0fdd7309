"""Command line of ``simlib forecast`` and ``simlib fleet fit``: parsing and printing only (the
work is in :mod:`simlib.toolkit.forecast` and :mod:`simlib.toolkit.fleetfit`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from simlib.cli.common import UsageError, write_guarded
from simlib.cli.hosts import chain_and_host, today_of
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


def cmd_forecast(args: argparse.Namespace) -> int:
    import pandas as pd

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
    host, chain, anchors = chain_and_host(args, "forecast")
    today = today_of(args)
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
