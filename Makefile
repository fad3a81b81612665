# pdstats: two commands do all set-up on a fresh machine with python3 and make.
#   make test       create .venv, install, run the test suite
#   make reproduce  create .venv, install, build the study stores, run the method notebooks and the
#                   three yearly study notebooks, render the paper (FULL=1: heavy parts at full size)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
OUT ?= output
# make reproduce FULL=1: the heavy parts (bootstrap draws) at full size; the paper names the profile
FULL ?=
STAMP := $(VENV)/.installed

.PHONY: test reproduce validate lint benchmarks clean dictionary

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,notebooks,data,dask]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n 2 --durations=15 -q

validate: $(STAMP)
	$(PY) -m pytest -m slow -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

reproduce: $(STAMP)
	$(PY) -m pdstats.cli reproduce --out $(OUT) $(if $(FULL),--full,)

benchmarks: $(STAMP)
	$(PY) benchmarks/run_all.py

dictionary: $(STAMP)
	$(PY) -m pdstats.cli dictionary

clean:
	rm -rf $(OUT) .pytest_cache
