"""Hostile input to the core (scenario model, YAML reading, sweeps, work budget) and to
``fleet fit``, through the CLI: each is exit code 2, one ``error:`` line naming the file and the
field or line, no traceback, nothing written, and fast — including the inputs that used to raise
(``platforms: {android: [1, 2]}``, a root expiring before it begins, ``randint`` beyond int64),
hang (100 000 strategies, a 2-million-element list, 3 000 one-version-a-day CSV rows) or be
accepted silently (``!!binary``, a surrogate escape, ``random:`` left empty).

Same machinery as ``test_malformed_corpus.py`` (``tests/cli/corpus.py``; cases run in-process,
one as a real process).
"""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from simlib.cli.main import main
from tests.cli.corpus import (
    QUICKSTART,
    Case,
    _big,
    _check,
    _dev_zero,
    _fifo,
    _folder,
    _load,
    _materialise,
    _text,
)

pytestmark = pytest.mark.hostile

QS = QUICKSTART.read_text(encoding="utf-8")
DATA = _load(QUICKSTART)
RUN = ["run", "{dir}/s.yaml", "--out", "{out}", "--quiet"]
VALIDATE = ["validate", "{dir}/s.yaml"]
SWEEP = ["sweep", "{dir}/w.yaml", "--out", "{out}", "--quiet"]
FIT = ["fleet", "fit", "{dir}/f.csv", "--out", "{out}/fleet.yaml"]


def _with(path: str, value: object) -> dict:
    """The quickstart with one change: ``path`` is a top-level key or ``fleet.<key>``, ``cas.0.<key>``."""
    data = copy.deepcopy(DATA)
    node = data
    *parents, last = path.split(".")
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    node[last] = value
    return data


def _replace(old: str, new: str) -> str:
    assert old in QS, old
    return QS.replace(old, new, 1)


# ---------------------------------------------------------------------------------- scenarios

