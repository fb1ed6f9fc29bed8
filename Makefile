# Two commands do all the set-up: `make run` (one real digits training run) and
# `make test` (lint + the test suite). Each creates .venv and installs on first use;
# after that they only run. Editing pyproject.toml triggers a re-install.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
# The CPU build of torch (a wheel on this machine's disk installs in seconds). A bare
# `torch` would pull a multi-GB CUDA build. GPU users, for example:
#   make run TORCH="torch --index-url https://download.pytorch.org/whl/cu128"
TORCH ?= torch==2.13.0

.PHONY: run test bench clean

# `make run`: the project and the extras a user runs (the Lightning example,
# optuna-dashboard), editable.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet $(TORCH)
	$(PYTHON) -m pip install --quiet -e ".[dashboard,lightning]"
	touch $@

# `make test` adds the tools and the ray extra, whose launcher the suite runs on a local
# Ray. Only here: in an editable install Hydra scans hpsweep's plugins after
# hydra-ray-launcher, whose import warning then reaches every Hydra app in the venv
# (src/hydra_plugins/hpsweep_quiet says why; a regular `pip install '.[ray]'` is quiet).
$(VENV)/.installed-test: $(VENV)/.installed
	$(PYTHON) -m pip install --quiet -e ".[dev,dashboard,lightning,ray]"
	touch $@

run: $(VENV)/.installed
	$(PYTHON) train.py

test: $(VENV)/.installed-test
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m pytest -n 2 --dist loadgroup

bench: $(VENV)/.installed-test
	$(PYTHON) bench/train_overhead.py
	$(PYTHON) bench/sweeper_overhead.py
	$(PYTHON) bench/search_strategies.py
	$(PYTHON) bench/launcher_throughput.py
	$(PYTHON) bench/launcher_throughput.py --threads 1
	$(PYTHON) bench/journal_load.py
	$(PYTHON) bench/dispatch.py
	$(PYTHON) bench/shared_study.py

clean:
	rm -rf $(VENV) outputs
