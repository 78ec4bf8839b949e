# spockchaos — see README.md. Every target needs only Go, Docker and (for the
# image) debootstrap, which `make setup` installs.

GO      ?= go
GINKGO  := $(GO) tool ginkgo
BIN     := bin/spockchaos
OUT     ?= reports
# Ginkgo runs suites one after another: a 2-core machine runs one cluster
# at a time well, several at once badly.
GINKGO_FLAGS ?= -r --keep-going --timeout=40m --junit-report=junit.xml --output-dir=$(OUT)/test

.PHONY: all setup image build run demo test gate nightly unit e2e vet clean

all: build

setup:            ## install debootstrap if missing and build the node image if missing
	./scripts/setup

image:            ## build the default node image (offline) if missing
	$(GO) run ./cmd/spockchaos image

build:
	$(GO) build -o $(BIN) ./cmd/spockchaos

run: setup build  ## the main job: a chaos run on the default flavor, with a report
	$(BIN) run lagged-kill-recovery --out $(OUT)

demo: setup build ## bring up a cluster, show how to connect, remove it
	$(BIN) up --detach --json
	$(BIN) down --all

test: setup       ## everything the CI gate runs: unit tests and end-to-end specs
	$(GINKGO) $(GINKGO_FLAGS) --label-filter='gate || !(nightly || release)' ./...

gate: setup       ## the CI gate scenarios only (JUnit in $(OUT)/test/junit.xml), under 15 minutes
	$(GINKGO) $(GINKGO_FLAGS) --label-filter='gate' ./scenarios

nightly: setup    ## the nightly and release scenarios (long)
	$(GINKGO) -r --keep-going --timeout=3h --junit-report=junit.xml --output-dir=$(OUT)/nightly --label-filter='nightly || release' ./scenarios

unit:             ## unit tests only; no Docker needed
	$(GINKGO) -r --label-filter='!e2e' ./...

e2e: setup        ## end-to-end specs only
	$(GINKGO) $(GINKGO_FLAGS) --label-filter='e2e && (gate || !(nightly || release))' ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

clean:            ## remove leftovers of dead runs and local build output
	$(GO) run ./cmd/spockchaos clean
	rm -rf bin
