# Quick start: `make demo` (train + plots + GIFs + scenes on the embedded digits) and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
GANVIZ := $(VENV)/bin/ganviz
STAMP  := $(VENV)/.ganviz-installed

.PHONY: setup demo test test-cpus lint bench mutate clean

$(STAMP): pyproject.toml scripts/setup.sh
	VENV=$(VENV) bash scripts/setup.sh

setup: $(STAMP)

demo: $(STAMP)
	$(GANVIZ) demo

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n 2 --dist loadgroup -q

# The suite under the kernel choices other CPUs make (not part of `make test`): each must pass.
CPU_SETTINGS := ATEN_CPU_CAPABILITY=default ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OMP_NUM_THREADS=1
test-cpus: $(STAMP)
	@set -e; for s in $(CPU_SETTINGS); do \
		echo "== make test-cpus: $$s"; \
		env $$s $(PY) -m pytest -n 2 --dist loadgroup -q; \
	done

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(STAMP)
	$(PY) benchmarks/train_throughput.py
	$(PY) benchmarks/pipeline_speed.py
	$(PY) benchmarks/render_times.py

# Mutation testing of the modules that compute the numbers users read (docs/mutation.md; not part of `make test`):
# MODULES=gan_train/measures.py for one, MUTANTS="NAME ..." to rerun some of its mutants, MUTATE_CHILDREN=2 for two.
mutate: $(STAMP)
	MODULES="$(MODULES)" MUTANTS="$(MUTANTS)" OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) scripts/mutate.py

clean:
	rm -rf outputs/runs outputs/plots outputs/gifs outputs/videos outputs/cache