#: (id, scenario text, fragments of the error line after the file name)
SCENARIOS: list[tuple[str, str, tuple[str, ...]]] = [
    # shapes that raised a TypeError
    (
        "platforms-list",
        _text(_with("fleet.platforms", {"android": [1, 2]})),
        ("fleet.platforms.android: must be a share (such as 0.6) or a mapping",),
    ),
    (
        "platforms-list-of-maps",
        _text(_with("fleet.platforms", {"android": [{"share": 1}]})),
        ("fleet.platforms.android",),
    ),
    (
        "platforms-bool",
        _text(_with("fleet.platforms", {"android": True, "ios": 0})),
        ("fleet.platforms.android",),
    ),
    (
        "platforms-text",
        _text(_with("fleet.platforms", {"android": "half", "ios": 0.5})),
        ("fleet.platforms.android",),
    ),
    (
        "platforms-unknown",
        _text(_with("fleet.platforms", {"symbian": 1.0})),
        ("fleet.platforms.symbian: not a platform",),
    ),
    (
        "platforms-int-key",
        _text(_with("fleet.platforms", {7: 1.0})),
        ("fleet.platforms: '7' is not a platform",),
    ),
    (
        "platforms-list-itself",
        _text(_with("fleet.platforms", [["android", 1]])),
        ("fleet.platforms: must be a mapping",),
    ),
    # certificates that end before they begin (ValueError in the X.509 builder)
    (
        "root-expires-before-it-begins",
        _text(_with("cas.0.root_not_after", "2019-01-01")),
        ("cas[0].root_not_after: 2019-01-01 is before the CA certificates begin (2020-01-01",),
    ),
    (
        "root-expires-in-1950",
        _text(_with("cas.0.root_not_after", "1950-01-01")),
        ("cas[0].root_not_after",),
    ),
    (
        "intermediate-expires-before-it-begins",
        _text(
            _with(
                "cas.0.intermediates",
                [{"name": "Int A1", "not_after": "2000-01-01"}, {"name": "Int A2"}],
            )
        ),
        ("cas[0].intermediates[0].not_after: 2000-01-01 is before",),
    ),
    (
        "cross-sign-ends-before-it-begins",
        _text(_with("cas.0.cross_signed_by", {"ca": "other-ca", "until": "2001-01-01"})),
        ("cas[0].cross_signed_by.until",),
    ),
    # YAML that became odd strings or bytes
    (
        "surrogate-name",
        _replace("name: quickstart", 'name: "\\ud800"'),
        ("line 1", "U+D800 is half of a UTF-16 pair"),
    ),
    (
        "surrogate-description",
        _replace("name: quickstart", 'name: q\ndescription: "a\\udfffb"'),
        ("line 2", "U+DFFF"),
    ),
    (
        "surrogate-strategy",
        _replace("{name: no pinning, pin: none}", '{name: "x\\udc00", pin: none}'),
        ("line 27", "U+DC00"),
    ),
    (
        "surrogate-host",
        _replace("  - name: api.example.com", '  - name: "\\ud83dapi.example.com"'),
        ("line 20", "U+D83D"),
    ),
    ("surrogate-key", QS + '"\\udead": 1\n', ("U+DEAD",)),
    (
        "surrogate-32bit-escape",
        _replace("name: quickstart", 'name: "\\U0000d800"'),
        ("line 1", "U+D800"),
    ),
    (
        "binary-description",
        _replace("name: quickstart", "name: quickstart\ndescription: !!binary aGVsbG8="),
        ("line 2", "'description': !!binary (no simlib field holds bytes) is not allowed"),
    ),
    (
        "binary-name",
        _replace("name: quickstart", "name: !!binary aGVsbG8="),
        ("line 1", "'name': !!binary"),
    ),
    (
        "binary-strategy-name",
        _replace("{name: no pinning, pin: none}", "{name: !!binary aGk=, pin: none}"),
        ("line 27", "!!binary"),
    ),
    (
        "binary-in-list",
        _replace("[rogue_ca,", "[!!binary aGk=, rogue_ca,"),
        ("line 35", "!!binary"),
    ),
    ("set-value", _replace("seed: 7", "seed: !!set {7}"), ("line 4", "'seed': !!set")),
    ("omap-value", _replace("seed: 7", "seed: !!omap [{a: 1}]"), ("line 4", "!!omap")),
    ("pairs-value", _replace("seed: 7", "seed: !!pairs [{a: 1}]"), ("line 4", "!!pairs")),
    # numbers Python refuses to read, or that no field holds
    (
        "seed-5000-digits",
        _replace("seed: 7", "seed: " + "9" * 5000),
        ("line 4", "an integer of 5,000 digits is too large"),
    ),
    (
        "users-5000-digits",
        _replace("  users: 1000000", "  users: " + "1" * 5000),
        ("line 6", "5,000 digits"),
    ),
    (
        "validity-101-digits",
        _replace("    validity_days: 90", "    validity_days: -" + "9" * 101),
        ("line 22", "101 digits"),
    ),
    ("seed-99-digits", _replace("seed: 7", "seed: " + "9" * 99), ("seed: must be ≤",)),
    (
        "hex-5000-digits",
        _replace("seed: 7", "seed: 0x" + "f" * 5000),
        ("line 4", "an integer of 5,000 digits"),
    ),
    ("float-overflow", _replace("  users: 1000000", "  users: 1e999"), ("fleet.users",)),
    # nesting (JSON-style flow or block) far past 64 levels
    (
        "flow-100000-deep",
        "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
        ("line 1", "nested deeper than 64 levels"),
    ),
    (
        "flow-map-100000-deep",
        "{a: " * 100_000 + "1" + "}" * 100_000 + "\n",
        ("line 1", "nested deeper"),
    ),
    (
        "json-in-field",
        _replace("seed: 7", "seed: " + '{"a": ' * 5000 + "1" + "}" * 5000),
        ("line 4", "nested deeper"),
    ),
    (
        "block-3000-deep",
        "".join("  " * i + f"k{i}:\n" for i in range(3000)),
        ("line 64", "nested deeper"),
    ),
    ("sequence-3000-deep", "".join("  " * i + "-\n" for i in range(3000)), ("nested deeper",)),
    # sizes: refused by the read limit or the schema, with what to shrink
    (
        "strategies-100000",
        _replace(
            "strategies:\n",
            "strategies:\n" + "".join(f"  - {{name: s{i}, pin: none}}\n" for i in range(100_000)),
        ),
        ("invalid YAML: more than 100,000 values", "the list 'strategies' starting on line 27"),
    ),
    (
        "strategies-1001",
        _text(_with("strategies", [{"name": f"s{i}", "pin": "none"} for i in range(1001)])),
        ("strategies: allows at most 1,000 item(s), not 1,001",),
    ),
    (
        "components-100000",
        _replace(
            "    components:\n",
            "    components:\n"
            + "".join("      - {weight: 0.00001, mean_lag_days: 3}\n" for _ in range(100_000)),
        ),
        ("more than 100,000 values", "the list 'components' starting on line 12"),
    ),
    (
        "components-33",
        _text(
            _with("fleet.adoption", {"components": [{"weight": 1 / 33, "mean_lag_days": 3}] * 33})
        ),
        ("fleet.adoption.components: allows at most 32 item(s), not 33",),
    ),
    (
        "hosts-1001",
        _text(
            _with("hosts", [{**DATA["hosts"][0], "name": f"h{i}.example.com"} for i in range(1001)])
        ),
        ("hosts: allows at most 1,000",),
    ),
    (
        "events-10001",
        _text(_with("events", [{"type": "key_compromise", "date": "2025-06-01"}] * 10_001)),
        ("events: allows at most 10,000",),
    ),
    (
        "attacks-101",
        _text(_with("attacks", [{"name": "rogue_ca", "label": f"a{i}"} for i in range(101)])),
        ("attacks: allows at most 100",),
    ),
    (
        "unknown-field-2-million",
        QS + "junk: [" + ",".join(["1"] * 2_000_000) + "]\n",
        ("line 36", "more than 100,000 values", "the list 'junk' starting on line 36"),
    ),
    (
        "unknown-mapping-150000",
        QS + "junk:\n" + "".join(f"  k{i}: {i}\n" for i in range(75_000)),
        ("the mapping 'junk' starting on line 37",),
    ),
    (
        "alias-fan-out",
        QS + "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [" + ", ".join(["*a"] * 9_999) + "]\n",
        ("a: unknown field",),
    ),
    # keys that are not strings
    ("key-int", QS + "1: x\n", ("key 1: keys must be strings",)),
    ("key-null", QS + "null: x\n", ("key null: keys must be strings",)),
    (
        "key-in-fleet",
        _replace("  users: 1000000", "  1.5: 1\n  users: 1000000"),
        ("fleet: key 1.5",),
    ),
    (
        "key-in-strategy",
        _replace("{name: no pinning, pin: none}", "{name: no pinning, pin: none, 3: x}"),
        ("strategies[0]: key 3",),
    ),
    ("key-list", QS + "[a, b]: x\n", ("line 36", "unhashable key")),
]

