# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app

TEST_DB ?= eventsite_test
TEST_REDIS_DB ?= 15
export TEST_DATABASE_URL ?= postgresql+psycopg://root@127.0.0.1:5432/$(TEST_DB)
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/$(TEST_REDIS_DB)

.PHONY: run test test-fast lint catalogs translations haproxy bench-two-nodes bench bench-room profile offer-latency setup services testdb chromium pdftools vendor maildev clean

setup: $(VENV)/.installed vendor catalogs

# The compiled translations (German), from the catalog kept in git.
catalogs: translations/de/LC_MESSAGES/messages.mo

translations/de/LC_MESSAGES/messages.mo: translations/de/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -d translations --statistics 2>&1 | grep -v '^compiling' || true
	test -f $@

# After changing any page's words: collect them (babel.cfg) into the German catalog, to translate.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l --no-location --sort-output \
	  -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete --init-missing -l de
	$(BIN)/pybabel compile -d translations

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

vendor: static/vendor/.installed

static/vendor/.installed: static/package.json static/package-lock.json
	cd static && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp static/node_modules/htmx.org/dist/htmx.min.js static/vendor/
	cp static/node_modules/@picocss/pico/css/pico.min.css static/vendor/
	cp static/node_modules/qr-scanner/qr-scanner.umd.min.js static/node_modules/qr-scanner/qr-scanner-worker.min.js static/vendor/
	touch $@

# The development mail server (make run): SMTP on 1025, its inbox on http://127.0.0.1:1080.
maildev: devtools/maildev/node_modules/.installed

devtools/maildev/node_modules/.installed: devtools/maildev/package.json devtools/maildev/package-lock.json
	cd devtools/maildev && npm ci --no-audit --no-fund --loglevel=error
	touch $@

services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
	@for i in $$(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done

testdb: services
	@psql -h 127.0.0.1 -U root -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(TEST_DB)'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U root $(TEST_DB)

chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's HAProxy, in front of two web nodes in the two-node test and bench (devtools/cluster.py).
haproxy:
	@command -v haproxy >/dev/null || test -x /usr/sbin/haproxy || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }

# Two web nodes behind HAProxy against one node direct (bench/results/two_nodes.{json,md}).
bench-two-nodes: setup services haproxy
	$(BIN)/python -m bench.two_nodes

# Tests read the tickets' PDF as a reader would (poppler's pdftotext).
pdftools:
	@command -v pdftotext >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; }

# Every tier (unit, integration, browser) plus the linters; PYTEST_ARGS narrows the pytest run.
test: setup testdb chromium pdftools haproxy lint
	$(BIN)/pytest $(PYTEST_ARGS)

# The unit tier: seconds, and no PostgreSQL, Redis or browser needed.
test-fast: $(VENV)/.installed
	$(BIN)/pytest -q tests/unit $(PYTEST_ARGS)

# Style and the layer contract (pyproject.toml, [tool.importlinter]).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Web, RQ worker, rq-scheduler, the dev payment server and the dev mail server together, then a box
# with the addresses and the demo login once they answer; Ctrl-C stops them all and exits 0
# (devtools/run_all.py). No access log per request unless ACCESS_LOG=1.
run: setup services maildev
	$(BIN)/flask db upgrade
	$(BIN)/flask jobs schedule
	@set -o pipefail; login=$$($(BIN)/flask demo load | sed -n 's/^Organizer login: //p') && \
	$(BIN)/python -m devtools.run_all Procfile \
	  "eventsite is running; Ctrl-C stops everything" \
	  "" \
	  "  shop        http://127.0.0.1:5000" \
	  "  dashboard   http://127.0.0.1:5000/dashboard/  log in as $$login" \
	  "  payments    http://127.0.0.1:12111  (the dev payment server)" \
	  "  mail inbox  http://127.0.0.1:1080   (every message the shop sends)"

# Benchmarks (bench/): results in bench/results/latest.{json,md}; sizes via BENCH_* variables.
bench: setup services haproxy
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@command -v pgbench >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; }
	$(BIN)/python -m bench
	$(BIN)/python -m bench.two_nodes

# The waiting room alone (20,000 buyers, 1,000 tickets; BENCH_ROOM_* variables): bench/results/room.{json,md}.
bench-room: setup services
	$(BIN)/python -m bench.room

# Where one grant's time goes (database round trips, Redis, Python): bench/results/profile.md.
profile: setup services
	$(BIN)/python -m bench.profile_grant

# Seconds from a hold lapsing to the next in line seeing the offer, on the wall clock: bench/results/offer_latency.md.
offer-latency: setup services chromium
	$(BIN)/python -m bench.offer_latency

clean:
	rm -rf $(VENV) static/vendor static/node_modules devtools/maildev/node_modules instance
