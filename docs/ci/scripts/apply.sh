#!/usr/bin/env bash
# apply.sh FORGE PLAN DIR: the merge job. It applies PLAN, the sealed plan the
# request's plan job made and a reviewer read (fetch-plan.sh), to the
# configuration in DIR, and says on the request how it went (one comment,
# updated in place). nonstop refuses the plan, changing nothing, when live
# state, the configuration, its commit tree, a variable or an endpoint differs
# from what it was made from; the request then needs a new plan. It waits up
# to $NONSTOP_LOCK_TIMEOUT (default 30m) for another apply.
#
#   github: the request is the event's pull_request (or $NONSTOP_PR)
#   gitlab: the merge request of $CI_COMMIT_SHA (or $NONSTOP_MR)
#
# Exit codes: nonstop apply's (0 applied or nothing to do, 1 refused or failed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 3 ] || die "usage: apply.sh github|gitlab PLAN DIR"
forge_init "$1"
plan=$2 dir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/apply.log

set +e
nonstop apply -lock-timeout "${NONSTOP_LOCK_TIMEOUT:-30m}" "$plan" "$dir" 2>&1 | tee "$log"
code=${PIPESTATUS[0]}
set -e

if [ "$FORGE" = gitlab ] && [ -z "${NONSTOP_MR:-}" ] && [ -z "${CI_MERGE_REQUEST_IID:-}" ]; then
	NONSTOP_MR=$(api GET "/projects/$CI_PROJECT_ID/repository/commits/${CI_COMMIT_SHA:?}/merge_requests" | jq -r '.[0].iid // empty')
	export NONSTOP_MR
fi
{
	echo "<!-- nonstop:apply dir=$dir -->"
	if [ "$code" -eq 0 ]; then
		echo "**Apply:** done: the reviewed plan was applied."
	else
		echo "**Apply:** failed (exit $code). If nonstop refused the plan, nothing was changed: plan again (a new request, or nonstop plan and apply by hand)."
	fi
	echo
	echo "<details><summary>Log</summary>"
	echo
	echo '````text'
	tail -c 60000 "$log" | sed 's/````/```/g'
	echo '````'
	echo
	echo "</details>"
} >"$tmp/apply.md"
"$here/comment.sh" "$FORGE" "$tmp/apply.md" || echo "could not post the result on the request" >&2
exit "$code"
