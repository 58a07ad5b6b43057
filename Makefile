# nonstop's developer entry points. `make test` is what CI runs (.ci/run).

GO       ?= go
BIN      ?= bin/nonstop
EXAMPLES := $(sort $(dir $(wildcard examples/*/*.ns.hcl)))

.PHONY: all build test fmt vet demo clean

all: build

## build: compile the nonstop binary into bin/
build:
	$(GO) build -o $(BIN) ./cmd/nonstop

## test: every package's tests, then 20 seconds of fuzzing the configuration loader
test:
	$(GO) test ./... -count=1
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=20s ./lang

## fmt: gofmt the Go code and `nonstop fmt` the examples
fmt: build
	gofmt -w $$($(GO) list -f '{{.Dir}}' ./...)
	$(BIN) fmt -recursive examples

## vet: go vet every package
vet:
	$(GO) vet ./...

## demo: build nonstop, then validate every example and summarise what it would
## release (services, groups, balancers, strategy). Nothing live is contacted yet.
demo: build
	@set -e; for d in $(EXAMPLES); do \
		echo "==> nonstop validate -summary $$d"; \
		$(BIN) validate -summary $$d; \
		echo; \
	done
	@echo "All $(words $(EXAMPLES)) examples are valid. plan/apply against a local fleet are coming."

clean:
	rm -rf bin
