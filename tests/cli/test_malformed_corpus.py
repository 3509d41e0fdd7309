"""The malformed-input corpus: every bad input gives exit code 2, one ``error:`` line naming the
file and the field or line, no traceback, and nothing written.

Cases are generated from the shipped examples (``data/scenarios``, ``data/sweeps``) and a few
hand-written hostile files; each runs the CLI in-process (``simlib.cli.main.main``) for speed.
A handful also run as a subprocess (``TestRealProcess``) to prove the real exit code.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simlib.cli.main import main
from simlib.model import set_path
from tests.cli.corpus import (
    CERT,
    QUICKSTART,
    SCENARIOS,
    SWEEPS,
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


def _scenario_case(cid: str, text: str | bytes, *expect: str, command: str = "run") -> Case:
    argv = [command, "{dir}/s.yaml"] + (
        ["--out", "{out}", "--quiet"] if command != "validate" else []
    )
    return Case(cid, argv, {"s.yaml": text}, ("s.yaml", *expect))


# ---------------------------------------------------------------------------- scenarios

REQUIRED = ("name", "start", "end", "fleet", "hosts", "strategies")

#: (id, dotted path, value, fragment of the error line). Applied to every example scenario.
MUTATIONS: list[tuple[str, str, object, str]] = [
    ("users-zero", "fleet.users", 0, "fleet.users: must be ≥ 1"),
    ("users-negative", "fleet.users", -5, "fleet.users"),
    ("users-huge", "fleet.users", 10**13, "fleet.users: must be ≤"),
    ("users-text", "fleet.users", "many", "fleet.users: must be an integer"),
    ("users-float", "fleet.users", 1.5, "fleet.users"),
    ("users-inf", "fleet.users", float("inf"), "fleet.users"),
    ("release-zero", "fleet.release_every_days", 0, "fleet.release_every_days"),
    ("release-huge", "fleet.release_every_days", 10**9, "fleet.release_every_days: must be ≤"),
    ("lead-negative", "fleet.build_lead_days", -1, "fleet.build_lead_days"),
    ("lead-astronomic", "fleet.build_lead_days", 10**30, "fleet.build_lead_days"),
    ("adoption-list", "fleet.adoption", [1, 2], "fleet.adoption"),
    ("never-share-one", "fleet.adoption.never_update_share", 1, "never_update_share"),
    ("never-share-nan", "fleet.adoption.never_update_share", float("nan"), "never_update_share"),
    ("platform-unknown", "fleet.platforms", {"symbian": 1.0}, "fleet.platforms"),
    ("platform-shares", "fleet.platforms", {"android": 0.7, "ios": 0.7}, "fleet.platforms"),
    ("installs-inf", "fleet.new_installs", {"per_day": float("inf")}, "fleet.new_installs.per_day"),
    ("start-1949", "start", "1949-12-31", "start: 1949-12-31 is outside"),
    ("start-9999", "start", "9999-01-01", "start"),
    ("start-2201", "start", "2201-01-01", "start: 2201-01-01 is outside"),
    ("start-feb-30", "start", "2025-02-30", "start: must be a date"),
    ("start-int", "start", 20250101, "start: must be a date"),
    ("start-word", "start", "yesterday", "start: must be a date"),
    ("start-time", "start", "2025-01-01T10:30:00", "start"),
    ("end-before-start", "end", "1999-01-01", "end: must not be before start"),
    ("end-50-years", "end", "2080-01-01", "end: simulations are limited to 40 years"),
    ("seed-negative", "seed", -1, "seed: must be ≥ 0"),
    ("seed-huge", "seed", 2**70, "seed"),
    ("name-empty", "name", "", "name: must not be empty"),
    ("name-blank", "name", "   ", "name: must not be empty"),
    ("name-escape", "name", "evil\x1b[2Jname", "name: "),
    ("name-newline", "name", "two\nlines", "name"),
    ("cas-empty-name", "cas[0].name", "", "cas[0].name: must not be empty"),
    ("ca-name-65", "cas[0].name", "C" * 65, "cas[0].name"),
    ("ca-name-default-root", "cas[0].name", "C" * 60, "cas[0].name"),
    ("ca-root-65", "cas[0].root", "R" * 65, "cas[0].root"),
    ("ca-key-bogus", "cas[0].key", "dsa-1024", "cas[0].key: must be one of"),
    ("ca-validity-zero", "cas[0].validity_days", 0, "cas[0].validity_days"),
    ("ca-validity-huge", "cas[0].validity_days", 10**7, "cas[0].validity_days"),
    ("ca-int-name-empty", "cas[0].intermediates", [{"name": ""}], "cas[0].intermediates[0].name"),
    ("ca-selection", "cas[0].selection", "lottery", "cas[0].selection"),
    ("ca-root-expiry-1900", "cas[0].root_not_after", "1900-01-01", "cas[0].root_not_after"),
    ("host-name-empty", "hosts[0].name", "", "hosts[0].name: must not be empty"),
    ("host-name-idn", "hosts[0].name", "bücher.example", "punycode"),
    ("host-name-long", "hosts[0].name", "a" * 60 + ".example.com", "hosts[0].name"),
    (
        "host-name-space",
        "hosts[0].name",
        "api example.com",
        "not a valid host name: it contains U+0020",
    ),
    ("host-name-dash", "hosts[0].name", "-api.example.com", "not a valid host name: label 1"),
    ("host-ca-unknown", "hosts[0].ca", "nobody", "hosts[0].ca: unknown CA 'nobody'"),
    ("host-validity-zero", "hosts[0].validity_days", 0, "hosts[0].validity_days"),
    ("host-renew-fraction", "hosts[0].renew_at_fraction", 1.5, "hosts[0].renew_at_fraction"),
    ("host-key-policy", "hosts[0].key_policy", "sometimes", "hosts[0].key_policy"),
    ("host-rotate-zero", "hosts[0].key_policy", {"rotate_every": 0}, "rotate_every"),
    ("host-first-issued-late", "hosts[0].first_issued", "2090-01-01", "hosts[0].first_issued"),
    ("strategy-name-empty", "strategies[0].name", "", "strategies[0].name: must not be empty"),
    ("strategy-name-blank", "strategies[0].name", " \t ", "strategies[0].name"),
    ("strategy-pin-bogus", "strategies[0].pin", "everything", "strategies[0].pin"),
    ("strategy-backup-bogus", "strategies[1].backup", ["tomorrow"], "strategies[1].backup[0]"),
    ("strategy-expiry-huge", "strategies[1].expires_after_days", 10**12, "expires_after_days"),
    (
        "strategy-hosts-unknown",
        "strategies[1].hosts",
        ["nowhere.example"],
        "strategies[1].hosts[0]",
    ),
    ("attacks-bogus", "attacks", ["meteor"], "attacks[0].name"),
    (
        "events-bogus",
        "events",
        [{"type": "meteor", "date": "2025-06-01"}],
        "events[0]: unknown type",
    ),
    (
        "event-rate-huge",
        "events",
        [{"type": "key_compromise", "rate_per_year": 10**9}],
        "rate_per_year",
    ),
    (
        "event-date-impossible",
        "events",
        [{"type": "key_compromise", "date": "2025-02-31"}],
        "events[0].date",
    ),
    ("cap-zero", "validity_cap", [{"from": "2025-01-01", "max_days": 0}], "validity_cap"),
    ("cap-word", "validity_cap", "strict", "validity_cap"),
    ("mc-replications-zero", "monte_carlo.replications", 0, "monte_carlo.replications"),
    ("mc-panel-huge", "monte_carlo.panel_users", 10**12, "monte_carlo.panel_users"),
    ("ir-detect-negative", "incident_response.detect_days", -1, "incident_response.detect_days"),
    ("ir-threshold-one", "incident_response.threshold", 1.0, "incident_response.threshold"),
    ("metrics-threshold", "metrics.outage_threshold", 2, "metrics.outage_threshold"),
    (
        "economics-negative",
        "economics.cost_per_locked_user_day",
        -3,
        "economics.cost_per_locked_user_day",
    ),
    ("unknown-field", "colour", "blue", "colour: unknown field"),
    ("budget-cells", "fleet.release_every_days", 1, "too much work"),  # with a 39-year horizon
]

EXTRA: dict[str, dict[str, object]] = {
    "budget-cells": {"end": None},  # filled per example: start + 39 years
    "ca-name-default-root": {"cas[0].root": None},
}


def _mutated(example: Path, cid: str, path: str, value: object) -> str:
    data = _load(example)
    if cid == "budget-cells":
        start = str(data["start"])
        data["end"] = f"{int(start[:4]) + 39}{start[4:]}"
        data["strategies"] = data["strategies"] * 3
        data["strategies"] = [
            {**s, "name": f"{s['name']} {i}"} for i, s in enumerate(data["strategies"])
        ]
    for p, v in EXTRA.get(cid, {}).items():
        if p != "end":
            data = set_path(data, p, v)
    data = set_path(data, path, copy.deepcopy(value))
    return _text(data)


def scenario_cases() -> list[Case]:
    cases: list[Case] = []
    for example in SCENARIOS:
        stem = example.stem
        data = _load(example)
        if "cas" not in data:  # the host shorthand (bank.yaml): its errors are in tests/model
            continue
        for key in REQUIRED:
            dropped = {k: v for k, v in data.items() if k != key}
            cases.append(
                _scenario_case(
                    f"{stem}-drop-{key}", _text(dropped), f"{key}: required field is missing"
                )
            )
        # cas may be left out when the host shorthand or a catalogue backup brings the CAs; then
        # either it is missing or the host's CA is unknown ("… a name under cas …")
        without_cas = {k: v for k, v in data.items() if k != "cas"}
        cases.append(_scenario_case(f"{stem}-drop-cas", _text(without_cas), "cas"))
        for key in data:
            wrong = {**data, key: [[["x"]]]}
            cases.append(_scenario_case(f"{stem}-wrong-type-{key}", _text(wrong), key))
        for cid, path, value, fragment in MUTATIONS:
            if path.startswith("strategies[1]") and len(data["strategies"]) < 2:
                continue
            cases.append(
                _scenario_case(f"{stem}-{cid}", _mutated(example, cid, path, value), fragment)
            )
        raw = re.sub(
            r"curve: (\S+)",
            lambda m, d=example.parent: f"curve: {(d / m.group(1)).resolve()}",
            example.read_text(encoding="utf-8"),
        )
        impossible = re.sub(r"^start: .*$", "start: 2025-13-01", raw, count=1, flags=re.M)
        cases.append(_scenario_case(f"{stem}-impossible-date", impossible, "start: must be a date"))
        duplicated = raw + "\nseed: 99\n" if "\nseed:" in raw else raw + "\nname: again\n"
        cases.append(_scenario_case(f"{stem}-duplicate-key", duplicated, "duplicate key"))
    return cases


# ------------------------------------------------------------------------ hostile files

QS = QUICKSTART.read_text(encoding="utf-8")

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)


HOSTILE: list[tuple[str, object, tuple[str, ...]]] = [
    ("duplicate-top-key", QS + "\nname: twice\n", ("line", "duplicate key 'name'")),
    (
        "duplicate-nested-key",
        QS.replace("  users: 1000000\n", "  users: 1000000\n  users: 5\n"),
        ("duplicate key 'users'",),
    ),
    (
        "duplicate-flow-key",
        QS.replace("{name: no pinning, pin: none}", "{name: a, name: b, pin: none}"),
        ("duplicate key 'name'",),
    ),
    ("alias-bomb", BOMB, ("line", "alias bomb")),
    (
        "alias-bomb-in-scenario",
        QS.replace(
            "seed: 7\n",
            "seed: 7\n" + BOMB.replace("\n", "\n  ").replace("a: &a", "x:\n  a: &a", 1) + "\n",
        ),
        ("line",),
    ),
    ("recursive-alias", "name: &n [*n]\n", ("line", "recursive alias")),
    ("undefined-alias", QS.replace("seed: 7", "seed: *nothing"), ("line", "undefined alias")),
    ("too-many-aliases", "a: &a 1\nb: [" + ", ".join(["*a"] * 10_001) + "]\n", ("line", "aliases")),
    (
        "python-tag-apply",
        "name: !!python/object/apply:os.system ['echo pwned']\n",
        ("line", "python/object/apply"),
    ),
    (
        "python-tag-name",
        QS.replace("name: quickstart", "name: !!python/name:os.system"),
        ("line", "python/name"),
    ),
    ("python-tag-module", "!!python/module:os\n", ("line",)),
    ("bad-int-tag", QS.replace("seed: 7", "seed: !!int seven"), ("line 4", "cannot read value")),
    ("bad-binary-tag", QS.replace("seed: 7", "seed: !!binary '%%%'"), ("seed",)),
    ("custom-tag", QS.replace("seed: 7", "seed: !secret 7"), ("line 4", "!secret")),
    ("deep-nesting-flow", "a: " + "[" * 5000 + "]" * 5000 + "\n", ("line 1", "nested deeper")),
    (
        "deep-nesting-block",
        "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v\n",
        ("nested deeper",),
    ),
    ("binary-garbage", bytes(range(256)) * 64, ("UTF-8",)),
    ("random-bytes", bytes((i * 7919 + 13) % 256 for i in range(20_000)), ()),
    (
        "non-utf8-latin1",
        QS.replace("quickstart", "caf\u00e9").encode("latin-1"),
        ("line 1", "not UTF-8"),
    ),
    ("utf16", QS.encode("utf-16"), ("not UTF-8",)),
    ("nul-byte", QS.replace("seed: 7", "seed: 7\x00"), ("line 4", "U+0000")),
    (
        "escape-char",
        QS.replace("name: quickstart", "name: quick\x1b[31mstart"),
        ("line 1", "U+001B"),
    ),
    ("empty-file", "", ("must be a YAML mapping",)),
    ("only-comment", "# nothing here\n", ("must be a YAML mapping",)),
    ("scalar-document", "hello\n", ("must be a YAML mapping",)),
    ("list-document", "- 1\n- 2\n", ("must be a YAML mapping",)),
    ("two-documents", QS + "---\n" + QS, ("line", "another document")),
    ("tab-indent", QS.replace("  users: 1000000", "\tusers: 1000000"), ("line 6",)),
    ("unclosed-bracket", QS.replace("[rogue_ca,", "[rogue_ca"), ("attacks[0]",)),
    ("unclosed-quote", QS.replace("name: quickstart", 'name: "quickstart'), ("line",)),
    ("escaped-newline-name", QS.replace("name: quickstart", 'name: "two\\nlines"'), ("name",)),
    (
        "escaped-ansi-name",
        QS.replace("name: quickstart", 'name: "x\\e[2Jy"'),
        ("name", "control characters"),
    ),
    ("huge-message", QS.replace("seed: 7", "seed: " + "9" * 5000), ("line 4",)),
    ("huge-key", QS + "\n" + "k" * 100_000 + ": 1\n", ("line",)),
    ("folder", _folder, ("folder",)),
    ("fifo", _fifo, ("not a regular file",)),
    ("dev-zero", _dev_zero, ("not a regular file",)),
    ("eleven-megabytes", _big, ("larger than 10 MB",)),
]


def hostile_cases() -> list[Case]:
    cases = [_scenario_case(f"file-{cid}", content, *expect) for cid, content, expect in HOSTILE]
    cases += [
        _scenario_case(f"validate-{cid}", content, *expect, command="validate")
        for cid, content, expect in HOSTILE
        if cid
        in ("alias-bomb", "fifo", "dev-zero", "folder", "duplicate-top-key", "binary-garbage")
    ]
    cases.append(
        Case(
            "missing-file",
            ["run", "{dir}/absent.yaml", "--out", "{out}"],
            {},
            ("absent.yaml", "No such file"),
        )
    )
    cases.append(
        Case(
            "report-missing-file",
            ["report", "{dir}/absent.yaml", "--out", "{out}"],
            {},
            ("absent.yaml",),
        )
    )
    # A curve file is read like a scenario: a FIFO or folder must not hang or crash.
    curve = QS.replace(
        "    never_update_share: 0.02\n    components:\n      - {weight: 0.47, mean_lag_days: 3.3}\n"
        "      - {weight: 0.53, mean_lag_days: 29}\n",
        "    curve: curve.csv\n",
    )
    cases.append(
        Case(
            "curve-fifo",
            ["run", "{dir}/s.yaml", "--out", "{out}"],
            {"s.yaml": curve, "curve.csv": _fifo},
            ("curve.csv", "not a regular file"),
        )
    )
    cases.append(
        Case(
            "curve-binary",
            ["run", "{dir}/s.yaml", "--out", "{out}"],
            {"s.yaml": curve, "curve.csv": b"\xff\xfe\x00garbage"},
            ("curve.csv",),
        )
    )
    cases.append(
        Case(
            "curve-bad-row",
            ["run", "{dir}/s.yaml", "--out", "{out}"],
            {"s.yaml": curve, "curve.csv": "days,share\n0,0\n5,2\n"},
            ("curve.csv", "line 3"),
        )
    )
    # Found only while simulating (validation passes): still one line, nothing written.
    tiny = _load(QUICKSTART)
    tiny.update(end="2025-03-31", strategies=tiny["strategies"][:2])
    tiny["cas"][0]["intermediates"] = [{"name": "Int A1", "active_until": "2025-02-01"}]
    cases.append(
        _scenario_case(
            "runtime-no-active-intermediate",
            _text(tiny),
            "cas[0].intermediates: no active intermediate",
        )
    )
    cases.append(
        _scenario_case(
            "report-runtime-no-active-intermediate",
            _text(tiny),
            "no active intermediate",
            command="report",
        )
    )
    return cases


# ---------------------------------------------------------------------------------- sweeps


def sweep_cases() -> list[Case]:
    cases: list[Case] = []

    def case(cid: str, data: object, *expect: str, extra: dict | None = None) -> None:
        text = data if isinstance(data, (str, bytes)) or callable(data) else _text(data)
        files = {"w.yaml": text, **(extra or {})}
        cases.append(
            Case(
                f"sweep-{cid}",
                ["sweep", "{dir}/w.yaml", "--out", "{out}", "--quiet"],
                files,
                ("w.yaml", *expect),
            )
        )

    for example in SWEEPS:
        stem = example.stem
        data = _load(example)
        data["base"] = str(QUICKSTART)
        for key in ("name", "base", "axes"):
            case(
                f"{stem}-drop-{key}",
                {k: v for k, v in data.items() if k != key},
                f"{key}: required field is missing",
            )
        for key in data:
            case(f"{stem}-wrong-type-{key}", {**data, key: [[["x"]]]}, key)
        mutations = {
            "name-empty": ({"name": ""}, "name"),
            "seed-negative": ({"seed": -1}, "seed"),
            "seed-huge": ({"seed": 2**64}, "seed"),
            "replications-zero": ({"replications": 0, "mode": "monte_carlo"}, "replications"),
            "replications-expected": ({"replications": 5, "mode": "expected"}, "replications"),
            "mode-bogus": ({"mode": "fast"}, "mode"),
            "base-missing": ({"base": "nowhere.yaml"}, "base"),
            "base-inline-bad": ({"base": {"name": "x"}}, "base."),
            "base-inline-date": (
                {"base": {**_load(QUICKSTART), "start": "2025-13-01"}},
                "base.start",
            ),
            "axes-empty": ({"axes": {}}, "axes"),
            "grid-unknown-path": (
                {"axes": {"grid": {"fleet.colour": [1, 2]}}},
                "axes.grid.fleet.colour",
            ),
            "grid-bad-value": (
                {"axes": {"grid": {"hosts[0].validity_days": [90, 0]}}},
                "axes.grid.hosts[0].validity_days",
            ),
            "grid-bad-index": ({"axes": {"grid": {"hosts[9].validity_days": [90]}}}, "hosts[9]"),
            "grid-empty-values": ({"axes": {"grid": {"hosts[0].validity_days": []}}}, "axes"),
            "grid-bad-path": ({"axes": {"grid": {"hosts[x]..a": [1]}}}, "axes.grid"),
            "grid-bad-date": ({"axes": {"grid": {"start": ["2025-02-30"]}}}, "axes.grid.start"),
            "grid-empty-name": (
                {"axes": {"grid": {"strategies[0].name": [""]}}},
                "axes.grid.strategies[0].name",
            ),
            "grid-too-many-points": (
                {
                    "axes": {
                        "grid": {
                            "fleet.adoption.components[0].weight": list(range(10**4)),
                            "seed": list(range(10**4)),
                        }
                    }
                },
                "points",
            ),
            "random-n-zero": (
                {"axes": {"random": {"n": 0, "params": {"seed": {"uniform": [0, 1]}}}}},
                "axes.random.n",
            ),
            "random-bad-dist": (
                {"axes": {"random": {"n": 3, "params": {"fleet.users": {"zipf": [1]}}}}},
                "axes.random.params.fleet.users",
            ),
            "lhs-discrete": (
                {
                    "axes": {
                        "latin_hypercube": {"n": 3, "params": {"fleet.users": {"choice": [1, 2]}}}
                    }
                },
                "axes.latin_hypercube.params",
            ),
            "unknown-key": ({"colour": "red"}, "colour: unknown field"),
        }
        for cid, (change, fragment) in mutations.items():
            case(f"{stem}-{cid}", {**data, **change}, fragment)
        raw = example.read_text(encoding="utf-8").replace(
            "../scenarios/quickstart.yaml", str(QUICKSTART)
        )
        case(f"{stem}-duplicate-key", raw + "\nseed: 3\n", "duplicate key 'seed'")
    base = f"name: bomb\nbase: {QUICKSTART}\n"
    case("alias-bomb", base + BOMB + "axes: {grid: {seed: [1]}}\n", "alias bomb")
    case(
        "alias-bomb-in-axes",
        base
        + "axes:\n  grid:\n    seed: &a [1,1,1,1,1,1,1,1,1,1]\n"
        + "".join(
            f"    s{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7)
        ),
        "line",
    )
    case("python-tag", base + "axes: !!python/object/apply:os.system ['echo pwned']\n", "line 3")
    case("deep-nesting", base + "axes: " + "{a: " * 200 + "1" + "}" * 200 + "\n", "nested deeper")
    case(
        "non-utf8",
        (base + "description: caf\u00e9\naxes: {grid: {seed: [1]}}\n").encode("latin-1"),
        "not UTF-8",
    )
    case("empty", "", "must be a YAML mapping")
    case("folder", _folder, "folder")
    case("fifo", _fifo, "not a regular file")
    case("dev-zero", _dev_zero, "not a regular file")
    # An error in the base scenario file names that file.
    cases.append(
        Case(
            "sweep-base-bad-file",
            ["sweep", "{dir}/w.yaml", "--out", "{out}"],
            {
                "w.yaml": "name: x\nbase: bad.yaml\naxes: {grid: {seed: [1]}}\n",
                "bad.yaml": "name: [1\n",
            },
            ("bad.yaml", "line"),
        )
    )
    return cases


# ------------------------------------------------------------------------- certificates

GOOD_PEM = CERT.read_bytes()
BODY = b"".join(GOOD_PEM.splitlines(keepends=True)[1:-1])

CERT_FILES: list[tuple[str, object, str]] = [
    ("empty", b"", "empty file"),
    ("whitespace", b" \n\t\n", "empty file"),
    ("binary-junk", bytes(range(256)) * 4, "no certificate"),
    ("text-junk", b"not a certificate\n", "no certificate"),
    ("der-junk", b"\x30\x82\x01\x00" + b"\x00" * 200, "no certificate"),
    ("truncated", GOOD_PEM[:500], "truncated"),
    ("cut-in-second", GOOD_PEM + GOOD_PEM[:300], "truncated"),
    ("many-begins", b"-----BEGIN CERTIFICATE-----\n" * 20_000, "truncated"),
    ("begin-inside-block", b"-----BEGIN CERTIFICATE-----\nAAAA\n" + GOOD_PEM, "truncated"),
    ("end-without-begin", b"-----END CERTIFICATE-----\n" + GOOD_PEM, "without BEGIN"),
    ("mismatched-end", GOOD_PEM.replace(b"END CERTIFICATE", b"END PUBLIC KEY"), "closes"),
    (
        "bad-base64",
        b"-----BEGIN CERTIFICATE-----\nMIIF@@@not*base64\n-----END CERTIFICATE-----\n",
        "invalid base64",
    ),
    (
        "truncated-der",
        b"-----BEGIN CERTIFICATE-----\n" + BODY[:200] + b"\n-----END CERTIFICATE-----\n",
        "block [0]",
    ),
    ("bad-key", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a valid"),
    (
        "only-private-key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "no certificate",
    ),
    (
        "csr-only",
        b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        "no certificate",
    ),
    ("folder", _folder, "folder"),
    ("fifo", _fifo, "not a regular file"),
    ("dev-zero", _dev_zero, "not a regular file"),
    ("eleven-megabytes", _big, "larger than 10 MB"),
]


def cert_cases() -> list[Case]:
    cases = [
        Case(
            f"pins-{cid}",
            ["pins", str(CERT), "{dir}/c.pem"],
            {"c.pem": content},
            ("c.pem", fragment),
        )
        for cid, content, fragment in CERT_FILES
    ]
    cases.append(
        Case("pins-missing", ["pins", "{dir}/absent.pem"], {}, ("absent.pem", "No such file"))
    )
    return cases


# ----------------------------------------------------------------------------- arguments


def argv_cases() -> list[Case]:
    qs = str(QUICKSTART)
    mc = ["run", qs, "--mode", "monte-carlo", "--out", "{out}"]
    table: list[tuple[str, list[str], tuple[str, ...]]] = [
        ("no-command", [], ("COMMAND",)),
        ("unknown-command", ["explode"], ("explode",)),
        ("unknown-option", ["run", qs, "--colour", "red"], ("--colour",)),
        ("replications-zero", [*mc, "--replications", "0"], ("--replications", "between 1")),
        ("replications-negative", [*mc, "--replications", "-3"], ("--replications",)),
        ("replications-text", [*mc, "--replications", "many"], ("--replications", "'many'")),
        ("replications-float", [*mc, "--replications", "2.5"], ("--replications",)),
        ("replications-huge", [*mc, "--replications", "10000000"], ("--replications",)),
        (
            "replications-without-mode",
            ["run", qs, "--replications", "50", "--out", "{out}"],
            ("--replications", "--mode monte-carlo"),
        ),
        (
            "replications-expected-mode",
            ["run", qs, "--mode", "expected", "--replications", "5", "--out", "{out}"],
            ("--replications",),
        ),
        ("seed-without-mode", ["run", qs, "--seed", "4", "--out", "{out}"], ("--seed",)),
        ("seed-negative", [*mc, "--seed", "-1"], ("--seed",)),
        ("seed-huge", [*mc, "--seed", str(2**64)], ("--seed",)),
        ("mode-bogus", ["run", qs, "--mode", "fast"], ("--mode", "'fast'")),
        ("mode-missing-value", ["run", qs, "--mode"], ("--mode",)),
        ("format-bogus", ["run", qs, "--format", "xlsx"], ("--format",)),
        (
            "mc-over-budget",
            [*mc, "--replications", "1000000"],
            ("quickstart.yaml", "monte_carlo.replications", "too much work"),
        ),
        (
            "out-in-proc",
            ["run", qs, "--out", "/proc/simlib-corpus/out"],
            ("/proc/simlib-corpus/out", "cannot write"),
        ),
        ("out-is-file", ["run", qs, "--out", "{dir}/file"], ("file", "not a folder")),
        ("out-under-file", ["run", qs, "--out", "{dir}/file/sub"], ("file/sub", "not a folder")),
        ("report-out-is-file", ["report", qs, "--out", "{dir}/file"], ("file", "not a folder")),
        ("validate-two-files", ["validate", qs, qs], ("unrecognized",)),
        ("pins-no-files", ["pins"], ("FILE",)),
        ("sweep-no-out", ["sweep", str(SWEEPS[0])], ("--out",)),
        (
            "sweep-workers-zero",
            ["sweep", str(SWEEPS[0]), "--out", "{out}", "--workers", "0"],
            ("--workers",),
        ),
        (
            "sweep-workers-text",
            ["sweep", str(SWEEPS[0]), "--out", "{out}", "--workers", "two"],
            ("--workers",),
        ),
        (
            "sweep-batch-negative",
            ["sweep", str(SWEEPS[0]), "--out", "{out}", "--batch-size", "-5"],
            ("--batch-size",),
        ),
        (
            "sweep-exclusive",
            ["sweep", str(SWEEPS[0]), "--out", "{out}", "--workers", "2", "--dask-local", "2"],
            ("not allowed",),
        ),
        (
            "sweep-out-is-file",
            ["sweep", str(SWEEPS[0]), "--out", "{dir}/file"],
            ("file", "not a folder"),
        ),
        ("sweep-missing-file", ["sweep", "{dir}/absent.yaml", "--out", "{out}"], ("absent.yaml",)),
    ]
    return [
        Case(f"argv-{cid}", argv, {"file": "I am a file\n"}, expect) for cid, argv, expect in table
    ]


CASES = scenario_cases() + hostile_cases() + sweep_cases() + cert_cases() + argv_cases()


def test_corpus_is_large_enough():
    assert len(CASES) >= 250
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a default results/ folder would land here
    argv, out = _materialise(case, tmp_path)
    # CPU time of this process: a refusal must be cheap, whatever else runs on the shared box
    started = time.process_time()
    code = main(argv)
    elapsed = time.process_time() - started
    captured = capsys.readouterr()
    _check(code, captured.err, case, tmp_path, out)
    assert elapsed < 10, f"{case.id} took {elapsed:.1f} s"


class TestRealProcess:
    """A few cases as real processes: the exit code the shell sees, stderr as the user sees it."""

    SIMLIB = str(Path(sys.executable).with_name("simlib"))

    @pytest.mark.parametrize(
        "cid",
        [
            "file-alias-bomb",
            "file-dev-zero",
            "argv-replications-negative",
            "pins-many-begins",
            "sweep-fifo",
        ],
    )
    def test_exit_code(self, cid: str, tmp_path: Path) -> None:
        case = next(c for c in CASES if c.id == cid)
        argv, out = _materialise(case, tmp_path)
        proc = subprocess.run(
            [self.SIMLIB, *argv], capture_output=True, text=True, timeout=60, cwd=tmp_path
        )
        _check(proc.returncode, proc.stderr, case, tmp_path, out)


# ------------------------------------------------------------------------- pin toolkit

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs"


def _toolkit_chain() -> bytes:
    from cryptography.hazmat.primitives import serialization

    from tests.toolkit.pki import pki

    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in pki().chain)


def toolkit_cases() -> list[Case]:
    chain = {"chain.pem": _toolkit_chain()}
    good = str(CONFIGS / "nsc_basic.xml")
    bad = CONFIGS / "malformed"
    table: list[tuple[str, list[str], dict, tuple[str, ...]]] = [
        ("broken-xml", [str(bad / "broken.xml")], chain, ("broken.xml", "malformed XML")),
        ("entity-bomb", [str(bad / "entity_bomb.xml")], chain, ("entity_bomb.xml", "entity")),
        ("external-entity", [str(bad / "external_entity.xml")], chain, ("entity",)),
        ("wrong-digest", [str(bad / "wrong_digest.xml")], chain, ("wrong_digest.xml", "SHA-1")),
        ("bad-base64-nsc", [str(bad / "bad_base64.xml")], chain, ("not valid base64",)),
        ("bad-base64-okhttp", [str(bad / "bad_base64.txt")], chain, ("invalid pin hash",)),
        ("broken-plist", [str(bad / "truncated_binary.plist")], chain, ("plist",)),
        ("truncated-pem", [good], {"chain.pem": GOOD_PEM[:500]}, ("chain.pem", "truncated")),
        ("empty-chain", [good], {"chain.pem": b""}, ("chain.pem", "empty file")),
    ]
    cases = [
        Case(f"audit-{cid}", ["audit", *argv, "--chain", "{dir}/chain.pem"], files, expect)
        for cid, argv, files, expect in table
    ]
    cases += [
        Case(
            "audit-unreachable-host",
            ["audit", good, "--host", "no-such-host.invalid"],
            {},
            ("no-such-host.invalid:443", "cannot resolve"),
        ),
        Case(
            "audit-refused",
            ["audit", good, "--host", "127.0.0.1", "--port", "1", "--timeout", "2"],
            {},
            ("127.0.0.1:1", "connection refused"),
        ),
        Case(
            "audit-url-not-host",
            ["audit", good, "--host", "https://api.example.com/"],
            {},
            ("not a valid host name",),
        ),
        Case("audit-no-chain", ["audit", good], {}, ("--chain PEM or --host HOST",)),
        Case("pins-host-and-file", ["pins", str(CERT), "--host", "localhost"], {}, ("not both",)),
        Case(
            "emit-bogus-strategy",
            ["emit", "--strategy", "bogus", "--chain", "{dir}/chain.pem", "--out", "{out}"],
            chain,
            ("unknown strategy",),
        ),
        Case(
            "emit-bad-backup",
            [
                "emit",
                "--strategy",
                "leaf_spki",
                "--backup",
                "@@@",
                "--chain",
                "{dir}/chain.pem",
                "--out",
                "{out}",
            ],
            chain,
            ("backup [0]",),
        ),
    ]
    return cases


TOOLKIT_CASES = toolkit_cases()


@pytest.mark.parametrize("case", TOOLKIT_CASES, ids=[c.id for c in TOOLKIT_CASES])
def test_toolkit_malformed_input(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv, out = _materialise(case, tmp_path)
    code = main(argv)
    _check(code, capsys.readouterr().err, case, tmp_path, out)


@pytest.mark.parametrize(
    ("mode", "host", "expect"),
    [
        ("garbage", "localhost", "TLS handshake failed"),  # handshake failure
        ("tls", "127.0.0.1", "certificate verification failed"),  # wrong host name
        ("silent", "localhost", "timed out"),  # no answer
    ],
)
def test_toolkit_live_host_failures(
    mode: str,
    host: str,
    expect: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch,
) -> None:
    from tests.toolkit.tls_server import Server

    monkeypatch.chdir(tmp_path)
    (tmp_path / "srv").mkdir()
    with Server(tmp_path / "srv", mode) as srv:
        case = Case(f"live-{mode}", [], {}, (f"{host}:{srv.port}", expect))
        code = main(
            [
                "audit",
                str(CONFIGS / "nsc_basic.xml"),
                "--host",
                host,
                "--port",
                str(srv.port),
                "--ca-file",
                str(srv.files["root"]),
                "--timeout",
                "1",
            ]
        )
    _check(code, capsys.readouterr().err, case, tmp_path, tmp_path / "out")
