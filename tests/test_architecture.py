"""The layers docs/architecture.md describes, with every import counted.

Every ``simlib`` import is an edge: at module level, inside functions (lazy), under
``if TYPE_CHECKING:``, in ``try`` blocks, and ``__import__``/``importlib.import_module`` calls
with a literal name. A lazy import still ties two modules together: it only hides the tie from
whoever reads the top of the file. Tests: no cycle between modules; no package imports one it
is not allowed to (``ALLOWED``, the layer diagram as a table; the diagram and the table of
docs/architecture.md are checked against it); and the checker itself catches a planted lazy and
a planted ``TYPE_CHECKING`` upward import.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "simlib"
DOC = ROOT.parent / "docs" / "architecture.md"

# Modules with no simlib import of their own (or only errors): every layer may read them.
_LEAVES = {"errors", "_version", "_dates", "_rng", "_files", "_hostnames", "vocabulary"}

#: Package (or top-level module) -> the packages it may import, bottom layer first. The layer
#: diagram in docs/architecture.md is this table drawn; a new package gets a row here.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "_version": set(),
    "_dates": set(),
    "_rng": set(),
    "vocabulary": {"errors"},
    "_files": {"errors"},
    "_hostnames": {"errors"},
    "_outputs": {"errors", "_files"},
    "_atomic": {"errors", "_files", "_outputs", "_version"},
    "_claims": {"errors", "_files", "_outputs", "_atomic", "_version"},
    "pki": {"errors", "_files"},
    # base data: nothing but the leaves and pki (the one SPKI pin and key-type rule), so model
    # and server can read it
    "world": _LEAVES - {"_rng", "_version"} | {"pki"},
    "model": _LEAVES - {"_rng", "_version"} | {"pki", "world"},
    "server": _LEAVES - {"_version"} | {"pki", "world", "model"},
    "fleet": {"errors", "_rng", "vocabulary", "model"},
    "clients": {"errors", "vocabulary", "pki", "model", "server"},
    "strategies": {"errors", "vocabulary", "pki", "model", "server"},
    "engine": _LEAVES - {"_version", "_files"}
    | {"pki", "model", "server", "fleet", "clients", "strategies"},
    "results": _LEAVES - {"_files"}
    | {"_outputs", "_atomic", "pki", "model", "server", "fleet", "clients", "strategies"}
    | {"engine"},
    "api": {"errors", "model", "engine", "results"},
    "batch": _LEAVES | {"_outputs", "_atomic", "model", "engine", "results", "api"},
    # analysis over the real world (presets, the risk calendar): simulates through api only
    "analysis": _LEAVES - {"_rng", "_version"} | {"world", "model", "results", "api"},
    "toolkit": _LEAVES - {"_rng"} | {"_outputs", "_atomic", "pki", "world", "model", "api"},
    # the report reads results and the analyses, never the engine's tables
    "report": _LEAVES
    | {"_outputs", "_atomic", "pki", "world", "model", "strategies", "results", "api"}
    | {"batch", "analysis", "toolkit"},
    # argument parsing and printing: no engine, server, clients or fleet of its own, and of
    # world only the names its options offer (cli.common.tool_names)
    "cli": _LEAVES
    | {"_outputs", "_atomic", "_claims", "pki", "world", "model", "results", "api", "batch"}
    | {"analysis"}
    | {"toolkit", "report"},
    # the public names (simlib/__init__.py)
    "simlib": _LEAVES | {"model", "strategies", "results", "api", "batch"},
}


def _module(path: Path, root: Path) -> str:
    name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
    return name.removesuffix(".__init__")


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _named(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every (module, names) an import in ``tree`` names, anywhere in the file."""
    here = module.split(".") if is_package else module.split(".")[:-1]
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom):
            base = n.module or ""
            if n.level:  # relative: from .x import y
                parent = here[: len(here) - n.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            yield base, tuple(a.name for a in n.names)
        elif isinstance(n, ast.Import):
            for a in n.names:
                yield a.name, ()
        elif isinstance(n, ast.Call) and n.args and (name := _literal(n.args[0])):
            func = ast.unparse(n.func)
            if func in ("__import__", "importlib.import_module", "import_module"):
                yield name, ()


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The simlib modules ``module`` imports, counting every import in the file. ``from a.b
    import c`` names ``a.b.c`` if that is a module, else ``a.b``; importing a module of another
    package also runs that package's ``__init__`` (an edge to it too)."""
    out: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for base, names in _named(tree, module, path.name == "__init__.py"):
        if base != "simlib" and not base.startswith("simlib."):
            continue
        subs = {f"{base}.{a}" for a in names} & known
        targets = subs | ({base} if len(subs) < len(names) or not names else set())
        for target in targets & known:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                ancestor = ".".join(parts[:i])
                # a package this module sits in is already being imported: not an edge
                if ancestor in known and not (module + ".").startswith(ancestor + "."):
                    out.add(ancestor)
    return out - {module}


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the simlib modules it imports (every import counted)."""
    files = {_module(p, root): p for p in root.rglob("*.py")}
    known = set(files)
    return {m: _imports(p, m, known) for m, p in files.items()}


@functools.cache
def _simlib() -> dict[str, set[str]]:
    return graph()


def package(module: str) -> str:
    """``simlib.engine.sums`` -> ``engine``; ``simlib.errors`` -> ``errors``; ``simlib`` itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``edges`` (its first node repeated at the end), or None."""
    state: dict[str, int] = {}
    for start in sorted(edges):
        if start in state:
            continue
        # iterative depth-first search: stack of (node, its remaining successors)
        path = [start]
        todo = [iter(sorted(edges.get(start, ())))]
        state[start] = 1
        while todo:
            w = next(todo[-1], None)
            if w is None:
                state[path.pop()] = 2
                todo.pop()
            elif state.get(w) == 1:
                return [*path[path.index(w) :], w]
            elif w not in state:
                state[w] = 1
                path.append(w)
                todo.append(iter(sorted(edges.get(w, ()))))
    return None


def violations(edges: dict[str, set[str]], allowed: dict[str, set[str]]) -> list[str]:
    """Each import of a package that its package may not import, as ``module → module``."""
    return sorted(
        f"{m} → {d}"
        for m, deps in edges.items()
        for d in deps
        if package(d) != package(m) and package(d) not in allowed.get(package(m), set())
    )


# ------------------------------------------------------------------------------- the tests


def test_no_import_cycle_counting_every_import():
    found = cycle(_simlib())
    assert found is None, " → ".join(found)


def test_every_package_imports_only_what_it_may():
    assert violations(_simlib(), ALLOWED) == []


def test_every_package_has_a_row_and_the_rows_are_layers():
    packages = {package(m) for m in _simlib()}
    assert packages - set(ALLOWED) == set(), "give each new package a row in ALLOWED"
    assert set(ALLOWED) - packages == set(), "ALLOWED names a package that is gone"
    assert all(deps <= set(ALLOWED) for deps in ALLOWED.values())
    # the table itself is an order: no package may (transitively) import itself
    assert cycle(ALLOWED) is None, cycle(ALLOWED)


def test_the_graph_counts_lazy_and_dynamic_imports():
    g = _simlib()
    # imported inside functions only
    assert "simlib.report.render" in g["simlib.cli.main"]
    assert "simlib.world.catalogue" in g["simlib.server.calendar"]
    # ``from simlib import world`` inside a function names the package
    assert "simlib.world" in g["simlib.toolkit.forecast"]
    # importing a module of another package runs that package's __init__
    assert "simlib.analysis" in g["simlib.cli.world"]


def test_the_docs_name_every_package():
    text = DOC.read_text(encoding="utf-8")
    for name in ALLOWED:
        if name == "simlib" or (ROOT / f"{name}.py").is_file():
            continue
        assert f"`simlib/{name}/`" in text, f"docs/architecture.md has no row for simlib/{name}/"


# ------------------------------------------------------------------- the checker catches ...


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "simlib"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


_TINY = {"low": set(), "high": {"low"}, "simlib": set()}


def test_checker_catches_a_planted_lazy_upward_import(tmp_path):
    root = _plant(
        tmp_path,
        {
            "low/__init__.py": "",
            "low/base.py": "def f():\n    from simlib.high.top import g\n    return g\n",
            "high/__init__.py": "",
            "high/top.py": "from simlib.low.base import f\n\ndef g():\n    return f\n",
        },
    )
    edges = graph(root)
    assert violations(edges, _TINY) == [
        "simlib.low.base → simlib.high",
        "simlib.low.base → simlib.high.top",
    ]
    assert cycle(edges) == ["simlib.high.top", "simlib.low.base", "simlib.high.top"]


def test_checker_catches_a_planted_type_checking_import(tmp_path):
    root = _plant(
        tmp_path,
        {
            "low/__init__.py": "",
            "low/base.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..high import top\n"
            ),
            "high/__init__.py": "",
            "high/top.py": "",
        },
    )
    assert violations(graph(root), _TINY) == [
        "simlib.low.base → simlib.high",
        "simlib.low.base → simlib.high.top",
    ]


def test_checker_catches_dynamic_imports_and_package_inits(tmp_path):
    root = _plant(
        tmp_path,
        {
            "low/__init__.py": "",
            "low/base.py": "import importlib\nm = importlib.import_module('simlib.high.top')\n",
            "low/other.py": "x = __import__('simlib.high', fromlist=['top'])\n",
            "high/__init__.py": "from simlib.high.top import y\n",
            "high/top.py": "y = 1\n",
            "side.py": "from simlib.high.top import y\n",
        },
    )
    edges = graph(root)
    assert edges["simlib.low.base"] == {"simlib.high", "simlib.high.top"}
    assert edges["simlib.low.other"] == {"simlib.high"}
    assert edges["simlib.side"] == {"simlib.high", "simlib.high.top"}
    assert edges["simlib.high"] == {"simlib.high.top"}  # its own package: no self edge
    assert cycle(edges) is None


def test_cycle_finder():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
    assert cycle({"a": {"a"}}) == ["a", "a"]


def test_layer_table_in_the_docs_matches_allowed():
    """The diagram's text names each layer's packages; the table's *reads* column names no
    package that ALLOWED forbids."""
    text = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| [^|]+ \| `simlib/(\w+)/`[^|]* \|[^|]*\| ([^|]+) \|$", text, re.M)
    assert len(rows) >= 10, "the layer table of docs/architecture.md was not found"
    for name, reads in rows:
        named = set(re.findall(r"`?([a-z_]+)`?", reads)) & set(ALLOWED)
        assert named <= ALLOWED[name], (name, named - ALLOWED[name])


def _diagram_rows() -> list[set[str]]:
    """The layer diagram of docs/architecture.md, top row first: the packages each row names."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("```\n", 2)[1]
    rows = []
    for line in block.splitlines():
        first = re.split(r"\s{2,}", line.strip())[0]
        rows.append({name.strip() for name in first.split("·")})
    return rows


def test_layer_diagram_is_allowed_drawn():
    """Every package is on one row of the diagram, and each imports only packages on lower rows
    (the leaves, the bottom row, also each other)."""
    rows = _diagram_rows()
    row_of = {name: i for i, row in enumerate(rows) for name in row}
    assert set(row_of) == set(ALLOWED) - {"simlib"}, set(row_of) ^ (set(ALLOWED) - {"simlib"})
    bottom = len(rows) - 1
    wrong = [
        (name, dep)
        for name, deps in ALLOWED.items()
        if name != "simlib"
        for dep in deps
        if not (row_of[dep] > row_of[name] or row_of[dep] == row_of[name] == bottom)
    ]
    assert wrong == [], wrong


# ------------------------------------------------------------------- the error classes


def _exception_classes(root: Path) -> list[str]:
    """``module.Class`` for every class in ``root`` that derives from an exception: a builtin
    one, one imported from a library (named ``...Error``, ``...Exception``, ``...Warning``), or
    (to any depth) another such class of the package, whatever name it goes by."""
    import builtins

    classes: list[tuple[str, str, list[str]]] = []
    for path in sorted(root.rglob("*.py")):
        module = _module(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # ``from x import Error as Other``: Other is Error
        alias = {
            a.asname: a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom)
            for a in n.names
            if a.asname
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases]
                classes.append((module, node.name, [alias.get(b, b) for b in bases]))

    def builtin_exception(name: str) -> bool:
        value = getattr(builtins, name, None)
        return isinstance(value, type) and issubclass(value, BaseException)

    known = {n for n in dir(builtins) if builtin_exception(n)}
    known |= {b for *_, bases in classes for b in bases if b.endswith(_EXCEPTION_SUFFIXES)}
    found: set[tuple[str, str]] = set()
    while True:  # a class deriving from a found class is one too (re-exported names included)
        new = {(m, c) for m, c, bases in classes if set(bases) & known} - found
        if not new:
            return sorted(f"{m}.{c}" for m, c in found)
        found |= new
        known |= {c for _, c in new}


_EXCEPTION_SUFFIXES = ("Error", "Exception", "Warning", "Exit", "Interrupt")


def test_every_public_error_class_is_defined_in_errors():
    """simlib/errors.py is the one place for error classes (docs/architecture.md, Errors);
    other modules import them, and keep private helpers (``_Refused``) only."""
    stray = [
        name
        for name in _exception_classes(ROOT)
        if not name.startswith("simlib.errors.") and not name.rsplit(".", 1)[-1].startswith("_")
    ]
    assert stray == [], f"define these in simlib/errors.py: {stray}"


def test_error_class_checker_catches_planted_classes(tmp_path):
    root = _plant(
        tmp_path,
        {
            "errors.py": "class BaseErr(Exception):\n    pass\n",
            "a.py": (
                "from simlib.errors import BaseErr as Renamed\n"
                "class Direct(ValueError): ...\n"
                "class Deep(Renamed): ...\n"
                "class Deeper(Deep): ...\n"
                "class _Private(KeyError): ...\n"
                "class Plain: ...\n"
                "class Mixed(Plain): ...\n"
            ),
            "b.py": "import yaml\nclass Lib(yaml.YAMLError): ...\n",
        },
    )
    assert _exception_classes(root) == [
        "simlib.a.Deep",
        "simlib.a.Deeper",
        "simlib.a.Direct",
        "simlib.a._Private",
        "simlib.b.Lib",
        "simlib.errors.BaseErr",
    ]
