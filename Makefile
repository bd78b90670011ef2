# claudy — see README.md. `make up` builds everything and starts the parent; `make test` runs every test.
SHELL := /bin/bash
BUN   := node_modules/.bin/bun
TSC   := node_modules/.bin/tsc

.PHONY: up test build images typecheck unit integration bench faults clean deps docs man lockfile

# `npm ci`: exactly the committed lockfile, never rewritten. The lockfile lists every platform's optional packages of
# bun and deno (an `npm install` over an existing node_modules drops the other platforms' ones, and `npm ci` then
# refuses the file); regenerate it after changing package.json with `make lockfile`.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# A complete lockfile, resolved from package.json alone (all platforms), whatever node_modules holds.
lockfile:
	rm -f package-lock.json
	npm install --package-lock-only --no-audit --no-fund --loglevel=error

deps: node_modules/.installed

build: deps
	scripts/build

typecheck: deps
	$(TSC) --noEmit

images: build
	scripts/test-env --images-only

up: images
	dist/claudy daemon start

unit: deps
	$(BUN) test --timeout 180000 test/unit

integration: build
	scripts/test-env
	$(BUN) test --timeout 180000 test/integration

# Everything: typecheck, unit and integration tests on the real engine; ends with "N passed, N failed".
test: typecheck build
	scripts/test-env
	scripts/run-tests

# Every fault-injection test, including the slow ones that restart the engine (make test runs the fast ones).
faults: build
	scripts/test-env
	$(BUN) test --timeout 300000 test/faults

bench: build
	scripts/test-env
	$(BUN) run test/bench/run.ts

# claudy(1) and docs/CLI.md's command list, rendered from the command tree (test/unit/docs.test.ts checks CLI.md).
man: deps
	@mkdir -p dist
	$(BUN) scripts/docs.ts man dist/claudy.1

docs: deps
	$(BUN) scripts/docs.ts cli-md

clean:
	rm -rf dist .cache
