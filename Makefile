# Two commands do everything:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstall only when a requirements file changes.
$(VENV)/.deps: requirements.txt requirements-dev.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

install: $(VENV)/.deps

# The whole stack in the foreground: daphne (HTTP + WebSocket), Celery worker and beat.
# Development defaults: DEBUG on, SQLite and embedded Redis under var/ unless
# DATABASE_URL / REDIS_URL say otherwise. Ctrl-C stops everything.
run: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py collectstatic --noinput -v 0
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py ensure_operator
	DEBUG=$${DEBUG:-true} exec $(BIN)/python manage.py runstack --host $(HOST) --port $(PORT)

# The test suite; against real PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set.
# The browser tests (tests/browser) drive Debian's chromium: installed here when missing and we
# may (root with apt-get); without it they skip and say why.
test: install
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
		&& (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium not installed: the browser tests will be skipped"; }
	$(BIN)/pytest

# The Django plugin imports the settings, which want a SECRET_KEY when DEBUG is off.
lint: install
	$(BIN)/ruff check .
	SECRET_KEY=$${SECRET_KEY:-lint-only} $(BIN)/mypy

bench: install
	$(BIN)/python bench/cache_bench.py
	$(BIN)/python bench/fanout_bench.py
	$(BIN)/python bench/monitoring_bench.py
	$(BIN)/python bench/backups_bench.py
	$(BIN)/python bench/alerts_bench.py
	$(BIN)/python bench/anomaly_bench.py
	$(BIN)/python bench/analytics_bench.py
	$(BIN)/python bench/realtime_faults_bench.py
	$(BIN)/python bench/load_bench.py

clean:
	rm -rf $(VENV) var
