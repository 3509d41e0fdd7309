"""Which notebooks run in ``make test``, and with which parameters (at least two scenarios each).

Values may contain ``{root}`` (the repository) and ``{sweep}`` (a stored sweep that
``tests/notebooks/conftest.py`` makes once per session with ``simlib sweep``, as a user would).
"""

from __future__ import annotations

#: notebook file -> parameter sets; every notebook in ``notebooks/`` must be listed here.
CASES: dict[str, list[dict[str, object]]] = {
    "01-quickstart.ipynb": [
        {"scenario": None},
        {"preset": "le-2025-intermediate-rotation"},
    ],
    "02-sweep-results.ipynb": [
        {},
        {"strategy": "leaf key"},
    ],
}
