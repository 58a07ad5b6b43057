#!/usr/bin/env bash
# install.sh VERSION: makes nonstop VERSION ("v0.1.0") the nonstop on the job's
# PATH. A runner that has it already (a self-hosted runner's image) keeps it;
# otherwise it is built with "go install" from the Go module proxy into
# $NONSTOP_INSTALL_DIR (default ~/.local/bin), which is added to $GITHUB_PATH
# on GitHub Actions (GitLab CI: export PATH="$HOME/.local/bin:$PATH" after it).
set -euo pipefail
[ $# -eq 1 ] || {
	echo "usage: install.sh VERSION (e.g. v0.1.0)" >&2
	exit 1
}
want=${1#v}
if command -v nonstop >/dev/null 2>&1; then
	have=$(nonstop version -json | sed -n 's/.*"nonstop_version": *"\([^"]*\)".*/\1/p')
	if [ "$have" = "$want" ]; then
		echo "nonstop $have is installed: $(command -v nonstop)"
		exit 0
	fi
	echo "nonstop ${have:-(unknown version)} is installed; installing $want"
fi
command -v go >/dev/null 2>&1 || {
	echo "install.sh: Go 1.26 or later is needed to install nonstop (actions/setup-go, or an image with Go)" >&2
	exit 1
}
bin=${NONSTOP_INSTALL_DIR:-$HOME/.local/bin}
mkdir -p "$bin"
GOBIN="$bin" go install "github.com/nonstop-release/nonstop/cmd/nonstop@v$want"
if [ -n "${GITHUB_PATH:-}" ]; then
	echo "$bin" >>"$GITHUB_PATH"
fi
"$bin/nonstop" version
