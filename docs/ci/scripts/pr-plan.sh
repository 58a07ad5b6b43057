#!/usr/bin/env bash
# pr-plan.sh FORGE DIR [PLAN OPTIONS...]: the plan job of a pull (merge) request.
# It plans the configuration in DIR against live state in pull-request mode
# (plan -base origin/TARGET: the configuration change, the plan, the drift it
# repairs), saves the sealed plan and its report in nonstop-plan/ (plan.bin,
# plan.md: the artifact the merge applies) and posts the report as the request's
# one nonstop comment (comment.sh), errors included. It waits up to
# $NONSTOP_LOCK_TIMEOUT (default 20m) for a running apply.
#
# Exit codes: 0 the plan was made (with or without changes); otherwise nonstop
# plan's: 1 an error (shown on the request too), 3 an apply still running.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -ge 2 ] || die "usage: pr-plan.sh github|gitlab DIR [plan options...]"
forge=$1 dir=$2
shift 2
case "$forge" in
github) target=${GITHUB_BASE_REF:-} ;;
gitlab) target=${CI_MERGE_REQUEST_TARGET_BRANCH_NAME:-} ;;
*) die "the forge is github or gitlab, not \"$forge\"" ;;
esac
[ -n "$target" ] || die "no target branch: run on a pull_request (merge request) event"

out=nonstop-plan
mkdir -p "$out"
rm -f "$out/plan.bin" "$out/plan.md"
code=0
nonstop plan -base "origin/$target" -format markdown -detailed-exitcode \
	-lock-timeout "${NONSTOP_LOCK_TIMEOUT:-20m}" -out "$out/plan.bin" "$@" "$dir" >"$out/plan.md" || code=$?
echo "nonstop plan exited $code"
if [ -s "$out/plan.md" ]; then
	"$here/comment.sh" "$forge" "$out/plan.md"
fi
case $code in
0 | 2) exit 0 ;;
*) exit "$code" ;;
esac
