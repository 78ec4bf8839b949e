# spockchaos — see README.md. Every target needs only Go, Docker and (for the
# image) debootstrap, which `make setup` installs.

GO      ?= go
GINKGO  := $(GO) tool ginkgo
BIN     := bin/spockchaos
OUT     ?= runs
# Ginkgo runs suites one after another: a 2-core machine runs one cluster
# at a time well, several at once badly.
GINKGO_FLAGS ?= -r --keep-going --timeout=40m --junit-report=junit.xml --output-dir=$(OUT)/test

.PHONY: all setup setup-tests image build run demo test gate nightly spock unit e2e vet clean

all: build

setup:            ## install debootstrap if missing and build the node image if missing
	./scripts/setup

setup-tests:      ## setup, plus chromium for the report specs
	./scripts/setup --tests

image:            ## build the default node image (offline) if missing
	$(GO) run ./cmd/spockchaos image

build:
	$(GO) build -o $(BIN) ./cmd/spockchaos

run: setup build  ## the main job: a chaos run on the default flavor, with a report
	$(BIN) run lagged-kill-recovery --out $(OUT)

demo: setup build ## bring up a cluster, show how to connect, remove it
	$(BIN) up --detach --json
	$(BIN) down --all

test: setup-tests ## everything the CI gate runs: unit tests and end-to-end specs (a failed scenario spec's runs kept in $(OUT)/test/failed-runs)
	SPOCKCHAOS_KEEP_FAILED=$(abspath $(OUT))/test/failed-runs $(GINKGO) $(GINKGO_FLAGS) --label-filter='(gate || !(nightly || release)) && !spock' ./...

gate: setup       ## the CI gate scenarios only (JUnit in $(OUT)/test/junit.xml), under 15 minutes
	$(GINKGO) $(GINKGO_FLAGS) --label-filter='gate' ./scenarios

nightly: setup    ## the nightly and release scenarios (long)
	$(GINKGO) -r --keep-going --timeout=3h --junit-report=junit.xml --output-dir=$(OUT)/nightly --label-filter='nightly || release' ./scenarios ./cmd/spockchaos

# The Spock suite needs a Spock image (no package ships one; see README,
# "Testing a Spock build"): SPOCKCHAOS_SPOCK_IMAGE=IMG make spock. Seeds:
# SPOCKCHAOS_SPOCK_SEEDS="1 2 3" (default: the gate seed).
spock: setup      ## the process faults, every gate scenario and the recovery e2e specs on a Spock image, and --recovery spock vs reference
	@if [ -z "$$SPOCKCHAOS_SPOCK_IMAGE" ]; then \
	  echo "make spock: skipped: SPOCKCHAOS_SPOCK_IMAGE is not set (no Spock image to run on; see README, Testing a Spock build)"; \
	else \
	  $(GINKGO) -r --keep-going --timeout=3h --junit-report=junit.xml --output-dir=$(OUT)/spock --label-filter='spock' ./harness/fault ./recovery ./scenarios; \
	fi

unit:             ## unit tests only; no Docker needed
	$(GINKGO) -r --label-filter='!e2e' ./...

e2e: setup-tests  ## end-to-end specs only
	$(GINKGO) $(GINKGO_FLAGS) --label-filter='e2e && (gate || !(nightly || release)) && !spock' ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

clean:            ## remove leftovers of dead runs and local build output
	$(GO) run ./cmd/spockchaos clean
	rm -rf bin

# Release qualification: every gate scenario x 10 seeds on the default
# flavor, or on a Spock image with SPOCKCHAOS_SPOCK_IMAGE=IMG (README,
# false-positive figures). Resumable: the same command continues into the
# same folder. Prints, last, the campaign's wall time against the cells'
# own time (bookkeeping ratio, target <= 1.05).
.PHONY: qualify
ifeq ($(SPOCKCHAOS_SPOCK_IMAGE),)
QUALIFY_OUT ?= $(OUT)/qualify
QUALIFY_TARGET :=
else
QUALIFY_OUT ?= $(OUT)/qualify-spock
QUALIFY_TARGET := --flavor spock --image $(SPOCKCHAOS_SPOCK_IMAGE)
endif
qualify: setup build ## every gate scenario x 10 seeds (on SPOCKCHAOS_SPOCK_IMAGE if set), campaign report in $(QUALIFY_OUT)/campaign.html
	$(BIN) campaign --label gate --seeds 10 $(QUALIFY_TARGET) --out $(QUALIFY_OUT)
