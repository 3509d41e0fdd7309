"""Shared machinery of the malformed and hostile CLI corpora (``test_malformed_corpus.py``,
``test_hostile_core.py``): a case, writing its files, and checking the one error line. Kept apart
so that importing one corpus does not build the other's cases."""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.conftest import DATA

SCENARIOS = sorted((DATA / "scenarios").glob("*.yaml"))
SWEEPS = sorted((DATA / "sweeps").glob("*.yaml"))
QUICKSTART = DATA / "scenarios" / "quickstart.yaml"
CERT = DATA / "certs" / "letsencrypt" / "isrgrootx1.pem"

#: libyaml's emitter when PyYAML has it: the corpora dump hundreds of mutated scenarios (some with
#: 10 000 items), which the pure-Python emitter makes the slowest part of collecting them.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Case:
    """One malformed input: files to create, the argv (``{dir}``/``{out}`` filled in) and what
    the error line must contain (``{dir}`` filled in)."""

    id: str
    argv: list[str]
    files: dict[str, bytes | str | Callable[[Path], None]] = field(default_factory=dict)
    expect: tuple[str, ...] = ()


def _text(data: object) -> str:
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)


@functools.cache
def _loaded(path: Path) -> dict:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    curve = data.get("fleet", {}).get("adoption", {}).get("curve") if "base" not in data else None
    if curve:  # relative to the example, which the mutated copy no longer sits next to
        data["fleet"]["adoption"]["curve"] = str((path.parent / curve).resolve())
    return data


def _load(path: Path) -> dict:
    """The example at ``path`` as data (read once; each caller gets its own copy to mutate)."""
    return copy.deepcopy(_loaded(path))


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _big(path: Path) -> None:
    with open(path, "wb") as fh:  # sparse: 11 MB that takes no disk space
        fh.truncate(11 * 1024 * 1024)


def _folder(path: Path) -> None:
    path.mkdir()


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _materialise(case: Case, tmp_path: Path) -> tuple[list[str], Path]:
    for name, content in case.files.items():
        path = tmp_path / name
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{dir}", str(tmp_path)), encoding="utf-8")
    out = tmp_path / "out"
    argv = [a.replace("{dir}", str(tmp_path)).replace("{out}", str(out)) for a in case.argv]
    return argv, out


def _check(code: int, err: str, case: Case, tmp_path: Path, out: Path) -> None:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error: "), line
    assert len(line) <= 320, line
    for fragment in case.expect:
        assert fragment.replace("{dir}", str(tmp_path)) in line, line
    assert not out.exists() or not any(out.iterdir()), f"wrote into {out}"
    assert not (tmp_path / "results").exists()
