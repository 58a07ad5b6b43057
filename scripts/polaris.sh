#!/usr/bin/env bash
# polaris.sh builds the PolarisMesh server v1.18.1 (a Nacos-protocol registry used by
# nonstop's tests and demo) into ${NONSTOP_CACHE:-$HOME/.cache/nonstop}/bin/polaris.
#
# It is idempotent: when the binary exists and reports the pinned version it does
# nothing. The first build takes about 5 minutes on 2 cores; Go's caches make later
# builds fast. Polaris comes from the Go module proxy like any other dependency; no
# source is copied into the project. See /work/shared/design/nacos-server.md.
set -euo pipefail

POLARIS_VERSION=v1.18.1
CACHE="${NONSTOP_CACHE:-$HOME/.cache/nonstop}"
BIN="$CACHE/bin/polaris"
STAMP="$CACHE/bin/polaris.version"

if [[ -x "$BIN" && ( ! -f "$STAMP" || "$(cat "$STAMP")" == "$POLARIS_VERSION" ) ]]; then
  [[ -f "$STAMP" ]] || echo "$POLARIS_VERSION" >"$STAMP"
  echo "polaris $POLARIS_VERSION already built: $BIN"
  exit 0
fi

mkdir -p "$CACHE/bin" "$CACHE/polaris-build"
cd "$CACHE/polaris-build"
if [[ ! -f go.mod ]]; then
  go mod init polaris-build >/dev/null 2>&1
fi
# `go install ...@v1.18.1` fails (the proxy refuses the version list go install asks
# for), so a throwaway module pins the version and builds the main package.
GOFLAGS=-mod=mod go get "github.com/polarismesh/polaris@$POLARIS_VERSION"
go build -o "$BIN.tmp" github.com/polarismesh/polaris
mv "$BIN.tmp" "$BIN"
echo "$POLARIS_VERSION" >"$STAMP"
echo "built polaris $POLARIS_VERSION: $BIN"
