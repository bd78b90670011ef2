# claudy — see README.md. `make up` builds everything and starts the parent; `make test` runs every test.
SHELL := /bin/bash
BUN   := node_modules/.bin/bun
TSC   := node_modules/.bin/tsc

.PHONY: up test build images typecheck unit integration bench bench-swarm faults clean deps docs man lockfile stage install uninstall release

# make install: PREFIX and DESTDIR as usual (sudo make install; make install DESTDIR=pkg PREFIX=/usr).
PREFIX  ?= /usr/local
DESTDIR ?=
# What install, uninstall and release handle, relative to PREFIX: each file once, here.
SHIPPED := bin/claudy lib/systemd/system/claudy.service share/man/man1/claudy.1 \
  share/bash-completion/completions/claudy share/zsh/site-functions/_claudy share/fish/vendor_completions.d/claudy.fish \
  share/doc/claudy/README.md share/doc/claudy/OPERATIONS.md share/doc/claudy/LICENSE

# `npm ci`: exactly the committed lockfile, never rewritten. The lockfile lists every platform's optional packages of
# bun and deno (an `npm install` over an existing node_modules drops the other platforms' ones, and `npm ci` then
# refuses the file); regenerate it after changing package.json with `make lockfile`.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# A complete lockfile: package.json resolved for every platform, keeping the pins the current lockfile has. Done in a
# scratch directory because npm reads node_modules when it is there, and then drops other platforms' packages (and
# the integrity hashes of what `npm ci` installed).
lockfile:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  cp package.json .npmrc "$$tmp/" && { [ ! -f package-lock.json ] || cp package-lock.json "$$tmp/"; } && \
	  (cd "$$tmp" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error) && \
	  cp "$$tmp/package-lock.json" package-lock.json && echo "package-lock.json: $$(grep -c '"node_modules/' package-lock.json) packages"

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

# The swarm figures on the lab (scripts/swarm-lab up first): rewrites only the swarm section of docs/BENCHMARKS.md.
bench-swarm: build
	scripts/test-env --images-only
	$(BUN) run test/bench/swarm.ts

# claudy(1) and docs/CLI.md's command list, rendered from the command tree (test/unit/docs.test.ts checks CLI.md).
man: deps
	@mkdir -p dist
	$(BUN) scripts/docs.ts man dist/claudy.1

docs: deps
	$(BUN) scripts/docs.ts cli-md

# The shipped files under dist/stage/PREFIX-relative paths; the unit and the docs name PREFIX's paths.
stage: build man
	scripts/stage dist/stage "$(PREFIX)"

install: stage
	@for f in $(SHIPPED); do \
	  case $$f in bin/*) mode=0755;; *) mode=0644;; esac; \
	  install -D -m $$mode "dist/stage/$$f" "$(DESTDIR)$(PREFIX)/$$f" && echo "installed $(DESTDIR)$(PREFIX)/$$f"; \
	done
	@echo "systemd: sudo systemctl daemon-reload && sudo systemctl enable --now claudy (docs/OPERATIONS.md)"

# Removes exactly what install wrote (and claudy's own doc directory); never the shared directories around them.
uninstall:
	@for f in $(SHIPPED); do rm -f "$(DESTDIR)$(PREFIX)/$$f"; done
	@rmdir "$(DESTDIR)$(PREFIX)/share/doc/claudy" 2>/dev/null || true
	@echo "removed claudy from $(DESTDIR)$(PREFIX)"

# dist/claudy-VERSION-linux-ARCH.tar.gz (the PREFIX tree for /usr/local: sudo tar -C /usr/local
# --strip-components=1 -xzf …) and dist/SHA256SUMS. Byte-identical for the same commit (SOURCE_DATE_EPOCH).
release: build man
	scripts/stage dist/stage /usr/local
	scripts/release dist/stage $(SHIPPED)

clean:
	rm -rf dist .cache
