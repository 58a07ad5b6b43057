# lib.sh: what the nonstop CI scripts share. Sourced, not run.
#
# The scripts speak to the forge's REST API with curl and jq (both on GitHub's
# and GitLab's runner images; install them on a self-hosted runner):
#   github: $GITHUB_API_URL (set by Actions; default https://api.github.com),
#           $GITHUB_REPOSITORY, token $GITHUB_TOKEN (or $GH_TOKEN)
#   gitlab: $CI_API_V4_URL, $CI_PROJECT_ID (set by GitLab CI), token
#           $NONSTOP_GITLAB_TOKEN: a project access token with the api scope
#           (the job token cannot write notes or issues)

# Failures inside $(...) fail the script too.
shopt -s inherit_errexit

# The line that separates the parts of a long nonstop markdown report.
NONSTOP_PART_SEPARATOR='<!-- nonstop:part -->'

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

need() {
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || die "$cmd is needed on the runner"
	done
}

# forge_init FORGE: checks the forge's settings and sets FORGE.
forge_init() {
	FORGE=${1:-}
	need curl jq
	case "$FORGE" in
	github)
		GITHUB_API_URL=${GITHUB_API_URL:-https://api.github.com}
		GITHUB_TOKEN=${GITHUB_TOKEN:-${GH_TOKEN:-}}
		[ -n "$GITHUB_TOKEN" ] || die "set GITHUB_TOKEN to the job's token (env: GITHUB_TOKEN: \${{ github.token }})"
		[ -n "${GITHUB_REPOSITORY:-}" ] || die "GITHUB_REPOSITORY is not set: run inside GitHub Actions"
		;;
	gitlab)
		[ -n "${CI_API_V4_URL:-}" ] && [ -n "${CI_PROJECT_ID:-}" ] || die "CI_API_V4_URL and CI_PROJECT_ID are not set: run inside GitLab CI"
		[ -n "${NONSTOP_GITLAB_TOKEN:-}" ] || die "set NONSTOP_GITLAB_TOKEN to a project access token with the api scope"
		;;
	*) die "the forge is github or gitlab, not \"$FORGE\"" ;;
	esac
}

# api METHOD PATH [JSON]: one API call; prints the response body and fails on
# an HTTP error. PATH starts with /, relative to the API root.
api() {
	local method=$1 path=$2 data=${3:-} url
	local -a args=(-sS --fail-with-body -X "$method")
	case "$FORGE" in
	github)
		url="$GITHUB_API_URL$path"
		args+=(-H "Authorization: Bearer $GITHUB_TOKEN" -H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28")
		;;
	gitlab)
		url="$CI_API_V4_URL$path"
		args+=(-H "PRIVATE-TOKEN: $NONSTOP_GITLAB_TOKEN")
		;;
	esac
	if [ -n "$data" ]; then
		args+=(-H "Content-Type: application/json" --data-binary "$data")
	fi
	local out
	if ! out=$(curl "${args[@]}" "$url" 2>&1); then
		echo "$(basename "$0"): $method $path failed: $out" >&2
		return 1
	fi
	printf '%s\n' "$out"
}

# api_list PATH: every item of a paginated list (PATH has a query already or
# not), as one JSON array.
api_list() {
	local path=$1 page=1 sep='?' out items
	case "$path" in *\?*) sep='&' ;; esac
	out='[]'
	while :; do
		items=$(api GET "$path${sep}per_page=100&page=$page")
		out=$(jq -s '.[0] + .[1]' <(printf '%s' "$out") <(printf '%s' "$items"))
		[ "$(jq 'length' <<<"$items")" -lt 100 ] && break
		page=$((page + 1))
	done
	printf '%s\n' "$out"
}

# marker_of FILE: the marker line of a nonstop markdown report, without its
# part number: "<!-- nonstop:plan dir=deploy workspace=default -->".
marker_of() {
	local first
	first=$(head -n 1 "$1")
	case "$first" in
	'<!-- nonstop:'*' -->') ;;
	*) die "$1 does not start with a nonstop marker line (is it the output of -format markdown?)" ;;
	esac
	sed -E 's/ part=[0-9]+\/[0-9]+ -->$/ -->/' <<<"$first"
}

# jq definitions: the marker of a comment, note or issue body without its part
# number, and its part number (1 when it has none).
JQ_MARKER='def marker: ((.body // .description // "") | split("\n")[0] | sub(" part=[0-9]+/[0-9]+ -->$"; " -->"));
def part: (((.body // .description // "") | split("\n")[0] | capture("part=(?<k>[0-9]+)/").k) // "1") | tonumber;'

# body_json FILE [FIELD]: FILE's text as {"FIELD": text} (FIELD is body by
# default), cut to 65,000 characters, which fits a comment or an issue.
body_json() {
	jq -Rs --arg f "${2:-body}" '{($f): (if length > 65000 then .[0:64900] + "\n\n… (cut: see the job log)\n" else . end)}' "$1"
}