CASES = [
    Case(f"scenario-{cid}", RUN, {"s.yaml": text}, ("s.yaml", *expect))
    for cid, text, expect in SCENARIOS
]
CASES += [
    Case(f"validate-{cid}", VALIDATE, {"s.yaml": text}, ("s.yaml", *expect))
    for cid, text, expect in SCENARIOS
    if cid
    in (
        "platforms-list",
        "root-expires-before-it-begins",
        "surrogate-name",
        "binary-description",
        "seed-5000-digits",
        "flow-100000-deep",
        "strategies-1001",
    )
]
CASES.append(
    Case(
        "report-platforms-list",
        ["report", "{dir}/s.yaml", "--out", "{out}"],
        {"s.yaml": SCENARIOS[0][1]},
        ("s.yaml", "fleet.platforms.android"),
    )
)


# -------------------------------------------------------------------------------------- sweeps

BASE = f"name: w\nbase: {QUICKSTART}\n"

#: (id, sweep text, fragments)
SWEEPS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "randint-high-beyond-int64",
        BASE + "axes: {random: {n: 3, params: {seed: {randint: [0, 100000000000000000000]}}}}\n",
        ("axes.random.params.seed: randint: low and high must be 64-bit integers",),
    ),
    (
        "randint-low-beyond-int64",
        BASE + f"axes: {{random: {{n: 3, params: {{seed: {{randint: [{-(2**63) - 1}, 1]}}}}}}}}\n",
        ("axes.random.params.seed: randint",),
    ),
    (
        "randint-high-2-63",
        BASE + f"axes: {{random: {{n: 3, params: {{seed: {{randint: [0, {2**63}]}}}}}}}}\n",
        ("64-bit integers",),
    ),
    (
        "randint-5000-digits",
        BASE + "axes: {random: {n: 3, params: {seed: {randint: [0, " + "9" * 5000 + "]}}}}\n",
        ("line 3", "5,000 digits"),
    ),
    (
        "uniform-overflowing-range",
        BASE + "axes: {random: {n: 3, params: {fleet.users: {uniform: [-1.0e+308, 1.0e+308]}}}}\n",
        ("axes.random.params.fleet.users: uniform: high − low must be a finite number",),
    ),
    (
        "uniform-inf",
        BASE + "axes: {latin_hypercube: {n: 3, params: {fleet.users: {uniform: [0, .inf]}}}}\n",
        ("axes.latin_hypercube.params.fleet.users: uniform: low must be < high",),
    ),
    (
        "random-null",
        BASE + "axes: {grid: {seed: [1]}, random: null}\n",
        ("axes.random: is empty (null)",),
    ),
    (
        "random-empty",
        BASE + "axes:\n  grid: {seed: [1]}\n  random:\n",
        ("axes.random: is empty (null)",),
    ),
    (
        "grid-null",
        BASE + "axes: {grid: null, random: {n: 2, params: {seed: {randint: [0, 5]}}}}\n",
        ("axes.grid: is empty",),
    ),
    (
        "lhs-null",
        BASE + "axes: {grid: {seed: [1]}, latin_hypercube: ~}\n",
        ("axes.latin_hypercube: is empty",),
    ),
    (
        "grid-values-null",
        BASE + "axes: {grid: {seed: null}}\n",
        ("axes.grid.seed: must be a list",),
    ),
    (
        "choice-null",
        BASE + "axes: {random: {n: 2, params: {seed: {choice: null}}}}\n",
        ("axes.random.params.seed: choice",),
    ),
    ("grid-binary", BASE + "axes: {grid: {name: [!!binary aGVsbG8=]}}\n", ("line 3", "!!binary")),
    ("grid-surrogate", BASE + 'axes: {grid: {name: ["\\ud800"]}}\n', ("line 3", "U+D800")),
    (
        "grid-key-null",
        BASE + "axes: {grid: {null: [1]}}\n",
        ("axes.grid: key null: keys must be strings",),
    ),
    ("grid-key-int", BASE + "axes: {grid: {1: [1]}}\n", ("axes.grid: key 1",)),
    (
        "grid-2-million-values",
        BASE + "axes: {grid: {seed: [" + ",".join(["1"] * 2_000_000) + "]}}\n",
        ("line 3", "more than 100,000 values", "the list 'seed'"),
    ),
    (
        "grid-200000-deep",
        BASE + "axes: {grid: {seed: " + "[" * 200_000 + "]" * 200_000 + "}}\n",
        ("line 3", "nested deeper"),
    ),
    (
        "seed-5000-digits",
        BASE + "seed: " + "1" * 5000 + "\naxes: {grid: {seed: [1]}}\n",
        ("line 3", "5,000 digits"),
    ),
    (
        "batch-size-huge",
        BASE + "batch_size: 1000000000000\naxes: {grid: {seed: [1]}}\n",
        ("batch_size: must be ≤",),
    ),
    (
        "name-escape",
        f'name: "w\\e[2J"\nbase: {QUICKSTART}\naxes: {{grid: {{seed: [1]}}}}\n',
        ("name: 'w\\x1b[2J' contains control characters",),
    ),
    (
        "base-platforms-list",
        _text(
            {
                "name": "w",
                "base": _with("fleet.platforms", {"android": [1, 2]}),
                "axes": {"grid": {"seed": [1]}},
            }
        ),
        ("base.fleet.platforms.android",),
    ),
    (
        "grid-platforms-list",
        BASE + "axes: {grid: {fleet.platforms: [{android: [1, 2]}]}}\n",
        ("axes.grid.fleet.platforms", "must be a share"),
    ),
    (
        "grid-root-expiry",
        BASE + "axes:\n  grid:\n    cas[0].root_not_after: ['2019-06-01']\n",
        ("axes.grid.cas[0].root_not_after", "before the CA certificates begin"),
    ),
    (
        "grid-too-many-strategies",
        BASE
        + "axes: {grid: {strategies: [["
        + ", ".join(f"{{name: s{i}, pin: none}}" for i in range(1001))
        + "]]}}\n",
        ("axes.grid.strategies", "allows at most 1,000"),
    ),
]

