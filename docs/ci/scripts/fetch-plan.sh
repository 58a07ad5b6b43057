#!/usr/bin/env bash
# fetch-plan.sh FORGE HEAD_SHA DEST: downloads the sealed plan the request's plan
# job made for its last commit HEAD_SHA (the artifact "nonstop-plan" of the
# successful plan run of that commit) into DEST (DEST/plan.bin, DEST/plan.md):
# what the merge applies, exactly as reviewed. It fails when there is none:
# a request merged before its plan passed is not applied.
#
#   github: the plan workflow is $NONSTOP_PLAN_WORKFLOW (default nonstop-plan.yml)
#   gitlab: HEAD_SHA may be "": the merge request of $CI_COMMIT_SHA gives it;
#           the plan job is $NONSTOP_PLAN_JOB (default nonstop-plan)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 3 ] || die "usage: fetch-plan.sh github|gitlab HEAD_SHA DEST"
forge_init "$1"
sha=$2 dest=$3
need unzip
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case "$FORGE" in
github)
	workflow=${NONSTOP_PLAN_WORKFLOW:-nonstop-plan.yml}
	[ -n "$sha" ] || die "no head commit given"
	run=$(api GET "/repos/$GITHUB_REPOSITORY/actions/runs?head_sha=$sha&status=success&per_page=100" |
		jq -r --arg wf "$workflow" '[.workflow_runs[] | select(.path | endswith("/" + $wf))] | sort_by(.run_number) | last | .id // empty')
	[ -n "$run" ] || die "no successful $workflow run for commit $sha: the request was merged without a passing plan of its last commit; run the plan and apply it by hand"
	url=$(api GET "/repos/$GITHUB_REPOSITORY/actions/runs/$run/artifacts" |
		jq -r '[.artifacts[] | select(.name == "nonstop-plan" and (.expired | not))] | last | .archive_download_url // empty')
	[ -n "$url" ] || die "run $run has no nonstop-plan artifact (expired?)"
	curl -sS --fail -L -H "Authorization: Bearer $GITHUB_TOKEN" -o "$tmp/plan.zip" "$url"
	echo "plan of run $run (commit $sha)"
	;;
gitlab)
	job_name=${NONSTOP_PLAN_JOB:-nonstop-plan}
	if [ -z "$sha" ]; then
		sha=$(api GET "/projects/$CI_PROJECT_ID/repository/commits/${CI_COMMIT_SHA:?}/merge_requests" | jq -r '.[0].sha // empty')
		[ -n "$sha" ] || die "commit $CI_COMMIT_SHA belongs to no merge request: nothing reviewed to apply"
	fi
	job=""
	for pipeline in $(api GET "/projects/$CI_PROJECT_ID/pipelines?sha=$sha&status=success&order_by=id&sort=desc&per_page=20" | jq -r '.[].id'); do
		job=$(api GET "/projects/$CI_PROJECT_ID/pipelines/$pipeline/jobs?scope[]=success&per_page=100" |
			jq -r --arg name "$job_name" '[.[] | select(.name == $name)] | sort_by(.id) | last | .id // empty')
		[ -n "$job" ] && break
	done
	[ -n "$job" ] || die "no successful $job_name job for commit $sha: the request was merged without a passing plan of its last commit"
	curl -sS --fail -H "PRIVATE-TOKEN: $NONSTOP_GITLAB_TOKEN" -o "$tmp/plan.zip" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/$job/artifacts"
	echo "plan of job $job (commit $sha)"
	;;
esac
mkdir -p "$tmp/x" "$dest"
unzip -q -o "$tmp/plan.zip" -d "$tmp/x"
src=$tmp/x
[ -f "$src/plan.bin" ] || src=$tmp/x/nonstop-plan
[ -f "$src/plan.bin" ] || die "the artifact holds no plan.bin"
cp "$src/plan.bin" "$dest/plan.bin"
[ -f "$src/plan.md" ] && cp "$src/plan.md" "$dest/plan.md"
echo "fetched $dest/plan.bin"
