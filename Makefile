# Two commands set everything up on a fresh machine (Python 3.11+ and make):
#   make demo   creates .venv, installs the bot, replays the built-in demo day on SQLite
#   make test   creates .venv, installs the bot with its dev tools, runs lint, types and tests
# Then `make sim` opens the bot in a browser: group chats side by side and the dashboard.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo sim test lint types pytest clean

$(BIN)/groupbuy $(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/groupbuy demo

sim: $(VENV)/.installed
	$(BIN)/groupbuy sim $(SIM_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(VENV)/.installed
	$(BIN)/mypy

pytest: $(VENV)/.installed
	$(BIN)/pytest -q $(PYTEST_ARGS)

test: lint types pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
