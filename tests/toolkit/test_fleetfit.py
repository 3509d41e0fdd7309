"""simlib fleet fit: recover a known adoption mixture from synthetic version shares."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.cli.main import main
from simlib.toolkit.fleetfit import fit_csv


def _write(path, never=0.05, w=(0.4, 0.6), tau=(3.0, 30.0), noise=0.0, every=14):
    rng = np.random.default_rng(1)

    def g(d: float) -> float:
        return (1 - never) * sum(
            wi * (1 - np.exp(-max(d, 0) / ti)) for wi, ti in zip(w, tau, strict=True)
        )

    start = date(2025, 1, 1)
    rel = [start + timedelta(days=every * k) for k in range(12)]
    lines = ["date,version,share"]
    for t in range(0, 170, 2):
        day = start + timedelta(days=t)
        ge = [1.0] + [g(t - (r - start).days) if r <= day else 0.0 for r in rel[1:]]
        row = [
            max(0.0, ge[k] - (ge[k + 1] if k + 1 < len(rel) else 0.0) + noise * rng.normal())
            for k, r in enumerate(rel)
            if r <= day
        ]
        total = max(1.0, sum(row))  # noisy shares still sum to at most 1
        lines += [f"{day},v{k + 1:02d},{share / total:.6f}" for k, share in enumerate(row)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_recovers_two_component_mixture(tmp_path):
    res = fit_csv(_write(tmp_path / "vs.csv"))
    assert len(res.weights) == 2 and res.rmse < 1e-3 and res.release_every_days == 14
    assert res.never_update_share == pytest.approx(0.05, abs=0.01)
    assert res.weights == pytest.approx((0.4, 0.6), abs=0.03)
    assert res.mean_lag_days == pytest.approx((3.0, 30.0), rel=0.1)


def test_one_component_with_noise(tmp_path):
    res = fit_csv(_write(tmp_path / "vs.csv", never=0.1, w=(1.0,), tau=(12.0,), noise=0.002))
    assert len(res.weights) == 1
    assert res.mean_lag_days[0] == pytest.approx(12.0, rel=0.15)
    assert res.never_update_share == pytest.approx(0.1, abs=0.03)


def test_cli_writes_a_usable_fleet_block(tmp_path, capsys):
    out = tmp_path / "fleet.yaml"
    assert main(["fleet", "fit", str(_write(tmp_path / "vs.csv")), "--out", str(out)]) == 0
    assert "RMSE" in capsys.readouterr().out
    fleet = yaml.safe_load(out.read_text())["fleet"]
    from simlib.model.loading import load_scenario, scenario_from_dict

    base = load_scenario("data/scenarios/quickstart.yaml").model_dump(mode="json")
    base["fleet"] = {**base["fleet"], **fleet}
    assert scenario_from_dict(base).fleet.adoption.never_update_share == pytest.approx(
        0.05, abs=0.01
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("day,version,share\n2025-01-01,v1,1\n", "missing column(s) date"),
        ("date,version,share\n2025-13-01,v1,1\n", "line 2: date '2025-13-01'"),
        ("date,version,share\n2025-01-01,v1,lots\n", "line 2: share 'lots'"),
        ("date,version,share\n2025-01-01,v1,1.5\n", "line 2: share 1.5"),
        ("date,version,share\n2025-01-01,,1\n", "line 2: empty version"),
        ("date,version,share\n2025-01-01,v1,1\n", "too little data"),
        (
            "date,version,share\n2025-01-01,v1,0.5\n2025-01-01,v1,0.5\n",
            "line 3: v1 on 2025-01-01 appears twice",
        ),
        (
            "date,version,share\n2025-01-01,v1,0.9\n2025-01-01,v2,0.9\n2025-01-02,v1,0.1\n2025-01-02,v2,0.9\n",
            "shares sum to 1.8000",
        ),
        ("", "bad.csv: empty file"),  # as audit says it, not "missing column(s)"
        ("\ufeff \n\n", "bad.csv: empty file"),
    ],
)
def test_malformed_csv_one_line(tmp_path, capsys, text, needle):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    out = tmp_path / "fleet.yaml"
    assert main(["fleet", "fit", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "bad.csv" in err, err
    assert not out.exists()


# ------------------------------------------------------------------ scaling and hostile files


def _naive_observations(path):
    """Every (lag, value) the module docstring defines, one Python loop per (date, version)."""
    import csv

    rows = list(csv.DictReader(path.open()))
    released: dict[str, date] = {}
    shares: dict[tuple[date, str], float] = {}
    for r in rows:
        day = date.fromisoformat(r["date"])
        released[r["version"]] = min(released.get(r["version"], day), day)
        shares[(day, r["version"])] = float(r["share"])
    versions = sorted(released, key=lambda v: (released[v], v))
    out = []
    for day in sorted({d for d, _ in shares}):
        total = sum(shares.get((day, v), 0.0) for v in versions)
        cum = 0.0
        for v in reversed(versions):
            cum += shares.get((day, v), 0.0)
            if released[v] <= day and v != versions[0]:
                out.append(((day - released[v]).days, cum / total if total > 0 else 0.0))
    return out


def test_grouped_observations_equal_every_observation(tmp_path):
    """Counts, sums and squares per lag are exactly what the observations one by one give."""
    from simlib.toolkit.fleetdata import read_observations

    rng = np.random.default_rng(5)
    start = date(2024, 3, 1)
    lines = ["date,version,share"]
    for t in range(0, 90, 3):  # gaps between dates, versions missing on some dates
        present = [k for k in range(t // 9 + 1) if rng.random() < 0.7] or [0]
        w = rng.random(len(present))
        w *= rng.uniform(0.5, 1.0) / w.sum()
        lines += [
            f"{start + timedelta(days=t)},v{k:02d},{s:.6f}" for k, s in zip(present, w, strict=True)
        ]
    path = tmp_path / "vs.csv"
    path.write_text("\n".join(lines) + "\n")
    naive = _naive_observations(path)
    obs = read_observations(path)
    assert obs.points == len(naive)
    for lag, count, total, squares in zip(obs.lags, obs.counts, obs.sums, obs.squares, strict=True):
        values = [v for g, v in naive if g == lag]
        assert count == len(values)
        assert total == pytest.approx(sum(values), abs=1e-9)
        assert squares == pytest.approx(sum(v * v for v in values), abs=1e-9)


def _weekly(path, days: int) -> int:
    """A realistic export: a release a week, each version reported for eight weeks, daily."""
    start = date(2020, 1, 1)
    lines = ["date,version,share"]
    for t in range(days):
        live = [k for k in range(t // 7 + 1) if t - 7 * k < 56]
        w = np.exp(-(t - 7 * np.array(live)) / 20.0)
        lines += [
            f"{start + timedelta(days=t)},v{k},{s:.6f}"
            for k, s in zip(live, w / w.sum(), strict=True)
        ]
    path.write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def test_fit_time_grows_linearly_with_rows(tmp_path):
    """10x the rows (and 100x the observations) against the base, timed in the same run: the fit
    groups observations by lag, so it takes about the same time, not 100x (it took 100x)."""
    import time

    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    rows = (_weekly(small, 200), _weekly(big, 2000))
    assert 9 < rows[1] / rows[0] < 12
    fit_csv(small, max_components=2)  # warm up imports and numpy
    timings = []
    for path in (small, big):  # CPU time, best of three: one timing on a shared box is noise
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            res = fit_csv(path, max_components=2)
            best = min(best, time.process_time() - started)
        timings.append(best)
    assert res.points > 90 * fit_csv(small, max_components=1).points  # the observations grew 100x
    assert timings[1] < 12 * timings[0], timings


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        (3000, "3,000 dates × 3,000 versions = 9,000,000 (date, version) pairs, over the limit"),
        (20_000, "merge minor versions"),
    ],
)
def test_one_version_a_day_is_refused_up_front(tmp_path, capsys, rows, needle):
    """One version per date, each on its own date: 3 000 rows took past 30 s, 20 000 rows 2.9 GB."""
    import time

    path = tmp_path / "one.csv"
    start = date(2000, 1, 1)
    path.write_text(
        "date,version,share\n"
        + "".join(f"{start + timedelta(days=i)},v{i},1\n" for i in range(rows))
    )
    started = time.process_time()  # CPU time: refused up front, whatever else the box runs
    assert main(["fleet", "fit", str(path)]) == 2
    elapsed = time.process_time() - started
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "one.csv" in err, err
    assert elapsed < 5, elapsed


def test_one_version_a_day_under_the_limit_fits(tmp_path):
    """500 such rows (19 s before) are 250 000 pairs: fitted, with every observation counted."""
    path = tmp_path / "one.csv"
    start = date(2000, 1, 1)
    path.write_text(
        "date,version,share\n"
        + "".join(f"{start + timedelta(days=i)},v{i},1\n" for i in range(500))
    )
    res = fit_csv(path, max_components=1)
    assert res.points == 499 * 500 // 2  # version k ≥ 1 is observed on each date from its release


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "date,version,share\n2025-01-01,v1,0.5\n2025-01-01,v2,0.5\n2025-01-02,v1,0.5\n9025-01-02,v2,0.5\n",
            "line 5: the data span",
        ),
        (
            "date,version,share\n2025-01-01,v1\x1b[2J,0.5\n2025-01-01,v1\x1b[2J,0.5\n",
            "v1\\x1b[2J on 2025-01-01",
        ),
        ("date,version,share\n2025-01-01,v1,\u202e1\n", "share '\\u202e1' is not a number"),
        ("date,version,share\n" + "x" * 300 + ",v1,1\n", "is not YYYY-MM-DD"),
        ("date,version,share,release_date\n2025-01-01,v1,1,soon\n", "release_date 'soon'"),
        (
            "date,version,share,release_date\n2025-01-05,v1,0.5,\n2025-01-05,v2,0.5,2025-03-01\n"
            "2025-01-06,v1,0.5,\n2025-01-06,v2,0.5,\n",
            "no date after the second version",
        ),
        ('date,version,share\n"2025-01-01,v1,1\n', "line"),
        (
            "date,version,share\n"
            + "2025-01-01,v1,1\n" * 1
            + "2025-01-02,v"
            + "9" * 200_000
            + ",1\n",
            "malformed CSV",
        ),
    ],
)
def test_hostile_csv_one_line(tmp_path, capsys, text, needle):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    out = tmp_path / "fleet.yaml"
    assert main(["fleet", "fit", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "bad.csv" in err, err
    assert "\x1b" not in err and "\u202e" not in err
    assert not out.exists()


def test_too_many_rows(tmp_path, capsys, monkeypatch):
    import simlib.toolkit.fleetdata as fleetdata

    monkeypatch.setattr(fleetdata, "MAX_ROWS", 1_000)
    path = tmp_path / "vs.csv"
    path.write_text(
        "date,version,share\n" + "".join(f"2025-01-01,v{i},0.0001\n" for i in range(1_001))
    )
    assert main(["fleet", "fit", str(path)]) == 2
    err = capsys.readouterr().err
    assert "vs.csv: line 1002: more than 1,000 rows" in err, err


@pytest.mark.parametrize("kind", ["fifo", "folder", "dev-zero"])
def test_csv_that_is_not_a_file(tmp_path, capsys, kind):
    import os

    path = tmp_path / "vs.csv"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")
    assert main(["fleet", "fit", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "vs.csv" in err, err


# ------------------------------------------------------------ release dates and percent shares


def _sampled(path, *, offset=3, sample=7, percent=False, column=False):
    """A weekly export of a known mixture (never 5 %, 40 % τ=3 d, 60 % τ=30 d) whose releases
    (every 14 days, ``offset`` days after the sampling grid) fall between samples; returns the
    CSV and a ``version,release_date`` file."""
    never, w, tau = 0.05, (0.4, 0.6), (3.0, 30.0)

    def g(d: int) -> float:
        return (1 - never) * sum(
            wi * (1 - np.exp(-max(d, 0) / ti)) for wi, ti in zip(w, tau, strict=True)
        )

    start = date(2025, 1, 1)
    rel = [start] + [start + timedelta(days=offset + 14 * k) for k in range(1, 12)]
    lines = ["date,version,share" + (",release_date" if column else "")]
    for t in range(0, 170, sample):
        day = start + timedelta(days=t)
        ge = [1.0] + [g((day - r).days) if r <= day else 0.0 for r in rel[1:]]
        for k, r in enumerate(rel):
            if r <= day:
                share = (ge[k] - (ge[k + 1] if k + 1 < len(rel) else 0.0)) * (100 if percent else 1)
                lines.append(f"{day},v{k + 1:02d},{share:.6f}" + (f",{r}" if column else ""))
    path.write_text("\n".join(lines) + "\n")
    releases = path.with_name("releases.csv")
    releases.write_text(
        "version,release_date\n" + "".join(f"v{k + 1:02d},{r}\n" for k, r in enumerate(rel))
    )
    return path, releases


@pytest.mark.parametrize("offset", [1, 3, 6])
def test_release_dates_fix_the_lags_a_weekly_export_gets_wrong(tmp_path, offset):
    """First appearance on a weekly export is days late for every version: the fit is many
    times worse than with the release dates, which recover the mixture."""
    path, releases = _sampled(tmp_path / "vs.csv", offset=offset)
    guessed = fit_csv(path)
    dated = fit_csv(path, releases=releases)
    assert guessed.warnings and "--releases FILE" in guessed.warnings[0]
    assert dated.warnings == ()
    assert guessed.rmse > 6 * dated.rmse
    assert dated.mean_lag_days == pytest.approx(tau := (3.0, 30.0), rel=0.05), tau
    assert dated.weights == pytest.approx((0.4, 0.6), abs=0.02)
    assert dated.never_update_share == pytest.approx(0.05, abs=0.01)
    column, _ = _sampled(tmp_path / "col.csv", offset=offset, column=True)
    assert fit_csv(column).rmse == pytest.approx(dated.rmse)  # the column says the same


def test_percent_shares_detected_or_declared(tmp_path):
    path, releases = _sampled(tmp_path / "vs.csv", percent=True)
    fraction, _ = _sampled(tmp_path / "fr.csv")
    want = fit_csv(fraction, releases=releases)
    got = fit_csv(path, releases=releases)
    assert got.warnings == ("shares read as percentages (above 1, summing to about 100 a date)",)
    # the same shares (six decimals of a percentage are two more than of a fraction)
    assert got.rmse == pytest.approx(want.rmse, rel=0.01)
    assert got.mean_lag_days == pytest.approx(want.mean_lag_days, rel=1e-3)
    declared = fit_csv(path, releases=releases, percent=True)
    assert declared.warnings == () and declared.rmse == got.rmse


def test_cli_warns_and_takes_releases_and_percent(tmp_path, capsys):
    path, releases = _sampled(tmp_path / "vs.csv", percent=True)
    assert main(["fleet", "fit", str(path)]) == 0
    cap = capsys.readouterr()
    assert cap.err.count("warning: ") == 2 and "--releases FILE" in cap.err
    assert yaml.safe_load(cap.out)["fleet"]["release_every_days"] == 14
    assert main(["fleet", "fit", str(path), "--releases", str(releases), "--percent"]) == 0
    cap = capsys.readouterr()
    assert cap.err == ""
    fleet = yaml.safe_load(cap.out)["fleet"]
    taus = [c["mean_lag_days"] for c in fleet["adoption"]["components"]]
    assert taus == pytest.approx([3.0, 30.0], rel=0.05)


@pytest.mark.parametrize(
    ("shares", "releases", "needle"),
    [
        # above 1 but not percentages (a date sums to 150): one line, with the hint
        (
            "date,version,share\n2025-01-01,v1,50\n2025-01-01,v2,100\n"
            "2025-01-08,v1,1\n2025-01-08,v2,99\n",
            None,
            "line 2: share 50.0 is not between 0 and 1 (percentages",
        ),
        ("date,version,share\n2025-01-01,v1,101\n", None, "nor a percentage"),
        ("date,version,share\n2025-01-01,v1,1\n", "version,day\nv1,2025-01-01\n", "line 1"),
        ("date,version,share\n2025-01-01,v1,1\n", "version,release_date\nv1,soon\n", "'soon'"),
        (
            "date,version,share\n2025-01-01,v1,1\n",
            "version,release_date\nv1,2025-01-01\nv1,2025-01-02\n",
            "line 3: v1 has two release dates",
        ),
        ("date,version,share\n2025-01-01,v1,1\n", "", "rel.csv: empty file"),
    ],
)
def test_bad_percent_or_release_files_are_one_line(tmp_path, capsys, shares, releases, needle):
    path = tmp_path / "vs.csv"
    path.write_text(shares)
    argv = ["fleet", "fit", str(path)]
    if releases is not None:
        (tmp_path / "rel.csv").write_text(releases)
        argv += ["--releases", str(tmp_path / "rel.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6),
        min_size=1,
        max_size=8,
    )
)
def test_percent_detection_reads_scaled_fractions_and_never_fractions(raw):
    """Fractions summing to 1 per date are never taken as percentages; the same ×100 always
    are (the rule: above 1, at most 100, about 100 a date)."""
    from simlib.toolkit.fleetdata import _percent

    rows = [(d, w / sum(ws)) for d, ws in enumerate(raw) for w in ws]
    days = np.array([d for d, _ in rows])
    shares = np.array([s for _, s in rows])
    assert not _percent(shares, days)
    if (shares * 100).max() > 1:  # a date of shares all at most 1 % is not distinguishable
        assert _percent(shares * 100, days)


def test_the_csv_bounds_live_in_fleetdata_only():
    """fleetfit no longer re-exports fleetdata's names: one home each."""
    import simlib.toolkit.fleetdata as fleetdata
    import simlib.toolkit.fleetfit as fleetfit

    assert set(fleetfit.__all__) == {"FleetFit", "fit", "fit_csv"}
    for name in ("MAX_CELLS", "MAX_ROWS", "MAX_SPAN_DAYS"):
        assert hasattr(fleetdata, name) and not hasattr(fleetfit, name), name
