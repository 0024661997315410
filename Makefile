# rnnlab course. Two commands do everything on a fresh machine with Python 3.11:
#   make course   set up .venv, regenerate student versions, run every solution notebook (fast profile)
#   make test     set up .venv, run the test suite (offline)
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
PROFILE ?= fast

.PHONY: help install sandbox course release run grade export test benchmark clean

help:
	@echo "make course [DATA=<folder>]   set up, release student versions, execute solutions ($(PROFILE) profile) into build/"
	@echo "                 DATA: real IMDB and WikiText-2 (data/README.md); the key results are printed"
	@echo "make test       set up and run the test suite (offline)"
	@echo "make release    regenerate notebooks/ from solutions/ with nbgrader (prints the points)"
	@echo "make grade SUBMISSIONS=<folder> [GRADES=grades.csv] [RESUME=1] [JOBS=N] [SCHEDULER=tcp://host:8786]"
	@echo "                 autograde every file in the folder (sandboxed, N at once, default one per core; or on a Dask cluster)"
	@echo "                 GRADES: one row per student; GRADES minus .csv plus -by-file.csv: one row per file"
	@echo "make export [EXPORT=<folder>]   write the student repository (default build/student-repo)"
	@echo "make benchmark [DATA=<folder>]  speed ratios, notebook times (grade; fast on synthetic and on DATA), grading throughput"
	@echo "make clean      remove build/ and caches (keeps .venv)"

# The dev/CI environment: torch and nbgrader pinned by constraints.txt (the package stays loose).
$(STAMP): pyproject.toml grader/pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev,grade]" -e grader
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rnnlab)" > /dev/null
	touch $(STAMP)

install: $(STAMP)

# Submissions run under bubblewrap. As root on Debian/Ubuntu it is installed here; otherwise say how.
sandbox:
	@command -v bwrap > /dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	    echo "installing bubblewrap (the grading sandbox) with apt-get"; \
	    { apt-get update -qq > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap > /dev/null; } \
	      || echo "NOTE: apt-get could not install bubblewrap (no network to the Debian mirror?); grading tests will fail until it is installed."; \
	  else \
	    echo "NOTE: bubblewrap (bwrap) is not installed and cannot be installed from here (not root, or no apt-get)."; \
	    echo "      Grading and its tests need it: sudo apt-get install bubblewrap  (Fedora: sudo dnf install bubblewrap)"; \
	  fi; }

course: install release run

release: install
	$(PY) scripts/release.py

run: install
	$(if $(DATA),RNNLAB_DATA="$(abspath $(DATA))") $(PY) scripts/run_course.py --profile $(PROFILE)

grade: release sandbox
	@test -n "$(SUBMISSIONS)" || (echo "usage: make grade SUBMISSIONS=<folder of submitted files> [GRADES=grades.csv] [RESUME=1] [JOBS=N] [SCHEDULER=tcp://host:8786]"; exit 2)
	$(BIN)/rnnlab-grade "$(SUBMISSIONS)" --students "$(or $(GRADES),grades.csv)" --out "$(basename $(or $(GRADES),grades.csv))-by-file.csv" --feedback "$(or $(FEEDBACK),feedback)" --summary "$(basename $(or $(GRADES),grades.csv))-summary.png" --gradebook gradebook.db $(if $(RESUME),--resume) $(if $(JOBS),--jobs $(JOBS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(if $(UNSAFE_NO_SANDBOX),--unsafe-no-sandbox)

export: release
	$(PY) scripts/export.py "$(or $(EXPORT),build/student-repo)"

test: install sandbox
	$(PY) -m pytest

benchmark: install sandbox
	$(PY) benchmarks/bench_rnnlab.py
	$(PY) benchmarks/bench_notebooks.py $(if $(DATA),--data "$(DATA)")
	$(PY) benchmarks/bench_grading.py
	$(PY) benchmarks/bench_grading_jobs.py

clean:
	rm -rf build outputs .pytest_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
