# nonstop's developer entry points. `make test` is what CI runs (.ci/run).

GO       ?= go
BIN      ?= bin/nonstop
EXAMPLES := $(sort $(dir $(wildcard examples/*/*.ns.hcl)))

.PHONY: all build test fmt vet demo clean

all: build

## build: compile the nonstop binary into bin/
build:
	$(GO) build -o $(BIN) ./cmd/nonstop

## test: every package's tests (with a seeded sample of the crash matrix), then 20
## seconds of fuzzing the configuration loader
test:
	NONSTOP_CRASH_MATRIX=sample $(GO) test ./... -count=1 -timeout 25m
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=20s ./lang

## fmt: gofmt the Go code and `nonstop fmt` the examples
fmt: build
	gofmt -w $$($(GO) list -f '{{.Dir}}' ./...)
	$(BIN) fmt -recursive examples

## vet: go vet every package
vet:
	$(GO) vet ./...

## demo: the 60-second quickstart. Starts Polaris, nginx, HAProxy (active checks) and
## 4 demo-service instances (3 s start-up delay, 1 s warm-up) on free loopback ports,
## runs `nonstop inspect` and `nonstop plan` on examples/demo, applies two rolling
## releases 1.0.0 → 1.1.0 → 1.2.0 while clients call the service through nginx,
## HAProxy and the registry, prints their counters, the members each path routed to
## and each apply's time against the physical minimum, and stops everything.
demo: build
	$(GO) run ./cmd/nonstop-demo -nonstop $(BIN)

clean:
	rm -rf bin
