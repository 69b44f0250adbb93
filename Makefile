# gs-replicate. `make demo` and `make test` are the two commands of the README.
BUN := $(shell command -v bun 2>/dev/null || echo node_modules/.bin/bun)
SRC := $(shell find src -name "*.ts") scripts/build.ts package.json

.PHONY: all build test test-fast lint format typecheck demo bench clean deps system-deps soak-history docs

all: build

node_modules/.installed: package.json package-lock.json $(wildcard patches/*.patch)
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

# Debian packages for the real servers the tests and the demo start, openGauss's libraries
# included (no-op when present).
system-deps:
	@scripts/install-deps.sh

build: dist/gs-replicate

dist/gs-replicate: node_modules/.installed $(SRC)
	$(BUN) run scripts/build.ts

typecheck: node_modules/.installed
	node_modules/.bin/tsc --noEmit -p .

# Starts private MariaDB, openGauss, PostgreSQL and Kafka-mock servers, runs every test against
# them, stops them, and prints "N passed, N failed" last.
test: system-deps build typecheck
	$(BUN) run test/support/run-tests.ts $(TESTS)

# The edit-test loop: the test files that start no server (decoders, events, config, dialect
# translation, scheduler), in seconds. `make test` runs everything, as CI does.
test-fast: node_modules/.installed
	$(BUN) run test/support/run-tests.ts --fast

# Formatter check, unused exports, import direction (make test runs the same checks as tests:
# test/harness/lint.test.ts, import-direction.test.ts). `make format` rewrites the tree.
LINTED := 'src/**/*.ts' 'test/**/*.ts' 'bench/**/*.ts' 'scripts/**/*.ts'
lint: node_modules/.installed
	node_modules/.bin/prettier --check $(LINTED)
	node_modules/.bin/knip --no-progress
	$(BUN) test test/harness/import-direction.test.ts

format: node_modules/.installed
	node_modules/.bin/prettier --write --log-level warn $(LINTED)

# The target is a real openGauss (shared/opengauss beside the repository); TARGET=postgresql
# runs the same demo on PostgreSQL 15.
# The tables of docs/ generated from the code (configuration reference, error codes, type mapping).
docs: node_modules/.installed
	$(BUN) run scripts/render-docs.ts

demo: system-deps build
	$(BUN) run bench/demo.ts $(if $(TARGET),--target=$(TARGET))

# The randomized schema-history test of `make test`, longer: ROUNDS rounds per metadata setting
# (default 60), SEED to replay one (it prints the modes of the rounds on a failure).
soak-history: system-deps build
	GSR_HISTORY_ROUNDS=$(or $(ROUNDS),60) $(if $(SEED),GSR_HISTORY_SEED=$(SEED)) $(BUN) run test/support/run-tests.ts test/cli/history-random.test.ts

clean:
	rm -rf dist .tmp