CASES += [
    Case(f"sweep-{cid}", SWEEP, {"w.yaml": text}, ("w.yaml", *expect))
    for cid, text, expect in SWEEPS
]


# ------------------------------------------------------------------------------------ fleet fit


def _one_a_day(n: int) -> str:
    start = date(2000, 1, 1)
    return "date,version,share\n" + "".join(
        f"{start + timedelta(days=i)},v{i},1\n" for i in range(n)
    )


OK_ROWS = "2025-01-01,v1,0.5\n2025-01-01,v2,0.5\n2025-01-02,v1,0.4\n2025-01-02,v2,0.6\n"

#: (id, CSV content, fragments)
FITS: list[tuple[str, object, tuple[str, ...]]] = [
    (
        "one-version-a-day-3000",
        _one_a_day(3000),
        ("3,000 dates × 3,000 versions = 9,000,000", "merge minor versions"),
    ),
    ("one-version-a-day-20000", _one_a_day(20_000), ("400,000,000 (date, version) pairs",)),
    (
        "year-mistyped",
        "date,version,share\n" + OK_ROWS + "9025-01-03,v2,0.5\n",
        ("line 6", "the data span"),
    ),
    ("year-one", "date,version,share\n0001-01-01,v0,1\n" + OK_ROWS, ("the data span",)),
    (
        "shares-over-one",
        "date,version,share\n" + OK_ROWS.replace("0.6", "0.9"),
        ("date 2025-01-02", "shares sum to 1.3000"),
    ),
    (
        "all-zero",
        "date,version,share\n"
        + OK_ROWS.replace("0.5", "0").replace("0.4", "0").replace("0.6", "0"),
        ("every share is 0",),
    ),
    (
        "escape-in-version",
        "date,version,share\n2025-01-01,v\x1b[2J,0.5\n2025-01-01,v\x1b[2J,0.5\n",
        ("line 3", "v\\x1b[2J on 2025-01-01 appears twice"),
    ),
    (
        "bidi-in-share",
        "date,version,share\n2025-01-01,v1,\u202e0.5\n",
        ("line 2", "share '\\u202e0.5' is not a number"),
    ),
    (
        "bidi-in-date",
        "date,version,share\n\u202e2025-01-01,v1,0.5\n",
        ("line 2", "date '\\u202e2025-01-01'"),
    ),
    (
        "huge-date-field",
        "date,version,share\n" + "1" * 100_000 + ",v1,1\n",
        ("line 2", "is not YYYY-MM-DD"),
    ),
    (
        "field-past-csv-limit",
        "date,version,share\n2025-01-01,v" + "9" * 200_000 + ",1\n",
        ("malformed CSV",),
    ),
    (
        "multiline-field",
        'date,version,share\n2025-01-01,"v\n1",0.5\n2025-01-01,"v\n1",0.5\n',
        ("line 5", "appears twice"),
    ),
    ("nan-share", "date,version,share\n2025-01-01,v1,nan\n", ("line 2", "share nan")),
    ("inf-share", "date,version,share\n2025-01-01,v1,inf\n", ("line 2", "share inf")),
    ("negative-share", "date,version,share\n2025-01-01,v1,-0.1\n", ("line 2", "share -0.1")),
    (
        "bad-release-date",
        "date,version,share,release_date\n2025-01-01,v1,1,2025-02-30\n",
        ("line 2", "release_date '2025-02-30'"),
    ),
    (
        "release-after-every-date",
        "date,version,share,release_date\n2025-01-01,v1,0.5,\n2025-01-01,v2,0.5,2025-06-01\n"
        "2025-01-02,v1,0.5,\n2025-01-02,v2,0.5,\n",
        ("no date after the second version",),
    ),
    (
        "latin1",
        "date,version,share\n2025-01-01,caf\xe9,1\n".encode("latin-1"),
        ("line 2", "not UTF-8"),
    ),
    ("utf16", ("date,version,share\n" + OK_ROWS).encode("utf-16"), ("not UTF-8",)),
    ("binary", bytes(range(256)) * 10, ("not UTF-8",)),
    ("no-header", OK_ROWS, ("line 1", "missing column(s)")),
    ("fifo", _fifo, ("not a regular file",)),
    ("folder", _folder, ("folder",)),
    ("dev-zero", _dev_zero, ("not a regular file",)),
    ("sparse-11-megabytes", _big, ("larger than 10 MB",)),
]

