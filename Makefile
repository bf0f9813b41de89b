# The two commands of the README, and the checks CI runs.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: install install-test run test test-slow lint bench

# Training and export need the `train` extra (TensorFlow); `pip install -e .` alone is the
# deploy side (Parser, tflnlu-predict, tflnlu-eval, tflnlu-size).
install:
	$(PIP) install --quiet -e '.[train]'

# The Android demo's Java core is tested with JUnit 4 from Debian (when Java is installed).
install-test:
	$(PIP) install --quiet -e '.[train,test]'
	@if command -v javac >/dev/null && [ ! -f /usr/share/java/junit4.jar ]; then \
		echo "installing Debian's junit4 for the Java tests"; \
		apt-get update -qq && apt-get install -y -qq junit4 >/dev/null; \
	fi

# Main job: train on the built-in default data set (Home Assistant intents), export the .tflite
# (int4 weights, int8 activations: on this data 22% smaller than int8 at the same accuracy over
# 3 seeds, BENCHMARKS.md), verified in LiteRT on the test split, check it, ask it three things.
run: install
	tflnlu-train --out=runs/default --overwrite
	tflnlu-export --run=runs/default --weight_bits=4 --out=out/default --overwrite
	tflnlu-size out/default/model.tflite
	tflnlu-predict --model=out/default/model.tflite "turn on the kitchen lights" \
		"what is the temperature in the living room" "set the bedroom lights to 50 percent"

# Default test suite (skips the real-data tests when ../shared/data is absent).
test: install-test
	$(PYTHON) -m ruff check tflnlu tests tools
	$(PYTHON) -m ruff format --check tflnlu tests tools
	$(PYTHON) -m pytest -q --durations=15

test-slow: install-test
	$(PYTHON) -m pytest -q -m slow

bench: install
	$(PYTHON) tools/bench_embeddings.py --data=../shared/data/hwu64 --out=tools/results/embeddings_hwu64.json
