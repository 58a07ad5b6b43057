#!/usr/bin/env bash
# deploy.sh HOST PORT VERSION: moves the demo-service instance at HOST:PORT to VERSION.
#
# nonstop runs this only while the instance is out of traffic (drained from every
# balancer and disabled in the registry). It is what a real deploy does with
# systemd or supervisord, spelled out with a pid file:
#
#   1. stop the running instance (SIGTERM from its pid file) and wait for it to
#      exit: the demo-service deregisters and finishes its in-flight requests first;
#   2. start VERSION detached (its own session, output to a log file) at the same
#      address, with metadata version=VERSION in the registry;
#   3. wait until /health answers (any status: the health block judges it) and the
#      instance has registered, then exit 0.
#
# Environment:
#   NONSTOP_DEMO_DIR           fleet directory: pid files, logs, SDK caches (required)
#   NONSTOP_DEMO_BIN           the demo-service binary (required)
#   NONSTOP_DEMO_NACOS         the registry's Nacos HTTP address; empty: do not register
#   SERVICE                    the service name (default order-service)
#   NONSTOP_DEMO_BAD_VERSIONS  versions (space or comma separated) that start with
#                              -fail-health, to show a failed release rolling back
set -euo pipefail
if [ $# -ne 3 ]; then
	echo "usage: $0 HOST PORT VERSION" >&2
	exit 2
fi
host=$1 port=$2 version=$3
: "${NONSTOP_DEMO_DIR:?set NONSTOP_DEMO_DIR to the fleet directory}"
: "${NONSTOP_DEMO_BIN:?set NONSTOP_DEMO_BIN to the demo-service binary}"
service=${SERVICE:-order-service}
name="${host}_${port}"
pidfile="$NONSTOP_DEMO_DIR/$name.pid"
logfile="$NONSTOP_DEMO_DIR/$name.log"
mkdir -p "$NONSTOP_DEMO_DIR"

alive() { kill -0 "$1" 2>/dev/null && grep -q demo-service "/proc/$1/cmdline" 2>/dev/null; }

# 1. Stop the running instance and wait for it to exit.
if [ -f "$pidfile" ]; then
	old=$(cat "$pidfile")
	if alive "$old"; then
		echo "stopping $host:$port (pid $old)"
		kill -TERM "$old"
		for _ in $(seq 1 300); do # 30 s: longer than the demo-service's drain timeout
			alive "$old" || break
			sleep 0.1
		done
		if alive "$old"; then
			echo "pid $old did not exit within 30s; killing its process group" >&2
			kill -KILL -- "-$old" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
	# Polaris removes a deregistered instance asynchronously; a registration at the
	# same address within about a second is often refused (see step 3).
	sleep "${NONSTOP_DEMO_SETTLE:-1.5}"
fi

# 2. Start the new version detached, in its own session (setsid: pid = process group).
flags=()
bad_versions=${NONSTOP_DEMO_BAD_VERSIONS:-}
for bad in ${bad_versions//,/ }; do
	if [ "$bad" = "$version" ]; then
		flags+=(-fail-health)
	fi
done
# start launches the instance and records its pid.
start() {
	echo "--- $(date '+%H:%M:%S') starting $version" >>"$logfile"
	from=$(($(wc -l <"$logfile") + 1)) # registration is looked for in this run's lines only
	setsid "$NONSTOP_DEMO_BIN" -addr "$host:$port" -version "$version" -service "$service" \
		-nacos "${NONSTOP_DEMO_NACOS:-}" -drain-timeout 10s -sdk-dir "$NONSTOP_DEMO_DIR/sdk-$name" \
		"${flags[@]}" </dev/null >>"$logfile" 2>&1 &
	pid=$!
	echo "$pid" >"$pidfile"
	echo "$pid" >>"$NONSTOP_DEMO_DIR/started.pids"
}
start

# 3. Wait until /health answers and the instance has registered. Polaris sometimes
# refuses a registration (the demo-service then exits 1 with "ok=false"): right
# after the same address deregistered, or while a new service is being created.
# Like a supervisor with Restart=on-failure, start it again a few times.
restarts=0
for _ in $(seq 1 300); do # 30 s
	if ! kill -0 "$pid" 2>/dev/null; then # our own child: no need to check its name
		if [ "$restarts" -lt 5 ] && tail -n "+$from" "$logfile" | grep -q "ok=false"; then
			restarts=$((restarts + 1))
			echo "the registry refused the registration of $host:$port; restarting ($restarts)"
			start
			continue
		fi
		echo "$host:$port exited during startup:" >&2
		tail -n 20 "$logfile" >&2
		exit 1
	fi
	code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://$host:$port/health" || true)
	if [ "$code" != "000" ] && { [ -z "${NONSTOP_DEMO_NACOS:-}" ] || tail -n "+$from" "$logfile" | grep -q "registered "; }; then
		echo "started $host:$port at $version (pid $pid, /health $code)"
		exit 0
	fi
	sleep 0.1
done
echo "$host:$port did not answer /health within 30s:" >&2
tail -n 20 "$logfile" >&2
exit 1