CASES += [
    Case(f"fit-{cid}", FIT, {"f.csv": content}, ("f.csv", *expect)) for cid, content, expect in FITS
]


def test_corpus_size() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_core_input(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv, out = _materialise(case, tmp_path)
    # CPU time of this process: a refusal must be cheap, whatever else runs on the shared box
    started = time.process_time()
    code = main(argv)
    elapsed = time.process_time() - started
    _check(code, capsys.readouterr().err, case, tmp_path, out)
    assert elapsed < 5, f"{case.id} took {elapsed:.1f} s"


def test_surrogate_error_line_is_printable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lone surrogate failed only when printed; the error line encodes as UTF-8."""
    (tmp_path / "s.yaml").write_text(
        _replace("name: quickstart", 'name: "a\\ud800"'), encoding="utf-8"
    )
    assert main(["validate", str(tmp_path / "s.yaml")]) == 2
    err = capsys.readouterr().err
    err.encode("utf-8")  # raises on a surrogate


@pytest.mark.parametrize("cid", ["scenario-platforms-list"])
def test_real_process(cid: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == cid)
    argv, out = _materialise(case, tmp_path)
    simlib = str(Path(sys.executable).with_name("simlib"))
    proc = subprocess.run([simlib, *argv], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    _check(proc.returncode, proc.stderr, case, tmp_path, out)
