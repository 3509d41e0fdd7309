# Two commands do all set-up on a machine with only python3:
#   make report   -> .venv, install, run the embedded quickstart scenario, write results/quickstart/
#   make test     -> .venv, install with test extras, run the whole suite (notebooks included)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall when pyproject.toml changes (the stamp name carries its checksum).
SUM    := $(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: report test lint bench lab kernel notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.base-$(SUM): | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-$(SUM): | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.base-$(SUM)

report: $(VENV)/.base-$(SUM)
	$(BIN)/simlib report --out results/quickstart

test: $(VENV)/.test-$(SUM)
	$(BIN)/ruff check simlib tests benchmarks
	$(BIN)/ruff format --check simlib tests benchmarks
	$(BIN)/python -m pytest tests

lint: $(VENV)/.test-$(SUM)
	$(BIN)/ruff check simlib tests benchmarks
	$(BIN)/ruff format --check simlib tests benchmarks

bench: $(VENV)/.test-$(SUM)
	$(BIN)/python benchmarks/run.py

# JupyterLab on the notebooks; root (containers, CI boxes) needs --allow-root.
lab: $(VENV)/.base-$(SUM)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# A Jupyter kernel named simlib ("Python (simlib)") on this .venv, registered for your user, so
# your own JupyterLab, Jupyter Notebook or VS Code lists it. Remove: jupyter kernelspec remove simlib
kernel: $(VENV)/.base-$(SUM)
	$(BIN)/python -m ipykernel install --user --name simlib --display-name "Python (simlib)"

# notebooks/05-decision-report.ipynb is generated from the report template (the source, shipped in
# the package): edit simlib/report/templates/decision-report.ipynb, then run this.
notebooks: $(VENV)/.base-$(SUM)
	$(BIN)/python -c "from simlib.report.notebook import write_report_notebook as w; w('notebooks/05-decision-report.ipynb')"

clean:
	rm -rf $(VENV) results .pytest_cache build *.egg-info
