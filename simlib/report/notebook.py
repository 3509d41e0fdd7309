"""Running notebooks: papermill execution with explicit kernel and timeouts, HTML export.

Every notebook in ``notebooks/`` and the decision-report template start with a cell tagged
``parameters`` (papermill overrides it) holding at least ``scenario`` (a scenario YAML path, or
``None`` for the embedded quickstart) and ``preset`` (a real-world preset name, or ``None``);
:func:`scenario_from` turns those two into a :class:`~simlib.model.Scenario`, so no notebook
hard-codes a scenario or a strategy name. ``notebooks/05-decision-report.ipynb`` is generated
from the decision-report template (:func:`write_report_notebook`, ``make notebooks``).

papermill and nbconvert are imported inside the functions that need them: ``import simlib``
stays light.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from simlib.errors import NotebookError, clip
from simlib.model import Scenario

#: The kernel every notebook runs on (ipykernel's own; resolved to the running interpreter).
KERNEL = "python3"
#: Seconds one cell may run before papermill stops the notebook.
CELL_TIMEOUT = 600
#: Seconds the kernel may take to start (a cold import of pandas and matplotlib on a busy box).
START_TIMEOUT = 120
TEMPLATES = Path(__file__).with_name("templates")
#: The nbconvert template of the decision report: lab, minus every external script.
REPORT_TEMPLATE = "simlib-report"


def scenario_from(
    scenario: str | os.PathLike | Scenario | None = None, preset: str | None = None
) -> Scenario:
    """The scenario a notebook's ``parameters`` cell names.

    ``preset`` (a name from ``simlib presets``) wins over ``scenario``; ``scenario`` may be a path to
    a YAML file, an already built :class:`Scenario`, or ``None`` for the embedded quickstart.
    """
    from simlib.analysis.presets import scenario_from as choose

    return choose(scenario, preset)  # the one rule (simlib.analysis.presets)


def loaded(load: Callable[[], Scenario]) -> tuple[Scenario, tuple[str, ...]]:
    """The scenario ``load`` returns and the :class:`~simlib.errors.ScenarioWarning` s loading it
    gave, as text (extrapolated intermediates, profiles assumed early, a CA's exit): a notebook
    shows them as notes, never as stderr noise with a source line. Each note loses its leading
    ``<scenario source>: `` (the page names the scenario; a path, often a temporary copy, helps
    no reader); repeats are dropped. Other warnings are not ours to hide: they are re-issued."""
    from simlib.errors import ScenarioWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        sc = load()
    prefix = f"{sc.source}: "
    notes = []
    for w in caught:
        if issubclass(w.category, ScenarioWarning):
            text = str(w.message)
            notes.append(text[len(prefix) :] if text.startswith(prefix) else text)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return sc, tuple(dict.fromkeys(notes))


def scenario_with_notes(
    scenario: str | os.PathLike | Scenario | None = None, preset: str | None = None
) -> tuple[Scenario, tuple[str, ...]]:
    """:func:`scenario_from` and the notes its loading gave (see :func:`loaded`)."""
    return loaded(lambda: scenario_from(scenario, preset))


def quiet_notebook() -> None:
    """Notebook set-up shared by every notebook: the report style, and no noise from libraries
    about things the reader cannot change."""
    from simlib.report.style import use_style

    use_style()
    warnings.filterwarnings("ignore", category=DeprecationWarning)


#: Kernel log at ERROR: its start-up warnings (transport, debugger) are noise on a user's terminal.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def execute(
    notebook: str | os.PathLike,
    output: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    cwd: str | os.PathLike | None = None,
    cell_timeout: int = CELL_TIMEOUT,
    progress: bool = False,
) -> Path:
    """Execute ``notebook`` with papermill into ``output`` and return ``output``'s path.

    Kernel, start-up and per-cell timeouts are explicit (:data:`KERNEL`, :data:`START_TIMEOUT`,
    ``cell_timeout``); the working directory defaults to the notebook's folder, as in JupyterLab.
    A failing cell raises :class:`NotebookError` with the notebook and the error's last line.
    """
    import papermill as pm

    notebook, output = Path(notebook), Path(output)
    if not notebook.is_file():
        raise NotebookError(f"{clip(notebook, 120)}: no such notebook file")
    try:
        pm.execute_notebook(
            str(notebook),
            str(output),
            parameters=dict(parameters or {}),
            kernel_name=KERNEL,
            cwd=str(cwd or notebook.parent),
            execution_timeout=cell_timeout,
            start_timeout=START_TIMEOUT,
            progress_bar=progress,
            log_output=False,
            report_mode=False,
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except pm.PapermillExecutionError as exc:
        last = (exc.evalue or exc.ename).strip().splitlines()
        raise NotebookError(
            f"{notebook.name}: cell {exc.exec_count} failed: {exc.ename}: {last[-1] if last else ''}"
        ) from None
    return output


def to_html(notebook: str | os.PathLike, *, title: str | None = None) -> str:
    """An executed notebook as one self-contained HTML page: no code (``--no-input``), every
    figure an embedded PNG, no external script or stylesheet (it opens offline), and a
    Content-Security-Policy that allows no script (:data:`simlib.report.html.PAGE_POLICY`)."""
    import nbformat
    from nbconvert import HTMLExporter

    from simlib.report.html import PAGE_POLICY

    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError) as exc:  # missing, unreadable, not a notebook's JSON
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise NotebookError(
            f"{clip(notebook, 120)}: cannot read notebook: {clip(why, 160)}"
        ) from None
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name=REPORT_TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"simlib_policy": PAGE_POLICY})
    return body


# ------------------------------------------------------------- notebooks/05, made from the template
#: notebooks/05-decision-report.ipynb's test runs (tests/notebooks): the embedded quickstart and a
#: real-world preset. The template has none: papermill carries its metadata into every report.
REPORT_NOTEBOOK_TEST_PARAMETERS: tuple[dict[str, Any], ...] = (
    {"scenario": None},
    {"preset": "le-2025-intermediate-rotation"},
)


def report_notebook_text(template: str | os.PathLike | None = None) -> str:
    """``notebooks/05-decision-report.ipynb`` as generated from the decision-report template (the
    source, shipped in the package): the same cells without outputs, and the template's metadata
    plus :data:`REPORT_NOTEBOOK_TEST_PARAMETERS`. Written as nbformat writes (one-space indent,
    sorted keys) so the stored copy is byte for byte what this returns."""
    path = Path(template) if template is not None else TEMPLATES / "decision-report.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            # Output-free whatever the template holds: the notebook is read by people, not run.
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"].setdefault("simlib", {})["test_parameters"] = [
        dict(p) for p in REPORT_NOTEBOOK_TEST_PARAMETERS
    ]
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_report_notebook(
    path: str | os.PathLike, template: str | os.PathLike | None = None
) -> Path:
    """Write :func:`report_notebook_text` to ``path`` (``make notebooks`` does, for notebooks/05)."""
    path = Path(path)
    path.write_text(report_notebook_text(template), encoding="utf-8")
    return path
