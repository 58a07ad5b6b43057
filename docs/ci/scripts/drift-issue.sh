#!/usr/bin/env bash
# drift-issue.sh FORGE DIR [DRIFT OPTIONS...]: the scheduled drift check. It runs
# "nonstop drift -format markdown" on DIR and keeps one issue (label
# nonstop-drift, found by the report's marker line) in step with it:
#
#   drift (2)         opens the issue, or updates the open one: a hand-made
#                     change pages once, not every run
#   no drift (0)      closes the open issue, saying live state is back in sync
#   apply running (3) does nothing: a release in progress is not drift
#   error (1)         fails the job and leaves the issue as it is
#
# Exit codes: 0 (drift is reported through the issue), 1 an error. Set
# NONSTOP_DRIFT_FAIL=1 to also fail the job when there is drift.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -ge 2 ] || die "usage: drift-issue.sh github|gitlab DIR [drift options...]"
forge_init "$1"
dir=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
report=$tmp/drift.md
code=0
nonstop drift -format markdown "$@" "$dir" >"$report" || code=$?
echo "nonstop drift exited $code"
case $code in
0 | 2) ;;
3)
	echo "A release is in progress: drift not checked."
	exit 0
	;;
*)
	cat "$report"
	exit 1
	;;
esac
key=$(marker_of "$report")
title="nonstop: live state differs from the configuration in $dir"
label=nonstop-drift

case "$FORGE" in
github)
	issues=$(api_list "/repos/$GITHUB_REPOSITORY/issues?state=open&labels=$label")
	open=$(jq -r --arg key "$key" "$JQ_MARKER"'[.[] | select(.pull_request == null and marker == $key)] | sort_by(.number) | first | .number // empty' <<<"$issues")
	issue() { echo "/repos/$GITHUB_REPOSITORY/issues/$1"; }
	field=body
	;;
gitlab)
	issues=$(api_list "/projects/$CI_PROJECT_ID/issues?state=opened&labels=$label")
	open=$(jq -r --arg key "$key" "$JQ_MARKER"'[.[] | select(marker == $key)] | sort_by(.iid) | first | .iid // empty' <<<"$issues")
	issue() { echo "/projects/$CI_PROJECT_ID/issues/$1"; }
	field=description
	;;
esac

if [ "$code" -eq 0 ]; then
	if [ -n "$open" ]; then
		note=$(jq -n --arg b "Live state matches the configuration again ($(date -u +%Y-%m-%dT%H:%M:%SZ)); closing." '{body: $b}')
		case "$FORGE" in
		github)
			api POST "$(issue "$open")/comments" "$note" >/dev/null
			api PATCH "$(issue "$open")" '{"state": "closed", "state_reason": "completed"}' >/dev/null
			;;
		gitlab)
			api POST "$(issue "$open")/notes" "$note" >/dev/null
			api PUT "$(issue "$open")" '{"state_event": "close"}' >/dev/null
			;;
		esac
		echo "closed issue $open: back in sync"
	else
		echo "no drift"
	fi
	exit 0
fi

body=$(body_json "$report" "$field")
if [ -n "$open" ]; then
	case "$FORGE" in
	github) api PATCH "$(issue "$open")" "$body" >/dev/null ;;
	gitlab) api PUT "$(issue "$open")" "$body" >/dev/null ;;
	esac
	echo "updated issue $open"
else
	case "$FORGE" in
	github)
		new=$(jq --arg t "$title" --arg l "$label" '. + {title: $t, labels: [$l]}' <<<"$body")
		open=$(api POST "/repos/$GITHUB_REPOSITORY/issues" "$new" | jq -r .number)
		;;
	gitlab)
		new=$(jq --arg t "$title" --arg l "$label" '. + {title: $t, labels: $l}' <<<"$body")
		open=$(api POST "/projects/$CI_PROJECT_ID/issues" "$new" | jq -r .iid)
		;;
	esac
	echo "opened issue $open"
fi
if [ "${NONSTOP_DRIFT_FAIL:-0}" = 1 ]; then
	exit 2
fi
