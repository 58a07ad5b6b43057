#!/usr/bin/env bash
# deploy.sh HOST PORT VERSION: restarts the demo-service instance at HOST:PORT at
# VERSION the way `systemctl restart` does, spelled out with a pid file:
#
#   1. stop the running instance (SIGTERM from its pid file) and wait for it to
#      exit: the demo-service deregisters and finishes its in-flight requests first;
#   2. start VERSION detached (its own session, output to a log file) at the same
#      address, and return at once.
#
# Like a real application, the new process opens its port only after
# NONSTOP_DEMO_START_DELAY, answers every request with 503 for NONSTOP_DEMO_WARMUP,
# and registers in the registry (metadata version=VERSION) only then. This script
# does not wait for any of it: nonstop's health block (and the balancers' checks)
# decide when the instance serves.
#
# Environment:
#   NONSTOP_DEMO_DIR           fleet directory: pid files, logs, SDK caches (required)
#   NONSTOP_DEMO_BIN           the demo-service binary (required)
#   NONSTOP_DEMO_NACOS         the registry's Nacos HTTP address; empty: do not register
#   SERVICE                    the service name (default order-service)
#   NONSTOP_DEMO_GROUP         the registry group it registers in (default DEFAULT_GROUP)
#   NONSTOP_DEMO_BAD_VERSIONS  versions (space or comma separated) that start with
#                              -fail-health, to show a failed release rolling back
#   NONSTOP_DEMO_HANG_VERSIONS versions whose deploy hangs after stopping the old
#                              instance (a stuck package download), to show a
#                              deploy timeout killing the script and rolling back
#   NONSTOP_DEMO_START_DELAY   start-up delay before the port opens ("3s", "0")
#   NONSTOP_DEMO_WARMUP        warm-up during which every request answers 503
#   NONSTOP_REGISTER_ENABLED   "false" registers the instance disabled (nonstop's
#                              deploy step sets it; it enables the instance later)
# The last three are read by demo-service itself from the environment it inherits.
# $NONSTOP_DEMO_DIR/fleet.env, when present, is sourced first for the fleet's
# defaults (testfleet.DemoFleet writes it); variables already set win.
set -euo pipefail
if [ $# -ne 3 ]; then
	echo "usage: $0 HOST PORT VERSION" >&2
	exit 2
fi
host=$1 port=$2 version=$3
: "${NONSTOP_DEMO_DIR:?set NONSTOP_DEMO_DIR to the fleet directory}"
: "${NONSTOP_DEMO_BIN:?set NONSTOP_DEMO_BIN to the demo-service binary}"
if [ ! -x "$NONSTOP_DEMO_BIN" ]; then
	echo "$NONSTOP_DEMO_BIN is not an executable" >&2
	exit 1
fi
if [ -f "$NONSTOP_DEMO_DIR/fleet.env" ]; then
	# shellcheck source=/dev/null
	. "$NONSTOP_DEMO_DIR/fleet.env"
fi
service=${SERVICE:-order-service}
name="${host}_${port}"
pidfile="$NONSTOP_DEMO_DIR/$name.pid"
logfile="$NONSTOP_DEMO_DIR/$name.log"
mkdir -p "$NONSTOP_DEMO_DIR"
# When the deploy began (seconds since the epoch), for whoever measures restarts.
echo "=== deploy $version at $(date +%s.%N)" >>"$logfile"

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
fi

hang_versions=${NONSTOP_DEMO_HANG_VERSIONS:-}
for hang in ${hang_versions//,/ }; do
	if [ "$hang" = "$version" ]; then
		echo "fetching $version: no answer from the artifact store (hangs until the deploy timeout)"
		sleep 3600
	fi
done

# 2. Start the new version detached, in its own session (setsid: pid = process
# group), and return.
flags=()
bad_versions=${NONSTOP_DEMO_BAD_VERSIONS:-}
for bad in ${bad_versions//,/ }; do
	if [ "$bad" = "$version" ]; then
		flags+=(-fail-health)
	fi
done
echo "--- $(date '+%H:%M:%S.%N') starting $version" >>"$logfile"
setsid "$NONSTOP_DEMO_BIN" -addr "$host:$port" -version "$version" -service "$service" \
	-group "${NONSTOP_DEMO_GROUP:-DEFAULT_GROUP}" \
	-nacos "${NONSTOP_DEMO_NACOS:-}" -drain-timeout 10s -sdk-dir "$NONSTOP_DEMO_DIR/sdk-$name" \
	"${flags[@]}" </dev/null >>"$logfile" 2>&1 &
pid=$!
echo "$pid" >"$pidfile"
echo "$pid" >>"$NONSTOP_DEMO_DIR/started.pids"
# Return once the background job has become the demo-service (a few ms), so that
# whoever reads the pid file finds it by name.
for _ in $(seq 1 100); do
	alive "$pid" && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "$host:$port exited at once:" >&2
		tail -n 20 "$logfile" >&2
		exit 1
	fi
	sleep 0.02
done
echo "started $host:$port at $version (pid $pid; start-up delay ${NONSTOP_DEMO_START_DELAY:-0}, warm-up ${NONSTOP_DEMO_WARMUP:-0})"
