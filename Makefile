# spockchaos — see README.md. Every target needs only Go, Docker and (for the
# image) debootstrap, which `make setup` installs.

GO      ?= go
GINKGO  := $(GO) tool ginkgo
BIN     := bin/spockchaos
OUT     ?= reports
# Ginkgo runs suites one after another: a 2-core machine runs one cluster
# at a time well, several at once badly.
GINKGO_FLAGS ?= -r --keep-going --timeout=40m --junit-report=junit.xml --output-dir=$(OUT)/test

.PHONY: all setup image build demo test unit e2e vet fmt clean

all: build

setup:            ## install debootstrap if missing and build the node image if missing
	./scripts/setup

image:            ## build the default node image (offline) if missing
	$(GO) run ./cmd/spockchaos image

build:
	$(GO) build -o $(BIN) ./cmd/spockchaos

demo: setup build ## the main job: bring up a cluster, show it, remove it
	$(BIN) up --detach
	$(BIN) down --all

test: setup       ## everything the CI gate runs: unit tests and end-to-end specs
	$(GINKGO) $(GINKGO_FLAGS) --label-filter='!nightly && !release' ./...

unit:             ## unit tests only; no Docker needed
	$(GINKGO) -r --label-filter='!e2e' ./...

e2e: setup        ## end-to-end specs only
	$(GINKGO) $(GINKGO_FLAGS) --label-filter='e2e && !nightly && !release' ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

clean:            ## remove leftovers of dead runs and local build output
	$(GO) run ./cmd/spockchaos clean
	rm -rf bin
