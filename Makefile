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

# Every extra, ray included: the suite checks the environment `make run` uses (the ray
# extra holds joblib at 1.5). In this editable install your own Hydra apps print
# hydra-ray-launcher's import warning (src/hydra_plugins/hpsweep_quiet says why); a
# regular install, `pip install '.[ray]'`, keeps them quiet.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet $(TORCH)
	$(PYTHON) -m pip install --quiet -e ".[dev,dashboard,lightning,ray]"
	touch $@

run: $(VENV)/.installed
	$(PYTHON) train.py

test: $(VENV)/.installed
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m pytest -n 2 --dist loadgroup

bench: $(VENV)/.installed
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
