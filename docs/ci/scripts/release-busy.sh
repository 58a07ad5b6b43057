#!/usr/bin/env bash
# release-busy.sh FORGE: prints busy=true when a run of the apply workflow is
# running or waiting, else busy=false, also into $GITHUB_OUTPUT when set.
#
# GitHub keeps at most one pending run per concurrency group and cancels the
# one a newer run replaces, so a drift check queued in the release group behind
# a running apply would push out a pending apply. The drift workflow asks this
# first and stands back while a release is on its way (nonstop drift would
# also only report it, exit 3). GitLab's resource_group queues without
# cancelling: there the drift job needs no such check.
#
#   github: the apply workflow is $NONSTOP_APPLY_WORKFLOW (default nonstop-apply.yml)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 1 ] || die "usage: release-busy.sh github"
forge_init "$1"
[ "$FORGE" = github ] || die "only GitHub cancels pending runs; GitLab's resource_group needs no check"
workflow=${NONSTOP_APPLY_WORKFLOW:-nonstop-apply.yml}
busy=false
for status in in_progress queued waiting pending requested; do
	n=$(api GET "/repos/$GITHUB_REPOSITORY/actions/workflows/$workflow/runs?status=$status&per_page=1" | jq -r '.total_count // 0')
	if [ "$n" -gt 0 ]; then
		echo "$workflow has $n run(s) $status" >&2
		busy=true
		break
	fi
done
echo "busy=$busy"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	echo "busy=$busy" >>"$GITHUB_OUTPUT"
fi
