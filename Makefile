# Lingkaran Cinta bot. `make demo` and `make test` are the two entry points (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/demo.db
PYBABEL := $(BIN)/pybabel
MO := locales/en/LC_MESSAGES/messages.mo

.PHONY: venv demo test lint typecheck imports pytest pytest-pg pytest-shifted pytest-install bench i18n-extract i18n-update i18n-compile lock clean

# The suites whose answers depend on the date and the hour; run again with the clock moved.
DATED := tests/core tests/flows tests/channels tests/security
XDIST := -n 2

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(MO): $(wildcard locales/*/LC_MESSAGES/messages.po) $(STAMP)
	$(PYBABEL) compile --statistics -d locales -D messages

i18n-compile: $(MO)

i18n-extract: $(STAMP)
	$(PYBABEL) extract -F babel.cfg -k N_ -k _ -k t --no-location --sort-output -o locales/messages.pot .

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

imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP) $(MO)
	$(BIN)/pytest -q -p no:cacheprovider $(XDIST)

# The same suites a year and a month ahead, and at 22:30 WIB (quiet hours), via time-machine.
pytest-shifted: $(STAMP) $(MO)
	LINGKARAN_TEST_TRAVEL=+400d $(BIN)/pytest -q -p no:cacheprovider $(XDIST) -m "not slow" $(DATED)
	LINGKARAN_TEST_TRAVEL=2027-07-14T22:30:00+07:00 $(BIN)/pytest -q -p no:cacheprovider $(XDIST) -m "not slow" $(DATED)

# The storage, service, flow, channel, console and security suites again on a real PostgreSQL
# server (tests/pg_server.py starts one per xdist worker from Debian's postgresql package).
PG_SUITES := tests/core tests/flows tests/channels tests/console tests/security tests/reliability

pytest-pg: $(STAMP) $(MO)
	LINGKARAN_TEST_BACKEND=postgresql $(BIN)/pytest -q -p no:cacheprovider $(XDIST) -m "not slow" $(PG_SUITES)

test: lint typecheck imports pytest pytest-pg pytest-shifted

# Pin what the venv resolved (reproducible installs: `make venv` installs with -c constraints.txt).
lock: $(STAMP)
	{ echo '# Versions the suite last passed with; `make lock` rewrites this file, `make venv` installs with it.'; \
	  $(BIN)/python -m pip freeze --exclude-editable --exclude lingkaran-cinta-bot | sort -f; } > constraints.txt

bench: $(STAMP) $(MO)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
