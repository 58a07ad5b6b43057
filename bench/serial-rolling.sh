#!/usr/bin/env bash
# serial-rolling.sh: the same steps as rolling-update.yml, scripted for machines
# without ansible-playbook: one instance at a time, drain it in HAProxy (state
# drain, wait until it has no session, then maintenance), restart it, wait until
# it answers its health check, enable it in HAProxy and wait until HAProxy's checks
# have it UP. No registry step, no nginx step.
#
# Environment (set by `make bench`):
#   INSTANCES       "server=host:port ...", the HAProxy server name of each instance
#   VERSION         the version to deploy
#   DEPLOY          examples/demo/deploy.sh
#   HAPROXY_API     the runtime API, host:port (TCP)
#   HAPROXY_BACKEND the backend
#   NONSTOP_DEMO_DIR, NONSTOP_DEMO_BIN, NONSTOP_DEMO_NACOS  what deploy.sh needs
set -euo pipefail
: "${INSTANCES:?}" "${VERSION:?}" "${DEPLOY:?}" "${HAPROXY_API:?}" "${HAPROXY_BACKEND:?}"
api_host=${HAPROXY_API%:*} api_port=${HAPROXY_API##*:}

hap() { # hap COMMAND: one runtime API command, its answer on stdout
	exec 3<>"/dev/tcp/$api_host/$api_port"
	printf '%s\n' "$1" >&3
	cat <&3
	exec 3<&-
}

# field SERVER COLUMN: a column of the server's `show stat` line.
field() {
	hap "show stat $HAPROXY_BACKEND 4 -1" | awk -F, -v s="$1" -v c="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == c || $i == "# " c) col = i; next }
		$2 == s { print $col }'
}

wait_for() { # wait_for SERVER COLUMN PATTERN
	for _ in $(seq 1 60); do
		if [[ "$(field "$1" "$2")" == $3 ]]; then return 0; fi
		sleep 1
	done
	echo "server $1: $2 never matched $3" >&2
	return 1
}

for inst in $INSTANCES; do
	server=${inst%%=*} addr=${inst#*=}
	host=${addr%:*} port=${addr##*:}
	echo "$(date +%T.%3N) drain $server ($addr) in HAProxy"
	hap "set server $HAPROXY_BACKEND/$server state drain" >/dev/null
	wait_for "$server" scur 0
	hap "disable server $HAPROXY_BACKEND/$server" >/dev/null
	wait_for "$server" status "MAINT*"
	echo "$(date +%T.%3N) restart $addr at $VERSION"
	bash "$DEPLOY" "$host" "$port" "$VERSION"
	for _ in $(seq 1 60); do
		curl -fsS -o /dev/null --max-time 1 "http://$addr/health" && break
		sleep 1
	done
	hap "enable server $HAPROXY_BACKEND/$server" >/dev/null
	wait_for "$server" status "UP*"
	echo "$(date +%T.%3N) $server is UP in HAProxy"
done
