# Quick start: `make demo` (train + plots + GIFs + scenes on the embedded digits) and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
GANVIZ := $(VENV)/bin/ganviz
STAMP  := $(VENV)/.ganviz-installed

.PHONY: setup demo test lint bench clean

$(STAMP): pyproject.toml scripts/setup.sh
	VENV=$(VENV) bash scripts/setup.sh

setup: $(STAMP)

demo: $(STAMP)
	$(GANVIZ) demo

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(STAMP)
	$(PY) benchmarks/train_throughput.py
	$(PY) benchmarks/pipeline_speed.py
	$(PY) benchmarks/render_times.py

clean:
	rm -rf outputs/runs outputs/plots outputs/gifs outputs/videos outputs/cache
