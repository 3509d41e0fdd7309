"""Issue 6 §2 targets for expected mode, each as a ratio measured in one run.

* **floor**: ``simulate`` of the 5-year benchmark (``five-years-three-hosts.yaml``) against a
  plain-numpy evaluation of the same (strategy × client × column) × version × day cube: users per
  version (V, T) times 0/1 verdicts, summed over versions — target ≤ 10×;
* **run vs simulate**: ``simlib run`` of it in this process (durations, issuances with real pins,
  every file written) against ``simulate`` + summary — target ≤ 3×; and the same for every
  shipped example (``data/scenarios/*.yaml``) with the key memo cleared before each run, so every
  run derives its keys as a fresh process does (bank: RSA leaves), wall clock and CPU time;
* **small floor**: the benchmark cut to 6 strategies and 2 hosts, ``simulate`` + summary against
  one numpy pass over its (strategy × host × client) × version × day cube — target ≤ 10×;
* **horizon**: time and peak traced memory of ``simulate`` + summary at 5, 10, 20 and 40 years,
  on the benchmark scenario and on a *stationary* variant (the same hosts from 2030 on, when the
  47-day cap is already in force, so every year holds the same certificate changes; the
  benchmark scenario itself issues 6.9× more certificates in 20 years than in 5 because the caps
  shrink) — target 20y/5y ≤ 5×;
* **import**: ``import simlib`` and ``simlib --help`` in fresh interpreters — target ≤ 0.2 s;
* **interactive**: ``apply_overrides`` + ``simulate`` + summary + timeseries of the quickstart
  after one parameter change — target ≤ 30 ms.

Run: ``.venv/bin/python benchmarks/bench_scaling.py [--quick]``; writes
``benchmarks/results/scaling.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402

import simlib  # noqa: E402
from simlib.errors import ScenarioWarning  # noqa: E402

SCENARIO = HERE.parent / "data" / "scenarios" / "five-years-three-hosts.yaml"
EXAMPLES = sorted((HERE.parent / "data" / "scenarios").glob("*.yaml"))


def median_time(fn, repeats: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def simulate_and_summarise(sc):
    res = simlib.simulate(sc)
    res.summary  # noqa: B018
    return res


def floor_cube(sc, repeats: int) -> float:
    """The same cube in plain numpy: (V, T) users × (V, T) 0/1 verdicts, summed over versions."""
    res = simulate_and_summarise(sc)
    sim = res.simulation
    run = next(iter(res.runs.values()))
    x = run.counts[sim.clients[0].name].table()  # users on each version, (V, T)
    V, T = x.shape
    columns = len(sim.strategies) * len(sim.clients) * (2 + len(sim.attack_labels))
    rng = np.random.default_rng(0)
    verdicts = [rng.random((V, T)) < 0.5 for _ in range(4)]

    def cube():
        for q in range(columns):
            (x * verdicts[q % 4]).sum(axis=0)

    return median_time(cube, repeats)


def small_case(sc):
    """The benchmark with its first 6 strategies and first 2 hosts (the issue-14 small case)."""
    from simlib.model.loading import read_yaml, scenario_from_dict

    data = read_yaml(SCENARIO)
    data["strategies"] = data["strategies"][:6]
    data["hosts"] = data["hosts"][:2]
    return scenario_from_dict(data, source=str(SCENARIO))


def one_pass_floor(sc, repeats: int) -> float:
    """One numpy pass over the (strategy × host × client) × version × day cube: users per
    version (V, T) times a 0/1 verdict, summed over versions, once per (strategy, host, client)."""
    res = simulate_and_summarise(sc)
    sim = res.simulation
    run = next(iter(res.runs.values()))
    x = run.counts[sim.clients[0].name].table()
    V, T = x.shape
    columns = len(sim.strategies) * len(sc.hosts) * len(sim.clients)
    rng = np.random.default_rng(0)
    verdicts = [rng.random((V, T)) < 0.5 for _ in range(4)]

    def cube():
        for q in range(columns):
            (x * verdicts[q % 4]).sum(axis=0)

    return median_time(cube, repeats, time.process_time)


def examples_run_vs_simulate(repeats: int) -> list[dict]:
    """``simlib run`` of each shipped example against its ``simulate`` + summary, keys cold."""
    from simlib.cli.main import main as cli
    from simlib.pki.keys import derive_private_key

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in EXAMPLES:
            sc = simlib.load_scenario(path)
            simulate_and_summarise(sc)

            def run(path=path):
                derive_private_key.cache_clear()  # as in a fresh process
                cli(["run", str(path), "--out", f"{tmp}/{path.stem}", "--quiet"])

            run()
            row: dict = {
                "example": path.stem,
                "issuances": len(simlib.simulate(sc).calendar.issuances),
            }
            for clock, label in ((time.perf_counter, "wall"), (time.process_time, "cpu")):
                t_sim = median_time(lambda sc=sc: simulate_and_summarise(sc), repeats, clock)
                t_run = median_time(run, repeats, clock)
                row[f"{label}_simulate_s"], row[f"{label}_run_s"] = t_sim, t_run
                row[f"{label}_ratio"] = t_run / t_sim
            row["cpu_parts_s"] = run_parts(path, max(5, repeats))
            rows.append(row)
    return rows


def run_parts(path: Path, repeats: int) -> dict[str, float]:
    """CPU time of each step ``simlib run`` takes, median of ``repeats`` fresh runs (keys cold):
    what the ratio above is made of, and so where its fixed cost lives."""
    from simlib.cli.common import load_input
    from simlib.cli.main import parse_args
    from simlib.pki.keys import derive_private_key
    from simlib.results.io import write_results

    laps: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            derive_private_key.cache_clear()
            t0 = time.process_time()

            def lap(name: str) -> None:
                nonlocal t0
                now = time.process_time()
                laps.setdefault(name, []).append(now - t0)
                t0 = now

            parse_args(["run", str(path), "--out", tmp, "--quiet"])
            lap("parse_args")
            sc = load_input(str(path))
            lap("load")
            res = simulate_and_summarise(sc)
            lap("simulate_summary")
            tables = {}
            for name in ("timeseries", "duration_stats", "issuances", "releases"):
                tables[name] = getattr(res, name)
                lap(name)
            text = sc.to_yaml()
            lap("to_yaml")
            write_results(tmp, {"summary": res.summary, **tables}, ("csv",), text)
            lap("write_results")
    return {name: statistics.median(times) for name, times in laps.items()}


def horizon(sc, years: int, start_year: int):
    end = f"{start_year + years - 1}-12-31"
    variant = simlib.apply_overrides(sc, {"start": f"{start_year}-01-01", "end": end})
    simulate_and_summarise(variant).issuances  # noqa: B018 - certificates built once
    return variant


def fresh_process_seconds(code: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(code, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no 40-year horizon")
    args = parser.parse_args(argv)
    reps = 3 if args.quick else 9
    warnings.simplefilter("ignore", ScenarioWarning)
    base = simlib.load_scenario(SCENARIO)
    report: dict = {"python": platform.python_version(), "machine": platform.machine()}

    # floor and run vs simulate (5-year benchmark)
    simulate_and_summarise(base).issuances  # noqa: B018
    t_sim = median_time(lambda: simulate_and_summarise(base), reps)
    t_floor = floor_cube(base, reps)
    from simlib.cli.main import main as cli

    with tempfile.TemporaryDirectory() as tmp:
        t_run = median_time(
            lambda: cli(["run", str(SCENARIO), "--out", tmp, "--quiet"]), max(3, reps // 3)
        )
    report["floor"] = {
        "simulate_s": t_sim,
        "floor_s": t_floor,
        "ratio": t_sim / t_floor,
        "target": 10,
    }
    report["run_vs_simulate"] = {
        "run_s": t_run,
        "simulate_s": t_sim,
        "ratio": t_run / t_sim,
        "target": 3,
    }
    report["examples_run_vs_simulate"] = {
        "rows": examples_run_vs_simulate(max(3, reps // 3)),
        "target": 3,
    }
    small = small_case(base)
    simulate_and_summarise(small).issuances  # noqa: B018
    t_small = median_time(lambda: simulate_and_summarise(small), 3 * reps, time.process_time)
    t_pass = one_pass_floor(small, 3 * reps)
    report["small_floor"] = {
        "simulate_cpu_s": t_small,
        "one_pass_cpu_s": t_pass,
        "ratio": t_small / t_pass,
        "target": 10,
    }

    # horizon scaling
    years = [5, 10, 20] if args.quick else [5, 10, 20, 40]
    for label, start in (("benchmark", 2026), ("stationary", 2030)):
        rows = []
        for y in years:
            v = horizon(base, y, start)
            rows.append(
                {
                    "years": y,
                    "seconds": median_time(
                        lambda v=v: simulate_and_summarise(v), max(3, reps // 3)
                    ),
                    "peak_mib": peak_mib(lambda v=v: simulate_and_summarise(v)),
                    "issuances": len(simlib.simulate(v).calendar.issuances),
                }
            )
        by = {r["years"]: r for r in rows}
        report[f"horizon_{label}"] = {
            "rows": rows,
            "time_20y_over_5y": by[20]["seconds"] / by[5]["seconds"],
            "memory_20y_over_5y": by[20]["peak_mib"] / by[5]["peak_mib"],
            "issuances_20y_over_5y": by[20]["issuances"] / by[5]["issuances"],
            "target": 5,
        }

    # import and --help
    py = sys.executable
    simlib_cli = str(Path(py).with_name("simlib"))
    report["import_s"] = fresh_process_seconds([py, "-c", "import simlib"], reps)
    report["help_s"] = fresh_process_seconds([simlib_cli, "--help"], reps)
    report["python_start_s"] = fresh_process_seconds([py, "-c", "pass"], reps)

    # interactive: one parameter change of the quickstart
    quick = simlib.default_scenario()
    res = simlib.simulate(quick)
    res.summary, res.timeseries  # noqa: B018
    lags = iter(np.linspace(10, 60, 1000))

    def slider():
        v = simlib.apply_overrides(
            quick, {"fleet.adoption.components[1].mean_lag_days": float(next(lags))}
        )
        r = simlib.simulate(v)
        r.summary, r.timeseries  # noqa: B018

    report["interactive_s"] = median_time(slider, 3 * reps)

    out = HERE / "results" / "scaling.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    f, r = report["floor"], report["run_vs_simulate"]
    print(
        f"simulate {f['simulate_s'] * 1e3:.0f} ms vs numpy cube floor {f['floor_s'] * 1e3:.0f} ms: {f['ratio']:.2f}× (≤ 10)"
    )
    print(f"simlib run {r['run_s'] * 1e3:.0f} ms vs simulate: {r['ratio']:.2f}× (≤ 3)")
    for row in report["examples_run_vs_simulate"]["rows"]:
        print(
            f"  {row['example']:34} run {row['wall_run_s'] * 1e3:6.0f} ms vs simulate "
            f"{row['wall_simulate_s'] * 1e3:5.0f} ms: {row['wall_ratio']:4.1f}× wall, "
            f"{row['cpu_ratio']:4.1f}× CPU (≤ 3)"
        )
        parts = ", ".join(f"{k} {v * 1e3:.1f}" for k, v in row["cpu_parts_s"].items())
        print(f"    CPU ms: {parts}")
    sf = report["small_floor"]
    print(
        f"6 strategies, 2 hosts, 5 years: simulate {sf['simulate_cpu_s'] * 1e3:.1f} ms vs one pass "
        f"{sf['one_pass_cpu_s'] * 1e3:.2f} ms (CPU): {sf['ratio']:.1f}× (≤ 10)"
    )
    for label in ("benchmark", "stationary"):
        h = report[f"horizon_{label}"]
        cells = ", ".join(
            f"{x['years']}y {x['seconds'] * 1e3:.0f} ms/{x['peak_mib']:.0f} MiB" for x in h["rows"]
        )
        print(
            f"horizon ({label}): {cells}; 20y/5y time {h['time_20y_over_5y']:.2f}×, memory "
            f"{h['memory_20y_over_5y']:.2f}× (issuances {h['issuances_20y_over_5y']:.1f}×) (≤ 5)"
        )
    print(
        f"import simlib {report['import_s'] * 1e3:.0f} ms, simlib --help {report['help_s'] * 1e3:.0f} ms "
        f"(python alone {report['python_start_s'] * 1e3:.0f} ms) (≤ 200 ms)"
    )
    print(f"interactive change {report['interactive_s'] * 1e3:.1f} ms (≤ 30 ms)")
    return report


if __name__ == "__main__":
    main()
