"""Explorer benchmark: one slider change of the quickstart, re-simulated and redrawn, without a browser.

Times N slider changes that cycle through the controls and their values (update speed, certificate
lifetime, key policy, Android share, strategy) on the Agg canvas: ``Explorer.update`` (overrides,
``simulate``, headline numbers, artists moved in place) plus ``fig.canvas.draw()``; the cache is
limited to one entry, so a change re-simulates whenever its overrides differ from the previous
ones (a strategy switch, or ``rotate`` on a host that already rotates, does not). Also times the widget's
path (``update`` + PNG) and a repeated setting (cache hit). Baselines timed in the same run:
``simulate`` alone (``apply_overrides`` + ``simulate`` + summary + timeseries + duration
statistics) and a full figure re-creation per change (new figure, constrained layout, draw).
Target: median and p95 ≤ 250 ms. Run: ``.venv/bin/python benchmarks/bench_explorer.py [--quick]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import simlib  # noqa: E402
from simlib.report.explorer import CONTROLS, Explorer  # noqa: E402

BUDGET_MS = 250.0


def slider_moves(ex: Explorer, n: int) -> list[tuple[str, object]]:
    """``n`` single-control changes, cycling through the controls and through each one's values
    (so consecutive settings always differ)."""
    values = {
        "update_speed": [0.5, 2.0, 1.0, 0.25, 4.0, 1.5],
        "lifetime_days": [47, 60, 200, 30, 120, 90],
        "key_policy": ["reuse", "rotate", None],
        "android_share": [0.2, 0.8, 0.35, 0.65],
        "strategy": ex.strategies,
    }
    cycles = {name: itertools.cycle(values[name]) for name in CONTROLS}
    return [(name, next(cycles[name])) for name in itertools.islice(itertools.cycle(CONTROLS), n)]


def ms(times: list[float]) -> dict:
    a = np.asarray(times) * 1000
    return {
        "median_ms": float(np.median(a)),
        "p95_ms": float(np.percentile(a, 95)),
        "max_ms": float(a.max()),
        "n": len(a),
    }


def timed_moves(ex: Explorer, moves, render) -> tuple[list[float], dict[str, list[float]]]:
    times, by_control = [], {name: [] for name in CONTROLS}
    for name, value in moves:
        t0 = time.perf_counter()
        ex.update(**{name: value})
        render()
        dt = time.perf_counter() - t0
        times.append(dt)
        by_control[name].append(dt)
    return times, by_control


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer changes (smoke check)")
    args = parser.parse_args(argv)
    n = 10 if args.quick else 60
    sc = simlib.default_scenario()

    # warm-up: imports, fonts, the first simulation and the one layout pass
    ex = Explorer(sc, cache_size=1)
    ex.update()
    ex.figure.canvas.draw()
    ex.png()
    moves = slider_moves(ex, n)

    draw_times, by_control = timed_moves(ex, moves, ex.figure.canvas.draw)
    sims_draw = ex.simulations_
    ex_png = Explorer(sc, cache_size=1)
    ex_png.update()
    ex_png.png()
    png_times, _ = timed_moves(ex_png, moves, ex_png.png)

    # a repeated setting: served from the cache, no simulation
    cached = Explorer(sc)
    cached.update(lifetime_days=47)
    cached.figure.canvas.draw()
    before = cached.simulations_
    hit_times, _ = timed_moves(
        cached, [("lifetime_days", 47)] * max(5, n // 4), cached.figure.canvas.draw
    )
    assert cached.simulations_ == before

    # baselines: simulate alone, and re-creating the whole figure at each change
    def simulate_only(overrides: dict) -> None:
        res = simlib.simulate(simlib.apply_overrides(sc, overrides))
        res.summary, res.timeseries, res.duration_stats  # noqa: B018

    def recreate(overrides: dict, name: str, value: object) -> None:
        fresh = Explorer(sc, cache_size=1)
        fresh._baseline = ex._baseline  # the scenario as written is not part of a change
        fresh.update(**{name: value})
        fresh.figure.canvas.draw()

    sim_times, recreate_times = [], []
    probe = Explorer(sc)
    for name, value in moves:
        overrides = probe.overrides(**{name: value})
        probe.settings_ = probe.validate(**{name: value})
        t0 = time.perf_counter()
        simulate_only(probe.overrides())
        sim_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        recreate(overrides, name, value)
        recreate_times.append(time.perf_counter() - t0)

    change, widget = ms(draw_times), ms(png_times)
    sim, fresh = ms(sim_times), ms(recreate_times)
    report = {
        "benchmark": "explorer slider change (quickstart, Agg canvas)",
        "scenario": sc.name,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "matplotlib": matplotlib.__version__,
        "budget_ms": BUDGET_MS,
        "changes": n,
        "simulations": sims_draw,
        "change_and_draw": change,
        "change_and_draw_by_control": {k: ms(v) for k, v in by_control.items() if v},
        "change_and_png": widget,
        "cache_hit_and_draw": ms(hit_times),
        "baseline_simulate_only": sim,
        "baseline_recreate_figure": fresh,
        "ratio_change_vs_simulate": change["median_ms"] / sim["median_ms"],
        "ratio_change_vs_recreate": change["median_ms"] / fresh["median_ms"],
        "within_budget": change["p95_ms"] <= BUDGET_MS and widget["p95_ms"] <= BUDGET_MS,
    }
    out = HERE / "results" / "explorer.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")

    def line(label: str, r: dict) -> str:
        return (
            f"{label:<34} median {r['median_ms']:6.1f} ms, p95 {r['p95_ms']:6.1f} ms (n={r['n']})"
        )

    print(line("slider change + canvas.draw()", change))
    for name, r in report["change_and_draw_by_control"].items():
        print(line(f"  {name}", r))
    print(line("slider change + PNG (widget)", widget))
    print(line("unchanged setting (cache hit)", report["cache_hit_and_draw"]))
    print(line("baseline: simulate only", sim))
    print(line("baseline: re-create the figure", fresh))
    print(
        f"change/simulate {report['ratio_change_vs_simulate']:.2f}×, change/re-create "
        f"{report['ratio_change_vs_recreate']:.2f}×; {sims_draw} simulations for {n} changes; "
        f"budget {BUDGET_MS:.0f} ms (p95): {'met' if report['within_budget'] else 'MISSED'}"
    )
    return report


if __name__ == "__main__":
    main()
