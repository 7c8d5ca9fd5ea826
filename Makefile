# The two commands: `make test` (lint, unit and integration tests) and `make demo`. `make e2e`
# proves the chart and the images on a real one-node cluster (root). Everything else is a step.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Every target runs on the pinned Node.js 24 (hack/node.sh installs it when the one on PATH is older).
NODE_BIN := $(shell bash hack/node.sh)
export PATH := $(NODE_BIN):$(PATH)

STAMP := node_modules/.install-stamp

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(STAMP) ## Install the Node.js dependencies (npm ci)

envtest: ## Build (once) or locate the test control plane binaries
	@bash hack/envtest.sh >/dev/null

test-tools: ## Build or fetch (once) the offline checkers the tests use: kubeconform, Argo CD's Lua VM, Prometheus and promtool, Chromium for the console's browser tests, zsh and fish for completion
	@bash hack/kubeconform.sh -v >/dev/null
	@bash hack/argocd-health.sh >/dev/null
	@bash hack/prometheus.sh >/dev/null
	@bash hack/chromium.sh >/dev/null
	@bash hack/shells.sh >/dev/null

generate: $(STAMP) ## Regenerate the CRD and every other generated file from src/api
	npm run generate

build: $(STAMP) ## Compile the operator into dist/
	npm run build

dist: $(STAMP) ## Build the CLI's release files into dist/release: the npm package, standalone executables (linux, darwin), krew archives and manifest
	npm run dist

image: $(STAMP) ## Build the operator and agent OCI image archives into dist/images (no Docker)
	bash hack/image.sh

lint: $(STAMP) ## Type-check, lint and check formatting
	npm run typecheck
	npm run lint

demo: $(STAMP) envtest ## Run the example runbooks on a local control plane (Ctrl-C stops it)
	npx tsx hack/demo.ts $(DEMO_ARGS)

test: $(STAMP) envtest test-tools ## Lint, then run the unit and integration tests against a real control plane, and the Python SDK's tests
	python3 -m pytest -q -p no:cacheprovider sdk/python
	npm test

e2e: $(STAMP) envtest ## Prove the chart and images on a real one-node cluster (root; installs what it needs)
	bash hack/e2e/run.sh

e2e-kind: $(STAMP) ## The same checks on a kind cluster (needs Docker and kind)
	bash hack/e2e/kind.sh

clean: ## Remove build output (not the control plane cache)
	rm -rf dist coverage

.PHONY: help install envtest test-tools generate build dist image lint demo test e2e e2e-kind clean
