# The two commands of the README, and the checks CI runs.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: install install-test run test test-slow lint bench

install:
	$(PIP) install --quiet -e .

# The Android demo's Java core is tested with JUnit 4 from Debian (when Java is installed).
install-test:
	$(PIP) install --quiet -e '.[test]'
	@if command -v javac >/dev/null && [ ! -f /usr/share/java/junit4.jar ]; then \
		echo "installing Debian's junit4 for the Java tests"; \
		apt-get update -qq && apt-get install -y -qq junit4 >/dev/null; \
	fi

# Main job: train on the built-in default data set (Home Assistant intents).
run: install
	tflnlu-train --out=runs/default --overwrite

# Default test suite (skips the real-data tests when ../shared/data is absent).
test: install-test
	$(PYTHON) -m ruff check tflnlu tests tools
	$(PYTHON) -m ruff format --check tflnlu tests tools
	$(PYTHON) -m pytest -q

test-slow: install-test
	$(PYTHON) -m pytest -q -m slow

bench: install
	$(PYTHON) tools/bench_embeddings.py --data=../shared/data/hwu64 --out=tools/results/embeddings_hwu64.json
