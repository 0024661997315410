# rnnlab course. Two commands do everything on a fresh machine with Python 3.11:
#   make course   set up .venv, regenerate student versions, run every solution notebook (fast profile)
#   make test     set up .venv, run the test suite (offline)
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
PROFILE ?= fast
GRADES_BASE = $(basename $(or $(GRADES),grades.csv))

# A variable this Makefile does not read would be silently ignored (RESUM=1 regrades the class): refuse it.
KNOWN_VARIABLES := PYTHON PROFILE DATA SUBMISSIONS GRADES ROSTER WORKSHEETS RESUME JOBS SCHEDULER FEEDBACK UNSAFE_NO_SANDBOX EXPORT
UNKNOWN_VARIABLES := $(filter-out $(KNOWN_VARIABLES),$(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v))))
ifneq ($(UNKNOWN_VARIABLES),)
$(error unknown variable $(UNKNOWN_VARIABLES) (this Makefile reads $(KNOWN_VARIABLES)); see `make help`)
endif

.PHONY: help install sandbox browser course release run grade grade-check export test benchmark clean

help:
	@echo "make course [DATA=<folder>]   set up, release student versions, execute solutions ($(PROFILE) profile) into build/"
	@echo "                 DATA: real IMDB and WikiText-2 (data/README.md); the key results are printed"
	@echo "make test       set up, lint (ruff) and run the test suite (offline)"
	@echo "make release    regenerate notebooks/ from solutions/ with nbgrader (prints the points)"
	@echo "make grade SUBMISSIONS=<folder> [ROSTER=roster.csv] [WORKSHEETS=\"worksheet-02.csv ...\"] [GRADES=grades.csv] [RESUME=1] [JOBS=N] [SCHEDULER=tcp://host:8786]"
	@echo "                 autograde every file in the folder (sandboxed, N at once, default one per core; or on a Dask cluster)"
	@echo "                 ROSTER: the class list (README: Grading); typed names are matched to it, and"
	@echo "                 WORKSHEETS: Moodle grading worksheets (space-separated), to tell students of one name apart"
	@echo "                 GRADES minus .csv plus -canvas.csv / -moodle-<notebook>.csv: files Canvas and Moodle import"
	@echo "                 GRADES: one row per student; GRADES minus .csv plus -by-file.csv: one row per file"
	@echo "                 RESUME=1: grade only new or changed files, and refresh hand grades and feedback"
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

# The formgrader test drives headless Chromium; as root on Debian/Ubuntu it is installed here,
# otherwise that one test is skipped with a message.
browser:
	@{ command -v chromium > /dev/null && command -v chromedriver > /dev/null; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	    echo "installing headless Chromium (the formgrader browser test) with apt-get"; \
	    { timeout 300 apt-get update -qq > /dev/null && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq chromium chromium-driver > /dev/null; } \
	      || echo "NOTE: apt-get could not install chromium; the formgrader browser test will be skipped."; \
	  else \
	    echo "NOTE: chromium is not installed: the formgrader browser test will be skipped (sudo apt-get install chromium chromium-driver)."; \
	  fi; }

course: install release run

release: install
	$(PY) scripts/release.py
	@mkdir -p build && touch build/.released

# make grade re-releases only when the instructor versions (or how they are released) changed.
build/.released: $(wildcard solutions/*/*.ipynb) scripts/release.py nbgrader_config.py | $(STAMP)
	$(PY) scripts/release.py
	@mkdir -p build && touch build/.released

run: install
	$(if $(DATA),RNNLAB_DATA="$(abspath $(DATA))") $(PY) scripts/run_course.py --profile $(PROFILE)

# Checked before anything is installed or released, so a wrong folder costs no time.
grade-check:
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder of submitted files> [ROSTER=roster.csv] [WORKSHEETS=\"worksheet-02.csv ...\"] [GRADES=grades.csv] [RESUME=1] [JOBS=N] [SCHEDULER=tcp://host:8786]"; exit 2; }
	@test -e "$(SUBMISSIONS)" || { echo "SUBMISSIONS=$(SUBMISSIONS) does not exist: pass the folder the LMS's download was unpacked into"; exit 2; }
	@test -d "$(SUBMISSIONS)" || { echo "SUBMISSIONS=$(SUBMISSIONS) is a file: put the submitted files in a folder and pass the folder"; exit 2; }
	@test -z "$(ROSTER)" || test -f "$(ROSTER)" || { echo "ROSTER=$(ROSTER) is not a file: pass the class list as CSV (README: Grading)"; exit 2; }
	@for sheet in $(WORKSHEETS); do test -f "$$sheet" || { echo "WORKSHEETS: $$sheet is not a file: pass Moodle's grading worksheet of the assignment (CSV); WORKSHEETS splits at spaces, so rename a worksheet whose name has one (Moodle names it after the assignment)"; exit 2; }; done
	@test -z "$(RESUME)" || test "$(RESUME)" = 1 || { echo "RESUME=$(RESUME): only RESUME=1 (grade new or changed files only) is understood; leave RESUME out to grade every file"; exit 2; }

grade: grade-check build/.released sandbox
	$(BIN)/rnnlab-grade "$(SUBMISSIONS)" --students "$(GRADES_BASE).csv" --out "$(GRADES_BASE)-by-file.csv" --store "$(GRADES_BASE)-results" --feedback "$(or $(FEEDBACK),feedback)" --uploads "$(or $(FEEDBACK),feedback)-upload" --final "$(GRADES_BASE)-final" --summary "$(GRADES_BASE)-summary.png" --similarity "$(GRADES_BASE)-similarity.html" --gradebook gradebook.db $(if $(ROSTER),--roster "$(ROSTER)" --canvas "$(GRADES_BASE)-canvas.csv" --moodle "$(GRADES_BASE)-moodle.csv") $(foreach sheet,$(WORKSHEETS),--moodle-worksheet "$(sheet)") $(if $(filter 1,$(RESUME)),--resume) $(if $(JOBS),--jobs $(JOBS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(if $(UNSAFE_NO_SANDBOX),--unsafe-no-sandbox)

export: release
	$(PY) scripts/export.py "$(or $(EXPORT),build/student-repo)"

test: install sandbox browser
	$(BIN)/ruff check .
	$(PY) -m pytest

benchmark: install sandbox
	$(PY) benchmarks/bench_rnnlab.py
	$(PY) benchmarks/bench_notebooks.py $(if $(DATA),--data "$(DATA)")
	$(PY) benchmarks/bench_grading.py
	$(PY) benchmarks/bench_grading_jobs.py
	$(PY) benchmarks/bench_similarity.py
	$(PY) benchmarks/bench_busy_machine.py

clean:
	rm -rf build outputs .pytest_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
