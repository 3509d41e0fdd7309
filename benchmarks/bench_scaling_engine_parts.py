"""Horizon scaling of the engine's parts: outage durations, dynamic strategies, Monte Carlo.

For the benchmark scenario (``five-years-three-hosts.yaml``) at 5 and 20 years (``end`` changed
with :func:`simlib.apply_overrides`), measures in one run the time and the peak memory
(tracemalloc, measured in a separate run so it does not slow the timed one) of

* ``res.duration_stats`` (exact outage spells of all 12 strategies, on a fresh result);
* ``simulate`` of the scenario with its strategies replaced by dynamic pin lists
  (fail open and fail closed);
* Monte Carlo, 20 replications, with ``new_installs`` added;

and prints the 20y/5y ratios (target: ≤ 5 each, near-linear), raw and divided by the growth of
the certificate issuances (the work a horizon holds: 4.0× on the stationary variant, 6.9× on the
shipped scenario, whose certificates get shorter under the SC-081 caps). With ``--forty`` it also runs
``simlib run`` (durations included) on a 40-year horizon (2026-01-01 → 2065-12-31) in a child
process and reports its maximum resident memory (target: ≤ 1 GiB).
Run: ``.venv/bin/python benchmarks/bench_scaling_engine_parts.py [--forty]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import simlib  # noqa: E402
from simlib.model import ScenarioWarning  # noqa: E402
from simlib.results.montecarlo import monte_carlo  # noqa: E402

SCENARIO = HERE.parent / "data" / "scenarios" / "five-years-three-hosts.yaml"
HORIZONS = {"5y": "2030-12-31", "20y": "2045-12-31"}
DYNAMIC = [
    {"name": "dynamic leaf key", "pin": "leaf_spki", "dynamic": {}},
    {
        "name": "dynamic leaf key, fail closed",
        "pin": "leaf_spki",
        "dynamic": {"refresh_days": 3, "fetch_success": 0.9, "on_stale": "fail_closed"},
    },
]


def measure(fn) -> tuple[float, float]:
    """(seconds, peak MiB): timed without tracing, then traced once more."""
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


def parts(base, start: str, end: str) -> tuple[dict[str, tuple[float, float]], int]:
    """(seconds, peak MiB) per part, and the number of certificate issuances."""
    sc = simlib.apply_overrides(base, {"start": start, "end": end})
    issuances = len(simlib.simulate(sc).issuances)  # warm-up: builds every certificate once
    out = {}
    results = iter([simlib.simulate(sc), simlib.simulate(sc)])  # one fresh result per call
    out["durations"] = measure(lambda: next(results).duration_stats)
    dyn = simlib.apply_overrides(sc, {"strategies": DYNAMIC})
    out["dynamic simulate"] = measure(lambda: simlib.simulate(dyn).summary)
    mc = simlib.apply_overrides(sc, {"fleet.new_installs": {"per_day": 2000}})
    out["monte carlo x20"] = measure(lambda: monte_carlo(mc, 20, seed=1).summary)
    return out, issuances


def forty_years() -> float:
    """Max RSS (MiB) of ``simlib run`` on a 40-year horizon, in a child process."""
    code = (
        "import sys, warnings, resource, tempfile, simlib\n"
        "warnings.simplefilter('ignore')\n"
        f"sc = simlib.apply_overrides(simlib.load_scenario({str(SCENARIO)!r}), {{'end': '2065-12-31'}})\n"
        "path = tempfile.mktemp(suffix='.yaml'); open(path, 'w').write(sc.to_yaml())\n"
        "from simlib.cli.main import main\n"
        "sys.exit(main(['run', path, '--out', tempfile.mkdtemp(), '--quiet']))\n"
    )
    with tempfile.TemporaryDirectory():
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], cwd=HERE.parent, check=False)
        seconds = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(f"40-year run failed with exit code {done.returncode}")
    print(f"40 years: simlib run {seconds:.1f} s, max RSS {max(rss, before) / 1024:.0f} MiB")
    return max(rss, before) / 1024


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forty", action="store_true", help="also run the 40-year `simlib run`")
    parser.add_argument("--quick", action="store_true", help="benchmark scenario only, no 40 years")
    args = parser.parse_args(argv)
    # "benchmark": the scenario as shipped (its certificates get shorter under the SC-081 caps, so
    # 20 years hold 6.9× the certificate changes of 5); "stationary": the same hosts from 2030,
    # every certificate under the 47-day cap, so each year holds the same changes.
    variants = {"benchmark": ("2026-01-01", HORIZONS)}
    if not args.quick:
        variants["stationary"] = ("2030-01-01", {"5y": "2034-12-31", "20y": "2049-12-31"})
    report: dict = {"benchmark": "engine parts, horizon 5 → 20 years", "scenario": SCENARIO.name}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        base = simlib.load_scenario(SCENARIO)
        for label, (start, horizons) in variants.items():
            measured = {h: parts(base, start, end) for h, end in horizons.items()}
            runs = {h: m for h, (m, _) in measured.items()}
            growth = measured["20y"][1] / measured["5y"][1]
            report[label] = {
                "issuances_5y": measured["5y"][1],
                "issuances_20y": measured["20y"][1],
                "issuance_ratio": growth,
            }
            for name in runs["5y"]:
                (t5, m5), (t20, m20) = runs["5y"][name], runs["20y"][name]
                report[label][name] = {
                    "5y_s": t5,
                    "20y_s": t20,
                    "time_ratio": t20 / t5,
                    "5y_mib": m5,
                    "20y_mib": m20,
                    "memory_ratio": m20 / m5,
                    "time_ratio_per_issuance": t20 / t5 / growth,
                    "memory_ratio_per_issuance": m20 / m5 / growth,
                }
                print(
                    f"{label:>10} {name:>18}: {t5:7.3f} s → {t20:7.3f} s (×{t20 / t5:4.1f}), "
                    f"{m5:7.1f} → {m20:7.1f} MiB (×{m20 / m5:4.1f}); per issuance (×{growth:.1f} "
                    f"issuances) ×{t20 / t5 / growth:4.2f} time, ×{m20 / m5 / growth:4.2f} memory"
                )
    if args.forty or not args.quick:
        report["forty_years_max_rss_mib"] = forty_years()
    out = HERE / "results" / "scaling_engine_parts.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
