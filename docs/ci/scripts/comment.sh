#!/usr/bin/env bash
# comment.sh FORGE REPORT: posts REPORT, the output of "nonstop plan -format
# markdown", on the pull request (github) or merge request (gitlab) of the job,
# as one comment per part, updated in place: the comments nonstop posted before
# are found by the marker line each part starts with
# ("<!-- nonstop:plan dir=deploy workspace=default part=2/3 -->"), updated,
# created where missing and deleted where the report has fewer parts now. So a
# pull request always has one nonstop comment (split when long) per directory
# and workspace, whatever the number of pushes.
#
#   github: the pull request is $NONSTOP_PR, else the event's pull_request.number
#   gitlab: the merge request is $NONSTOP_MR, else $CI_MERGE_REQUEST_IID
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 2 ] || die "usage: comment.sh github|gitlab REPORT.md"
forge_init "$1"
report=$2
[ -s "$report" ] || die "$report is empty: nothing to post"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -v dir="$tmp" -v sep="$NONSTOP_PART_SEPARATOR" '
	BEGIN { n = 1; f = dir "/part1" }
	$0 == sep { close(f); n++; f = dir "/part" n; next }
	{ print > f }' "$report"
parts=$(find "$tmp" -name 'part*' | wc -l)
key=$(marker_of "$tmp/part1")

case "$FORGE" in
github)
	number=${NONSTOP_PR:-}
	if [ -z "$number" ] && [ -n "${GITHUB_EVENT_PATH:-}" ]; then
		number=$(jq -r '.pull_request.number // empty' "$GITHUB_EVENT_PATH")
	fi
	[ -n "$number" ] || die "no pull request: set NONSTOP_PR or run on a pull_request event"
	list="/repos/$GITHUB_REPOSITORY/issues/$number/comments"
	one() { echo "/repos/$GITHUB_REPOSITORY/issues/comments/$1"; }
	update=PATCH
	;;
gitlab)
	number=${NONSTOP_MR:-${CI_MERGE_REQUEST_IID:-}}
	[ -n "$number" ] || die "no merge request: set NONSTOP_MR or run in a merge request pipeline"
	list="/projects/$CI_PROJECT_ID/merge_requests/$number/notes"
	one() { echo "/projects/$CI_PROJECT_ID/merge_requests/$number/notes/$1"; }
	update=PUT
	;;
esac

# The ids of our earlier comments, by part number.
comments=$(api_list "$list")
mapfile -t ids < <(jq -r --arg key "$key" "$JQ_MARKER"'
	[ .[] | select(marker == $key) ] | sort_by(part, .id) | .[].id' <<<"$comments")

for ((i = 1; i <= parts; i++)); do
	body=$(body_json "$tmp/part$i")
	if [ "$i" -le "${#ids[@]}" ]; then
		api "$update" "$(one "${ids[$((i - 1))]}")" "$body" >/dev/null
		echo "updated comment ${ids[$((i - 1))]} (part $i of $parts)"
	else
		id=$(api POST "$list" "$body" | jq -r .id)
		echo "posted comment $id (part $i of $parts)"
	fi
done
for ((i = parts; i < ${#ids[@]}; i++)); do
	api DELETE "$(one "${ids[$i]}")" >/dev/null
	echo "deleted comment ${ids[$i]}: the report has $parts part(s) now"
done
