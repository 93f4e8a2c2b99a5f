# Quick start: `make run` (monitor on the simulator) and `make test` (the whole suite).
# Both create .venv if missing and install what they need into it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian libraries the PyQt6 wheels need for a real (xcb) window and QtMultimedia sound;
# poppler-utils (pdftotext, pdftoppm) reads the PDF report back in the tests;
# mosquitto is the MQTT broker of the central-station link (a real one in the tests).
DEB_PACKAGES := libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 \
	libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
	libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libpulse0 libpulse-mainloop-glib0 \
	poppler-utils mosquitto
TEST_ENV := QT_QPA_PLATFORM=offscreen

.PHONY: run test bench lint system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "note: not a Debian system; install the Qt xcb and PulseAudio libraries:$$missing"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "note: a real window and alarm sound need: sudo apt-get install -y$$missing"; \
	fi

run: system-deps $(VENV)/.installed-run
	$(BIN)/vitalmon

test: system-deps $(VENV)/.installed-test
	$(BIN)/ruff check drivers simulator monitor tests bench
	$(BIN)/ruff format --check drivers simulator monitor tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy drivers simulator monitor
	$(TEST_ENV) $(BIN)/python -m pytest -n 2

bench: $(VENV)/.installed-test
	$(TEST_ENV) $(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
