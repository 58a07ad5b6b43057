# nonstop's developer entry points. `make test` is what CI runs (.ci/run).

GO       ?= go
BIN      ?= bin/nonstop
EXAMPLES := $(sort $(dir $(wildcard examples/*/*.ns.hcl)))

.PHONY: all build test fmt vet demo bench clean

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

## demo: the quickstart, about two minutes. Installs nginx and HAProxy when missing
## (as root; otherwise prints the command), builds Polaris when missing, starts
## Polaris, nginx, HAProxy and 4 slow-starting demo-service instances on free
## loopback ports and applies four releases of examples/demo under load through
## nginx, HAProxy and the registry: rolling, blue-green and back, canary with a beta
## route and an analysis gate, and a bad version rolled back. Ctrl-C stops it all.
## `make demo EXAMPLE=rolling` (blue-green, canary, patent-ab) runs examples/NAME.
demo: build
	$(GO) build -o bin/nonstop-demo ./cmd/nonstop-demo
	bin/nonstop-demo -nonstop $(BIN) $(if $(EXAMPLE),-example $(EXAMPLE))

## bench: the same release of the same four instances under the same load, five
## ways side by side (naive restart, serial Ansible playbook, nonstop rolling,
## blue_green, canary); prints a Markdown table and writes bin/bench.json.
## BENCHFLAGS passes flags, e.g. BENCHFLAGS="-rate 300".
bench: build
	$(GO) build -o bin/nonstop-bench ./bench
	bin/nonstop-bench -nonstop $(BIN) $(BENCHFLAGS)

clean:
	rm -rf bin
