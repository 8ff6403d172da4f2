# Sluice — build, test, demo and benchmark entry points.
#
#   make test    the whole check: Debian packages if missing, modules, gofmt,
#                go vet, staticcheck, tests (-race for pipeline and checkpoint)
#   make demo    MySQL→PostgreSQL demo on private throwaway servers
#   make bench   benchmarks with their comparisons
#   make lint    gofmt, go vet, staticcheck only
#   make deps    install missing Debian packages (as root) and Go modules
#
# Variables: TESTFLAGS (extra `go test` flags; default -count=1 so results are never cached; e.g.
# TESTFLAGS='-run TestX'), TEST_TIMEOUT (per `go test` run, default 15m),
# DEMO_ARGS (extra flags for the demo program), BENCH_ARGS (for ./bench),
# BENCHTIME (go test -benchtime, default 1s).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

GO           ?= go
TESTFLAGS    ?= -count=1
TEST_TIMEOUT ?= 15m
DEMO_ARGS    ?=
BENCH_ARGS   ?=
BENCHTIME    ?= 1s

# Where the Debian packages put the server binaries (also looked up in PATH).
MARIADBD  ?= /usr/sbin/mariadbd
PG_INITDB ?= /usr/lib/postgresql/15/bin/initdb

# Packages tested with the race detector; the rest run without it.
RACE_PKGS := ./pipeline/... ./checkpoint/...

.PHONY: test deps debs bench-debs modules fmt-check vet staticcheck lint go-test demo bench

# test runs every check even when an earlier one fails, and fails if any
# did.
test: deps
	@rc=0; \
	$(MAKE) --no-print-directory lint || rc=1; \
	$(MAKE) --no-print-directory go-test || rc=1; \
	exit $$rc

# deps installs what the tests need: the server packages (mariadb-server,
# postgresql) and a C compiler for -race, only when missing; then modules.
deps: debs modules

debs:
	@missing=""; \
	if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x $(MARIADBD) ]; then missing="mariadb-server postgresql"; fi; \
	if ! command -v initdb >/dev/null 2>&1 && [ ! -x $(PG_INITDB) ]; then missing="mariadb-server postgresql"; fi; \
	if ! command -v cc >/dev/null 2>&1; then missing="$$missing gcc"; fi; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "missing Debian packages:$$missing; run as root: apt-get update && apt-get install -y $$missing" >&2; exit 1; \
	fi; \
	echo "installing:$$missing"; \
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing

# bench-debs installs the comparison tools the benchmarks run beside Sluice.
bench-debs:
	@missing=""; \
	command -v sysbench >/dev/null 2>&1 || missing="$$missing sysbench"; \
	command -v pgloader >/dev/null 2>&1 || missing="$$missing pgloader"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "missing Debian packages:$$missing; run as root: apt-get update && apt-get install -y $$missing" >&2; exit 1; \
	fi; \
	echo "installing:$$missing"; \
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing

modules:
	$(GO) mod download

lint:
	@rc=0; \
	$(MAKE) --no-print-directory fmt-check || rc=1; \
	$(MAKE) --no-print-directory vet || rc=1; \
	$(MAKE) --no-print-directory staticcheck || rc=1; \
	exit $$rc

fmt-check:
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

go-test:
	@race="$$($(GO) list $(RACE_PKGS))"; \
	rest="$$($(GO) list ./... | grep -vxF -e "$$race" || true)"; \
	rc=0; \
	echo "go test -race $(RACE_PKGS)"; \
	$(GO) test -race -timeout $(TEST_TIMEOUT) $(TESTFLAGS) $$race || rc=1; \
	if [ -n "$$rest" ]; then \
	  echo "go test (all other packages)"; \
	  $(GO) test -timeout $(TEST_TIMEOUT) $(TESTFLAGS) $$rest || rc=1; \
	fi; \
	exit $$rc

# demo replicates a MySQL database into PostgreSQL on private servers it
# starts and removes itself. DEMO_ARGS passes extra flags to the program.
demo: deps
	$(GO) run ./examples/mysql-to-postgres -demo $(DEMO_ARGS)

# bench runs every go test benchmark, then ./bench (the side-by-side
# comparisons) when it is there.
bench: deps bench-debs
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 30m ./...
	@if ls bench/*.go >/dev/null 2>&1; then echo "go run ./bench $(BENCH_ARGS)"; $(GO) run ./bench $(BENCH_ARGS); fi
