# Lingkaran Cinta bot. `make demo` and `make test` are the two entry points (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/demo.db
PYBABEL := $(BIN)/pybabel
MO := locales/en/LC_MESSAGES/messages.mo

.PHONY: venv demo test lint typecheck pytest bench i18n-extract i18n-update i18n-compile clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(MO): locales/en/LC_MESSAGES/messages.po $(STAMP)
	$(PYBABEL) compile --statistics -d locales -D messages

i18n-compile: $(MO)

i18n-extract: $(STAMP)
	$(PYBABEL) extract -F babel.cfg -k N_ -k _ --no-location --sort-output -o locales/messages.pot .

i18n-update: i18n-extract
	$(PYBABEL) update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --no-wrap

demo: $(STAMP) $(MO)
	$(BIN)/python bot.py admin demo-data --db $(DB)
	$(BIN)/python bot.py chat --db $(DB)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(MO)
	$(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck pytest

bench: $(STAMP) $(MO)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
